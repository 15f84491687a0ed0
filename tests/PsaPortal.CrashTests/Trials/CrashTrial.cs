using System.Diagnostics;
using System.Globalization;
using PsaPortal.Testing.BillingScenarios;
using PsaPortal.Testing.Processes;
using PsaPortal.Web.Features.Billing;

namespace PsaPortal.CrashTests.Trials;

/// <summary>
/// One trial: change a share of the counts, queue an Apply run, start the portal and SIGKILL it at a random point —
/// after a random number of PSA writes (read from the sandbox's request log), or a random time after start, before
/// or while it plans or resumes — as many times as asked, then let a last process finish the run and compare the
/// sandbox's tables with what the rows demand.
/// </summary>
internal sealed class CrashTrial(BillingScenario scenario, PortalDataFolder folder, string logPath)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan FinishTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan LogPollInterval = TimeSpan.FromMilliseconds(15);
    private static readonly TimeSpan StatusPollInterval = TimeSpan.FromMilliseconds(300);

    private readonly SandboxProcess _sandbox = scenario.Sandbox;

    public async Task<TrialResult> RunAsync(int trial, int seed, int kills)
    {
        var clock = Stopwatch.StartNew();
        var random = new Random(seed);
        var (before, rows) = await scenario.PrepareTrialAsync(random);
        var expectedWrites = rows.Count(r => r.MustSync && r.Changes);
        var sequence = await _sandbox.LastSequenceAsync(scenario.Vendor);
        var firstSequence = sequence;
        var runId = await scenario.InsertQueuedRunAsync();
        var writes = 0;
        var counted = new HashSet<long>();
        var killPoints = new List<string>();

        // The sandbox numbers a call when it ends, and two ending together may be listed out of order: read a little
        // behind the newest number seen and count each call once.
        async Task<int> NewWritesAsync()
        {
            var answered = await _sandbox.RequestsAfterAsync(scenario.Vendor, Math.Max(0, sequence - 64));
            sequence = answered.Count == 0 ? sequence : Math.Max(sequence, answered.Max(r => r.Sequence));
            return answered.Count(r => r.Sequence > firstSequence && counted.Add(r.Sequence) && r.IsWrite && r.Status is >= 200 and < 300);
        }

        for (var kill = 1; kill <= kills; kill++)
        {
            using var portal = await PortalProcess.StartAsync(folder.Path, logPath, StartTimeout);
            var started = Stopwatch.StartNew();
            var remaining = Math.Max(1, expectedWrites - writes);
            // Mostly mid-writes (spread so later kills still find writes left); now and then early, while the run is
            // being picked up, planned or resumed.
            var byTime = random.NextDouble() < 0.2;
            var delay = TimeSpan.FromMilliseconds(random.Next(byTime ? 1500 : 40));
            var target = writes + 1 + random.Next(Math.Max(1, remaining / (kills - kill + 2)) * 2);
            var finished = false;
            var statusChecked = Stopwatch.StartNew();
            while (true)
            {
                writes += await NewWritesAsync();

                if (byTime ? started.Elapsed >= delay : writes >= target)
                {
                    break;
                }

                if (portal.HasExited)
                {
                    throw new InvalidOperationException($"The portal exited by itself during trial {trial}; see {logPath}.");
                }

                if (statusChecked.Elapsed >= StatusPollInterval)
                {
                    statusChecked.Restart();
                    if (await IsFinishedAsync(runId))
                    {
                        finished = true;
                        break;
                    }
                }

                await Task.Delay(LogPollInterval);
            }

            if (!byTime)
            {
                await Task.Delay(delay);
            }

            portal.Kill();
            killPoints.Add(finished
                ? string.Create(CultureInfo.InvariantCulture, $"none (run ended after {writes} writes before kill {kill})")
                : byTime
                    ? string.Create(CultureInfo.InvariantCulture, $"{started.ElapsedMilliseconds} ms after start ({writes} writes)")
                    : string.Create(CultureInfo.InvariantCulture, $"after write {writes} (+{delay.TotalMilliseconds:0} ms)"));
            if (finished)
            {
                break;
            }
        }

        // The last process is not asked to answer HTTP first: the run's own status says when it is done.
        using (var last = await PortalProcess.StartAsync(folder.Path, logPath, timeout: null))
        {
            var deadline = Stopwatch.StartNew();
            while (!await IsFinishedAsync(runId))
            {
                if (last.HasExited)
                {
                    throw new InvalidOperationException($"The portal exited by itself while finishing trial {trial}; see {logPath}.");
                }

                if (deadline.Elapsed > FinishTimeout)
                {
                    var stuck = await scenario.GetRunAsync(runId);
                    throw new TimeoutException($"Trial {trial} (seed {seed}): run {runId} is still {stuck.Status} ({stuck.Done}/{stuck.Total} rows) after {FinishTimeout.TotalMinutes:0} minutes of its last process; see {logPath}.");
                }

                await Task.Delay(StatusPollInterval);
            }

            await last.StopAsync();
        }

        writes += await NewWritesAsync();
        var after = await _sandbox.GetDataAsync(scenario.Vendor);
        var run = await scenario.GetRunAsync(runId);
        var items = await scenario.GetItemsAsync(runId);
        var problems = new List<string>();
        problems.AddRange(BillingRunCheck.Verify(run, rows, items));
        var byKey = items.GroupBy(i => (i.TenantId, i.VendorProductId)).ToDictionary(g => g.Key, g => g.First());
        problems.AddRange(scenario.VerifyPsa(before, after, rows, byKey));
        return new TrialResult(scenario.Vendor, trial, seed, killPoints, rows.Count, expectedWrites,
            items.Count(i => i.Outcome == BillingOutcome.Synced), items.Count(i => i.Outcome == BillingOutcome.Unchanged), items.Count(i => i.Outcome == BillingOutcome.Failed),
            run.Resumes, writes, run.Status.ToString(), clock.Elapsed, problems);
    }

    private async Task<bool> IsFinishedAsync(Guid runId) =>
        (await scenario.GetRunAsync(runId)).Status is not (BillingRunStatus.Queued or BillingRunStatus.Running);
}
