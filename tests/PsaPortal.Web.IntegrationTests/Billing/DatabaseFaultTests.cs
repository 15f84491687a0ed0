using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Billing;
using Xunit.Abstractions;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// The database goes away in the middle of a billing run: the PostgreSQL server is restarted (every session ended by
/// the administrator, refused connections for seconds), or the SQLite file is locked by another process for longer
/// than the busy timeout. The run must resume by itself once the database answers, finish with every row synced or
/// failed for the PSA's own reasons, and leave the PSA holding exactly what the rows say: nothing written twice,
/// nothing lost. System Logs say the run was interrupted and why.
/// </summary>
public sealed class DatabaseFaultTests(ITestOutputHelper output)
{
    private const int CompanyCount = 300;

    [Fact]
    public async Task PostgreSqlRestartedMidRun_ConnectWiseRunResumesByItself_PsaHoldsExactlyTheRows()
    {
        await using var server = await PostgreSqlServer.StartAsync();
        await using var portal = await FaultPortal.StartAsync(CompanyCount, new PortalDatabase.PostgreSql(await server.CreateDatabaseAsync()));

        var run = await RunThroughAsync(portal, PsaVendor.ConnectWise, () => server.RestartAsync(TimeSpan.FromSeconds(3)));

        Assert.True(run.Resumes >= 1, "the restart did not interrupt the run, so nothing was proven");
    }

    [Fact]
    public async Task SqliteFileLockedPastTheBusyTimeoutMidRun_AutotaskRunResumesByItself_PsaHoldsExactlyTheRows()
    {
        var data = Path.Combine(Path.GetTempPath(), $"psaportal-lock-{Guid.NewGuid():N}");
        Directory.CreateDirectory(data);
        var file = Path.Combine(data, "psaportal.db");
        try
        {
            // A busy timeout of 2 s instead of the default 30 s, so a lock of 6 s outlasts it without a minute-long test.
            await using var portal = await FaultPortal.StartAsync(CompanyCount, settings: new Dictionary<string, string?>
            {
                ["ConnectionStrings:Portal"] = $"Data Source={file};Default Timeout=2",
            });

            var run = await RunThroughAsync(portal, PsaVendor.Autotask, async () =>
            {
                await using var locker = new SqliteConnection($"Data Source={file};Default Timeout=30");
                await locker.OpenAsync();
                await using var begin = locker.CreateCommand();
                begin.CommandText = "BEGIN EXCLUSIVE";
                await begin.ExecuteNonQueryAsync();
                await Task.Delay(TimeSpan.FromSeconds(6));
                await using var commit = locker.CreateCommand();
                commit.CommandText = "COMMIT";
                await commit.ExecuteNonQueryAsync();
            });

            Assert.True(run.Resumes >= 1, "the lock did not interrupt the run, so nothing was proven");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Maps every company, moves about two thirds of the counts, starts a sync, lets <paramref name="fault"/> happen a tenth of the way in, and checks the outcome.</summary>
    private async Task<BillingRun> RunThroughAsync(FaultPortal portal, PsaVendor vendor, Func<Task> fault)
    {
        var sandbox = portal.Sandbox;
        var integrationId = await portal.LinkAsync(vendor);
        var tenants = await portal.MapEveryCompanyAsync(vendor, integrationId);
        await portal.MoveCountsAsync(vendor, tenants);
        var before = FaultPsa.Take(sandbox);
        // Every PSA call takes 100 ms, so the run lasts long enough for the fault to land in its middle.
        var slow = new FaultSettings { LatencyMilliseconds = 100 };
        if (vendor == PsaVendor.ConnectWise)
        {
            sandbox.ConnectWise.Configure(s => s with { Faults = slow });
        }
        else
        {
            sandbox.Autotask.Configure(s => s with { Faults = slow });
        }

        var started = await portal.Get<IBillingRuns>().SyncNowAsync(portal.Admin, vendor);
        Assert.True(started.Accepted, started.Message);
        var runId = started.RunId!.Value;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (await portal.FindRunAsync(runId) is not { Total: > 0 } progress || progress.Done < progress.Total / 10)
        {
            Assert.True(DateTime.UtcNow < deadline, "the run did not get a tenth of the way in 3 minutes");
            await Task.Delay(100);
        }

        var atFault = await portal.FindRunAsync(runId);
        Assert.True(atFault!.Status == BillingRunStatus.Running && atFault.Done < atFault.Total, $"the run ended before the fault: {atFault.Status} {atFault.Done}/{atFault.Total}");
        await fault();
        var run = await portal.WaitForEndAsync(runId, TimeSpan.FromMinutes(5));
        var rows = await portal.RowsAsync(runId);
        output.WriteLine($"{vendor}: fault at {atFault.Done}/{atFault.Total} rows; run {run.Status} after {run.Resumes} resume(s): {run.Synced} synced, {run.Unchanged} unchanged, {run.Failed} failed");
        foreach (var reason in rows.Where(r => r.Outcome == BillingOutcome.Failed).GroupBy(r => r.Message))
        {
            output.WriteLine($"  failed x{reason.Count()}: {reason.Key}");
        }

        Assert.Contains(run.Status, new[] { BillingRunStatus.Succeeded, BillingRunStatus.CompletedWithFailures });
        var hard = sandbox.SeedData.HardCases;
        var hardCompanies = vendor == PsaVendor.ConnectWise
            ? new[] { hard.ProductOnTwoAgreementsCompany }
            : new[] { hard.FutureDatedContractCompany, hard.ExpiredContractCompany, hard.DuplicateServiceCompany };
        var hardTenants = tenants.Where(t => hardCompanies.Contains(t.CompanyNumber)).Select(t => t.TenantId).ToHashSet();
        Assert.All(rows.Where(r => r.Outcome == BillingOutcome.Failed), r => Assert.True(hardTenants.Contains(r.TenantId), $"{FaultPsa.Describe(r)} failed: \"{r.Message}\""));
        Assert.All(rows, r => Assert.Contains(r.Outcome, new[] { BillingOutcome.Synced, BillingOutcome.Unchanged, BillingOutcome.Failed }));
        Assert.Empty(vendor == PsaVendor.ConnectWise ? FaultPsa.ConnectWiseMismatches(sandbox, before, rows) : FaultPsa.AutotaskMismatches(sandbox, before, rows));
        Assert.True(rows.Count(r => r.Outcome == BillingOutcome.Synced) > rows.Count / 3, "too few rows changed for the run to prove anything");

        // The interruption is on record, with the database's own words, once System Logs can write again.
        var logDeadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var db = await portal.CreateDbContextAsync();
            var resumed = await db.SystemLog.AsNoTracking().Where(e => e.OrganizationId == portal.OrganizationId && e.Message != null && e.Message.Contains("after the database was unavailable"))
                .Select(e => e.Message!).ToListAsync();
            if (resumed.Count > 0)
            {
                output.WriteLine(resumed[0]);
                Assert.Contains($"Resuming run {runId} after the database was unavailable (", resumed[0], StringComparison.Ordinal);
                break;
            }

            Assert.True(DateTime.UtcNow < logDeadline, "System Logs do not say the run was interrupted by the database");
            await Task.Delay(250);
        }

        return run;
    }
}
