using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Core;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Billing;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// The portal stops (a deployment's SIGTERM) in the middle of a billing run: the scheduler interrupts the run's job
/// instead of waiting for the whole run (it did, before: the stop took as long as the run), the run stays Running with
/// its rows as far as they got, to be resumed at the next start (docs/billing.md, Resume after a crash), and nothing
/// more is sent to the PSA.
/// </summary>
public sealed class PortalStopTests
{
    [Fact]
    public async Task ThePortalStoppingMidRun_InterruptsTheRun_LeavesItRunningToResume_AndSendsNothingMore()
    {
        // Arrange: a run slow enough (100 ms a PSA call) to be stopped in its middle.
        await using var portal = await FaultPortal.StartAsync(300);
        var integrationId = await portal.LinkAsync(PsaVendor.Autotask);
        var tenants = await portal.MapEveryCompanyAsync(PsaVendor.Autotask, integrationId);
        await portal.MoveCountsAsync(PsaVendor.Autotask, tenants);
        portal.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { LatencyMilliseconds = 100 } });
        var started = await portal.Get<IBillingRuns>().SyncNowAsync(portal.Admin, PsaVendor.Autotask);
        Assert.True(started.Accepted, started.Message);
        var runId = started.RunId!.Value;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((await portal.FindRunAsync(runId))!.Done < 50)
        {
            Assert.True(DateTime.UtcNow < deadline, "the run did not get 50 rows in within 2 minutes");
            await Task.Delay(100);
        }

        // Act: the host stops as it does on SIGTERM: ApplicationStopping, then the hosted services, Quartz's among them.
        var lifetime = portal.Get<IHostApplicationLifetime>();
        var stopped = new TaskCompletionSource();
        using var registration = lifetime.ApplicationStopped.Register(stopped.SetResult);
        var log = portal.Sandbox.Autotask.RequestLog;
        lifetime.StopApplication();
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var callsAtStop = log.TotalCount;
        await Task.Delay(TimeSpan.FromSeconds(1));

        // Assert: read from the database file, the portal's services being gone with it.
        await using var db = new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={portal.SqliteFile}").Options);
        var run = await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
        Assert.Equal(BillingRunStatus.Running, run.Status);
        Assert.InRange(run.Done, 50, run.Total - 1);
        Assert.Equal(callsAtStop, log.TotalCount);
        Assert.Contains(portal.LogLines, line => line.Contains($"Billing run {runId} left to resume: the portal is stopping", StringComparison.Ordinal));
    }
}
