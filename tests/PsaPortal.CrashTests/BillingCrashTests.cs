using System.Globalization;
using PsaPortal.CrashTests.Trials;
using PsaPortal.Testing.BillingScenarios;
using PsaPortal.Testing.Processes;
using Xunit.Abstractions;

namespace PsaPortal.CrashTests;

/// <summary>
/// The billing engine's exactly-once promise under SIGKILL: a 2,000-tenant Apply run is killed at random points and
/// restarted until it finishes, trial after trial on the same PSA, and each time the sandbox must hold exactly what the
/// rows demand — one addition per product with the tenant's count (ConnectWise), the tenant's units with exactly one
/// adjustment of the difference (Autotask) — and every row must end Synced, Unchanged or Failed with its reason.
/// </summary>
public sealed class BillingCrashTests(CrashFixture fixture, ITestOutputHelper output) : IClassFixture<CrashFixture>
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ConnectWise_KilledAtRandomPointsOfA2000TenantRun_EndsWithExactlyTheExpectedAdditions(int trial) =>
        await RunTrialAsync(folder => new ConnectWiseScenario(folder, fixture.Sandbox), vendorSalt: 1, trial);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Autotask_KilledAtRandomPointsOfA2000TenantRun_EndsWithTheExpectedUnitsAndOneAdjustmentEach(int trial) =>
        await RunTrialAsync(folder => new AutotaskScenario(folder, fixture.Sandbox), vendorSalt: 2, trial);

    /// <summary>
    /// The harness itself: a database the test prepared boots in the child portal, which keeps using the key ring the
    /// test created (a portal that could not read it would add a key of its own, and the stored secrets would be lost),
    /// and a killed portal starts again on the same folder.
    /// </summary>
    [Fact]
    public async Task PortalProcess_PreparedDatabaseKilledAndRestarted_BootsOnTheSameDatabaseAndKeyRing()
    {
        using var folder = new PortalDataFolder();
        var scenario = new ConnectWiseScenario(folder, fixture.Sandbox);
        await scenario.SeedAsync();
        var log = Path.Combine(fixture.LogDirectory, $"harness-{fixture.MasterSeed}.log");

        using (var first = await PortalProcess.StartAsync(folder.Path, log, TimeSpan.FromSeconds(180)))
        {
            first.Kill();
            Assert.True(first.HasExited);
        }

        using (var second = await PortalProcess.StartAsync(folder.Path, log, TimeSpan.FromSeconds(180)))
        {
            using var http = new HttpClient { BaseAddress = new Uri(second.BaseUrl) };
            Assert.True((await http.GetAsync("/health/ready")).IsSuccessStatusCode);
            await second.StopAsync();
        }

        Assert.Single(Directory.GetFiles(Path.Combine(folder.Path, "keys"), "key-*.xml"));
        Assert.Equal(CrashFixture.CompanyCount - 2, scenario.TenantCount);
    }

    /// <summary>
    /// One trial on a freshly prepared portal database (mapped from the sandbox as it stands, so a trial also starts from
    /// what the trials before it wrote): its own seed, <see cref="CrashFixture.KillsPerTrial"/> kills, then the run finishes.
    /// </summary>
    private async Task RunTrialAsync(Func<PortalDataFolder, BillingScenario> create, int vendorSalt, int trial)
    {
        using var folder = new PortalDataFolder();
        var scenario = create(folder);
        await scenario.SeedAsync();
        var seed = unchecked((fixture.MasterSeed * 31 + vendorSalt) * 1_000 + trial);
        var log = Path.Combine(fixture.LogDirectory, $"portal-{scenario.Vendor}-{fixture.MasterSeed}-{trial}.log");
        File.Delete(log);
        var result = await new CrashTrial(scenario, folder, log).RunAsync(trial, seed, fixture.KillsPerTrial);
        fixture.Report.Write(output, result.ReportLine());
        foreach (var problem in result.Problems.Take(30))
        {
            fixture.Report.Write(output, $"    {problem}");
        }

        if (!result.Passed)
        {
            folder.Keep = true;
            fixture.Report.Write(output, $"    the portal's data folder is kept for inspection: {folder.Path}");
        }

        Assert.True(result.Passed,
            string.Create(CultureInfo.InvariantCulture, $"{scenario.Vendor}: trial {trial} (seed {seed}, master seed {fixture.MasterSeed}) left the PSA or the run wrong:")
            + Environment.NewLine + string.Join(Environment.NewLine, result.Problems.Take(30)) + Environment.NewLine + $"Portal log: {log}; data folder: {folder.Path}");
    }
}
