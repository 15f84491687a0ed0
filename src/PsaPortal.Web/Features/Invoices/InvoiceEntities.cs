using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Invoices;

// Invoice lines and the product catalog export (issue #9, DESIGN.md "Invoice lines"). The platform's invoice lines
// live in Features/Platform (InvoiceLine); here is how one ConnectWise integration treats them: its configuration
// (InvoiceSettings and the three rule tables), each line's state in the PSA (InvoiceLineSync) and the export runs
// (InvoiceExport with its log). Dates of lines are DateOnly calendar dates: no time zone ever touches them.

/// <summary>How often the product catalog export (and the users list) runs by itself.</summary>
public enum InvoiceExportFrequency
{
    /// <summary>Only when someone presses "Start export now".</summary>
    None,

    /// <summary>Every day at <see cref="InvoiceSettings.ExportTimeOfDay"/> UTC.</summary>
    Daily,

    /// <summary>On <see cref="InvoiceSettings.ExportDayOfMonth"/> at <see cref="InvoiceSettings.ExportTimeOfDay"/> UTC.</summary>
    Monthly,
}

/// <summary>
/// The invoice-line configuration of one ConnectWise integration (Integrations → ConnectWise → Settings →
/// Configuration). One row per integration; a missing row means nothing is configured yet (no agreement type, daily
/// sync off, every export setting off). Saving applies to future syncs only: lines already posted keep their values.
/// </summary>
public sealed class InvoiceSettings
{
    public const int NameMaxLength = 200;
    public const int ContactsMaxLength = 2000;

    public Guid IntegrationId { get; set; }

    /// <summary>
    /// The ConnectWise agreement type used when a customer has no matching agreement. Required: no line is posted
    /// while it is null.
    /// </summary>
    public long? AgreementTypeId { get; set; }

    /// <summary>The agreement type's name as ConnectWise called it when it was chosen.</summary>
    public string? AgreementTypeName { get; set; }

    /// <summary>Automated Daily Invoice Line Sync: fully mapped lines are posted every day at midnight UTC; the rest are skipped.</summary>
    public bool DailySyncEnabled { get; set; }

    /// <summary>Export the vendor's products (SKUs) as ConnectWise catalog products (identifier = part number).</summary>
    public bool ExportProducts { get; set; }

    /// <summary>Send quantities on additions.</summary>
    public bool ExportQuantities { get; set; }

    /// <summary>Send the unit cost (on catalog products and additions).</summary>
    public bool ExportCost { get; set; }

    /// <summary>Send the retail price (on catalog products and additions).</summary>
    public bool ExportRetailPrice { get; set; }

    /// <summary>Attach a CSV of each tenant's users and enabled services to its agreement as a document.</summary>
    public bool ExportUsersList { get; set; }

    /// <summary>Comma-separated e-mail addresses told when an export fails; empty tells no one.</summary>
    public string? NotificationContacts { get; set; }

    public InvoiceExportFrequency ExportFrequency { get; set; }

    /// <summary>Monthly: the day of the month, 1–28.</summary>
    public int ExportDayOfMonth { get; set; } = 1;

    /// <summary>Daily and Monthly: the time of day, UTC.</summary>
    public TimeOnly ExportTimeOfDay { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }
}

/// <summary>What a Charge End Date rule sets a line's end date to.</summary>
public enum ChargeEndDateRuleKind
{
    /// <summary>The last day of the line's invoice month (invoice month 2028-02 → 2028-02-29).</summary>
    LastDayOfInvoiceMonth,

    /// <summary>The first day of the month after the invoice month (invoice month 2026-12 → 2027-01-01).</summary>
    FirstDayOfFollowingMonth,
}

/// <summary>What a Charge Start Date rule sets a line's start date to.</summary>
public enum ChargeStartDateRuleKind
{
    /// <summary>The first day of the month after the line's platform start date (Jan 15 → Feb 1; Feb 1 → Mar 1).</summary>
    FirstDayOfNextMonth,
}

/// <summary>A Charge End Date rule: one per charge type and integration.</summary>
public sealed class ChargeEndDateRule
{
    public long Id { get; set; }

    public Guid IntegrationId { get; set; }

    public ChargeType ChargeType { get; set; }

    public ChargeEndDateRuleKind Rule { get; set; }
}

/// <summary>A Charge Start Date rule: one per billing cycle and integration.</summary>
public sealed class ChargeStartDateRule
{
    public long Id { get; set; }

    public Guid IntegrationId { get; set; }

    public BillingCycle BillingCycle { get; set; }

    public ChargeStartDateRuleKind Rule { get; set; }
}

/// <summary>The name sent to ConnectWise for one platform charge type; a charge type without a row keeps its platform name.</summary>
public sealed class ChargeTypeName
{
    public const int NameMaxLength = 100;

    public long Id { get; set; }

    public Guid IntegrationId { get; set; }

    public ChargeType ChargeType { get; set; }

    public required string Name { get; set; }
}

/// <summary>Where one invoice line stands in one integration's PSA.</summary>
public enum InvoiceLineSyncState
{
    /// <summary>Not posted yet (or put back for another attempt).</summary>
    Pending,

    /// <summary>An addition write was sent and its answer is not recorded yet: settle it by re-reading the agreement, never by resending blind.</summary>
    Posting,

    /// <summary>On the agreement as <see cref="InvoiceLineSync.AdditionPsaId"/>.</summary>
    Posted,

    /// <summary>The last attempt failed; <see cref="InvoiceLineSync.Message"/> says why in the PSA's or DESIGN.md's words.</summary>
    Failed,

    /// <summary>Not posted because the line is not fully mapped (or no agreement type is chosen); it stays for review.</summary>
    Skipped,
}

/// <summary>
/// One invoice line in one integration: the person's date overrides (User Updated) and the posting state. A line with
/// no row is Pending with no override. Several lines with the same agreement, part number, price and cost share one
/// addition, so <see cref="AdditionPsaId"/> may repeat.
/// </summary>
public sealed class InvoiceLineSync
{
    public const int MessageMaxLength = 2000;

    public long Id { get; set; }

    public Guid OrganizationId { get; set; }

    public Guid IntegrationId { get; set; }

    public long InvoiceLineId { get; set; }

    /// <summary>A person's charge start date, winning over the rules and the platform.</summary>
    public DateOnly? StartDateOverride { get; set; }

    /// <summary>A person's charge end date, winning over the rules and the platform.</summary>
    public DateOnly? EndDateOverride { get; set; }

    public string? OverriddenBy { get; set; }

    public DateTimeOffset? OverriddenAt { get; set; }

    public InvoiceLineSyncState State { get; set; }

    /// <summary>The agreement the line was (or is being) posted to.</summary>
    public long? AgreementPsaId { get; set; }

    /// <summary>The ConnectWise catalog product of the line's vendor product.</summary>
    public long? PsaProductId { get; set; }

    /// <summary>The ConnectWise addition that carries the line.</summary>
    public long? AdditionPsaId { get; set; }

    /// <summary>The values as posted (so the page shows what the PSA received even after rules change).</summary>
    public DateOnly? PostedStartDate { get; set; }

    public DateOnly? PostedEndDate { get; set; }

    public string? PostedChargeTypeName { get; set; }

    /// <summary>Why the line failed or was skipped.</summary>
    public string? Message { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset? PostedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>What started an export or a line sync.</summary>
public enum InvoiceRunTrigger
{
    /// <summary>The integration's export schedule (or the daily line sync) fired.</summary>
    Scheduled,

    /// <summary>A person pressed "Start export now" (or Sync selected / Sync all mapped).</summary>
    Manual,
}

public enum InvoiceExportStatus
{
    Queued,
    Running,
    Succeeded,

    /// <summary>The export reached everything and some items failed (see the log).</summary>
    CompletedWithFailures,

    /// <summary>The export as a whole could not go on; <see cref="InvoiceExport.Error"/> says why.</summary>
    Failed,
}

/// <summary>
/// One product catalog export (products, and the users list documents when on) of one integration: the Export status
/// page shows the last one's statistics and links to its log.
/// </summary>
public sealed class InvoiceExport
{
    public const int ErrorMaxLength = 2000;

    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid OrganizationId { get; set; }

    public Guid IntegrationId { get; set; }

    public InvoiceRunTrigger Trigger { get; set; }

    /// <summary>The user's name, or "Schedule: Daily at 00:00 UTC".</summary>
    public required string RequestedBy { get; set; }

    public InvoiceExportStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public int ProductsCreated { get; set; }

    public int ProductsUpdated { get; set; }

    public int ProductsUnchanged { get; set; }

    public int ProductsFailed { get; set; }

    /// <summary>Users-list CSVs attached to agreements.</summary>
    public int DocumentsUploaded { get; set; }

    public int DocumentsFailed { get; set; }

    public string? Error { get; set; }
}

public enum InvoiceExportLogLevel
{
    Info,
    Warning,
    Error,
}

/// <summary>One line of an export's detailed log (a product created/updated/unchanged/failed, a document attached…).</summary>
public sealed class InvoiceExportLogEntry
{
    public const int SubjectMaxLength = 300;
    public const int MessageMaxLength = 2000;

    public long Id { get; set; }

    public Guid ExportId { get; set; }

    public DateTimeOffset At { get; set; }

    public InvoiceExportLogLevel Level { get; set; }

    /// <summary>What the entry is about: a part number, a tenant's name, "Export".</summary>
    public required string Subject { get; set; }

    public required string Message { get; set; }

    /// <summary>The PSA id the entry touched (catalog product, document), when there is one.</summary>
    public long? PsaId { get; set; }
}

internal sealed class InvoiceSettingsConfiguration : IEntityTypeConfiguration<InvoiceSettings>
{
    public void Configure(EntityTypeBuilder<InvoiceSettings> builder)
    {
        builder.HasKey(s => s.IntegrationId);
        builder.HasOne<Integration>().WithOne().HasForeignKey<InvoiceSettings>(s => s.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(s => s.AgreementTypeName).HasMaxLength(InvoiceSettings.NameMaxLength);
        builder.Property(s => s.NotificationContacts).HasMaxLength(InvoiceSettings.ContactsMaxLength);
        builder.Property(s => s.ExportFrequency).HasConversion<string>().HasMaxLength(20);
        builder.Property(s => s.UpdatedBy).HasMaxLength(256);
    }
}

internal sealed class ChargeEndDateRuleConfiguration : IEntityTypeConfiguration<ChargeEndDateRule>
{
    public void Configure(EntityTypeBuilder<ChargeEndDateRule> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(r => r.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(r => r.ChargeType).HasConversion<string>().HasMaxLength(20);
        builder.Property(r => r.Rule).HasConversion<string>().HasMaxLength(40);
        builder.HasIndex(r => new { r.IntegrationId, r.ChargeType }).IsUnique();
    }
}

internal sealed class ChargeStartDateRuleConfiguration : IEntityTypeConfiguration<ChargeStartDateRule>
{
    public void Configure(EntityTypeBuilder<ChargeStartDateRule> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(r => r.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(r => r.BillingCycle).HasConversion<string>().HasMaxLength(20);
        builder.Property(r => r.Rule).HasConversion<string>().HasMaxLength(40);
        builder.HasIndex(r => new { r.IntegrationId, r.BillingCycle }).IsUnique();
    }
}

internal sealed class ChargeTypeNameConfiguration : IEntityTypeConfiguration<ChargeTypeName>
{
    public void Configure(EntityTypeBuilder<ChargeTypeName> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(n => n.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(n => n.ChargeType).HasConversion<string>().HasMaxLength(20);
        builder.Property(n => n.Name).HasMaxLength(ChargeTypeName.NameMaxLength);
        builder.HasIndex(n => new { n.IntegrationId, n.ChargeType }).IsUnique();
    }
}

internal sealed class InvoiceLineSyncConfiguration : IEntityTypeConfiguration<InvoiceLineSync>
{
    public void Configure(EntityTypeBuilder<InvoiceLineSync> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(s => s.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<InvoiceLine>().WithMany().HasForeignKey(s => s.InvoiceLineId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(s => s.State).HasConversion<string>().HasMaxLength(20);
        builder.Property(s => s.OverriddenBy).HasMaxLength(256);
        builder.Property(s => s.PostedChargeTypeName).HasMaxLength(ChargeTypeName.NameMaxLength);
        builder.Property(s => s.Message).HasMaxLength(InvoiceLineSync.MessageMaxLength);
        builder.HasIndex(s => new { s.IntegrationId, s.InvoiceLineId }).IsUnique();
        builder.HasIndex(s => new { s.IntegrationId, s.State });
        builder.HasIndex(s => s.OrganizationId);
    }
}

internal sealed class InvoiceExportConfiguration : IEntityTypeConfiguration<InvoiceExport>
{
    public void Configure(EntityTypeBuilder<InvoiceExport> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(e => e.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(e => e.Trigger).HasConversion<string>().HasMaxLength(20);
        builder.Property(e => e.Status).HasConversion<string>().HasMaxLength(30);
        builder.Property(e => e.RequestedBy).HasMaxLength(256);
        builder.Property(e => e.Error).HasMaxLength(InvoiceExport.ErrorMaxLength);
        builder.HasIndex(e => new { e.IntegrationId, e.CreatedAt });
        builder.HasIndex(e => e.Status);
    }
}

internal sealed class InvoiceExportLogEntryConfiguration : IEntityTypeConfiguration<InvoiceExportLogEntry>
{
    public void Configure(EntityTypeBuilder<InvoiceExportLogEntry> builder)
    {
        builder.HasOne<InvoiceExport>().WithMany().HasForeignKey(e => e.ExportId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(e => e.Level).HasConversion<string>().HasMaxLength(20);
        builder.Property(e => e.Subject).HasMaxLength(InvoiceExportLogEntry.SubjectMaxLength);
        builder.Property(e => e.Message).HasMaxLength(InvoiceExportLogEntry.MessageMaxLength);
        builder.HasIndex(e => new { e.ExportId, e.Id });
    }
}
