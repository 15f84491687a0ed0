using System.Globalization;
using PsaPortal.Integrations;

namespace PsaPortal.CrashTests.Trials;

/// <summary>What one trial did and found: the report line the lead quotes, and the problems that fail the test.</summary>
internal sealed record TrialResult(
    PsaVendor Vendor,
    int Trial,
    int Seed,
    IReadOnlyList<string> KillPoints,
    int Rows,
    int ExpectedWrites,
    int Synced,
    int Unchanged,
    int Failed,
    int Resumes,
    int PsaWrites,
    string Status,
    TimeSpan Duration,
    IReadOnlyList<string> Problems)
{
    public bool Passed => Problems.Count == 0;

    public string ReportLine() =>
        string.Create(CultureInfo.InvariantCulture, $"{Vendor,-11} trial {Trial,2} seed {Seed,10} | kills {KillPoints.Count}: {string.Join("; ", KillPoints)} | rows {Rows} ")
        + string.Create(CultureInfo.InvariantCulture, $"(synced {Synced}, unchanged {Unchanged}, failed {Failed}) | changes expected {ExpectedWrites}, PSA writes seen {PsaWrites} | ")
        + string.Create(CultureInfo.InvariantCulture, $"resumes {Resumes} | run {Status} | {Duration.TotalSeconds:0.0} s | {(Passed ? "PASS" : $"FAIL ({Problems.Count} problems)")}");
}
