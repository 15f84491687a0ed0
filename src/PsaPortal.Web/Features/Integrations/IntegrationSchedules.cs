using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Reference;
using Quartz;

namespace PsaPortal.Web.Features.Integrations;

/// <summary>
/// The Quartz triggers of each integration. Every trigger that does work for one integration lives in that
/// integration's own trigger group (<see cref="GroupOf"/>), so its lifecycle is one call per group: Disconnect pauses
/// the group, linking again resumes it, Delete empties it. Today the group holds the reference sync's schedule
/// (<c>Reference:SyncInterval</c>) and its one-shot "run now" trigger; billing schedules (hourly, daily, monthly) are
/// to be stored in the same group, so they pause, resume and disappear with the integration without any change here.
/// </summary>
public sealed class IntegrationSchedules(ISchedulerFactory schedulers, IOptions<ReferenceOptions> referenceOptions, TimeProvider time, ILogger<IntegrationSchedules> logger)
{
    public const string ReferenceSyncTrigger = "reference-sync";
    public const string ReferenceSyncNowTrigger = "reference-sync-now";

    /// <summary>After a restart, a schedule that is overdue fires this long after start rather than during it.</summary>
    public static readonly TimeSpan OverdueDelay = TimeSpan.FromMinutes(1);

    /// <summary>How long Delete waits for an interrupted job of the integration to end.</summary>
    public static readonly TimeSpan StopWait = TimeSpan.FromSeconds(10);

    /// <summary>The job data key under which every integration job (reference, billing, ticket and invoice jobs) carries its integration's id.</summary>
    public const string JobIntegrationIdKey = "integrationId";

    public static string GroupOf(Guid integrationId) => $"integration-{integrationId}";

    public static TriggerKey ReferenceSyncKey(Guid integrationId) => new(ReferenceSyncTrigger, GroupOf(integrationId));

    /// <summary>The integration was linked (again): its triggers run again, and the reference data is copied now.</summary>
    public async Task ActivateAsync(Guid integrationId, string requestedBy, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.ResumeTriggerGroups(GroupMatcher<TriggerKey>.GroupEquals(GroupOf(integrationId)), cancellationToken);
        await ScheduleReferenceSyncAsync(scheduler, integrationId, time.GetUtcNow() + referenceOptions.Value.SyncInterval, cancellationToken);
        await RunReferenceSyncNowAsync(scheduler, integrationId, $"{requestedBy} (linked)", cancellationToken);
    }

    /// <summary>
    /// The integration was disconnected: every trigger of its group is paused (and so is any stored into the group
    /// later), and a job of it that is running is asked to stop.
    /// </summary>
    public async Task PauseAsync(Guid integrationId, string requestedBy, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.PauseTriggerGroupsWith(GroupMatcher<TriggerKey>.GroupEquals(GroupOf(integrationId)),
            new PauseDetails { Reason = "Integration disconnected", RequestedBy = requestedBy }, cancellationToken);
        await InterruptRunningAsync(scheduler, integrationId, cancellationToken);
    }

    /// <summary>
    /// The integration is being deleted: its triggers go, a running job of it is stopped (waiting up to
    /// <see cref="StopWait"/> for it to end, so it writes no rows for an integration that is going), and the group's
    /// pause is forgotten.
    /// </summary>
    public async Task RemoveAsync(Guid integrationId, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var group = GroupMatcher<TriggerKey>.GroupEquals(GroupOf(integrationId));
        // Paused first so nothing new starts; interrupted while its trigger still exists, for that is how Quartz finds the firing.
        await scheduler.PauseTriggerGroups(group, cancellationToken);
        await InterruptRunningAsync(scheduler, integrationId, cancellationToken);
        var deadline = time.GetUtcNow() + StopWait;
        while ((await scheduler.QueryFireInstances(new FireInstanceQuery { TriggerGroup = group }, cancellationToken)).Items.Count > 0 && time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }

        await scheduler.UnscheduleJobs(group, cancellationToken);
        await scheduler.UnscheduleJobs([.. (await RecoveryTriggersAsync(scheduler, integrationId, cancellationToken)).Select(r => r.Key)], cancellationToken);
        await scheduler.ResumeTriggerGroups(group, cancellationToken);
    }

    /// <summary>Queues one reference sync now; false when one is already queued and has not started yet.</summary>
    public async Task<bool> RunReferenceSyncNowAsync(Guid integrationId, string requestedBy, CancellationToken cancellationToken = default) =>
        await RunReferenceSyncNowAsync(await schedulers.GetScheduler(cancellationToken), integrationId, requestedBy, cancellationToken);

    /// <summary>
    /// Whether a reference sync of the integration has been picked up by Quartz and not finished (reserved or running),
    /// on any node of a clustered scheduler, or is to be fired again after a node died during it.
    /// </summary>
    public async Task<bool> IsReferenceSyncFiringAsync(Guid integrationId, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var firings = await scheduler.QueryFireInstances(
            new FireInstanceQuery { TriggerGroup = GroupMatcher<TriggerKey>.GroupEquals(GroupOf(integrationId)), State = null }, cancellationToken);
        return firings.Items.Any(f => f.TriggerKey.Name is ReferenceSyncTrigger or ReferenceSyncNowTrigger)
            || (await RecoveryTriggersAsync(scheduler, integrationId, cancellationToken)).Any(r => r.OriginalTrigger is ReferenceSyncTrigger or ReferenceSyncNowTrigger);
    }

    /// <summary>
    /// Makes Quartz match the database: every integration has its reference schedule (due where its last sync left
    /// it), Connected ones run and Not Connected ones are paused; groups of integrations that no longer exist go.
    /// </summary>
    public async Task ReconcileAsync(IReadOnlyCollection<Integration> integrations, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var now = time.GetUtcNow();
        foreach (var integration in integrations)
        {
            var group = GroupMatcher<TriggerKey>.GroupEquals(GroupOf(integration.Id));
            if (integration.Status == IntegrationStatus.Connected)
            {
                await scheduler.ResumeTriggerGroups(group, cancellationToken);
            }
            else
            {
                await scheduler.PauseTriggerGroupsWith(group, new PauseDetails { Reason = "Integration not connected", RequestedBy = "PsaPortal" }, cancellationToken);
            }

            var due = integration.ReferenceSyncedAt + referenceOptions.Value.SyncInterval;
            await ScheduleReferenceSyncAsync(scheduler, integration.Id, due > now + OverdueDelay ? due.Value : now + OverdueDelay, cancellationToken);
        }

        var known = integrations.Select(i => GroupOf(i.Id)).ToHashSet(StringComparer.Ordinal);
        foreach (var group in await scheduler.GetTriggerGroupNames(cancellationToken))
        {
            if (group.StartsWith("integration-", StringComparison.Ordinal) && !known.Contains(group))
            {
                logger.LogInformation("Removing the triggers of {Group}: its integration no longer exists", group);
                await scheduler.UnscheduleJobs(GroupMatcher<TriggerKey>.GroupEquals(group), cancellationToken);
            }
        }
    }

    private async Task ScheduleReferenceSyncAsync(IScheduler scheduler, Guid integrationId, DateTimeOffset firstRun, CancellationToken cancellationToken)
    {
        var trigger = TriggerBuilder.Create()
            .WithIdentity(ReferenceSyncKey(integrationId))
            .ForJob(SyncReferenceDataJob.Key)
            .UsingJobData(SyncReferenceDataJob.IntegrationIdKey, integrationId.ToString())
            .UsingJobData(SyncReferenceDataJob.RequestedByKey, "Schedule")
            .StartAt(firstRun)
            .WithSimpleSchedule(schedule => schedule.WithInterval(referenceOptions.Value.SyncInterval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
            .Build();
        await scheduler.ScheduleTrigger(trigger, TriggerConflict.Replace, cancellationToken);
    }

    private static async Task<bool> RunReferenceSyncNowAsync(IScheduler scheduler, Guid integrationId, string requestedBy, CancellationToken cancellationToken)
    {
        var trigger = TriggerBuilder.Create()
            .WithIdentity(ReferenceSyncNowTrigger, GroupOf(integrationId))
            .ForJob(SyncReferenceDataJob.Key)
            .UsingJobData(SyncReferenceDataJob.IntegrationIdKey, integrationId.ToString())
            .UsingJobData(SyncReferenceDataJob.RequestedByKey, requestedBy)
            .StartNow()
            .Build();
        var result = await scheduler.ScheduleTrigger(trigger, TriggerConflict.Keep, cancellationToken);
        return result.Outcome != ScheduleOutcome.Kept;
    }

    /// <summary>
    /// The recovery triggers of the integration's jobs: when a node dies (or the portal stops) while a job that asks
    /// for recovery runs, Quartz fires it again through a trigger of its own recovery group, not the integration's
    /// group, carrying the job data (the integration's id) and the original trigger's name. Waiting or firing.
    /// </summary>
    public static async Task<IReadOnlyList<RecoveryTrigger>> RecoveryTriggersAsync(IScheduler scheduler, Guid integrationId, CancellationToken cancellationToken)
    {
        var id = integrationId.ToString();
        var found = new List<RecoveryTrigger>();
        foreach (var key in await scheduler.GetTriggerKeys(GroupMatcher<TriggerKey>.GroupEquals(SchedulerConstants.DefaultRecoveryGroup), cancellationToken))
        {
            if (await scheduler.GetTrigger(key, cancellationToken) is { } trigger
                && trigger.JobDataMap.TryGetString(JobIntegrationIdKey, out var integration) && integration == id)
            {
                found.Add(new RecoveryTrigger(key, trigger.JobKey, trigger.JobDataMap.GetString(SchedulerConstants.FailedJobOriginalTriggerName) ?? ""));
            }
        }

        return found;
    }

    private static async Task InterruptRunningAsync(IScheduler scheduler, Guid integrationId, CancellationToken cancellationToken)
    {
        foreach (var firing in (await scheduler.QueryFireInstances(new FireInstanceQuery { TriggerGroup = GroupMatcher<TriggerKey>.GroupEquals(GroupOf(integrationId)) }, cancellationToken)).Items)
        {
            await scheduler.InterruptFireInstance(firing.FireInstanceId, cancellationToken);
        }

        var recovering = (await RecoveryTriggersAsync(scheduler, integrationId, cancellationToken)).Select(r => r.Key).ToHashSet();
        if (recovering.Count == 0)
        {
            return;
        }

        var recoveryFirings = await scheduler.QueryFireInstances(
            new FireInstanceQuery { TriggerGroup = GroupMatcher<TriggerKey>.GroupEquals(SchedulerConstants.DefaultRecoveryGroup) }, cancellationToken);
        foreach (var firing in recoveryFirings.Items.Where(f => recovering.Contains(f.TriggerKey)))
        {
            await scheduler.InterruptFireInstance(firing.FireInstanceId, cancellationToken);
        }
    }
}

/// <summary>At start-up, before Quartz fires anything, brings each integration's triggers in line with the database.</summary>
internal sealed class IntegrationSchedulesReconciler(IDbContextFactory<PortalDbContext> dbFactory, IntegrationSchedules schedules) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await schedules.ReconcileAsync(await db.Integrations.AsNoTracking().ToListAsync(cancellationToken), cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>A trigger Quartz made to fire a job of an integration again (<see cref="IntegrationSchedules.RecoveryTriggersAsync"/>).</summary>
/// <param name="OriginalTrigger">The name of the trigger whose firing was cut off, in the integration's group.</param>
public sealed record RecoveryTrigger(TriggerKey Key, JobKey JobKey, string OriginalTrigger);
