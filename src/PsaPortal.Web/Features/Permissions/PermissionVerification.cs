using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using Quartz;

namespace PsaPortal.Web.Features.Permissions;

public sealed record VerifyStart(bool Started, string Message, Guid? RunId);

/// <summary>Starts Verify Permissions as a background job and reads the latest run; one run per integration at a time.</summary>
public sealed class PermissionVerification(
    IDbContextFactory<PortalDbContext> dbFactory,
    ISchedulerFactory schedulers,
    IPortalEventStream events,
    AuditLog audit,
    TimeProvider time)
{
    public const string SalesRefused = "Sales users cannot run Verify Permissions.";

    public async Task<VerifyStart> StartAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default)
    {
        if (!user.IsEditor())
        {
            return new VerifyStart(false, SalesRefused, null);
        }

        var organizationId = user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");
        var actor = Actor.From(user);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await db.Integrations.AsNoTracking()
            .SingleOrDefaultAsync(i => i.OrganizationId == organizationId && i.Vendor == vendor, cancellationToken);
        if (integration is not { Status: IntegrationStatus.Connected })
        {
            return new VerifyStart(false, $"{vendor} is not connected. Link it before verifying its permissions.", null);
        }

        var running = await db.PermissionRuns.Where(r => r.OrganizationId == organizationId && r.Vendor == vendor && r.FinishedAt == null)
            .Select(r => (Guid?)r.Id).FirstOrDefaultAsync(cancellationToken);
        if (running is not null)
        {
            return new VerifyStart(false, "Verify Permissions is already running; its results appear here as they arrive.", running);
        }

        var run = new PermissionRun
        {
            OrganizationId = organizationId,
            Vendor = vendor,
            StartedAt = time.GetUtcNow(),
            StartedBy = actor.Name,
            Total = PermissionCatalogs.ChecksOf(vendor).Count,
        };
        db.PermissionRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(organizationId, actor, "Permissions verified", vendor.ToString(), $"{run.Total} checks", cancellationToken);
        events.Publish(new PermissionRunStarted(organizationId, run.StartedAt, run.Id, vendor, run.StartedBy, run.Total));

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.TriggerJob(VerifyPermissionsJob.Key, new JobDataMap { [VerifyPermissionsJob.RunIdKey] = run.Id.ToString() }, cancellationToken);
        return new VerifyStart(true, "Verify Permissions started.", run.Id);
    }

    public async Task<PermissionRun?> LatestAsync(Guid organizationId, PsaVendor vendor, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.PermissionRuns.AsNoTracking()
            .Where(r => r.OrganizationId == organizationId && r.Vendor == vendor)
            .OrderByDescending(r => r.StartedAt)
            .Include(r => r.Results)
            .FirstOrDefaultAsync(cancellationToken);
    }
}
