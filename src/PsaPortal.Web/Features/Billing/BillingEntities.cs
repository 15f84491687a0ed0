using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PsaPortal.Integrations;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Web.Features.Billing;

/// <summary>What asked for a billing run.</summary>
public enum BillingRunTrigger
{
    /// <summary>One of the integration's schedules fired.</summary>
    Scheduled,

    /// <summary>A person pressed Sync now (or Preview).</summary>
    Manual,

    /// <summary>Retry on one failed row: that tenant's live count is recomputed and only it is synced.</summary>
    RetryTenant,

    /// <summary>Retry all failed rows of an earlier run.</summary>
    RetryFailed,

    /// <summary>Apply exactly the plan of an earlier preview.</summary>
    ApplyPreview,
}

/// <summary>A preview plans and reads but never writes; an apply run writes.</summary>
public enum BillingRunMode
{
    Apply,
    Preview,
}

public enum BillingRunStatus
{
    /// <summary>Recorded, waiting for the integration's previous run to end (or for the job to pick it up).</summary>
    Queued,

    Running,

    /// <summary>Every row synced, unchanged or (for a preview) planned.</summary>
    Succeeded,

    /// <summary>The run reached every row and some failed.</summary>
    CompletedWithFailures,

    /// <summary>The run as a whole could not go on (PSA unreachable, credentials refused…); <see cref="BillingRun.Error"/> says why.</summary>
    Failed,

    /// <summary>Stopped by Disconnect or Delete, or by a person.</summary>
    Cancelled,
}

/// <summary>What a row does (or, in a preview, would do) to the PSA.</summary>
public enum BillingAction
{
    /// <summary>Not decided yet, or the row failed before a plan was made.</summary>
    None,

    /// <summary>The PSA already holds the count: no write.</summary>
    NoChange,

    /// <summary>ConnectWise: PATCH the addition's quantity.</summary>
    UpdateQuantity,

    /// <summary>ConnectWise: the agreement lacks the product, so an addition is created.</summary>
    CreateAddition,

    /// <summary>Autotask: a ContractServiceAdjustment of <c>New − Previous</c> units.</summary>
    Adjust,
}

public enum BillingOutcome
{
    /// <summary>Not reached yet.</summary>
    Pending,

    /// <summary>A preview's planned row (nothing written).</summary>
    Planned,

    /// <summary>A write was recorded and sent; its outcome is not known yet (a crash here is resolved by re-reading the PSA).</summary>
    InFlight,

    /// <summary>The PSA now holds the new count, written by this run.</summary>
    Synced,

    /// <summary>The PSA already held the count.</summary>
    Unchanged,

    /// <summary><see cref="BillingRunItem.Message"/> says exactly why.</summary>
    Failed,

    /// <summary>Not attempted (the run was cancelled or failed as a whole first).</summary>
    Skipped,
}

/// <summary>State of one planned PSA write in the run's journal (recorded before it is sent).</summary>
public enum BillingWriteState
{
    /// <summary>Recorded; not yet known to have been sent.</summary>
    Planned,

    /// <summary>The PSA confirmed it (its answer or a re-read shows the change).</summary>
    Applied,

    /// <summary>The PSA refused it, or a re-read showed it never arrived; it will not be sent again under this record.</summary>
    NotApplied,
}

/// <summary>
/// One billing sync of one integration: scheduled, Sync now, a retry, a preview, or the apply of a preview. The run
/// and its rows live in the database from the moment it is asked for, so a crash leaves a resumable run.
/// </summary>
public sealed class BillingRun
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid OrganizationId { get; set; }

    public Guid IntegrationId { get; set; }

    public PsaVendor Vendor { get; set; }

    public BillingRunMode Mode { get; set; }

    public BillingRunTrigger Trigger { get; set; }

    /// <summary>The user's name, or "Schedule: Daily at 00:00 UTC".</summary>
    public required string RequestedBy { get; set; }

    /// <summary>The preview whose plan an <see cref="BillingRunTrigger.ApplyPreview"/> run applies, or the run a retry retries.</summary>
    public Guid? SourceRunId { get; set; }

    /// <summary>A <see cref="BillingRunTrigger.RetryTenant"/> run's one tenant.</summary>
    public long? TenantId { get; set; }

    public BillingRunStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Rows in the run.</summary>
    public int Total { get; set; }

    /// <summary>Rows that reached a final outcome.</summary>
    public int Done { get; set; }

    public int Synced { get; set; }

    public int Unchanged { get; set; }

    public int Failed { get; set; }

    /// <summary>Why the run as a whole failed or was cancelled.</summary>
    public string? Error { get; set; }

    /// <summary>How many times the run was picked up again after the process that ran it died.</summary>
    public int Resumes { get; set; }
}

/// <summary>
/// One row of a run: one tenant's count of one vendor product on its mapped agreement (ConnectWise) or contract
/// (Autotask). Names are copied so the row still reads the same after mappings or the PSA change.
/// </summary>
public sealed class BillingRunItem
{
    public const int NameMaxLength = 300;
    public const int MessageMaxLength = 2000;

    public long Id { get; set; }

    public Guid RunId { get; set; }

    public long TenantId { get; set; }

    public required string TenantName { get; set; }

    public long VendorProductId { get; set; }

    public required string VendorProductName { get; set; }

    public long? CompanyPsaId { get; set; }

    public string? CompanyName { get; set; }

    /// <summary>ConnectWise agreement or Autotask contract.</summary>
    public long? AgreementPsaId { get; set; }

    public string? AgreementName { get; set; }

    /// <summary>ConnectWise catalog product or Autotask service.</summary>
    public long? PsaProductId { get; set; }

    public string? PsaProductName { get; set; }

    /// <summary>ConnectWise addition or Autotask contract service, once known.</summary>
    public long? LinePsaId { get; set; }

    /// <summary>The PSA's quantity (units) before this run; null when the line did not exist.</summary>
    public decimal? Previous { get; set; }

    /// <summary>The tenant's live billable count this run pushes.</summary>
    public decimal? New { get; set; }

    public BillingAction Action { get; set; }

    public BillingOutcome Outcome { get; set; }

    /// <summary>The exact reason of a failure (DESIGN.md's messages, or the PSA's own words).</summary>
    public string? Message { get; set; }

    public int Attempts { get; set; }

    public int? DurationMilliseconds { get; set; }

    public DateTimeOffset? UpdatedAt { get; set; }
}

/// <summary>
/// The run's write journal: each PSA write is recorded here before it is sent and updated after. On resume, a write
/// still <see cref="BillingWriteState.Planned"/> is settled by re-reading the PSA, never by sending it blindly again.
/// </summary>
public sealed class BillingWrite
{
    public long Id { get; set; }

    public Guid RunId { get; set; }

    public long ItemId { get; set; }

    public BillingAction Action { get; set; }

    public long AgreementPsaId { get; set; }

    public long? LinePsaId { get; set; }

    public long PsaProductId { get; set; }

    /// <summary>The PSA's value the write was planned from (quantity or units).</summary>
    public decimal? Before { get; set; }

    /// <summary>The value the PSA holds once the write is applied.</summary>
    public decimal After { get; set; }

    /// <summary>Autotask: the adjustment's effective date (the period it lands in).</summary>
    public DateOnly? EffectiveDate { get; set; }

    public BillingWriteState State { get; set; }

    /// <summary>The PSA's id of what the write created (addition id, adjustment id).</summary>
    public long? ResultPsaId { get; set; }

    public DateTimeOffset PlannedAt { get; set; }

    public DateTimeOffset? SettledAt { get; set; }
}

public enum BillingFrequency
{
    Hourly,
    Daily,
    Monthly,
}

/// <summary>One of an integration's billing schedules (stored as a Quartz trigger in the integration's group).</summary>
public sealed class BillingSchedule
{
    public long Id { get; set; }

    public Guid IntegrationId { get; set; }

    public BillingFrequency Frequency { get; set; }

    /// <summary>Hourly: the minute past the hour; Daily and Monthly: the time of day.</summary>
    public TimeOnly TimeOfDay { get; set; }

    /// <summary>Monthly: 1–28, or 0 for the last day of the month.</summary>
    public int DayOfMonth { get; set; }

    /// <summary>IANA time zone id the schedule is read in ("UTC" by default).</summary>
    public required string TimeZone { get; set; }

    public bool Enabled { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }
}

/// <summary>Who hears about a run that ended with failures, per integration.</summary>
public sealed class BillingNotificationSettings
{
    public long Id { get; set; }

    public Guid IntegrationId { get; set; }

    /// <summary>Comma-separated e-mail addresses; empty sends no e-mail.</summary>
    public string? EmailRecipients { get; set; }

    /// <summary>An https (or, for loopback, http) URL that receives a signed JSON POST; null sends none.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>The webhook's HMAC-SHA256 key, protected with Data Protection like the PSA secrets.</summary>
    public string? ProtectedWebhookSecret { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }
}

internal sealed class BillingRunConfiguration : IEntityTypeConfiguration<BillingRun>
{
    public void Configure(EntityTypeBuilder<BillingRun> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(r => r.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(r => r.Vendor).HasConversion<string>().HasMaxLength(20);
        builder.Property(r => r.Mode).HasConversion<string>().HasMaxLength(20);
        builder.Property(r => r.Trigger).HasConversion<string>().HasMaxLength(20);
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(30);
        builder.Property(r => r.RequestedBy).HasMaxLength(256);
        builder.Property(r => r.Error).HasMaxLength(BillingRunItem.MessageMaxLength);
        builder.HasIndex(r => new { r.IntegrationId, r.CreatedAt });
        builder.HasIndex(r => r.Status);
    }
}

internal sealed class BillingRunItemConfiguration : IEntityTypeConfiguration<BillingRunItem>
{
    public void Configure(EntityTypeBuilder<BillingRunItem> builder)
    {
        builder.HasOne<BillingRun>().WithMany().HasForeignKey(i => i.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(i => i.TenantName).HasMaxLength(BillingRunItem.NameMaxLength);
        builder.Property(i => i.VendorProductName).HasMaxLength(BillingRunItem.NameMaxLength);
        builder.Property(i => i.CompanyName).HasMaxLength(BillingRunItem.NameMaxLength);
        builder.Property(i => i.AgreementName).HasMaxLength(BillingRunItem.NameMaxLength);
        builder.Property(i => i.PsaProductName).HasMaxLength(BillingRunItem.NameMaxLength);
        builder.Property(i => i.Message).HasMaxLength(BillingRunItem.MessageMaxLength);
        builder.Property(i => i.Action).HasConversion<string>().HasMaxLength(20);
        builder.Property(i => i.Outcome).HasConversion<string>().HasMaxLength(20);
        builder.HasIndex(i => new { i.RunId, i.TenantId, i.VendorProductId }).IsUnique();
        builder.HasIndex(i => new { i.RunId, i.Outcome });
        // The results table's default order: a page of 50 is read off the index instead of sorting every row of the run.
        builder.HasIndex(i => new { i.RunId, i.TenantName, i.VendorProductName, i.Id });
    }
}

internal sealed class BillingWriteConfiguration : IEntityTypeConfiguration<BillingWrite>
{
    public void Configure(EntityTypeBuilder<BillingWrite> builder)
    {
        builder.HasOne<BillingRun>().WithMany().HasForeignKey(w => w.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<BillingRunItem>().WithMany().HasForeignKey(w => w.ItemId).OnDelete(DeleteBehavior.NoAction);
        builder.Property(w => w.Action).HasConversion<string>().HasMaxLength(20);
        builder.Property(w => w.State).HasConversion<string>().HasMaxLength(20);
        builder.HasIndex(w => new { w.RunId, w.State });
        builder.HasIndex(w => w.ItemId);
    }
}

internal sealed class BillingScheduleConfiguration : IEntityTypeConfiguration<BillingSchedule>
{
    public void Configure(EntityTypeBuilder<BillingSchedule> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(s => s.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(s => s.Frequency).HasConversion<string>().HasMaxLength(20);
        builder.Property(s => s.TimeZone).HasMaxLength(100);
        builder.Property(s => s.UpdatedBy).HasMaxLength(256);
        builder.HasIndex(s => s.IntegrationId);
    }
}

internal sealed class BillingNotificationSettingsConfiguration : IEntityTypeConfiguration<BillingNotificationSettings>
{
    public void Configure(EntityTypeBuilder<BillingNotificationSettings> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(s => s.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(s => s.EmailRecipients).HasMaxLength(2000);
        builder.Property(s => s.WebhookUrl).HasMaxLength(Integration.UrlMaxLength);
        builder.Property(s => s.ProtectedWebhookSecret).HasMaxLength(2000);
        builder.Property(s => s.UpdatedBy).HasMaxLength(256);
        builder.HasIndex(s => s.IntegrationId).IsUnique();
    }
}
