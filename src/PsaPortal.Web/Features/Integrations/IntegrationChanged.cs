using PsaPortal.Integrations;
using PsaPortal.Web.Features.Live;

namespace PsaPortal.Web.Features.Integrations;

/// <summary>An integration was linked, disconnected or deleted: every open page that shows its state refreshes.</summary>
public sealed record IntegrationChanged(Guid OrganizationId, DateTimeOffset OccurredAt, PsaVendor Vendor, string Change)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "integration.changed";
}
