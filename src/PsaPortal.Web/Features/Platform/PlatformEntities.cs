using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Features.Platform;

// The vendor platform's side, per organization, as the ingest API, CSV imports and the demo generator write it.
// Every record is keyed by the platform's own external id (or part number), so pushing the same batch twice
// leaves the same state.

public enum TenantStatus
{
    Active,
    Suspended,
    Deleted,
}

/// <summary>A customer account on the vendor platform (ConnectWise: company, Autotask: company/account).</summary>
public sealed class Tenant
{
    public const int ExternalIdMaxLength = 100;
    public const int NameMaxLength = 200;
    public const int DomainMaxLength = 253;

    public long Id { get; set; }

    public Guid OrganizationId { get; set; }

    public required string ExternalId { get; set; }

    public required string Name { get; set; }

    public string? Domain { get; set; }

    public TenantStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A product (SKU) the vendor sells through the MSP (ConnectWise: catalog product, Autotask: service).</summary>
public sealed class VendorProduct
{
    public const int PartNumberMaxLength = 100;
    public const int NameMaxLength = 200;
    public const int DescriptionMaxLength = 2000;

    public long Id { get; set; }

    public Guid OrganizationId { get; set; }

    public required string PartNumber { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public decimal Cost { get; set; }

    public decimal RetailPrice { get; set; }

    public bool Recurring { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// Set when the platform withdraws the product (the API's DELETE); usage, history and invoice lines keep pointing
    /// at it, and pushing the product again brings it back.
    /// </summary>
    public DateTimeOffset? DeletedAt { get; set; }
}

/// <summary>
/// The live billable count of one product for one tenant: the newest report wins (by <see cref="AsOf"/>); every
/// report is kept in <see cref="TenantUsageHistory"/>.
/// </summary>
public sealed class TenantUsage
{
    public long Id { get; set; }

    public Guid OrganizationId { get; set; }

    public long TenantId { get; set; }

    public long ProductId { get; set; }

    public int Quantity { get; set; }

    public DateTimeOffset AsOf { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One reported billable count; the same (tenant, product, as-of) is stored once.</summary>
public sealed class TenantUsageHistory
{
    public long Id { get; set; }

    public long TenantId { get; set; }

    public long ProductId { get; set; }

    public int Quantity { get; set; }

    public DateTimeOffset AsOf { get; set; }

    public DateTimeOffset RecordedAt { get; set; }
}

public enum IncidentSeverity
{
    Low,
    Medium,
    High,
    Critical,
}

public enum IncidentStatus
{
    Open,
    Acknowledged,
    Resolved,
    Closed,
}

/// <summary>A security incident on a tenant; ticketing turns it into a PSA ticket.</summary>
public sealed class Incident
{
    public const int ExternalIdMaxLength = 100;
    public const int TitleMaxLength = 300;
    public const int DescriptionMaxLength = 20_000;

    public long Id { get; set; }

    public Guid OrganizationId { get; set; }

    public required string ExternalId { get; set; }

    public long TenantId { get; set; }

    public required string Title { get; set; }

    public string? Description { get; set; }

    public IncidentSeverity Severity { get; set; }

    public IncidentStatus Status { get; set; }

    /// <summary>When the platform detected it.</summary>
    public DateTimeOffset DetectedAt { get; set; }

    /// <summary>When the platform last changed it.</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? ResolvedAt { get; set; }

    /// <summary>When the portal last received it.</summary>
    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>ConnectWise invoice-line charge types (DESIGN.md, "Invoice lines").</summary>
public enum ChargeType
{
    CycleFee,
    Correction,
    UsageFee,
    ItemFee,
    PurchaseFee,
    OneTimeFee,
}

public enum BillingCycle
{
    Monthly,
    Quarterly,
    Annual,
    OneTime,
}

/// <summary>A line of the vendor's invoice to the MSP for one tenant and product.</summary>
public sealed class InvoiceLine
{
    public const int ExternalIdMaxLength = 100;

    public long Id { get; set; }

    public Guid OrganizationId { get; set; }

    public required string ExternalId { get; set; }

    public long TenantId { get; set; }

    public long ProductId { get; set; }

    public ChargeType ChargeType { get; set; }

    public BillingCycle BillingCycle { get; set; }

    public DateOnly ChargeStartDate { get; set; }

    public DateOnly ChargeEndDate { get; set; }

    public decimal Quantity { get; set; }

    public decimal UnitPrice { get; set; }

    public decimal Cost { get; set; }

    /// <summary>The first day of the invoice month.</summary>
    public DateOnly InvoiceMonth { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class TenantConfiguration : IEntityTypeConfiguration<Tenant>
{
    public void Configure(EntityTypeBuilder<Tenant> builder)
    {
        builder.HasOne<Organization>().WithMany().HasForeignKey(t => t.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(t => t.ExternalId).HasMaxLength(Tenant.ExternalIdMaxLength);
        builder.Property(t => t.Name).HasMaxLength(Tenant.NameMaxLength);
        builder.Property(t => t.Domain).HasMaxLength(Tenant.DomainMaxLength);
        builder.Property(t => t.Status).HasConversion<string>().HasMaxLength(20);
        builder.HasIndex(t => new { t.OrganizationId, t.ExternalId }).IsUnique();
        builder.HasIndex(t => new { t.OrganizationId, t.Name });
    }
}

internal sealed class VendorProductConfiguration : IEntityTypeConfiguration<VendorProduct>
{
    public void Configure(EntityTypeBuilder<VendorProduct> builder)
    {
        builder.HasOne<Organization>().WithMany().HasForeignKey(p => p.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(p => p.PartNumber).HasMaxLength(VendorProduct.PartNumberMaxLength);
        builder.Property(p => p.Name).HasMaxLength(VendorProduct.NameMaxLength);
        builder.Property(p => p.Description).HasMaxLength(VendorProduct.DescriptionMaxLength);
        builder.Property(p => p.Cost).HasPrecision(18, 4);
        builder.Property(p => p.RetailPrice).HasPrecision(18, 4);
        builder.HasIndex(p => new { p.OrganizationId, p.PartNumber }).IsUnique();
    }
}

internal sealed class TenantUsageConfiguration : IEntityTypeConfiguration<TenantUsage>
{
    public void Configure(EntityTypeBuilder<TenantUsage> builder)
    {
        builder.HasOne<Tenant>().WithMany().HasForeignKey(u => u.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<VendorProduct>().WithMany().HasForeignKey(u => u.ProductId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(u => new { u.TenantId, u.ProductId }).IsUnique();
        builder.HasIndex(u => u.OrganizationId);
    }
}

internal sealed class TenantUsageHistoryConfiguration : IEntityTypeConfiguration<TenantUsageHistory>
{
    public void Configure(EntityTypeBuilder<TenantUsageHistory> builder)
    {
        builder.HasOne<Tenant>().WithMany().HasForeignKey(u => u.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<VendorProduct>().WithMany().HasForeignKey(u => u.ProductId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(u => new { u.TenantId, u.ProductId, u.AsOf }).IsUnique();
    }
}

internal sealed class IncidentConfiguration : IEntityTypeConfiguration<Incident>
{
    public void Configure(EntityTypeBuilder<Incident> builder)
    {
        builder.HasOne<Tenant>().WithMany().HasForeignKey(i => i.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(i => i.ExternalId).HasMaxLength(Incident.ExternalIdMaxLength);
        builder.Property(i => i.Title).HasMaxLength(Incident.TitleMaxLength);
        builder.Property(i => i.Description).HasMaxLength(Incident.DescriptionMaxLength);
        builder.Property(i => i.Severity).HasConversion<string>().HasMaxLength(20);
        builder.Property(i => i.Status).HasConversion<string>().HasMaxLength(20);
        builder.HasIndex(i => new { i.OrganizationId, i.ExternalId }).IsUnique();
        builder.HasIndex(i => new { i.OrganizationId, i.Status });
    }
}

internal sealed class InvoiceLineConfiguration : IEntityTypeConfiguration<InvoiceLine>
{
    public void Configure(EntityTypeBuilder<InvoiceLine> builder)
    {
        builder.HasOne<Tenant>().WithMany().HasForeignKey(l => l.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<VendorProduct>().WithMany().HasForeignKey(l => l.ProductId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(l => l.ExternalId).HasMaxLength(InvoiceLine.ExternalIdMaxLength);
        builder.Property(l => l.ChargeType).HasConversion<string>().HasMaxLength(20);
        builder.Property(l => l.BillingCycle).HasConversion<string>().HasMaxLength(20);
        builder.Property(l => l.Quantity).HasPrecision(18, 4);
        builder.Property(l => l.UnitPrice).HasPrecision(18, 4);
        builder.Property(l => l.Cost).HasPrecision(18, 4);
        builder.HasIndex(l => new { l.OrganizationId, l.ExternalId }).IsUnique();
        builder.HasIndex(l => new { l.OrganizationId, l.InvoiceMonth });
    }
}
