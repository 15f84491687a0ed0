using System.Diagnostics;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Integrations.Tests.Resilience;

/// <summary>The budgets let concurrent callers reach the vendor's bound, and no further.</summary>
public sealed class ThroughputTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    public void Dispose() => host.ResetSettings();

    [Fact]
    public async Task ConnectWiseBudget_ConcurrentCallers_UseTheWholeBudgetAndNeverMoreThanItPerWindow()
    {
        // Arrange: 20 per 2 s window (+ the budget's margin); 60 callers at once, on a clock that stands still and
        // records each wait the budget asks for (so the start times are the budget's, not the thread pool's).
        const int limit = 20;
        const int callers = 60;
        var window = TimeSpan.FromSeconds(2);
        var clock = new WaitRecordingClock();
        var budget = new ConnectWiseRequestBudget(limit, window, clock);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api-na.myconnectwise.net/v2025_1/apis/3.0/system/info");

        // Act
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ => (await budget.AcquireAsync(request, CancellationToken.None)).Dispose()));

        // Assert: any two requests the budget's size apart start a full window apart, so no window (fixed or sliding,
        // wherever the PSA starts it) holds more than the limit; and three windows' worth starts within two windows.
        var starts = clock.Waits.Concat(Enumerable.Repeat(TimeSpan.Zero, callers - clock.Waits.Count)).Order().ToArray();
        Assert.Equal(limit, starts.Count(s => s == TimeSpan.Zero));
        var spacing = Enumerable.Range(0, starts.Length - limit).Select(i => starts[i + limit] - starts[i]).Min();
        Assert.Equal(window + ConnectWiseRequestBudget.Margin, spacing);
        Assert.Equal(2 * (window + ConnectWiseRequestBudget.Margin), starts[^1]);
    }

    [Fact]
    public async Task AutotaskBudget_ConcurrentQueriesOnOneEndpoint_RunThreeAtATimeWithoutThreadLimitRejections()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.Autotask();
        await api.GetThresholdInformationAsync();
        host.Sandbox.Autotask.Configure(s => s with { ThreadLimitPerEndpoint = 3, ThresholdLatencyEnabled = false, Faults = new FaultSettings { LatencyMilliseconds = 300 } });
        var after = host.Sandbox.Autotask.RequestLog.TotalCount;
        var watch = Stopwatch.StartNew();

        // Act
        await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => api.CountAsync("Companies", null)));
        var elapsed = watch.Elapsed;

        // Assert: 12 requests of 300 ms, 3 at a time, are 4 rounds (1.2 s); one at a time would be 3.6 s.
        var calls = host.Sandbox.Autotask.RequestLog.Entries().Where(e => e.Sequence > after).ToList();
        Assert.Equal(12, calls.Count);
        Assert.All(calls, c => Assert.Equal(200, c.Status));
        Assert.InRange(elapsed, TimeSpan.FromSeconds(1.15), TimeSpan.FromSeconds(2.6));
        var peak = calls.Max(c => calls.Count(o => o.StartedAt <= c.StartedAt && c.StartedAt < o.StartedAt + TimeSpan.FromMilliseconds(o.ElapsedMilliseconds)));
        Assert.Equal(3, peak);
    }

    /// <summary>A clock that stands still and fires every timer at once, keeping the delay each timer was asked for.</summary>
    private sealed class WaitRecordingClock : TimeProvider
    {
        private readonly DateTimeOffset _now = System.GetUtcNow();
        private readonly List<TimeSpan> _waits = [];

        public IReadOnlyList<TimeSpan> Waits
        {
            get
            {
                lock (_waits)
                {
                    return [.. _waits];
                }
            }
        }

        public override DateTimeOffset GetUtcNow() => _now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (_waits)
            {
                _waits.Add(dueTime);
            }

            return System.CreateTimer(callback, state, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }
}
