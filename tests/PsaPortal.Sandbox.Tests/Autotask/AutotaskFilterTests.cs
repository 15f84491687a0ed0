using System.Net;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.Autotask;

public sealed class AutotaskFilterTests(AutotaskFilterTests.Host host) : IClassFixture<AutotaskFilterTests.Host>
{
    /// <summary>Five hand-made companies; every case below is decided by their values.</summary>
    public sealed class Host : SandboxHost
    {
        protected override void Prepare(PsaSandbox sandbox)
        {
            var companies = sandbox.Autotask.Data.Companies;
            companies.Clear();
            companies.Insert(Company(1, "Acme Dental LLC", 1, true, "2024-01-10T00:00:00", "555-0100", "Gold"));
            companies.Insert(Company(2, "Blue Ridge Logistics", 3, false, "2025-06-01T12:00:00", "555-0101", null));
            companies.Insert(Company(3, "acme logistics, inc.", 1, true, "2026-02-28T08:30:00", null, "Silver"));
            companies.Insert(Company(4, "Summit Co", 2, true, null, "", "Gold"));
            companies.Insert(Company(5, "Zeta Partners", 1, false, "2023-12-31T23:59:59", "555-0199", null));
        }

        private static JsonObject Company(int id, string name, int type, bool active, string? created, string? phone, string? tier)
        {
            var company = new JsonObject
            {
                ["id"] = id,
                ["companyName"] = name,
                ["companyType"] = type,
                ["isActive"] = active,
                ["createDate"] = created,
                ["phone"] = phone,
                ["userDefinedFields"] = new JsonArray(new JsonObject { ["name"] = "Tier", ["value"] = tier }),
            };
            return company;
        }
    }

    [Theory]
    [InlineData("""[{"op":"eq","field":"companyName","value":"acme dental llc"}]""", new long[] { 1 })]
    [InlineData("""[{"op":"noteq","field":"companyType","value":1}]""", new long[] { 2, 4 })]
    [InlineData("""[{"op":"gt","field":"id","value":3}]""", new long[] { 4, 5 })]
    [InlineData("""[{"op":"gte","field":"id","value":3}]""", new long[] { 3, 4, 5 })]
    [InlineData("""[{"op":"lt","field":"id","value":"3"}]""", new long[] { 1, 2 })]
    [InlineData("""[{"op":"lte","field":"ID","value":2}]""", new long[] { 1, 2 })]
    [InlineData("""[{"op":"beginsWith","field":"companyName","value":"ACME"}]""", new long[] { 1, 3 })]
    [InlineData("""[{"op":"endsWith","field":"companyName","value":"co"}]""", new long[] { 4 })]
    [InlineData("""[{"op":"contains","field":"companyName","value":"logistics"}]""", new long[] { 2, 3 })]
    [InlineData("""[{"op":"exist","field":"phone"}]""", new long[] { 1, 2, 5 })]
    [InlineData("""[{"op":"notExist","field":"phone"}]""", new long[] { 3, 4 })]
    [InlineData("""[{"op":"in","field":"id","value":[1,3,5]}]""", new long[] { 1, 3, 5 })]
    [InlineData("""[{"op":"notIn","field":"id","value":[1,3,5]}]""", new long[] { 2, 4 })]
    [InlineData("""[{"op":"eq","field":"isActive","value":false}]""", new long[] { 2, 5 })]
    [InlineData("""[{"op":"gt","field":"createDate","value":"2025-01-01"}]""", new long[] { 2, 3 })]
    [InlineData("""[{"op":"lte","field":"createDate","value":"2024-01-10T00:00:00Z"}]""", new long[] { 1, 5 })]
    [InlineData("""[{"op":"eq","field":"Tier","udf":true,"value":"Gold"}]""", new long[] { 1, 4 })]
    [InlineData("""[{"op":"exist","field":"id"}]""", new long[] { 1, 2, 3, 4, 5 })]
    [InlineData("""[{"op":"eq","field":"companyType","value":1},{"op":"eq","field":"isActive","value":true}]""", new long[] { 1, 3 })]
    [InlineData("""[{"op":"or","items":[{"op":"eq","field":"id","value":2},{"op":"beginsWith","field":"companyName","value":"Zeta"}]}]""", new long[] { 2, 5 })]
    [InlineData("""[{"op":"and","items":[{"op":"eq","field":"companyType","value":1},{"op":"or","items":[{"op":"contains","field":"companyName","value":"dental"},{"op":"eq","field":"isActive","value":false}]}]}]""", new long[] { 1, 5 })]
    public async Task PostQuery_Filter_ReturnsMatchingIds(string filter, long[] expected)
    {
        // Arrange
        using var client = host.Autotask();

        // Act
        var body = await JsonAsync(await client.PostAsync("Companies/query", Json($$"""{"filter":{{filter}}}""")));

        // Assert
        Assert.Equal(expected, Ids((JsonArray)body["items"]!));
        Assert.Equal(expected.Length, body["pageDetails"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task GetQuery_SearchParameter_MatchesPostQuery()
    {
        // Arrange
        using var client = host.Autotask();
        var search = """{"filter":[{"op":"contains","field":"companyName","value":"logistics"}],"includeFields":["id","companyName"]}""";

        // Act
        var body = await JsonAsync(await client.GetAsync($"Companies/query?search={Uri.EscapeDataString(search)}"));

        // Assert
        var items = (JsonArray)body["items"]!;
        Assert.Equal([2, 3], Ids(items));
        Assert.All(items, i => Assert.Equal(["id", "companyName"], i!.AsObject().Select(p => p.Key)));
    }

    [Fact]
    public async Task PostQueryCount_Filter_ReturnsQueryCount()
    {
        // Arrange
        using var client = host.Autotask();

        // Act
        var body = await JsonAsync(await client.PostAsync("Companies/query/count", Json("""{"filter":[{"op":"eq","field":"companyType","value":1}]}""")));

        // Assert
        Assert.Equal("""{"queryCount":3}""", body.ToJsonString());
    }

    [Theory]
    [InlineData("""{"filter":[{"op":"equals","field":"id","value":1}]}""", "Invalid query: 'equals' is not a valid filter operation.")]
    [InlineData("""{"filter":[{"op":"EQ","field":"id","value":1}]}""", "Invalid query: 'EQ' is not a valid filter operation.")]
    [InlineData("""{"filter":[{"op":"eq","field":"nosuchfield","value":1}]}""", "Unable to find nosuchfield in the Companies Entity.")]
    [InlineData("""{"filter":[{"op":"eq","field":"id","value":null}]}""", "Invalid query: the 'eq' filter on id needs a value.")]
    [InlineData("""{"filter":[{"op":"in","field":"id","value":1}]}""", "Invalid query: the 'in' filter on id needs an array of values.")]
    [InlineData("""{"filter":[{"op":"or","items":[]}]}""", "Invalid query: 'or' needs a non-empty items array.")]
    [InlineData("""{"filter":[{"op":"eq","field":"isActive","value":"maybe"}]}""", "Invalid query: '\"maybe\"' is not a boolean value.")]
    [InlineData("""{"filter":[{"op":"exist","field":"id"}],"maxRecords":501}""", "Invalid query: MaxRecords must be between 1 and 500.")]
    [InlineData("""{"filter":[{"op":"exist","field":"id"}],"maxRecords":0}""", "Invalid query: MaxRecords must be between 1 and 500.")]
    public async Task PostQuery_InvalidQuery_Returns500WithErrorsArray(string query, string message)
    {
        // Arrange
        using var client = host.Autotask();

        // Act
        var body = await JsonAsync(await client.PostAsync("Companies/query", Json(query)), HttpStatusCode.InternalServerError);

        // Assert
        Assert.Equal(new JsonObject { ["errors"] = new JsonArray(message) }.ToJsonString(), body.ToJsonString());
    }
}
