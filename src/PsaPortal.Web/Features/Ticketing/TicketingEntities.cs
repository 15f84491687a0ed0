using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Ticketing;

/// <summary>
/// How one integration turns incidents into tickets (Integrations → the PSA → Ticketing). One row per integration;
/// the ConnectWise columns are used for ConnectWise, the Autotask ones for Autotask. Names are kept beside ids as the
/// PSA called them when they were chosen, so the page can show them while the PSA is unreachable.
/// </summary>
public sealed class TicketingSettings
{
    public const int NameMaxLength = 200;

    public Guid IntegrationId { get; set; }

    /// <summary>Whether new incidents become tickets. Off until the settings are complete and someone turns it on.</summary>
    public bool Enabled { get; set; }

    // ConnectWise: the service board, the company for tenants without a mapping, the source, the board's closed status.
    public long? BoardId { get; set; }

    public string? BoardName { get; set; }

    public long? DefaultCompanyPsaId { get; set; }

    public string? DefaultCompanyName { get; set; }

    public long? SourceId { get; set; }

    public string? SourceName { get; set; }

    /// <summary>ConnectWise: the board status a resolved incident's ticket is set to (one of the board's closed statuses).</summary>
    public long? ClosedStatusId { get; set; }

    public string? ClosedStatusName { get; set; }

    // Autotask: the queue and the ticket status picklist values for new, updated and closed tickets.
    public long? QueueId { get; set; }

    public string? QueueName { get; set; }

    public long? NewStatusId { get; set; }

    public string? NewStatusName { get; set; }

    public long? UpdatedStatusId { get; set; }

    public string? UpdatedStatusName { get; set; }

    /// <summary>Autotask: the status a resolved incident's ticket is set to (Complete is 5 in a default Autotask).</summary>
    public long? AutotaskClosedStatusId { get; set; }

    public string? AutotaskClosedStatusName { get; set; }

    /// <summary>The priority used when a severity has no mapping of its own.</summary>
    public long? DefaultPriorityId { get; set; }

    public string? DefaultPriorityName { get; set; }

    // Severity → PSA priority (ConnectWise priority id, Autotask priority picklist value).
    public long? LowPriorityId { get; set; }

    public string? LowPriorityName { get; set; }

    public long? MediumPriorityId { get; set; }

    public string? MediumPriorityName { get; set; }

    public long? HighPriorityId { get; set; }

    public string? HighPriorityName { get; set; }

    public long? CriticalPriorityId { get; set; }

    public string? CriticalPriorityName { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }
}

/// <summary>Where an incident's ticket stands in the PSA.</summary>
public enum TicketState
{
    /// <summary>Waiting to be created (or to be created again after a failure's Retry).</summary>
    Pending,

    /// <summary>A creation was sent and its answer is not recorded yet: only a lookup by the external reference settles it.</summary>
    Creating,

    /// <summary>The ticket exists and reflects the incident as of <see cref="IncidentTicket.SyncedIncidentAt"/>.</summary>
    Open,

    /// <summary>The incident changed since: a note (ConnectWise) or an update (Autotask) is due.</summary>
    UpdatePending,

    /// <summary>The incident is resolved: the ticket is to be closed and the closure confirmed by a re-read.</summary>
    ClosePending,

    /// <summary>Closed in the PSA, confirmed by reading the ticket back.</summary>
    Closed,

    /// <summary>The last attempt failed; <see cref="IncidentTicket.Error"/> says why in the PSA's words. Retry puts it back.</summary>
    Failed,
}

/// <summary>
/// One incident's ticket in one integration's PSA. The external reference is written on the ticket when it is
/// created (ConnectWise: externalXRef; Autotask: externalID), so a creation whose answer was lost is found again
/// instead of being sent twice.
/// </summary>
public sealed class IncidentTicket
{
    public const int ErrorMaxLength = 2000;
    public const int ReferenceMaxLength = 100;

    public long Id { get; set; }

    public Guid OrganizationId { get; set; }

    public Guid IntegrationId { get; set; }

    public long IncidentId { get; set; }

    public TicketState State { get; set; }

    /// <summary>What failed last: Create, Update or Close (null when nothing failed), so Retry resumes the right step.</summary>
    public string? FailedStep { get; set; }

    /// <summary>Written on the PSA ticket: "psaportal-{incident external id}" clipped to the PSA's field length; unique per integration.</summary>
    public required string ExternalReference { get; set; }

    public long? TicketPsaId { get; set; }

    /// <summary>The ticket as the PSA numbers it for people (Autotask: T20261202.0001; ConnectWise: the id).</summary>
    public string? TicketNumber { get; set; }

    /// <summary>A link that opens the ticket in the PSA.</summary>
    public string? TicketUrl { get; set; }

    public string? Error { get; set; }

    public int Attempts { get; set; }

    /// <summary>The incident's UpdatedAt the ticket reflects; an incident changed after it needs an update.</summary>
    public DateTimeOffset? SyncedIncidentAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? ClosedAt { get; set; }
}

internal sealed class TicketingSettingsConfiguration : IEntityTypeConfiguration<TicketingSettings>
{
    public void Configure(EntityTypeBuilder<TicketingSettings> builder)
    {
        builder.HasKey(s => s.IntegrationId);
        builder.HasOne<Integration>().WithOne().HasForeignKey<TicketingSettings>(s => s.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        foreach (var property in builder.Metadata.ClrType.GetProperties().Where(p => p.PropertyType == typeof(string)))
        {
            builder.Property(property.Name).HasMaxLength(property.Name == nameof(TicketingSettings.UpdatedBy) ? 256 : TicketingSettings.NameMaxLength);
        }
    }
}

internal sealed class IncidentTicketConfiguration : IEntityTypeConfiguration<IncidentTicket>
{
    public void Configure(EntityTypeBuilder<IncidentTicket> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(t => t.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Incident>().WithMany().HasForeignKey(t => t.IncidentId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(t => t.State).HasConversion<string>().HasMaxLength(20);
        builder.Property(t => t.FailedStep).HasMaxLength(20);
        builder.Property(t => t.ExternalReference).HasMaxLength(IncidentTicket.ReferenceMaxLength);
        builder.Property(t => t.TicketNumber).HasMaxLength(50);
        builder.Property(t => t.TicketUrl).HasMaxLength(500);
        builder.Property(t => t.Error).HasMaxLength(IncidentTicket.ErrorMaxLength);
        builder.HasIndex(t => new { t.IntegrationId, t.IncidentId }).IsUnique();
        builder.HasIndex(t => new { t.IntegrationId, t.ExternalReference }).IsUnique();
        builder.HasIndex(t => new { t.IntegrationId, t.State });
        builder.HasIndex(t => new { t.OrganizationId, t.UpdatedAt });
    }
}
