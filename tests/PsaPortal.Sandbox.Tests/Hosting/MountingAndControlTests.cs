using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.Hosting;

public sealed class MountingAndControlTests(MountingAndControlTests.Host host) : IClassFixture<MountingAndControlTests.Host>
{
    /// <summary>Mounted under a different prefix to prove nothing assumes /sandbox.</summary>
    public sealed class Host : SandboxHost
    {
        protected override string PathPrefix => "/psa-sim";
    }

    [Fact]
    public async Task MapPsaSandbox_CustomPrefix_HostRoutesAndUnknownPathsAreUntouched()
    {
        // Arrange
        using var client = host.CreateClient();
        var logged = host.Sandbox.ConnectWise.RequestLog.TotalCount + host.Sandbox.Autotask.RequestLog.TotalCount;

        // Act
        var hostRoute = await client.GetAsync("/host-route");
        var outside = await client.GetAsync("/somewhere/else");
        var companyInfo = await client.GetAsync("/psa-sim/connectwise/login/companyinfo/sandbox");

        // Assert
        Assert.Equal("host", await hostRoute.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
        Assert.Equal(0, outside.Content.Headers.ContentLength ?? 0);
        Assert.Equal(HttpStatusCode.OK, companyInfo.StatusCode);
        Assert.Equal(logged + 1, host.Sandbox.ConnectWise.RequestLog.TotalCount + host.Sandbox.Autotask.RequestLog.TotalCount);
    }

    [Fact]
    public async Task ControlApi_PutSettings_ChangesBehaviourAndGetReturnsThem()
    {
        // Arrange
        using var control = host.CreateClient();
        var settings = await JsonAsync(await control.GetAsync("/psa-sim/connectwise/_sandbox/settings"));
        settings["codebase"] = "v2030_1/";

        // Act
        var put = await control.PutAsync("/psa-sim/connectwise/_sandbox/settings", Json(settings.ToJsonString()));
        var info = await JsonAsync(await control.GetAsync("/psa-sim/connectwise/login/companyinfo/sandbox"));
        settings["codebase"] = "v2025_1/";
        await control.PutAsync("/psa-sim/connectwise/_sandbox/settings", Json(settings.ToJsonString()));

        // Assert
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("v2030_1/", info["Codebase"]!.GetValue<string>());
    }

    [Fact]
    public async Task ControlApi_Requests_ListsMethodPathStatusAndTiming()
    {
        // Arrange
        using var client = host.Autotask();
        using var control = host.CreateClient();
        var marker = Guid.NewGuid().ToString("N");

        // Act
        await client.GetAsync($"ThresholdInformation?marker={marker}");
        var entries = await ArrayAsync(await control.GetAsync("/psa-sim/autotask/_sandbox/requests"));

        // Assert
        var entry = entries.Single(e => e!["query"]!.GetValue<string>() == $"?marker={marker}")!;
        Assert.Equal("GET", entry["method"]!.GetValue<string>());
        Assert.Equal("/psa-sim/autotask/webservices5/ATServicesRest/V1.0/ThresholdInformation", entry["path"]!.GetValue<string>());
        Assert.Equal(200, entry["status"]!.GetValue<int>());
        Assert.True(entry["elapsedMilliseconds"]!.GetValue<double>() > 0);
        Assert.Equal("full@psaportal-sandbox.example", entry["user"]!.GetValue<string>());
    }

    [Fact]
    public async Task Snapshot_SaveThenLoad_RestoresChangedRecords()
    {
        // Arrange
        var path = Path.Combine(Path.GetTempPath(), $"psa-sandbox-{Guid.NewGuid():N}.json");
        var companies = host.Sandbox.Autotask.Data.Companies;
        var original = Core.JsonRecords.Clone(companies.Find(1001)!);
        var changed = Core.JsonRecords.Clone(original);
        changed["companyName"] = "Renamed Before Snapshot";
        companies.Replace(changed);

        try
        {
            // Act
            await host.Sandbox.SaveSnapshotAsync(path);
            companies.Replace(original);
            await host.Sandbox.LoadSnapshotAsync(path);

            // Assert
            Assert.Equal("Renamed Before Snapshot", companies.Find(1001)!["companyName"]!.GetValue<string>());
            Assert.Equal(host.Sandbox.ConnectWise.Data.Companies.Count, host.Sandbox.SeedData.CompanyCount);
        }
        finally
        {
            companies.Replace(original);
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ControlApi_Reset_ReseedsWithNewSize()
    {
        // Arrange
        using var control = host.CreateClient();
        using var client = host.ConnectWise();

        // Act
        var reset = await control.PostAsJsonAsync("/psa-sim/connectwise/_sandbox/reset", new { seed = 42, companyCount = 60 });
        var count = await JsonAsync(await client.GetAsync("company/companies/count"));
        await control.PostAsJsonAsync("/psa-sim/connectwise/_sandbox/reset", new { seed = 42, companyCount = 40 });

        // Assert
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal(60, count["count"]!.GetValue<int>());
    }
}
