using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Web.Features.Reference;

/// <summary>What a refresh request came to: started, or why not.</summary>
public sealed record ReferenceRefresh(bool Started, string Message);

/// <summary>
/// Manual refresh of an integration's PSA reference data (the dashboard's refresh icon, the Mapping page): runs the
/// sync job in the background at once, never a second one beside one that is running or about to run.
/// </summary>
public sealed class ReferenceSyncJobs(
    IDbContextFactory<PortalDbContext> dbFactory,
    PsaReferenceSync sync,
    IntegrationSchedules schedules,
    AuditLog audit)
{
    public const string AlreadyRunning = "A refresh is already running.";
    public const string SalesRefused = "Sales users cannot refresh reference data.";

    /// <summary>Whether a sync of the integration is running now.</summary>
    public bool IsRunning(Guid integrationId) => sync.IsRunning(integrationId);

    /// <summary>
    /// Starts a refresh for <paramref name="integrationId"/> on behalf of <paramref name="requestedBy"/> (audited as
    /// "Reference data refreshed"). The caller has already confined the integration to the user's organization and
    /// checked the user may refresh.
    /// </summary>
    public Task<ReferenceRefresh> TriggerAsync(Guid integrationId, string requestedBy, CancellationToken cancellationToken) =>
        TriggerAsync(integrationId, new Actor(null, requestedBy), cancellationToken);

    /// <summary>A refresh asked for by a signed-in user: Admins and Full Members, for their own organization's integration.</summary>
    public async Task<ReferenceRefresh> TriggerAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken)
    {
        if (!user.IsEditor())
        {
            return new ReferenceRefresh(false, SalesRefused);
        }

        var organizationId = user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integrationId = await db.Integrations.Where(i => i.OrganizationId == organizationId && i.Vendor == vendor)
            .Select(i => (Guid?)i.Id).SingleOrDefaultAsync(cancellationToken);
        return integrationId is { } id
            ? await TriggerAsync(id, Actor.From(user), cancellationToken)
            : new ReferenceRefresh(false, $"{vendor.DisplayName()} is not linked.");
    }

    private async Task<ReferenceRefresh> TriggerAsync(Guid integrationId, Actor actor, CancellationToken cancellationToken)
    {
        Integration? integration;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            integration = await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.Id == integrationId, cancellationToken);
        }

        if (integration is null)
        {
            return new ReferenceRefresh(false, "That integration does not exist.");
        }

        if (integration.Status != IntegrationStatus.Connected)
        {
            return new ReferenceRefresh(false, $"{integration.Vendor.DisplayName()} is not connected. Link it before refreshing its reference data.");
        }

        // Running here, picked up by Quartz, or queued and not yet picked up: each is the refresh the user asked for.
        if (sync.IsRunning(integrationId) || await schedules.IsReferenceSyncFiringAsync(integrationId, cancellationToken)
            || !await schedules.RunReferenceSyncNowAsync(integrationId, actor.Name, cancellationToken))
        {
            return new ReferenceRefresh(false, AlreadyRunning);
        }

        await audit.RecordAsync(integration.OrganizationId, actor, "Reference data refreshed", integration.Vendor.ToString(), cancellationToken: cancellationToken);
        return new ReferenceRefresh(true, $"Refreshing {integration.Vendor.DisplayName()} reference data…");
    }
}
