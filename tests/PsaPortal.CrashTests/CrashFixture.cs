using System.Globalization;
using PsaPortal.Testing.Processes;
using PsaPortal.Integrations;

namespace PsaPortal.CrashTests;

/// <summary>
/// Shared by the crash tests: the standalone sandbox with 2,000 companies (one process for the whole class, so the
/// PSA outlives every portal process), the master seed every trial's seed derives from, and the trial report.
/// Environment: <c>PSAPORTAL_CRASH_SEED</c> replays a run (the report's first line names it),
/// <c>PSAPORTAL_CRASH_KILLS_PER_TRIAL</c> (default 5; two trials per PSA make the 20 kills).
/// </summary>
public sealed class CrashFixture : IAsyncLifetime
{
    public const int CompanyCount = 2_000;

    /// <summary>Per call, plus up to <see cref="JitterMilliseconds"/>: enough for a run to last some seconds, so kills land mid-way.</summary>
    public const int LatencyMilliseconds = 2;

    public const int JitterMilliseconds = 3;

    internal SandboxProcess Sandbox { get; private set; } = null!;

    internal ArtifactReport Report { get; private set; } = null!;

    public int MasterSeed { get; } = Setting("PSAPORTAL_CRASH_SEED", Random.Shared.Next(1, 1_000_000));

    public int KillsPerTrial { get; } = Math.Max(1, Setting("PSAPORTAL_CRASH_KILLS_PER_TRIAL", 5));

    public string LogDirectory { get; } = Directory.CreateDirectory(Path.Combine(BuildOutput.ArtifactsDirectory, "crash-logs")).FullName;

    public async Task InitializeAsync()
    {
        Report = new ArtifactReport(Path.Combine(BuildOutput.ArtifactsDirectory, "crash-trials.txt"),
            string.Create(CultureInfo.InvariantCulture, $"# Crash trials {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC: master seed {MasterSeed} (replay: PSAPORTAL_CRASH_SEED={MasterSeed}), ")
            + string.Create(CultureInfo.InvariantCulture, $"{CompanyCount} companies, sandbox latency {LatencyMilliseconds}+{JitterMilliseconds} ms, {KillsPerTrial} kills per trial, 2 trials per PSA"));
        Sandbox = await SandboxProcess.StartAsync(MasterSeed, CompanyCount, Path.Combine(LogDirectory, $"sandbox-{MasterSeed}.log"));
        await Sandbox.SetLatencyAsync(PsaVendor.ConnectWise, LatencyMilliseconds, JitterMilliseconds);
        await Sandbox.SetLatencyAsync(PsaVendor.Autotask, LatencyMilliseconds, JitterMilliseconds);
    }

    public async Task DisposeAsync() => await Sandbox.DisposeAsync();

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}
