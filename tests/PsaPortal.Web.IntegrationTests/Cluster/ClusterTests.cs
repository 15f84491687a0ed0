using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Permissions;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Ticketing;
using PsaPortal.Web.Infrastructure;
using Quartz;

namespace PsaPortal.Web.IntegrationTests.Cluster;

/// <summary>
/// <c>Scheduler:Clustered</c> on a real PostgreSQL server (docs/architecture.md, Clustering): the migrations create
/// Quartz's tables and a clustered portal fires jobs from them; two portal hosts on one database share the key ring
/// (a secret or a cookie of one is read by the other); the ticket claim lets one of two claimers win; SQLite refuses.
/// </summary>
public sealed class ClusterTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> Clustered = new()
    {
        ["Scheduler:Clustered"] = "true",
        ["Scheduler:CheckinInterval"] = "00:00:01",
    };

    private PostgreSqlServer _server = null!;

    public async Task InitializeAsync() => _server = await PostgreSqlServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ClusteredPortal_MigrationsCreateQuartzTables_JobsAreStoredWithRecoveryAndFire()
    {
        var connectionString = await _server.CreateDatabaseAsync();
        await using var portal = new PortalFactory(new PortalDatabase.PostgreSql(connectionString), Clustered);
        var scheduler = await portal.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();

        Assert.True(await WaitUntilAsync(() => Task.FromResult(scheduler.Status == SchedulerStatus.Running), TimeSpan.FromSeconds(30)), "the clustered scheduler did not start");
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = await ListAsync(connection, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'qrtz%' ORDER BY 1");
        Assert.Equal(["qrtz_blob_triggers", "qrtz_calendars", "qrtz_cron_triggers", "qrtz_fired_triggers", "qrtz_job_details", "qrtz_locks",
            "qrtz_paused_job_grps", "qrtz_paused_trigger_grps", "qrtz_scheduler_state", "qrtz_simple_triggers", "qrtz_simprop_triggers", "qrtz_triggers"], tables);
        // The durable jobs are stored in the database, the ones that must survive a node's death marked for recovery.
        var recovering = await ListAsync(connection, "SELECT job_name FROM qrtz_job_details WHERE requests_recovery ORDER BY 1");
        Assert.Equal(["billing-sync", "invoice-export", "sync-reference-data", "ticket-sync", "verify-permissions"], recovering);
        Assert.True(await WaitUntilAsync(async () => (await ListAsync(connection, "SELECT instance_name FROM qrtz_scheduler_state")).Count == 1, TimeSpan.FromSeconds(30)),
            "the node never checked in");

        // A Verify Permissions run of an organization with no integration: fired from the stored trigger (its run id read
        // back from the stored string map), it records every check as could-not-check and finishes the run.
        var run = new PermissionRun { OrganizationId = await portal.AddOrganizationAsync("Northwind MSP"), Vendor = Integrations.PsaVendor.ConnectWise, StartedAt = DateTimeOffset.UtcNow, StartedBy = "test", Total = 1 };
        await using (var db = await portal.CreateDbContextAsync())
        {
            db.PermissionRuns.Add(run);
            await db.SaveChangesAsync();
        }

        await scheduler.TriggerJob(VerifyPermissionsJob.Key, new JobDataMap { [VerifyPermissionsJob.RunIdKey] = run.Id.ToString() }, CancellationToken.None);

        Assert.True(await WaitUntilAsync(async () =>
        {
            await using var db = await portal.CreateDbContextAsync();
            return await db.PermissionRuns.AnyAsync(r => r.Id == run.Id && r.FinishedAt != null && r.CouldNotCheck > 0);
        }, TimeSpan.FromSeconds(30)), "the job never ran from the stored trigger");
        Assert.True(await WaitUntilAsync(async () => (await ListAsync(connection, "SELECT entry_id FROM qrtz_fired_triggers")).Count == 0, TimeSpan.FromSeconds(30)),
            "the firing was not completed in the store");
    }

    [Fact]
    public async Task NodeDiesMidRun_LiveNodeRecoversTheFiring_AndTheJobResumesTheRun()
    {
        var connectionString = await _server.CreateDatabaseAsync();
        await using var portal = new PortalFactory(new PortalDatabase.PostgreSql(connectionString), Clustered);
        var scheduler = await portal.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.True(await WaitUntilAsync(() => Task.FromResult(scheduler.Status == SchedulerStatus.Running), TimeSpan.FromSeconds(30)));

        // A permission run another node had started: one result recorded, then that node died mid-run.
        var run = new PermissionRun { OrganizationId = await portal.AddOrganizationAsync("Northwind MSP"), Vendor = Integrations.PsaVendor.ConnectWise, StartedAt = DateTimeOffset.UtcNow, StartedBy = "test", Total = 1, Passed = 1 };
        await using (var db = await portal.CreateDbContextAsync())
        {
            db.PermissionRuns.Add(run);
            db.Add(new PermissionRunResult { RunId = run.Id, Order = 1, Capability = "x", Permission = "from the dead node", HowChecked = "x", Outcome = "Passed", CompletedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }

        // Its trigger (stored by Quartz itself, so its data is in the store's own format), its firing held by the dead
        // node, and the dead node's last check-in three seconds ago with a one-second interval.
        var triggerKey = new TriggerKey("verify-" + run.Id.ToString("N"), "cluster-test");
        await scheduler.ScheduleTrigger(TriggerBuilder.Create().WithIdentity(triggerKey).ForJob(VerifyPermissionsJob.Key)
            .UsingJobData(VerifyPermissionsJob.RunIdKey, run.Id.ToString()).StartAt(DateTimeOffset.UtcNow.AddHours(1)).Build(), TriggerConflict.Throw, CancellationToken.None);
        var died = DateTimeOffset.UtcNow;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var command = new NpgsqlCommand("""
            INSERT INTO qrtz_scheduler_state (sched_name, instance_name, last_checkin_time, checkin_interval) VALUES ('PsaPortal', 'dead-node', @checkin, 1000);
            INSERT INTO qrtz_fired_triggers (sched_name, entry_id, trigger_name, trigger_group, instance_name, fired_time, sched_time, priority, state,
                                             job_name, job_group, is_nonconcurrent, requests_recovery)
            VALUES ('PsaPortal', 'dead-node-1', @trigger, 'cluster-test', 'dead-node', @checkin, @checkin, 5, 'EXECUTING', @job, @group, false, true);
            """, connection))
        {
            command.Parameters.AddWithValue("checkin", died.AddSeconds(-3).UtcTicks);
            command.Parameters.AddWithValue("trigger", triggerKey.Name);
            command.Parameters.AddWithValue("job", VerifyPermissionsJob.Key.Name);
            command.Parameters.AddWithValue("group", VerifyPermissionsJob.Key.Group);
            await command.ExecuteNonQueryAsync();
        }

        var finished = await WaitUntilAsync(async () =>
        {
            await using var db = await portal.CreateDbContextAsync();
            return await db.PermissionRuns.AnyAsync(r => r.Id == run.Id && r.FinishedAt != null);
        }, TimeSpan.FromSeconds(60));
        var handOver = DateTimeOffset.UtcNow - died;

        Assert.True(finished, "the dead node's firing was never recovered");
        await using (var db = await portal.CreateDbContextAsync())
        {
            var results = await db.Set<PermissionRunResult>().Where(r => r.RunId == run.Id).ToListAsync();
            Assert.DoesNotContain(results, r => r.Permission == "from the dead node");
            var resumed = await db.PermissionRuns.SingleAsync(r => r.Id == run.Id);
            Assert.Equal(results.Count, resumed.Passed + resumed.Failed + resumed.CouldNotCheck);
        }

        Assert.Empty(await ListAsync(connection, "SELECT instance_name FROM qrtz_scheduler_state WHERE instance_name = 'dead-node'"));
        Console.WriteLine($"Hand-over after the dead node's last check-in + 3 s: {handOver.TotalSeconds:F1} s");
        Assert.True(handOver < TimeSpan.FromSeconds(15), $"recovered after {handOver.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task TwoHostsOnOneDatabase_SecretAndCookieOfOneAreReadByTheOther()
    {
        var connectionString = await _server.CreateDatabaseAsync();
        await using var first = new PortalFactory(new PortalDatabase.PostgreSql(connectionString), Clustered);
        await using var second = new PortalFactory(new PortalDatabase.PostgreSql(connectionString), Clustered);
        _ = first.Services;
        _ = second.Services;

        var protectedSecret = first.Services.GetRequiredService<IntegrationSecrets>().Protect("psa-private-key-1234");
        Assert.Equal("psa-private-key-1234", second.Services.GetRequiredService<IntegrationSecrets>().Unprotect(protectedSecret));

        // One browser, one cookie jar: signed in on the first host, it opens the dashboard on the second.
        var cookies = new CookieContainer();
        var onFirst = new PortalBrowser(first.CreateDefaultClient(new CookieContainerHandler(cookies)));
        var onSecond = new PortalBrowser(second.CreateDefaultClient(new CookieContainerHandler(cookies)));
        var (setUp, _) = await onFirst.SetUpAsync("Northwind MSP", "owner@msp.example", "Correct-Horse-42");
        Assert.Equal(HttpStatusCode.Redirect, setUp.StatusCode);

        var (dashboard, document) = await onSecond.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Equal("owner@msp.example", document.QuerySelector("[data-testid=signed-in-user]")?.TextContent.Trim());
        await using var db = await first.CreateDbContextAsync();
        Assert.True(await ((PostgreSqlPortalDbContext)db).DataProtectionKeys.CountAsync() >= 1);
    }

    [Fact]
    public async Task PortalMovedToDatabaseKeyRing_SecretProtectedWithItsOldFileRing_StillReads()
    {
        await using var portal = new PortalFactory(new PortalDatabase.PostgreSql(await _server.CreateDatabaseAsync()));
        // What a portal of before wrote: its key ring as files in <data folder>/keys.
        var legacy = DataProtectionProvider.Create(new DirectoryInfo(Path.Combine(portal.DataDirectory, "keys")), b => b.SetApplicationName("PsaPortal"));
        var protectedSecret = legacy.CreateProtector("PsaPortal.Integrations.Secrets.v1").Protect("old-psa-secret");

        var secrets = portal.Services.GetRequiredService<IntegrationSecrets>();

        Assert.Equal("old-psa-secret", secrets.Unprotect(protectedSecret));
        // The old key keeps serving until it expires; nothing is ever written beside it.
        Assert.Equal("new-psa-secret", secrets.Unprotect(secrets.Protect("new-psa-secret")));
        Assert.Single(Directory.GetFiles(Path.Combine(portal.DataDirectory, "keys"), "*.xml"));
    }

    [Fact]
    public async Task TicketClaim_TwoClaimersAtOnce_ExactlyOneWins()
    {
        var connectionString = await _server.CreateDatabaseAsync();
        await using var portal = new PortalFactory(new PortalDatabase.PostgreSql(connectionString));
        var rowIds = new List<long>();
        await using (var db = await portal.CreateDbContextAsync())
        {
            var now = DateTimeOffset.UtcNow;
            var organization = new Organization { Name = "Northwind MSP", CreatedAt = now };
            var integration = new Integration { OrganizationId = organization.Id, Vendor = Integrations.PsaVendor.ConnectWise, UpdatedAt = now };
            var tenant = new Tenant { OrganizationId = organization.Id, ExternalId = "t-1", Name = "Contoso", CreatedAt = now, UpdatedAt = now };
            db.AddRange(organization, integration, tenant);
            await db.SaveChangesAsync();
            for (var i = 0; i < 20; i++)
            {
                var incident = new Incident { OrganizationId = organization.Id, ExternalId = $"inc-{i}", TenantId = tenant.Id, Title = "Disk full", DetectedAt = now, UpdatedAt = now };
                db.Add(incident);
                await db.SaveChangesAsync();
                var row = new IncidentTicket
                {
                    OrganizationId = organization.Id, IntegrationId = integration.Id, IncidentId = incident.Id, State = TicketState.Pending,
                    ExternalReference = $"psaportal-inc-{i}", CreatedAt = now, UpdatedAt = now,
                };
                db.Add(row);
                await db.SaveChangesAsync();
                rowIds.Add(row.Id);
            }
        }

        var factory = portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        foreach (var rowId in rowIds)
        {
            // Two claimers, each on its own connection, released together.
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var claims = Enumerable.Range(0, 2).Select(async _ =>
            {
                await using var db = await factory.CreateDbContextAsync();
                await db.Database.OpenConnectionAsync();
                await start.Task;
                return await TicketSync.TryClaimCreationAsync(db, rowId, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, CancellationToken.None);
            }).ToList();
            start.SetResult();
            var results = await Task.WhenAll(claims);

            Assert.Equal(1, results.Count(won => won));
            await using var check = await factory.CreateDbContextAsync();
            var claimed = await check.IncidentTickets.AsNoTracking().SingleAsync(t => t.Id == rowId);
            Assert.Equal(TicketState.Creating, claimed.State);
            Assert.Equal(1, claimed.Attempts);
        }
    }

    [Fact]
    public async Task ClusteredOnSqlite_RefusesToStart_SayingWhatToChange()
    {
        await using var portal = new PortalFactory(new PortalDatabase.Sqlite(), Clustered);

        var exception = Record.Exception(() => portal.Services);

        Assert.NotNull(exception);
        var messages = string.Join(" | ", Chain(exception));
        Assert.Contains("Scheduler:Clustered is true but Database:Provider is Sqlite", messages);
        Assert.Contains("set Database:Provider=PostgreSql and ConnectionStrings:Portal", messages);
    }

    [Fact]
    public void ClusterLockNames_HashTheSameEverywhere()
    {
        // Every node must compute the same advisory-lock key for a name, whatever its process or runtime seed.
        Assert.Equal(ClusterLocks.KeyOf("billing-run:7d3c5d2e-0000-0000-0000-000000000001"), ClusterLocks.KeyOf("billing-run:7d3c5d2e-0000-0000-0000-000000000001"));
        Assert.NotEqual(ClusterLocks.KeyOf("ticket-pass:a"), ClusterLocks.KeyOf("ticket-pass:b"));
        Assert.Equal(unchecked((long)0xaf63dc4c8601ec8cUL), ClusterLocks.KeyOf("a")); // FNV-1a 64 of "a"
    }

    private static IEnumerable<string> Chain(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            yield return exception.Message;
        }
    }

    private static async Task<List<string>> ListAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return await condition();
    }
}
