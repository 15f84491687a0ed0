using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Permissions;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Reference;
using PsaPortal.Web.Features.SystemLogs;
using PsaPortal.Web.Features.Ticketing;

namespace PsaPortal.Web.Data;

/// <summary>
/// The portal's one database. The model is provider-neutral; each provider has a thin subclass
/// (<see cref="SqlitePortalDbContext"/>, <see cref="PostgreSqlPortalDbContext"/>) only so that each
/// keeps its own migration set.
/// </summary>
public abstract class PortalDbContext(DbContextOptions options) : IdentityDbContext<PortalUser>(options)
{
    public DbSet<Organization> Organizations => Set<Organization>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<Integration> Integrations => Set<Integration>();

    public DbSet<SystemLogEntry> SystemLog => Set<SystemLogEntry>();

    public DbSet<PermissionRun> PermissionRuns => Set<PermissionRun>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<Tenant> Tenants => Set<Tenant>();

    public DbSet<VendorProduct> VendorProducts => Set<VendorProduct>();

    public DbSet<TenantUsage> TenantUsage => Set<TenantUsage>();

    public DbSet<TenantUsageHistory> TenantUsageHistory => Set<TenantUsageHistory>();

    public DbSet<Incident> Incidents => Set<Incident>();

    public DbSet<InvoiceLine> InvoiceLines => Set<InvoiceLine>();

    public DbSet<PsaReferenceItem> PsaReferenceItems => Set<PsaReferenceItem>();

    public DbSet<PsaReferenceSyncState> PsaReferenceSyncStates => Set<PsaReferenceSyncState>();

    public DbSet<TenantMapping> TenantMappings => Set<TenantMapping>();

    public DbSet<ProductMapping> ProductMappings => Set<ProductMapping>();

    public DbSet<BillingRun> BillingRuns => Set<BillingRun>();

    public DbSet<BillingRunItem> BillingRunItems => Set<BillingRunItem>();

    public DbSet<BillingWrite> BillingWrites => Set<BillingWrite>();

    public DbSet<BillingSchedule> BillingSchedules => Set<BillingSchedule>();

    public DbSet<BillingNotificationSettings> BillingNotificationSettings => Set<BillingNotificationSettings>();

    public DbSet<TicketingSettings> TicketingSettings => Set<TicketingSettings>();

    public DbSet<IncidentTicket> IncidentTickets => Set<IncidentTicket>();

    public DbSet<InvoiceSettings> InvoiceSettings => Set<InvoiceSettings>();

    public DbSet<ChargeEndDateRule> ChargeEndDateRules => Set<ChargeEndDateRule>();

    public DbSet<ChargeStartDateRule> ChargeStartDateRules => Set<ChargeStartDateRule>();

    public DbSet<ChargeTypeName> ChargeTypeNames => Set<ChargeTypeName>();

    public DbSet<InvoiceLineSync> InvoiceLineSyncs => Set<InvoiceLineSync>();

    public DbSet<InvoiceExport> InvoiceExports => Set<InvoiceExport>();

    public DbSet<InvoiceExportLogEntry> InvoiceExportLog => Set<InvoiceExportLogEntry>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset; the portal stores only UTC, so ticks keep the order.
        if (Database.IsSqlite())
        {
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
            configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
    }
}

public sealed class SqlitePortalDbContext(DbContextOptions<SqlitePortalDbContext> options) : PortalDbContext(options);

/// <summary>
/// PostgreSQL also holds what every node of a cluster must share: the Data Protection key ring (here) and Quartz's
/// <c>qrtz_*</c> tables (created by a migration of this context only; docs/adr/0011).
/// </summary>
public sealed class PostgreSqlPortalDbContext(DbContextOptions<PostgreSqlPortalDbContext> options) : PortalDbContext(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
}
