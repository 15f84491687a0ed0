using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.SystemLogs;
using Quartz;

namespace PsaPortal.Web.Features.Reference;

/// <summary>
/// Runs <see cref="PsaReferenceSync"/> for the integration its trigger names: on the integration's schedule, right
/// after it is linked, or on a manual refresh. A firing that finds a sync of that integration already running does
/// nothing, so runs never pile up behind a slow PSA.
/// </summary>
internal sealed class SyncReferenceDataJob(
    PsaReferenceSync sync,
    IDbContextFactory<PortalDbContext> dbFactory,
    IJobLog jobLog,
    ILogger<SyncReferenceDataJob> logger) : IJob
{
    public static readonly JobKey Key = new("sync-reference-data", "integrations");
    public const string IntegrationIdKey = IntegrationSchedules.JobIntegrationIdKey;
    public const string RequestedByKey = "requestedBy";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var integrationId = Guid.Parse(context.MergedJobDataMap.GetString(IntegrationIdKey)!);
        var requestedBy = context.MergedJobDataMap.GetString(RequestedByKey) ?? "Schedule";
        if (sync.IsRunning(integrationId))
        {
            await WriteAsync(integrationId, LogLevelName.Information, $"Skipped ({requestedBy}): a refresh is already running.");
            return;
        }

        try
        {
            var result = await sync.SyncAsync(integrationId, null, requestedBy, cancellationToken);
            if (result.Problem is not null)
            {
                await WriteAsync(integrationId, LogLevelName.Warning, $"Not started ({requestedBy}): {result.Problem}");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Reference sync of integration {IntegrationId} stopped before it finished", integrationId);
            await WriteAsync(integrationId, LogLevelName.Warning, "Stopped before it finished: the integration was disconnected or deleted, or the portal is stopping.");
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Reference sync of integration {IntegrationId} failed", integrationId);
            await WriteAsync(integrationId, LogLevelName.Error, $"Failed: {exception.Message}");
        }
    }

    // System Logs are filed per organization and PSA; an integration deleted meanwhile has nowhere left to file them.
    private async Task WriteAsync(Guid integrationId, LogLevelName level, string message)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var integration = await db.Integrations.AsNoTracking().Where(i => i.Id == integrationId)
            .Select(i => new { i.OrganizationId, i.Vendor }).SingleOrDefaultAsync(CancellationToken.None);
        if (integration is not null)
        {
            jobLog.Write(integration.OrganizationId, integration.Vendor, PsaReferenceSync.JobName, level, message);
        }
    }
}
