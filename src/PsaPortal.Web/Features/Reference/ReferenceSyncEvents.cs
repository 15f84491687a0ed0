using System.Text.Json.Serialization;
using PsaPortal.Integrations;
using PsaPortal.Web.Features.Live;

namespace PsaPortal.Web.Features.Reference;

/// <summary>A reference sync of one integration began; <paramref name="Kinds"/> kinds will be read.</summary>
public sealed record ReferenceSyncStarted(Guid OrganizationId, DateTimeOffset OccurredAt, Guid IntegrationId, PsaVendor Vendor, string RequestedBy, int Kinds)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "reference.started";
}

/// <summary>One kind of reference data was copied (<paramref name="Count"/> rows cached) or failed with the PSA's own message.</summary>
public sealed record ReferenceKindSynced(
    Guid OrganizationId,
    DateTimeOffset OccurredAt,
    Guid IntegrationId,
    PsaVendor Vendor,
    [property: JsonConverter(typeof(JsonStringEnumConverter<PsaReferenceKind>))] PsaReferenceKind ReferenceKind,
    int Count,
    string? Error)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "reference.kind";
}

/// <summary>The sync ended; <paramref name="ReferenceSyncedAt"/> is the integration's "Last Sync to Platform" afterwards.</summary>
public sealed record ReferenceSyncFinished(
    Guid OrganizationId, DateTimeOffset OccurredAt, Guid IntegrationId, PsaVendor Vendor, int Synced, int Failed, DateTimeOffset? ReferenceSyncedAt)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "reference.finished";
}
