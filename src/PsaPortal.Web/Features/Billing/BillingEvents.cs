using System.Text.Json.Serialization;
using PsaPortal.Integrations;
using PsaPortal.Web.Features.Live;

namespace PsaPortal.Web.Features.Billing;

/// <summary>The counts of a run as they stand after an event, so a page can redraw its progress from any one event.</summary>
public sealed record BillingRunCounts(int Total, int Done, int Synced, int Unchanged, int Failed);

/// <summary>A billing run was queued, or began (or resumed) running.</summary>
public sealed record BillingRunStarted(
    Guid OrganizationId,
    DateTimeOffset OccurredAt,
    Guid IntegrationId,
    Guid RunId,
    PsaVendor Vendor,
    [property: JsonConverter(typeof(JsonStringEnumConverter<BillingRunMode>))] BillingRunMode Mode,
    [property: JsonConverter(typeof(JsonStringEnumConverter<BillingRunTrigger>))] BillingRunTrigger Trigger,
    [property: JsonConverter(typeof(JsonStringEnumConverter<BillingRunStatus>))] BillingRunStatus Status,
    string RequestedBy,
    BillingRunCounts Counts)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "billing.started";
}

/// <summary>One row of a run changed state (planned, in flight, synced, unchanged, failed).</summary>
public sealed record BillingRunItemChanged(
    Guid OrganizationId,
    DateTimeOffset OccurredAt,
    Guid IntegrationId,
    Guid RunId,
    long ItemId,
    long TenantId,
    [property: JsonConverter(typeof(JsonStringEnumConverter<BillingAction>))] BillingAction Action,
    [property: JsonConverter(typeof(JsonStringEnumConverter<BillingOutcome>))] BillingOutcome Outcome,
    decimal? Previous,
    decimal? New,
    string? Message,
    int Attempts,
    BillingRunCounts Counts)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "billing.item";

    /// <summary>Seconds the run still needs at its pace so far (rows done per second since it was picked up); null until a row is done.</summary>
    public int? EstimatedSecondsLeft { get; init; }
}

/// <summary>
/// Someone asked to cancel a run that is executing on another node (<see cref="BillingCancelRelay"/>): the node running
/// it stops it, as a Cancel pressed on that node would.
/// </summary>
public sealed record BillingRunCancelRequested(Guid OrganizationId, DateTimeOffset OccurredAt, Guid IntegrationId, Guid RunId, string RequestedBy)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "billing.cancel-requested";
}

/// <summary>A run ended; <paramref name="Error"/> says why when it failed or was cancelled as a whole.</summary>
public sealed record BillingRunFinished(
    Guid OrganizationId,
    DateTimeOffset OccurredAt,
    Guid IntegrationId,
    Guid RunId,
    PsaVendor Vendor,
    [property: JsonConverter(typeof(JsonStringEnumConverter<BillingRunMode>))] BillingRunMode Mode,
    [property: JsonConverter(typeof(JsonStringEnumConverter<BillingRunStatus>))] BillingRunStatus Status,
    BillingRunCounts Counts,
    string? Error)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "billing.finished";
}
