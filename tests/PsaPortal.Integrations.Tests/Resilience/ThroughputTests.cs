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
        // Arrange: 20 per 2 s window (+ the budget's margin); 60 callers at once.
        const int limit = 20;
        var window = TimeSpan.FromSeconds(2);
        var budget = new ConnectWiseRequestBudget(limit, window);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api-na.myconnectwise.net/v2025_1/apis/3.0/system/info");
        var watch = Stopwatch.StartNew();
        var started = new TimeSpan[60];

        // Act
        await Task.WhenAll(Enumerable.Range(0, started.Length).Select(async i =>
        {
            (await budget.AcquireAsync(request, CancellationToken.None)).Dispose();
            started[i] = watch.Elapsed;
        }));

        // Assert: any two requests the budget's size apart are a full window apart, so no window (fixed or sliding,
        // wherever the PSA starts it) holds more than the limit; and three windows' worth took two windows, not more.
        var times = started.Order().ToArray();
        var spacing = Enumerable.Range(0, times.Length - limit).Select(i => times[i + limit] - times[i]).Min();
        Assert.True(spacing >= window + ConnectWiseRequestBudget.Margin - TimeSpan.FromMilliseconds(20), $"requests {limit} apart started only {spacing} apart");
        var bound = 2 * (window + ConnectWiseRequestBudget.Margin);
        Assert.InRange(times[^1], bound - TimeSpan.FromMilliseconds(20), bound + TimeSpan.FromSeconds(1.5));
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
}
