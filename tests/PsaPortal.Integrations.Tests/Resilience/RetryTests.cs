using System.Net;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Sandbox.Core;
using RichardSzalay.MockHttp;

namespace PsaPortal.Integrations.Tests.Resilience;

/// <summary>Retries: only transient failures, Retry-After honoured, POST never replayed unless the call is a query.</summary>
public sealed class RetryTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{

    public void Dispose() => host.ResetSettings();

    [Fact]
    public async Task Get_SandboxRetryAfterOneSecond_WaitsThatLongOnTheRealClockThenSucceeds()
    {
        // Arrange: one request fills the window, then the sandbox clock moves to half a second before it closes, so the
        // sandbox asks for Retry-After: 1 (rounded up). Not 59 s: the window would then close a few hundred microseconds
        // (the next request's round trip) before the wait ends, and a timer may fire a millisecond early.
        using var clients = new TestClients(host, o => o with { TimeProvider = TimeProvider.System });
        var api = clients.ConnectWise();
        await api.GetSystemInfoAsync();
        host.Sandbox.ConnectWise.Configure(s => s with { RateLimitPerMinute = 1 });
        await api.GetSystemInfoAsync();
        host.Sandbox.Clock.Advance(TimeSpan.FromSeconds(59.5));
        var before = clients.Calls.Records.Count;

        // Act
        var info = await api.GetSystemInfoAsync();

        // Assert
        Assert.Equal("v2025.1.0", info.Version);
        var attempts = clients.Calls.Records.Skip(before).Where(r => r.Operation == "GetSystemInfo").ToList();
        Assert.Equal([429, 200], attempts.Select(a => a.StatusCode ?? 0));
        var waited = attempts[1].StartedAt - (attempts[0].StartedAt + attempts[0].Duration);
        Assert.InRange(waited.TotalSeconds, 0.95, 3);
    }

    [Fact]
    public async Task Get_SandboxThrottles_RetriesOnlyAfterTheAnnouncedRetryAfter()
    {
        // Arrange
        using var clients = new TestClients(host, o => o with { ConnectWise = o.ConnectWise with { Resilience = TestClients.FastResilience with { MaxRetryAttempts = 1 } } });
        var api = clients.ConnectWise();
        await api.GetSystemInfoAsync();
        host.Sandbox.ConnectWise.Configure(s => s with { RateLimitPerMinute = 1 });
        await api.GetSystemInfoAsync();

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.GetSystemInfoAsync());

        // Assert
        Assert.Equal(PsaErrorKind.RateLimited, failure.Kind);
        var retryAfter = failure.RetryAfter!.Value;
        var throttled = clients.Calls.Records.Where(r => r.StatusCode == 429).ToList();
        Assert.Equal([1, 2], throttled.Select(r => r.Attempt));
        Assert.Equal(throttled[0].CorrelationId, throttled[1].CorrelationId);
        var waited = throttled[1].StartedAt - throttled[0].StartedAt;
        Assert.True(waited >= retryAfter - TimeSpan.FromSeconds(2), $"waited {waited} (test clock) for Retry-After {retryAfter}");
    }

    [Fact]
    public async Task Get_ServerErrorsThenSuccess_RetriesWithOneCorrelationId()
    {
        // Arrange: a stub, because the sandbox injects faults at random rates and never answers 503.
        using var mock = ConnectWiseStub.Handler();
        mock.Expect(ConnectWiseStub.ApiRoot + "system/info").Respond(HttpStatusCode.InternalServerError, "application/json", """{"code":"ConnectWiseApi","message":"A timeout has occured. Please try again."}""");
        mock.Expect(ConnectWiseStub.ApiRoot + "system/info").Respond(HttpStatusCode.ServiceUnavailable);
        mock.Expect(ConnectWiseStub.ApiRoot + "system/info").Respond("application/json", """{"version":"v2025.1.0"}""");
        var calls = new ListCallRecorder();
        using var factory = new PsaClientFactory(calls, new PsaClientFactoryOptions { PrimaryHandler = mock, TimeProvider = new AcceleratedTimeProvider(TestClients.Speed) });

        // Act
        var info = await factory.CreateConnectWise(ConnectWiseStub.Site).GetSystemInfoAsync();

        // Assert
        Assert.Equal("v2025.1.0", info.Version);
        var attempts = calls.Records.Where(r => r.Operation == "GetSystemInfo").ToList();
        Assert.Equal([500, 503, 200], attempts.Select(a => a.StatusCode ?? 0));
        Assert.Equal([1, 2, 3], attempts.Select(a => a.Attempt));
        Assert.Single(attempts.Select(a => a.CorrelationId).Distinct());
    }

    [Fact]
    public async Task Get_Sandbox500Always_GivesUpAfterMaxRetriesAsUnavailable()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.ConnectWise();
        await api.GetSystemInfoAsync();
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ServerErrorRate = 1 } });
        var before = SandboxCalls("system/info");

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.GetSystemInfoAsync());

        // Assert
        Assert.Equal(PsaErrorKind.Unavailable, failure.Kind);
        Assert.Equal(HttpStatusCode.InternalServerError, failure.StatusCode);
        Assert.Equal(1 + TestClients.FastResilience.MaxRetryAttempts, SandboxCalls("system/info") - before);
    }

    [Fact]
    public async Task Get_ConnectionReset_IsRetriedThenUnavailable()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.ConnectWise();
        await api.GetSystemInfoAsync();
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ConnectionResetRate = 1 } });

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.GetSystemInfoAsync());

        // Assert
        Assert.Equal(PsaErrorKind.Unavailable, failure.Kind);
        Assert.Null(failure.StatusCode);
        Assert.Equal(1 + TestClients.FastResilience.MaxRetryAttempts, clients.Calls.Records.Count(r => r.Operation == "GetSystemInfo" && r.Failure is not null));
    }

    [Fact]
    public async Task Get_SlowerThanAttemptTimeout_TimesOutEachAttempt()
    {
        // Arrange
        // 30 s on the test clock is 0.6 s of real time: room for the warm-up on a loaded machine, well under the 1.5 s delay.
        using var clients = new TestClients(host, o => o with { ConnectWise = o.ConnectWise with { Resilience = TestClients.FastResilience with { AttemptTimeout = TimeSpan.FromSeconds(30), MaxRetryAttempts = 1 } } });
        var api = clients.ConnectWise();
        await api.GetSystemInfoAsync();
        var failedBefore = clients.Calls.Records.Count(r => r.Operation == "GetSystemInfo" && r.Failure is not null);
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { LatencyMilliseconds = 1500 } });

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.GetSystemInfoAsync());

        // Assert
        Assert.Equal(PsaErrorKind.Unavailable, failure.Kind);
        Assert.StartsWith("ConnectWise did not answer in time", failure.Message, StringComparison.Ordinal);
        Assert.Equal(2, clients.Calls.Records.Count(r => r.Operation == "GetSystemInfo" && r.Failure is not null) - failedBefore);
    }

    [Fact]
    public async Task CreateTicket_ServerError_IsNotReplayed()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.ConnectWise();
        await api.GetSystemInfoAsync();
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ServerErrorRate = 1 } });
        var before = SandboxCalls("service/tickets", "POST");

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.CreateTicketAsync(new PsaTicketDraft("Only once", 1)));

        // Assert
        Assert.Equal(PsaErrorKind.OutcomeUnknown, failure.Kind);
        Assert.Equal(1, SandboxCalls("service/tickets", "POST") - before);
    }

    [Fact]
    public async Task AutotaskQuery_ServerError_IsReplayedBecauseAQueryIsSafe()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.Autotask();
        await api.GetThresholdInformationAsync();
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { ServerErrorRate = 1 } });
        var before = host.Sandbox.Autotask.RequestLog.Entries().Count(e => e.Path.EndsWith("/Companies/query", StringComparison.Ordinal));

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.QueryCompaniesAsync(null).ToListAsync().AsTask());

        // Assert
        Assert.Equal(PsaErrorKind.Unavailable, failure.Kind);
        var after = host.Sandbox.Autotask.RequestLog.Entries().Count(e => e.Path.EndsWith("/Companies/query", StringComparison.Ordinal));
        Assert.Equal(1 + TestClients.FastResilience.MaxRetryAttempts, after - before);
    }

    [Fact]
    public async Task AutotaskAdjustment_ServerError_IsNotReplayed()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.Autotask();
        await api.GetThresholdInformationAsync();
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { ServerErrorRate = 1 } });

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.CreateContractServiceAdjustmentAsync(new PsaUnitAdjustment(1, 1, new DateOnly(2026, 6, 1), 2)));

        // Assert
        Assert.Equal(PsaErrorKind.OutcomeUnknown, failure.Kind);
        Assert.Single(clients.Calls.Records, r => r.Operation == "CreateContractServiceAdjustment");
    }

    private long SandboxCalls(string pathEnd, string method = "GET") =>
        host.Sandbox.ConnectWise.RequestLog.Entries().Count(e => e.Method == method && e.Path.EndsWith(pathEnd, StringComparison.Ordinal));
}
