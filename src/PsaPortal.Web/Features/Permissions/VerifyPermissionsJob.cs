using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations.Permissions;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.SystemLogs;
using Quartz;

namespace PsaPortal.Web.Features.Permissions;

/// <summary>
/// Runs one integration's permission catalog, storing and publishing each check's result the moment it completes,
/// so every open page shows it at once. Checks only read from the PSA.
/// </summary>
internal sealed class VerifyPermissionsJob(
    IDbContextFactory<PortalDbContext> dbFactory,
    IntegrationService integrations,
    IPortalEventStream events,
    IJobLog jobLog,
    TimeProvider time,
    ILogger<VerifyPermissionsJob> logger) : IJob
{
    public const string JobName = "Verify Permissions";
    public static readonly JobKey Key = new("verify-permissions", "integrations");
    public const string RunIdKey = "runId";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var runId = Guid.Parse(context.MergedJobDataMap.GetString(RunIdKey)!);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await db.PermissionRuns.SingleAsync(r => r.Id == runId, cancellationToken);
        if (run.FinishedAt is not null)
        {
            return;
        }

        if (context.Recovering)
        {
            // The node that ran it died part-way (clustered Quartz re-fires it here): the checks only read, so they run
            // again from the first, over a clean slate rather than beside half a set of results.
            await db.Set<PermissionRunResult>().Where(r => r.RunId == runId).ExecuteDeleteAsync(cancellationToken);
            run.Passed = run.Failed = run.CouldNotCheck = 0;
            await db.SaveChangesAsync(cancellationToken);
            jobLog.Write(run.OrganizationId, run.Vendor, JobName, LogLevelName.Warning, "Resumed on another portal node: the node that ran it stopped; checking again from the first.");
        }

        var integration = await db.Integrations.AsNoTracking()
            .SingleOrDefaultAsync(i => i.OrganizationId == run.OrganizationId && i.Vendor == run.Vendor, cancellationToken);

        var order = 0;
        jobLog.Write(run.OrganizationId, run.Vendor, JobName, LogLevelName.Information, $"Started by {run.StartedBy}: {run.Total} checks.");
        try
        {
            if (integration is { HasCredentials: true })
            {
                await foreach (var result in integrations.CatalogFor(integration).RunAsync(cancellationToken))
                {
                    await RecordAsync(db, run, ++order, result, cancellationToken);
                }
            }
            else
            {
                foreach (var check in PermissionCatalogs.ChecksOf(run.Vendor))
                {
                    await RecordAsync(db, run, ++order, new PermissionResult(check, PermissionOutcome.CouldNotCheck,
                        "Not checked: the integration was disconnected before the check ran."), cancellationToken);
                }
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogError(exception, "Verify Permissions run {RunId} stopped after {Count} checks", runId, order);
            jobLog.Write(run.OrganizationId, run.Vendor, JobName, LogLevelName.Error, $"Stopped after {order} of {run.Total} checks: {exception.Message}");
        }
        finally
        {
            run.FinishedAt = time.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
            jobLog.Write(run.OrganizationId, run.Vendor, JobName, run.Failed + run.CouldNotCheck > 0 ? LogLevelName.Warning : LogLevelName.Information,
                $"Finished: {run.Passed} passed, {run.Failed} missing, {run.CouldNotCheck} could not be checked.");
            events.Publish(new PermissionRunFinished(run.OrganizationId, run.FinishedAt.Value, run.Id, run.Vendor, run.Passed, run.Failed, run.CouldNotCheck));
        }
    }

    private async Task RecordAsync(PortalDbContext db, PermissionRun run, int order, PermissionResult result, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        run.Results.Add(new PermissionRunResult
        {
            Order = order,
            Capability = result.Check.Capability.ToString(),
            Permission = result.Check.Permission,
            HowChecked = result.Check.HowChecked,
            Outcome = result.Outcome.ToString(),
            Message = result.Message,
            CompletedAt = now,
        });
        switch (result.Outcome)
        {
            case PermissionOutcome.Passed:
                run.Passed++;
                break;
            case PermissionOutcome.Failed:
                run.Failed++;
                break;
            default:
                run.CouldNotCheck++;
                break;
        }

        await db.SaveChangesAsync(cancellationToken);
        events.Publish(new PermissionCheckCompleted(run.OrganizationId, now, run.Id, run.Vendor, order, result.Check.Permission,
            result.Outcome.ToString(), result.Message));
    }
}
