using System.Net;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.Autotask;

/// <summary>Each test changes the instance's settings, so the class has its own host and restores them afterwards.</summary>
public sealed class AutotaskLimitsTests(SandboxHost host) : IClassFixture<SandboxHost>, IDisposable
{
    public void Dispose()
    {
        host.Sandbox.Autotask.Configure(_ => new());
        host.Sandbox.Autotask.ResetThreshold();
    }

    [Fact]
    public async Task Get_OverHourlyThreshold_IsRejectedAndThresholdInformationReportsUsage()
    {
        // Arrange
        host.Sandbox.Autotask.ResetThreshold();
        host.Sandbox.Autotask.Configure(s => s with { HourlyThreshold = 5, ThresholdLatencyEnabled = false });
        using var client = host.Autotask();

        // Act
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("Companies/query/count", Json("""{"filter":[{"op":"exist","field":"id"}]}"""))).StatusCode);
        }

        var info = await JsonAsync(await client.GetAsync("ThresholdInformation"));
        var fifth = await client.GetAsync("ThresholdInformation");
        var rejected = await client.GetAsync("ThresholdInformation");

        // Assert
        Assert.Equal("""{"externalRequestThreshold":5,"requestThresholdTimeframe":60,"currentTimeframeRequestCount":4}""", info.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, fifth.StatusCode);
        var body = await JsonAsync(rejected, HttpStatusCode.TooManyRequests);
        Assert.StartsWith("Request threshold exceeded", body["errors"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_AboveHalfTheThreshold_AddsTheVendorBackOffDelay()
    {
        // Arrange
        host.Sandbox.Autotask.ResetThreshold();
        host.Sandbox.Autotask.Configure(s => s with { HourlyThreshold = 4 });
        using var client = host.Autotask();
        await client.GetAsync("ThresholdInformation");
        await client.GetAsync("ThresholdInformation");

        // Act
        await client.GetAsync("ThresholdInformation?marker=half");

        // Assert
        var entry = host.Sandbox.Autotask.RequestLog.Entries().Last(e => e.Query == "?marker=half");
        Assert.Equal(500, entry.InjectedDelayMilliseconds);
    }

    [Fact]
    public async Task Query_FourConcurrentOnOneEndpoint_FourthGetsThreadThresholdError()
    {
        // Arrange
        using var client = host.Autotask();
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { LatencyMilliseconds = 1500 } });

        // Act: each request holds its slot for 1.5 s, so all four overlap whatever order they arrive in.
        var calls = Enumerable.Range(0, 4)
            .Select(_ => client.PostAsync("Companies/query", Json("""{"filter":[{"op":"eq","field":"id","value":1001}]}""")))
            .ToList();
        var otherEndpoint = client.GetAsync("Contracts/5001");
        var responses = await Task.WhenAll(calls);

        // Assert
        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        var rejected = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.TooManyRequests);
        var body = await JsonAsync(rejected, HttpStatusCode.TooManyRequests);
        Assert.Contains("Thread Threshold Exceeded", body["errors"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await otherEndpoint).StatusCode);
    }

    [Fact]
    public async Task ZoneChange_OldZoneUrl_Returns401AndZoneInformationPointsToNewZone()
    {
        // Arrange
        using var oldZone = host.Autotask(zone: 5);
        var before = await oldZone.GetAsync("ThresholdInformation");

        // Act
        host.Sandbox.Autotask.Configure(s => s with { ZoneNumber = 29 });
        var after = await oldZone.GetAsync("ThresholdInformation");
        using var discovery = host.CreateClient();
        var zone = await JsonAsync(await discovery.GetAsync("/sandbox/autotask/atservicesrest/v1.0/zoneInformation?user=full@psaportal-sandbox.example"));
        using var newZone = host.Autotask(zone: 29);
        var viaNewZone = await newZone.GetAsync("ThresholdInformation");

        // Assert
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.EndsWith("/sandbox/autotask/webservices29/ATServicesRest/", zone["url"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, viaNewZone.StatusCode);
    }

    [Fact]
    public async Task Query_ServerErrorRateOne_ReturnsErrorsArray500()
    {
        // Arrange
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { ServerErrorRate = 1 } });
        using var client = host.Autotask();

        // Act
        var response = await client.GetAsync("ThresholdInformation");

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.InternalServerError);
        Assert.NotEmpty(body["errors"]!.AsArray());
    }

    [Fact]
    public async Task Post_ThrottleRateOne_Returns429ThreadThresholdErrorAndCreatesNothing()
    {
        // Arrange
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { ThrottleRate = 1 } });
        using var client = host.Autotask();
        var adjustmentsBefore = host.Sandbox.Autotask.Data.ContractServiceAdjustments.Count;

        // Act
        var response = await client.PostAsync("ContractServiceAdjustments", Json("""{"contractID":5001,"contractServiceID":1,"effectiveDate":"2026-01-01T00:00:00","unitChange":1}"""));

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.TooManyRequests);
        Assert.Equal("""{"errors":["Thread Threshold Exceeded: The Autotask API thread threshold of 3 threads has been exceeded. (Itgenatr005)"]}""", body.ToJsonString());
        Assert.Equal(adjustmentsBefore, host.Sandbox.Autotask.Data.ContractServiceAdjustments.Count);
    }

    [Fact]
    public async Task Get_RepeatedThrottleStorms_ThrottleTheFirstSecondsOfEveryInterval()
    {
        // Arrange
        host.Sandbox.Autotask.Configure(s => s with { ThresholdLatencyEnabled = false, Faults = new FaultSettings { ThrottleStormSeconds = 10, ThrottleStormIntervalSeconds = 60 } });
        using var client = host.Autotask();

        // Act
        var inFirstStorm = await client.GetAsync("ThresholdInformation");
        host.Sandbox.Clock.Advance(TimeSpan.FromSeconds(11));
        var between = await client.GetAsync("ThresholdInformation");
        host.Sandbox.Clock.Advance(TimeSpan.FromSeconds(50));
        var inSecondStorm = await client.GetAsync("ThresholdInformation");

        // Assert
        Assert.Equal(HttpStatusCode.TooManyRequests, inFirstStorm.StatusCode);
        Assert.Equal(HttpStatusCode.OK, between.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, inSecondStorm.StatusCode);
    }
}
