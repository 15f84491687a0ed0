using System.Net;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.ConnectWise;

/// <summary>Each test changes the instance's settings, so the class has its own host and restores the settings afterwards.</summary>
public sealed class ConnectWiseLimitsTests(SandboxHost host) : IClassFixture<SandboxHost>, IDisposable
{
    public void Dispose()
    {
        host.Sandbox.ConnectWise.Configure(_ => new());
    }

    [Fact]
    public async Task Get_OverRateLimit_Returns429WithRetryAfter()
    {
        // Arrange
        host.Sandbox.ConnectWise.Configure(s => s with { RateLimitPerMinute = 3 });
        using var client = host.ConnectWise();
        var statuses = new List<HttpStatusCode>();

        // Act
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await client.GetAsync("system/info")).StatusCode);
        }

        var limited = await client.GetAsync("system/info");

        // Assert
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        var retryAfter = limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
        Assert.InRange(retryAfter, 1, 60);
        var body = await limited.Content.ReadAsStringAsync();
        Assert.Equal($$"""{"error":"ConnectWiseAPI","message":"Too many requests. Please try again in {{retryAfter}} seconds."}""", body);
    }

    [Fact]
    public async Task Get_OverRateLimit_RetryAfterFollowsTheSandboxClockAndTheWindowReopens()
    {
        // Arrange
        host.Sandbox.ConnectWise.Configure(s => s with { RateLimitPerMinute = 2 });
        using var client = host.ConnectWise();
        await client.GetAsync("system/info");
        await client.GetAsync("system/info");

        // Act
        var full = await client.GetAsync("system/info");
        host.Sandbox.Clock.Advance(TimeSpan.FromSeconds(45));
        var later = await client.GetAsync("system/info");
        host.Sandbox.Clock.Advance(TimeSpan.FromSeconds(15));
        var reopened = await client.GetAsync("system/info");

        // Assert
        Assert.Equal(HttpStatusCode.TooManyRequests, full.StatusCode);
        Assert.InRange(full.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 59, 60);
        Assert.Equal(HttpStatusCode.TooManyRequests, later.StatusCode);
        Assert.InRange(later.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 14, 15);
        Assert.Equal(HttpStatusCode.OK, reopened.StatusCode);
    }

    [Fact]
    public void ClockAdvance_Backwards_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => host.Sandbox.Clock.Advance(TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task Get_ServerErrorRateOne_ReturnsVendorTimeout500()
    {
        // Arrange
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ServerErrorRate = 1 } });
        using var client = host.ConnectWise();

        // Act
        var response = await client.GetAsync("company/companies");

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.InternalServerError);
        Assert.Equal("""{"code":"ConnectWiseApi","message":"A timeout has occured. Please try again."}""", body.ToJsonString());
    }

    [Fact]
    public async Task Get_ConnectionResetRateOne_ClientSeesTransportError()
    {
        // Arrange
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ConnectionResetRate = 1 } });
        using var client = host.ConnectWise();

        // Act
        var failure = await Record.ExceptionAsync(() => client.GetAsync("company/companies"));

        // Assert
        Assert.IsType<HttpRequestException>(failure);
    }

    [Fact]
    public async Task Get_TimeoutRateOne_HangsThenDropsConnection()
    {
        // Arrange
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { TimeoutRate = 1, TimeoutMilliseconds = 300 } });
        using var client = host.ConnectWise();
        var started = System.Diagnostics.Stopwatch.StartNew();

        // Act
        var failure = await Record.ExceptionAsync(() => client.GetAsync("company/companies"));

        // Assert
        Assert.IsType<HttpRequestException>(failure);
        Assert.True(started.ElapsedMilliseconds >= 250, $"returned after {started.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Get_FixedLatency_DelaysResponseAndIsLoggedAsInjected()
    {
        // Arrange
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { LatencyMilliseconds = 150, JitterMilliseconds = 50 } });
        using var client = host.ConnectWise();
        var started = System.Diagnostics.Stopwatch.StartNew();

        // Act
        var response = await client.GetAsync("system/info?marker=latency");

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(started.ElapsedMilliseconds >= 150, $"returned after {started.ElapsedMilliseconds} ms");
        var entry = host.Sandbox.ConnectWise.RequestLog.Entries().Last(e => e.Query == "?marker=latency");
        Assert.InRange(entry.InjectedDelayMilliseconds, 150, 200);
        // Timers may fire a few milliseconds early; the elapsed time still includes the injected delay.
        Assert.True(entry.ElapsedMilliseconds >= entry.InjectedDelayMilliseconds - 20, $"{entry.ElapsedMilliseconds} ms elapsed, {entry.InjectedDelayMilliseconds} ms injected");
    }

    [Fact]
    public async Task CodebaseChange_OldVersionedCodebase_Returns404TextWhileReleaseRouterStillWorks()
    {
        // Arrange
        using var oldCodebase = host.ConnectWise(codebase: "v2025_1/");
        using var router = host.ConnectWise();
        var before = await oldCodebase.GetAsync("system/info");

        // Act
        host.Sandbox.ConnectWise.Configure(s => s with { Codebase = "v2025_2/" });
        var after = await oldCodebase.GetAsync("system/info");
        var viaRouter = await router.GetAsync("system/info");
        using var discovery = host.CreateClient();
        var info = await JsonAsync(await discovery.GetAsync("/sandbox/connectwise/login/companyinfo/sandbox"));

        // Assert
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
        Assert.Equal("Cannot route. Codebase/company is invalid", await after.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, viaRouter.StatusCode);
        Assert.Equal("v2025_2/", info["Codebase"]!.GetValue<string>());
    }

    [Fact]
    public async Task Post_ThrottleRateOne_Returns429WithRetryAfterAndCreatesNothing()
    {
        // Arrange
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ThrottleRate = 1 } });
        using var client = host.ConnectWise();
        var additionsBefore = host.Sandbox.ConnectWise.Data.Additions.Count;

        // Act
        var response = await client.PostAsync("finance/agreements/1/additions", Json("""{"product":{"identifier":"DNS-FILTER"},"billCustomer":"Billable","quantity":3}"""));

        // Assert
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter!.Delta);
        Assert.Equal("""{"error":"ConnectWiseAPI","message":"Too many requests. Please try again in 1 seconds."}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(additionsBefore, host.Sandbox.ConnectWise.Data.Additions.Count);
    }

    [Fact]
    public async Task Get_ThrottleStorm_EveryRequestIs429UntilTheStormEndsWithRetryAfterTheSecondsLeft()
    {
        // Arrange
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ThrottleStormSeconds = 30 } });
        using var client = host.ConnectWise();

        // Act
        var first = await client.GetAsync("system/info");
        host.Sandbox.Clock.Advance(TimeSpan.FromSeconds(20));
        var later = await client.GetAsync("system/info");
        host.Sandbox.Clock.Advance(TimeSpan.FromSeconds(11));
        var after = await client.GetAsync("system/info");

        // Assert
        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.InRange(first.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 29, 30);
        Assert.Equal(HttpStatusCode.TooManyRequests, later.StatusCode);
        Assert.InRange(later.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 9, 10);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(429, host.Sandbox.ConnectWise.RequestLog.Entries()[^2].Status);
    }

    [Fact]
    public async Task Post_ResponseLostRateOne_AppliesTheWriteThenDropsTheConnection()
    {
        // Arrange
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ResponseLostRate = 1 } });
        using var client = host.ConnectWise();
        var additionsBefore = host.Sandbox.ConnectWise.Data.Additions.Count;

        // Act
        var failure = await Record.ExceptionAsync(() => client.PostAsync("finance/agreements/1/additions", Json("""{"product":{"identifier":"DNS-FILTER"},"billCustomer":"Billable","quantity":3}""")));

        // Assert
        Assert.IsType<HttpRequestException>(failure);
        Assert.Equal(additionsBefore + 1, host.Sandbox.ConnectWise.Data.Additions.Count);
        Assert.Equal(0, host.Sandbox.ConnectWise.RequestLog.Entries()[^1].Status);
    }

    [Theory]
    [InlineData("reset")]
    [InlineData("lost")]
    public async Task DroppedConnection_IsInTheRequestLogWhenTheClientSeesTheDrop(string fault)
    {
        // Arrange: a test that reads the log right after its call failed must find the call there. Sixteen clients at
        // once keep the server's threads busy, as on a loaded machine.
        host.Sandbox.ConnectWise.Configure(s => s with
        {
            Faults = fault == "reset" ? new FaultSettings { ConnectionResetRate = 1 } : new FaultSettings { ResponseLostRate = 1 },
        });
        var missing = new System.Collections.Concurrent.ConcurrentBag<string>();

        async Task CallAsync(int client)
        {
            using var http = host.ConnectWise();
            for (var call = 0; call < 25; call++)
            {
                var probe = $"?probe={client}-{call}";
                await Record.ExceptionAsync(() => http.PostAsync("finance/agreements/1/additions" + probe, Json("""{"product":{"identifier":"DNS-FILTER"},"billCustomer":"Billable","quantity":1}""")));
                if (!host.Sandbox.ConnectWise.RequestLog.Entries().Any(e => e.Query == probe))
                {
                    missing.Add(probe);
                }
            }
        }

        // Act
        await Task.WhenAll(Enumerable.Range(0, 16).Select(c => Task.Run(() => CallAsync(c))));

        // Assert
        Assert.True(missing.IsEmpty, $"calls not yet in the log when their client saw the drop: {string.Join(", ", missing)}");
    }
}
