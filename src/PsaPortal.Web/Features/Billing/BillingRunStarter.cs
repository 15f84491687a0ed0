using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Infrastructure;
using Quartz;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// Records new runs (Queued, with their rows when they have fixed ones) and hands them to Quartz as one-shot triggers
/// in the integration's trigger group. Never records a second run of an integration beside one that is queued or
/// running: the check and the insert happen under one lock, against the database.
/// </summary>
public sealed class BillingRunStarter(
    IDbContextFactory<PortalDbContext> dbFactory,
    ISchedulerFactory schedulers,
    IPortalEventStream events,
    AuditLog audit,
    ClusterLocks clusterLocks,
    TimeProvider time)
{
    private readonly SemaphoreSlim _create = new(1, 1);

    public static TriggerKey RunTriggerKey(Guid integrationId, Guid runId) => new($"billing-run-{runId:N}", IntegrationSchedules.GroupOf(integrationId));

    /// <summary>
    /// Stores <paramref name="run"/> as Queued (with <paramref name="rows"/>, made once the run has its id) unless the
    /// integration has a queued or running run; optionally queues its Quartz trigger.
    /// </summary>
    public async Task<BillingRequestResult> CreateAsync(
        Integration integration, BillingRun run, Func<Guid, Task<List<BillingRunItem>>>? rows, bool queueTrigger, CancellationToken cancellationToken)
    {
        await _create.WaitAsync(cancellationToken);
        try
        {
            // Clustered: the check and the insert hold across nodes too.
            await using var clusterLock = await clusterLocks.AcquireAsync("billing-create", cancellationToken);
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            if (await db.BillingRuns.AnyAsync(r => r.IntegrationId == integration.Id && (r.Status == BillingRunStatus.Queued || r.Status == BillingRunStatus.Running), cancellationToken))
            {
                return BillingRequestResult.Refused(BillingMessages.AlreadyRunning(integration.Vendor));
            }

            run.OrganizationId = integration.OrganizationId;
            run.IntegrationId = integration.Id;
            run.Vendor = integration.Vendor;
            run.Status = BillingRunStatus.Queued;
            run.CreatedAt = time.GetUtcNow();
            var items = rows is null ? [] : await rows(run.Id);
            foreach (var item in items)
            {
                item.RunId = run.Id;
            }

            run.Total = items.Count;
            db.BillingRuns.Add(run);
            db.BillingRunItems.AddRange(items);
            await db.SaveChangesAsync(cancellationToken);
        }
        finally
        {
            _create.Release();
        }

        events.Publish(new BillingRunStarted(run.OrganizationId, run.CreatedAt, run.IntegrationId, run.Id, run.Vendor, run.Mode, run.Trigger,
            BillingRunStatus.Queued, run.RequestedBy, new BillingRunCounts(run.Total, 0, 0, 0, 0)));
        if (queueTrigger)
        {
            await QueueAsync(run.IntegrationId, run.Id, cancellationToken);
        }

        return new BillingRequestResult(true, Accepted(run), run.Id);
    }

    /// <summary>Asks Quartz to run the run now (kept if already asked); it waits while the integration's group is paused.</summary>
    public async Task QueueAsync(Guid integrationId, Guid runId, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var trigger = TriggerBuilder.Create()
            .WithIdentity(RunTriggerKey(integrationId, runId))
            .ForJob(BillingSyncJob.Key)
            .UsingJobData(BillingSyncJob.RunIdKey, runId.ToString())
            .UsingJobData(BillingSyncJob.IntegrationIdKey, integrationId.ToString())
            .StartNow()
            .Build();
        await scheduler.ScheduleTrigger(trigger, TriggerConflict.Keep, cancellationToken);
    }

    /// <summary>
    /// Asks Quartz to resume the run after <paramref name="delay"/>: it was interrupted because the database could not
    /// be reached (<paramref name="attempt"/> counts the interruptions in a row; <paramref name="reason"/> goes to System Logs).
    /// </summary>
    public async Task QueueResumeAsync(Guid integrationId, Guid runId, int attempt, TimeSpan delay, string reason, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var trigger = TriggerBuilder.Create()
            .WithIdentity(new TriggerKey($"billing-run-{runId:N}-resume-{attempt}", IntegrationSchedules.GroupOf(integrationId)))
            .ForJob(BillingSyncJob.Key)
            .UsingJobData(BillingSyncJob.RunIdKey, runId.ToString())
            .UsingJobData(BillingSyncJob.IntegrationIdKey, integrationId.ToString())
            .UsingJobData(BillingSyncJob.ResumeAttemptKey, attempt.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .UsingJobData(BillingSyncJob.InterruptionKey, reason.Length <= 500 ? reason : reason[..499] + "…")
            .StartAt(time.GetUtcNow() + delay)
            .Build();
        await scheduler.ScheduleTrigger(trigger, TriggerConflict.Replace, cancellationToken);
    }

    /// <summary>A schedule fired: records a scheduled run (the job runs it at once), or says why not.</summary>
    public async Task<BillingRequestResult> StartScheduledAsync(Guid integrationId, long scheduleId, CancellationToken cancellationToken)
    {
        Integration? integration;
        BillingSchedule? schedule;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            integration = await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.Id == integrationId, cancellationToken);
            schedule = await db.BillingSchedules.AsNoTracking().SingleOrDefaultAsync(s => s.Id == scheduleId && s.IntegrationId == integrationId, cancellationToken);
        }

        if (integration is null || schedule is null)
        {
            return BillingRequestResult.Refused("The schedule or its integration no longer exists.");
        }

        if (integration.Status != IntegrationStatus.Connected)
        {
            return BillingRequestResult.Refused(BillingMessages.NotConnected(integration.Vendor));
        }

        var requestedBy = $"Schedule: {BillingScheduleTriggers.Describe(schedule)}";
        var result = await CreateAsync(integration, new BillingRun
        {
            Mode = BillingRunMode.Apply,
            Trigger = BillingRunTrigger.Scheduled,
            RequestedBy = requestedBy,
        }, null, queueTrigger: false, cancellationToken);
        if (result.Accepted)
        {
            await audit.RecordAsync(integration.OrganizationId, new Actor(null, requestedBy), "Billing sync started", integration.Vendor.ToString(), $"Run {result.RunId}",
                cancellationToken);
        }

        return result;
    }

    private static string Accepted(BillingRun run) => (run.Mode, run.Trigger) switch
    {
        (BillingRunMode.Preview, _) => $"Preview of {run.Vendor.DisplayName()} billing started.",
        (_, BillingRunTrigger.RetryTenant) => "Retry started for this tenant.",
        (_, BillingRunTrigger.RetryFailed) => $"Retry started for {run.Total} failed {(run.Total == 1 ? "row" : "rows")}.",
        (_, BillingRunTrigger.ApplyPreview) => $"Applying the preview's plan ({run.Total} {(run.Total == 1 ? "row" : "rows")}).",
        _ => $"{run.Vendor.DisplayName()} billing sync started.",
    };
}
