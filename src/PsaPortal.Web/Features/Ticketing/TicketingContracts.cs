using System.Security.Claims;
using System.Text.Json.Serialization;
using PsaPortal.Integrations;
using PsaPortal.Web.Features.Live;

namespace PsaPortal.Web.Features.Ticketing;

// The seams between ticketing's settings, its engine and its pages. TicketingSettingsService implements
// ITicketingSettings; the engine (TicketSync) implements ITicketActions and publishes TicketChanged; the Tickets
// page reads rows through TicketQueries (TicketRow, TicketFilter, TicketPage).

/// <summary>What a request came to: accepted, or why not, in words for the user.</summary>
public sealed record TicketRequestResult(bool Accepted, string Message)
{
    public static TicketRequestResult Refused(string message) => new(false, message);
}

/// <summary>An incident's ticket changed state (created, updated, closed, failed, retried), after its commit.</summary>
public sealed record TicketChanged(
    Guid OrganizationId,
    DateTimeOffset OccurredAt,
    Guid IntegrationId,
    PsaVendor Vendor,
    long IncidentTicketId,
    long IncidentId,
    [property: JsonConverter(typeof(JsonStringEnumConverter<TicketState>))] TicketState State,
    string? TicketNumber,
    string? TicketUrl,
    string? Error,
    int Attempts)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "ticket.changed";
}

/// <summary>The settings an integration's ticketing works from, for the engine (null when ticketing is not set up or is off).</summary>
public interface ITicketingSettings
{
    Task<TicketingSettings?> GetEnabledAsync(Guid integrationId, CancellationToken cancellationToken = default);
}

/// <summary>What a person may do to tickets: Admins and Full Members, in their own organization; Sales users are refused.</summary>
public interface ITicketActions
{
    /// <summary>Puts a failed ticket back to the step that failed and processes it now; the row turns live.</summary>
    Task<TicketRequestResult> RetryAsync(ClaimsPrincipal user, long incidentTicketId, CancellationToken cancellationToken = default);

    /// <summary>Retries every failed ticket of the organization.</summary>
    Task<TicketRequestResult> RetryAllFailedAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default);
}

/// <summary>One row of the Tickets page: the incident and its ticket in one PSA (no ticket row yet: State null).</summary>
public sealed record TicketRow(
    long IncidentId,
    string IncidentExternalId,
    string Title,
    string Severity,
    string IncidentStatus,
    string TenantName,
    DateTimeOffset DetectedAt,
    long? IncidentTicketId,
    PsaVendor? Vendor,
    TicketState? State,
    string? TicketNumber,
    string? TicketUrl,
    string? Error,
    int Attempts,
    DateTimeOffset? UpdatedAt);

/// <param name="Incident">One incident only: the portal's incident id or the platform's external id (the Tickets page's <c>?incident=</c>).</param>
public sealed record TicketFilter(string? Search = null, TicketState? State = null, PsaVendor? Vendor = null, bool FailedOnly = false, string? Incident = null);

public sealed record TicketPage(IReadOnlyList<TicketRow> Items, int TotalCount);
