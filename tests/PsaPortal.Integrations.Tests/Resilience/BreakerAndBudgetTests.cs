using System.Diagnostics;
using Polly.CircuitBreaker;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Resilience;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Integrations.Tests.Resilience;

/// <summary>The circuit breaker and the vendors' request budgets.</summary>
public sealed class BreakerAndBudgetTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    public void Dispose() => host.ResetSettings();

    [Fact]
    public async Task Breaker_SustainedServerErrors_OpensReportsItselfAndClosesAfterRecovery()
    {
        // Arrange
        var breaker = TestClients.FastResilience with
        {
            MaxRetryAttempts = 0,
            BreakerMinimumThroughput = 4,
            BreakerFailureRatio = 0.5,
            BreakerSamplingDuration = TimeSpan.FromMinutes(1),
            // 60 s on the test clock is 1.2 s of real time: the open state outlives a slow machine's pause.
            BreakerBreakDuration = TimeSpan.FromSeconds(60),
        };
        using var clients = new TestClients(host, o => o with { ConnectWise = o.ConnectWise with { Resilience = breaker } });
        var api = clients.ConnectWise();
        await api.GetSystemInfoAsync();
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ServerErrorRate = 1 } });
        for (var i = 0; i < 4; i++)
        {
            await Assert.ThrowsAsync<PsaException>(() => api.GetSystemInfoAsync());
        }

        var sentBeforeOpen = clients.Traffic.Exchanges.Count;

        // Act
        var refused = await Assert.ThrowsAsync<PsaException>(() => api.GetSystemInfoAsync());
        var stateWhileOpen = api.Health.CircuitState;
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings() });
        await Task.Delay(TimeSpan.FromSeconds(60) / TestClients.Speed * 2);
        var recovered = await api.GetSystemInfoAsync();

        // Assert
        Assert.Equal(PsaErrorKind.Unavailable, refused.Kind);
        Assert.IsType<BrokenCircuitException>(refused.InnerException);
        Assert.StartsWith("PsaPortal has paused calls to ConnectWise", refused.Message, StringComparison.Ordinal);
        Assert.Equal(PsaCircuitState.Open, stateWhileOpen);
        Assert.Equal(sentBeforeOpen + 1, clients.Traffic.Exchanges.Count);
        Assert.NotNull(recovered);
        Assert.Equal(PsaCircuitState.Closed, api.Health.CircuitState);
    }

    [Fact]
    public async Task AutotaskQueries_MoreParallelThanThreadLimit_WaitInsteadOfBeingRejected()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.Autotask();
        await api.GetThresholdInformationAsync();
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { LatencyMilliseconds = 150 } });

        var logged = host.Sandbox.Autotask.RequestLog.TotalCount;

        // Act
        var counts = await Task.WhenAll(Enumerable.Range(0, 9).Select(_ => api.CountAsync("Companies", null)));

        // Assert
        Assert.All(counts, c => Assert.Equal(host.Sandbox.Autotask.Data.Companies.Count, c));
        Assert.DoesNotContain(host.Sandbox.Autotask.RequestLog.Entries(), e => e.Sequence > logged && e.Status == 429);
    }

    [Fact]
    public async Task AutotaskQueries_BudgetAboveThreadLimit_AreRejectedBySandbox()
    {
        // Arrange: the control for the test above, with the client's limit set above the vendor's.
        using var clients = new TestClients(host, o => o with { Autotask = o.Autotask with { ConcurrentRequestsPerEndpoint = 9 } });
        var api = clients.Autotask();
        await api.GetThresholdInformationAsync();
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { LatencyMilliseconds = 150 } });

        // Act
        await Task.WhenAll(Enumerable.Range(0, 9).Select(_ => api.CountAsync("Companies", null)));

        // Assert
        Assert.Contains(clients.Calls.Records, r => r.StatusCode == 429);
    }

    [Fact]
    public async Task Autotask_HourlyThresholdNearlyUsed_PausesBeforeTheVendorRefuses()
    {
        // Arrange
        host.Sandbox.Autotask.ResetThreshold();
        host.Sandbox.Autotask.Configure(s => s with { HourlyThreshold = 20, ThresholdLatencyEnabled = false });
        using var clients = new TestClients(host);
        var api = clients.Autotask();
        PsaException? paused = null;
        var logged = host.Sandbox.Autotask.RequestLog.TotalCount;

        // Act
        for (var i = 0; i < 30 && paused is null; i++)
        {
            paused = await Record.ExceptionAsync(() => api.CountAsync("Companies", null)) as PsaException;
        }

        // Assert
        Assert.NotNull(paused);
        Assert.Equal(PsaErrorKind.RateLimited, paused.Kind);
        Assert.Null(paused.StatusCode);
        Assert.DoesNotContain(host.Sandbox.Autotask.RequestLog.Entries(), e => e.Sequence > logged && e.Status == 429);
        Assert.Equal(18, host.Sandbox.Autotask.CurrentTimeframeRequestCount);
    }

    [Fact]
    public async Task ConnectWiseBudget_MoreRequestsThanTheWindowAllows_QueuesTheRest()
    {
        // Arrange
        // A 3 s window: the first five take no waiting at all, so even a loaded machine stays far below half of it.
        var budget = new ConnectWiseRequestBudget(5, TimeSpan.FromSeconds(3));
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api-na.myconnectwise.net/v2025_1/apis/3.0/system/info");
        var watch = Stopwatch.StartNew();

        // Act
        for (var i = 0; i < 5; i++)
        {
            (await budget.AcquireAsync(request, CancellationToken.None)).Dispose();
        }

        var firstFive = watch.Elapsed;
        for (var i = 0; i < 5; i++)
        {
            (await budget.AcquireAsync(request, CancellationToken.None)).Dispose();
        }

        // Assert
        Assert.True(firstFive < TimeSpan.FromSeconds(1.5), $"first five took {firstFive}");
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(2.5), $"ten took only {watch.Elapsed}");
    }

    [Fact]
    public void AutotaskEndpoint_ChildAndQueryUrls_CountAgainstTheEntity()
    {
        Assert.Equal("Companies", AutotaskRequestBudget.Endpoint(new Uri("https://webservices5.autotask.net/ATServicesRest/V1.0/Companies/query/count")));
        Assert.Equal("Contracts", AutotaskRequestBudget.Endpoint(new Uri("https://webservices5.autotask.net/atservicesrest/v1.0/Contracts/7/Services")));
    }
}
