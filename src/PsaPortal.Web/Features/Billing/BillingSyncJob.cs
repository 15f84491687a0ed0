using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.SystemLogs;
using Quartz;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// Runs billing for the integration its trigger belongs to. A trigger naming a run (Sync now, a preview, a retry, a
/// run found queued or interrupted at start-up) runs that run; a schedule's trigger asks for a new scheduled run, and
/// is skipped with a System Log line when a run of the integration is already queued or running. Its triggers live in
/// the integration's trigger group, so Disconnect pauses them and Delete removes them.
/// </summary>
internal sealed class BillingSyncJob(
    BillingEngine engine,
    BillingRunStarter starter,
    IDbContextFactory<PortalDbContext> dbFactory,
    IJobLog jobLog,
    ILogger<BillingSyncJob> logger) : IJob
{
    public static readonly JobKey Key = new("billing-sync", "integrations");
    public const string RunIdKey = "runId";
    public const string IntegrationIdKey = "integrationId";
    public const string ScheduleIdKey = "scheduleId";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var data = context.MergedJobDataMap;
        try
        {
            if (Guid.TryParse(data.GetString(RunIdKey), out var runId))
            {
                await engine.RunAsync(runId, cancellationToken);
                return;
            }

            var integrationId = Guid.Parse(data.GetString(IntegrationIdKey)!);
            var scheduleId = long.Parse(data.GetString(ScheduleIdKey)!, System.Globalization.CultureInfo.InvariantCulture);
            var started = await starter.StartScheduledAsync(integrationId, scheduleId, cancellationToken);
            if (started.RunId is { } scheduled)
            {
                await engine.RunAsync(scheduled, cancellationToken);
            }
            else
            {
                await WriteAsync(integrationId, LogLevelName.Information, $"Scheduled run skipped: {started.Message}");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Billing job stopped: the integration was disconnected or deleted, or the portal is stopping");
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Billing job failed");
            if (Guid.TryParse(data.GetString(IntegrationIdKey), out var integrationId))
            {
                await WriteAsync(integrationId, LogLevelName.Error, $"Failed: {exception.Message}");
            }
        }
    }

    private async Task WriteAsync(Guid integrationId, LogLevelName level, string message)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var integration = await db.Integrations.AsNoTracking().Where(i => i.Id == integrationId)
            .Select(i => new { i.OrganizationId, i.Vendor }).SingleOrDefaultAsync(CancellationToken.None);
        if (integration is not null)
        {
            jobLog.Write(integration.OrganizationId, integration.Vendor, BillingEngine.JobName, level, message);
        }
    }
}
