using PsaPortal.Integrations;
using PsaPortal.Web.Features.Live;

namespace PsaPortal.Web.Features.Permissions;

public sealed record PermissionRunStarted(Guid OrganizationId, DateTimeOffset OccurredAt, Guid RunId, PsaVendor Vendor, string StartedBy, int Total)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "permissions.started";
}

public sealed record PermissionCheckCompleted(
    Guid OrganizationId, DateTimeOffset OccurredAt, Guid RunId, PsaVendor Vendor, int Order, string Permission, string Outcome, string? Message)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "permissions.check";
}

public sealed record PermissionRunFinished(
    Guid OrganizationId, DateTimeOffset OccurredAt, Guid RunId, PsaVendor Vendor, int Passed, int Failed, int CouldNotCheck)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "permissions.finished";
}
