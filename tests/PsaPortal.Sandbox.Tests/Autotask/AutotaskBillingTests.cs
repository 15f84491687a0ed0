using System.Net;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.Autotask;

public sealed class AutotaskBillingTests(SandboxHost host) : IClassFixture<SandboxHost>
{
    private long CompanyId(int number) => AutotaskSeeder.CompanyId(number);

    private async Task<JsonArray> QueryAsync(HttpClient client, string entity, string filter) =>
        (JsonArray)(await JsonAsync(await client.PostAsync($"{entity}/query", Json($$"""{"filter":{{filter}}}"""))))["items"]!;

    [Fact]
    public async Task Contracts_HardCases_FutureDatedAndExpiredContractsAreSeeded()
    {
        // Arrange
        using var client = host.Autotask();
        var hard = host.Sandbox.SeedData.HardCases;
        var today = SandboxHost.ReferenceDate.ToDateTime(TimeOnly.MinValue);

        // Act
        var future = await QueryAsync(client, "Contracts", $$"""[{"op":"eq","field":"companyID","value":{{CompanyId(hard.FutureDatedContractCompany)}}},{"op":"gt","field":"startDate","value":"{{today:yyyy-MM-dd}}"}]""");
        var expired = await QueryAsync(client, "Contracts", $$"""[{"op":"eq","field":"companyID","value":{{CompanyId(hard.ExpiredContractCompany)}}},{"op":"lt","field":"endDate","value":"{{today:yyyy-MM-dd}}"}]""");

        // Assert
        Assert.Equal(7, Assert.Single(future)!["contractType"]!.GetValue<int>());
        Assert.Equal(7, Assert.Single(expired)!["contractType"]!.GetValue<int>());
    }

    [Fact]
    public async Task ContractServices_DuplicateServiceCase_ServiceAppearsTwiceOnOneContract()
    {
        // Arrange
        using var client = host.Autotask();
        var hard = host.Sandbox.SeedData.HardCases;
        var contract = (await QueryAsync(client, "Contracts", $$"""[{"op":"eq","field":"companyID","value":{{CompanyId(hard.DuplicateServiceCompany)}}}]"""))[0]!;
        var serviceId = host.Sandbox.Autotask.Data.Services.All().Single(s => s["sku"]!.GetValue<string>() == hard.DuplicateServiceSku)["id"]!.GetValue<long>();

        // Act
        var lines = await QueryAsync(client, "ContractServices", $$"""[{"op":"eq","field":"contractID","value":{{contract["id"]}}},{"op":"eq","field":"serviceID","value":{{serviceId}}}]""");

        // Assert
        Assert.Equal(2, lines.Count);
    }

    [Fact]
    public async Task PostAdjustment_UnitChange_IsADeltaSplittingTheCurrentPeriod()
    {
        // Arrange
        using var client = host.Autotask();
        var contract = (await QueryAsync(client, "Contracts", $$"""[{"op":"eq","field":"companyID","value":{{CompanyId(10)}}}]"""))[0]!;
        var line = (await QueryAsync(client, "ContractServices", $$"""[{"op":"eq","field":"contractID","value":{{contract["id"]}}}]"""))[0]!;
        var before = (await QueryAsync(client, "ContractServiceUnits", $$"""[{"op":"eq","field":"contractServiceID","value":{{line["id"]}}}]"""))[0]!;
        var units = before["units"]!.GetValue<int>();

        // Act
        var first = await client.PostAsync("ContractServiceAdjustments", Json($$"""{"contractID":{{contract["id"]}},"contractServiceID":{{line["id"]}},"effectiveDate":"2026-06-15T00:00:00","unitChange":7}"""));
        var second = await client.PostAsync($"Contracts/{contract["id"]}/ServiceAdjustments", Json($$"""{"contractServiceID":{{line["id"]}},"effectiveDate":"2026-06-15T13:45:00","unitChange":-2}"""));
        var rows = await QueryAsync(client, "ContractServiceUnits", $$"""[{"op":"eq","field":"contractServiceID","value":{{line["id"]}}}]""");

        // Assert
        Assert.NotNull((await JsonAsync(first))["itemId"]);
        Assert.NotNull((await JsonAsync(second))["itemId"]);
        Assert.Equal(2, rows.Count);
        Assert.Equal(("2026-06-01T00:00:00", "2026-06-14T00:00:00", units), Row(rows[0]!));
        Assert.Equal(("2026-06-15T00:00:00", "2026-06-30T00:00:00", units + 5), Row(rows[1]!));
    }

    [Fact]
    public async Task PostAdjustment_FutureDatedContract_IsRefused()
    {
        // Arrange
        using var client = host.Autotask();
        var hard = host.Sandbox.SeedData.HardCases;
        var contract = (await QueryAsync(client, "Contracts", $$"""[{"op":"eq","field":"companyID","value":{{CompanyId(hard.FutureDatedContractCompany)}}},{"op":"contains","field":"contractName","value":"Renewal"}]"""))[0]!;

        // Act
        var response = await client.PostAsync("ContractServiceAdjustments", Json($$"""{"contractID":{{contract["id"]}},"serviceID":1,"effectiveDate":"2026-06-15T00:00:00","unitChange":3}"""));

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.InternalServerError);
        Assert.Contains("before the start date of contract", body["errors"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostAdjustment_ExpiredContract_IsRefused()
    {
        // Arrange
        using var client = host.Autotask();
        var hard = host.Sandbox.SeedData.HardCases;
        var contract = (await QueryAsync(client, "Contracts", $$"""[{"op":"eq","field":"companyID","value":{{CompanyId(hard.ExpiredContractCompany)}}},{"op":"lt","field":"endDate","value":"2026-06-15"}]"""))[0]!;

        // Act
        var response = await client.PostAsync("ContractServiceAdjustments", Json($$"""{"contractID":{{contract["id"]}},"serviceID":1,"effectiveDate":"2026-06-15T00:00:00","unitChange":3}"""));

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.InternalServerError);
        Assert.Contains("Adjustments cannot be made to an expired contract.", body["errors"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostAdjustment_NegativeResult_IsRefused()
    {
        // Arrange
        using var client = host.Autotask();
        var contract = (await QueryAsync(client, "Contracts", $$"""[{"op":"eq","field":"companyID","value":{{CompanyId(11)}}}]"""))[0]!;
        var line = (await QueryAsync(client, "ContractServices", $$"""[{"op":"eq","field":"contractID","value":{{contract["id"]}}}]"""))[0]!;

        // Act
        var response = await client.PostAsync("ContractServiceAdjustments", Json($$"""{"contractServiceID":{{line["id"]}},"effectiveDate":"2026-06-20T00:00:00","unitChange":-100000}"""));

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.InternalServerError);
        Assert.Contains("units cannot be negative", body["errors"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateContractService_ThroughParentUrl_AddsLineWithZeroUnits()
    {
        // Arrange
        using var client = host.Autotask();
        var contract = (await QueryAsync(client, "Contracts", $$"""[{"op":"eq","field":"companyID","value":{{CompanyId(12)}}}]"""))[0]!;

        // Act
        var created = await JsonAsync(await client.PostAsync($"Contracts/{contract["id"]}/Services", Json("""{"serviceID":9,"unitPrice":0.95}""")));
        var units = await QueryAsync(client, "ContractServiceUnits", $$"""[{"op":"eq","field":"contractServiceID","value":{{created["itemId"]}}}]""");

        // Assert
        Assert.Equal(0, Assert.Single(units)!["units"]!.GetValue<int>());
    }

    private static (string, string, int) Row(JsonNode row) =>
        (row["startDate"]!.GetValue<string>(), row["endDate"]!.GetValue<string>(), row["units"]!.GetValue<int>());
}
