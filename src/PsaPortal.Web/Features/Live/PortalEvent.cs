using System.Text.Json;

namespace PsaPortal.Web.Features.Live;

/// <summary>
/// Something that happened in one organization that open pages may want to show at once: a job's progress, a
/// permission check's result, a retry's outcome. Concrete events derive from this record.
/// </summary>
public abstract record PortalEvent(Guid OrganizationId, DateTimeOffset OccurredAt)
{
    /// <summary>The name external watchers see on the status hub, e.g. <c>audit.recorded</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>The wire form for the status hub: kind, organization, time, and the event's own fields.</summary>
    public PortalEventEnvelope ToEnvelope() =>
        new(Kind, OrganizationId, OccurredAt, JsonSerializer.SerializeToElement(this, GetType(), JsonSerializerOptions.Web));
}

public sealed record PortalEventEnvelope(string Kind, Guid OrganizationId, DateTimeOffset OccurredAt, JsonElement Data);
