using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Reference;
using PsaPortal.Web.Features.SystemLogs;
using Quartz;

namespace PsaPortal.Web.IntegrationTests.Reference;

/// <summary>
/// Each integration's Quartz triggers through its lifecycle (Save, Disconnect, link again, restart) and manual refresh,
/// against the real scheduler and the sandbox over HTTP.
/// </summary>
public sealed class IntegrationSchedulesTests : IAsyncLifetime
{
    private SandboxPortal _portal = null!;

    public async Task InitializeAsync() => _portal = await SandboxPortal.StartAsync(new PortalDatabase.Sqlite(),
        new Dictionary<string, string?> { ["Reference:SyncInterval"] = "02:00:00" });

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task Save_ConnectWise_SchedulesTheSyncAtTheConfiguredIntervalAndSyncsAtOnce()
    {
        var integrationId = await _portal.LinkConnectWiseAsync();

        var finished = await _portal.NextSyncFinishedAsync();

        Assert.Equal((integrationId, PsaReferenceSync.KindsOf(PsaVendor.ConnectWise).Count, 0), (finished.IntegrationId, finished.Synced, finished.Failed));
        var trigger = Assert.IsAssignableFrom<ISimpleTrigger>(await (await Scheduler()).GetTrigger(IntegrationSchedules.ReferenceSyncKey(integrationId)));
        Assert.Equal(TimeSpan.FromHours(2), trigger.RepeatInterval);
        Assert.Equal(SimpleTriggerBuilderRepeatForever, trigger.RepeatCount);
        Assert.InRange(trigger.NextFireTimeUtc!.Value, DateTimeOffset.UtcNow.AddMinutes(110), DateTimeOffset.UtcNow.AddMinutes(121));
        var integration = await _portal.Get<IntegrationService>().FindAsync(_portal.OrganizationId, PsaVendor.ConnectWise);
        // SQLite keeps DateTimeOffset to a tenth of a millisecond.
        Assert.Equal(finished.ReferenceSyncedAt!.Value, integration!.ReferenceSyncedAt!.Value, TimeSpan.FromMilliseconds(1));
        await _portal.Get<SystemLogWriter>().FlushAsync();
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var jobEvents = await db.SystemLog.Where(e => e.OrganizationId == _portal.OrganizationId && e.Operation == PsaReferenceSync.JobName).Select(e => e.Message!).ToListAsync();
        Assert.Contains(jobEvents, m => m.StartsWith("Started by " + _portal.Admin.Identity!.Name + " (linked)", StringComparison.Ordinal));
        Assert.Contains(jobEvents, m => m.StartsWith($"Finished: {finished.Synced} of {finished.Synced} kinds refreshed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Disconnect_PausesTheIntegrationsTriggers_LinkingAgainResumesThem()
    {
        var connectWise = await _portal.LinkConnectWiseAsync();
        await _portal.NextSyncFinishedAsync();
        var autotask = await _portal.LinkAutotaskAsync();
        await _portal.NextSyncFinishedAsync();
        var scheduler = await Scheduler();

        var disconnected = await _portal.Get<IntegrationService>().DisconnectAsync(_portal.UserIn(PortalRoles.FullMember), PsaVendor.ConnectWise);

        Assert.True(disconnected.Succeeded, disconnected.Message);
        Assert.Equal(TriggerState.Paused, await scheduler.GetTriggerState(IntegrationSchedules.ReferenceSyncKey(connectWise)));
        Assert.True(await scheduler.IsTriggerGroupPaused(IntegrationSchedules.GroupOf(connectWise)));
        Assert.Equal(TriggerState.Normal, await scheduler.GetTriggerState(IntegrationSchedules.ReferenceSyncKey(autotask)));
        var refused = await _portal.Get<ReferenceSyncJobs>().TriggerAsync(connectWise, "someone@northwind.example", CancellationToken.None);
        Assert.Equal(new ReferenceRefresh(false, "ConnectWise is not connected. Link it before refreshing its reference data."), refused);

        var relinked = await _portal.LinkConnectWiseAsync();

        Assert.Equal(connectWise, relinked);
        Assert.Equal(TriggerState.Normal, await scheduler.GetTriggerState(IntegrationSchedules.ReferenceSyncKey(connectWise)));
        Assert.False(await scheduler.IsTriggerGroupPaused(IntegrationSchedules.GroupOf(connectWise)));
        Assert.Equal(connectWise, (await _portal.NextSyncFinishedAsync()).IntegrationId);
    }

    [Fact]
    public async Task Restart_ReconcilesQuartzWithTheDatabase_ConnectedRunsAndNotConnectedIsPaused()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"psaportal-restart-{Guid.NewGuid():N}");
        var settings = new Dictionary<string, string?> { ["Storage:DataDirectory"] = dataDirectory };
        try
        {
            Guid connectWise, autotask;
            DateTimeOffset? syncedAt;
            await using (var first = await SandboxPortal.StartAsync(new PortalDatabase.Sqlite(), settings))
            {
                connectWise = await first.LinkConnectWiseAsync();
                syncedAt = (await first.NextSyncFinishedAsync()).ReferenceSyncedAt;
                autotask = await first.LinkAutotaskAsync();
                await first.NextSyncFinishedAsync();
                await first.Get<IntegrationService>().DisconnectAsync(first.Admin, PsaVendor.Autotask);
            }

            await using var second = await SandboxPortal.StartAsync(new PortalDatabase.Sqlite(), settings);
            var scheduler = await second.Get<ISchedulerFactory>().GetScheduler();

            Assert.Equal(TriggerState.Normal, await scheduler.GetTriggerState(IntegrationSchedules.ReferenceSyncKey(connectWise)));
            Assert.Equal(TriggerState.Paused, await scheduler.GetTriggerState(IntegrationSchedules.ReferenceSyncKey(autotask)));
            var next = (await scheduler.GetTrigger(IntegrationSchedules.ReferenceSyncKey(connectWise)))!.NextFireTimeUtc;
            Assert.Equal(syncedAt!.Value + TimeSpan.FromHours(6), next!.Value, TimeSpan.FromSeconds(1));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task TriggerAsync_WhileARefreshRuns_SaysSoAndQueuesNoSecond()
    {
        var integrationId = await _portal.LinkConnectWiseAsync();
        await _portal.NextSyncFinishedAsync();
        await _portal.WaitForReferenceSyncIdleAsync(integrationId);
        _portal.Sandbox.ConnectWise.Configure(s => s with { Faults = s.Faults with { LatencyMilliseconds = 300 } });
        var jobs = _portal.Get<ReferenceSyncJobs>();

        var first = await jobs.TriggerAsync(integrationId, "operator@northwind.example", CancellationToken.None);
        var second = await jobs.TriggerAsync(integrationId, "admin@northwind.example", CancellationToken.None);
        var third = await jobs.TriggerAsync(integrationId, "admin@northwind.example", CancellationToken.None);

        Assert.Equal(new ReferenceRefresh(true, "Refreshing ConnectWise reference data…"), first);
        Assert.Equal(new ReferenceRefresh(false, ReferenceSyncJobs.AlreadyRunning), second);
        Assert.Equal(second, third);
        Assert.Equal(integrationId, (await _portal.NextSyncFinishedAsync()).IntegrationId);
        await Assert.ThrowsAsync<OperationCanceledException>(() => _portal.NextSyncFinishedAsync(TimeSpan.FromSeconds(3)));
        var audit = await _portal.Get<AuditLog>().QueryOrganizationAsync(_portal.OrganizationId, 0, 50, "Reference data refreshed");
        var entry = Assert.Single(audit.Items);
        Assert.Equal(("operator@northwind.example", "ConnectWise"), (entry.ActorName, entry.Subject));
    }

    [Fact]
    public async Task TriggerAsync_SalesUser_RefusedAndNothingQueued()
    {
        await _portal.LinkConnectWiseAsync();
        await _portal.NextSyncFinishedAsync();

        var refused = await _portal.Get<ReferenceSyncJobs>().TriggerAsync(_portal.UserIn(PortalRoles.Sales), PsaVendor.ConnectWise, CancellationToken.None);
        var unlinked = await _portal.Get<ReferenceSyncJobs>().TriggerAsync(_portal.UserIn(PortalRoles.Admin), PsaVendor.Autotask, CancellationToken.None);

        Assert.Equal(new ReferenceRefresh(false, ReferenceSyncJobs.SalesRefused), refused);
        Assert.Equal(new ReferenceRefresh(false, "Autotask is not linked."), unlinked);
        await Assert.ThrowsAsync<OperationCanceledException>(() => _portal.NextSyncFinishedAsync(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task Disconnect_WhileASyncRuns_StopsItAndKeepsTheCachedRows()
    {
        var integrationId = await _portal.LinkConnectWiseAsync();
        await _portal.NextSyncFinishedAsync();
        await _portal.WaitForReferenceSyncIdleAsync(integrationId);
        await using var before = await _portal.Factory.CreateDbContextAsync();
        var cached = await before.PsaReferenceItems.CountAsync(i => i.IntegrationId == integrationId);
        _portal.Sandbox.ConnectWise.Configure(s => s with { Faults = s.Faults with { LatencyMilliseconds = 500 } });
        var sync = _portal.Get<PsaReferenceSync>();
        Assert.True((await _portal.Get<ReferenceSyncJobs>().TriggerAsync(integrationId, "operator@northwind.example", CancellationToken.None)).Started);
        await WaitUntilAsync(() => sync.IsRunning(integrationId));

        await _portal.Get<IntegrationService>().DisconnectAsync(_portal.Admin, PsaVendor.ConnectWise);

        await WaitUntilAsync(() => !sync.IsRunning(integrationId));
        await using var after = await _portal.Factory.CreateDbContextAsync();
        Assert.Equal(cached, await after.PsaReferenceItems.CountAsync(i => i.IntegrationId == integrationId));
        await _portal.Get<SystemLogWriter>().FlushAsync();
        Assert.True(await after.SystemLog.AnyAsync(e => e.Operation == PsaReferenceSync.JobName && e.Message!.StartsWith("Stopped before it finished")));
    }

    [Fact]
    public async Task Delete_WhileASyncRuns_StopsItBeforeRemovingAndLeavesNoRows()
    {
        var integrationId = await _portal.LinkConnectWiseAsync();
        await _portal.NextSyncFinishedAsync();
        await _portal.WaitForReferenceSyncIdleAsync(integrationId);
        _portal.Sandbox.ConnectWise.Configure(s => s with { Faults = s.Faults with { LatencyMilliseconds = 300 } });
        var sync = _portal.Get<PsaReferenceSync>();
        Assert.True((await _portal.Get<ReferenceSyncJobs>().TriggerAsync(integrationId, "operator@northwind.example", CancellationToken.None)).Started);
        await WaitUntilAsync(() => sync.IsRunning(integrationId));

        var deleted = await _portal.Get<IntegrationService>().DeleteAsync(_portal.Admin, PsaVendor.ConnectWise);

        Assert.True(deleted.Succeeded, deleted.Message);
        Assert.False(sync.IsRunning(integrationId));
        await using var db = await _portal.Factory.CreateDbContextAsync();
        Assert.False(await db.PsaReferenceItems.AnyAsync(i => i.IntegrationId == integrationId));
        Assert.False(await db.PsaReferenceSyncStates.AnyAsync(s => s.IntegrationId == integrationId));
        Assert.DoesNotContain(_portal.Factory.LogLines, line => line.StartsWith("Error", StringComparison.Ordinal) && line.Contains(integrationId.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task RecoveryTriggers_CountAsARunningSync_AndDeleteRemovesThem_AndNoOtherIntegrations()
    {
        // Quartz fires a job cut off by a node's death again from its recovery group, outside the integration's group.
        var integrationId = await _portal.LinkConnectWiseAsync();
        await _portal.NextSyncFinishedAsync();
        var scheduler = await Scheduler();
        var other = Guid.NewGuid();
        async Task<TriggerKey> RecoveryAsync(Guid id, int number)
        {
            var trigger = TriggerBuilder.Create()
                .WithIdentity($"recover_node-1_{number}", SchedulerConstants.DefaultRecoveryGroup)
                .ForJob(SyncReferenceDataJob.Key)
                .UsingJobData(SyncReferenceDataJob.IntegrationIdKey, id.ToString())
                .UsingJobData(SchedulerConstants.FailedJobOriginalTriggerName, IntegrationSchedules.ReferenceSyncNowTrigger)
                .StartAt(DateTimeOffset.UtcNow.AddHours(1))
                .Build();
            await scheduler.ScheduleJob(trigger);
            return trigger.Key;
        }

        await _portal.WaitForReferenceSyncIdleAsync(integrationId);
        var schedules = _portal.Get<IntegrationSchedules>();
        var firingBefore = await schedules.IsReferenceSyncFiringAsync(integrationId);
        var own = await RecoveryAsync(integrationId, 1);
        var others = await RecoveryAsync(other, 2);
        var found = await IntegrationSchedules.RecoveryTriggersAsync(scheduler, integrationId, CancellationToken.None);
        var firingWhileRecovering = await schedules.IsReferenceSyncFiringAsync(integrationId);

        var deleted = await _portal.Get<IntegrationService>().DeleteAsync(_portal.Admin, PsaVendor.ConnectWise);

        Assert.True(deleted.Succeeded, deleted.Message);
        Assert.False(firingBefore);
        Assert.True(firingWhileRecovering);
        Assert.Equal(new RecoveryTrigger(own, SyncReferenceDataJob.Key, IntegrationSchedules.ReferenceSyncNowTrigger), Assert.Single(found));
        Assert.Null(await scheduler.GetTrigger(own));
        Assert.NotNull(await scheduler.GetTrigger(others));
        await scheduler.UnscheduleJob(others);
    }

    // Quartz's SimpleTriggerImpl.RepeatIndefinitely.
    private const int SimpleTriggerBuilderRepeatForever = -1;

    private Task<IScheduler> Scheduler() => _portal.Get<ISchedulerFactory>().GetScheduler().AsTask();

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the condition did not become true within 30 s");
            await Task.Delay(20);
        }
    }
}
