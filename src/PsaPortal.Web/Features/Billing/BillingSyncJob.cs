using System.Globalization;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.SystemLogs;
using Quartz;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// Runs billing for the integration its trigger belongs to. A trigger naming a run (Sync now, a preview, a retry, a
/// run found queued or interrupted at start-up) runs that run; a schedule's trigger asks for a new scheduled run, and
/// is skipped with a System Log line when a run of the integration is already queued or running. Its triggers live in
/// the integration's trigger group, so Disconnect pauses them and Delete removes them. A run interrupted because the
/// database could not be reached (<see cref="DatabaseFailures"/>) is queued again to resume a little later; one the
/// portal's stop interrupted is resumed at the next start, or at once by another node of a cluster.
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
    public const string IntegrationIdKey = IntegrationSchedules.JobIntegrationIdKey;
    public const string ScheduleIdKey = "scheduleId";
    public const string ResumeAttemptKey = "resumeAttempt";
    public const string InterruptionKey = "interruption";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var data = context.MergedJobDataMap;
        Guid? runId = null;
        try
        {
            if (Guid.TryParse(data.GetString(RunIdKey), out var named))
            {
                runId = named;
                if (data.GetString(InterruptionKey) is { } interruption)
                {
                    await WriteAsync(Guid.Parse(data.GetString(IntegrationIdKey)!), LogLevelName.Warning,
                        $"Resuming run {named} after the database was unavailable ({interruption}).");
                }

                await engine.RunAsync(named, cancellationToken);
                return;
            }

            var integrationId = Guid.Parse(data.GetString(IntegrationIdKey)!);
            if (context.Recovering && await ScheduledRunLeftAsync(integrationId, cancellationToken) is { } left)
            {
                // Clustered Quartz re-fired a schedule's firing whose node died: its run was recorded there, so this
                // node resumes that run (the engine re-reads the PSA for what was sent) rather than refusing a second.
                runId = left;
                await engine.RunAsync(left, cancellationToken);
                return;
            }

            var scheduleId = long.Parse(data.GetString(ScheduleIdKey)!, CultureInfo.InvariantCulture);
            var started = await starter.StartScheduledAsync(integrationId, scheduleId, cancellationToken);
            if (started.RunId is { } scheduled)
            {
                runId = scheduled;
                await engine.RunAsync(scheduled, cancellationToken);
            }
            else
            {
                await WriteAsync(integrationId, LogLevelName.Information, $"Scheduled run skipped: {started.Message}");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Thrown on, not swallowed: a firing the portal's stop cancelled is then handed back for another node
            // (PortalScheduler); one Disconnect or Delete interrupted stays a cancellation.
            logger.LogInformation("Billing job stopped: the integration was disconnected or deleted, or the portal is stopping");
            throw;
        }
        catch (Exception exception) when (runId is { } interrupted && DatabaseFailures.IsTransient(exception))
        {
            // Everything the run did is committed or journalled: it is resumed from there, as after a restart, once the
            // database answers again. Tried again and again, never given up, so no run is lost to an outage.
            var attempt = int.TryParse(data.GetString(ResumeAttemptKey), CultureInfo.InvariantCulture, out var previous) ? previous + 1 : 1;
            var delay = ResumeDelay(attempt);
            var reason = $"{exception.GetBaseException().Message} at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC";
            logger.LogWarning(exception, "Billing run {RunId} interrupted: the database is unavailable; resuming in {Delay} (attempt {Attempt})", interrupted, delay, attempt);
            await starter.QueueResumeAsync(Guid.Parse(data.GetString(IntegrationIdKey)!), interrupted, attempt, delay, reason, CancellationToken.None);
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

    /// <summary>The integration's scheduled run that is still queued or running, if any.</summary>
    private async Task<Guid?> ScheduledRunLeftAsync(Guid integrationId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.BillingRuns.AsNoTracking()
            .Where(r => r.IntegrationId == integrationId && r.Trigger == BillingRunTrigger.Scheduled
                        && (r.Status == BillingRunStatus.Queued || r.Status == BillingRunStatus.Running))
            .OrderBy(r => r.CreatedAt).Select(r => (Guid?)r.Id).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>2 s after the first interruption, doubling to at most a minute.</summary>
    public static TimeSpan ResumeDelay(int attempt) => TimeSpan.FromSeconds(Math.Min(60, 2 << Math.Min(attempt - 1, 5)));

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
