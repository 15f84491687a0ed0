using System.Net;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.ConnectWise;

public sealed class ConnectWiseConditionsTests(ConnectWiseConditionsTests.Host host) : IClassFixture<ConnectWiseConditionsTests.Host>
{
    /// <summary>Replaces the seeded companies and contacts with five hand-made records whose values each case below depends on.</summary>
    public sealed class Host : SandboxHost
    {
        protected override void Prepare(PsaSandbox sandbox)
        {
            var companies = sandbox.ConnectWise.Data.Companies;
            companies.Clear();
            companies.Insert(Company(1, "Acme Dental LLC", 1, "Active", "555-0100", "2024-01-10T00:00:00Z", false, 1_000_000.5m, [(1, "Client")]));
            companies.Insert(Company(2, "Blue Ridge Logistics", 2, "Inactive", "555-0101", "2025-06-01T12:00:00Z", true, 250_000m, [(2, "Prospect")]));
            companies.Insert(Company(3, "acme logistics, inc.", 1, "Active", null, "2026-02-28T08:30:00Z", false, null, [(1, "Client"), (3, "Vendor")]));
            companies.Insert(Company(4, "Summit \"Quoted\" Co", 3, "Not-Approved", null, null, true, 0m, []));
            companies.Insert(Company(5, "Zeta Partners", 1, "Active", "555-0199", "2023-12-31T23:59:59Z", false, 99.99m, [(1, "Client")]));

            var contacts = sandbox.ConnectWise.Data.Contacts;
            contacts.Clear();
            contacts.Insert(Contact(1, ("a@x.example", "Email"), ("555-0100", "Phone")));
            contacts.Insert(Contact(2, ("555-0101", "Email"), ("a@x.example", "Phone")));
            contacts.Insert(Contact(3, ("b@x.example", "Email")));
        }

        private static JsonObject Company(int id, string name, int statusId, string status, string? phone, string? acquired, bool lead, decimal? revenue, (int Id, string Name)[] types)
        {
            var company = new JsonObject
            {
                ["id"] = id,
                ["identifier"] = $"C{id}",
                ["name"] = name,
                ["status"] = new JsonObject { ["id"] = statusId, ["name"] = status },
                ["leadFlag"] = lead,
                ["types"] = new JsonArray([.. types.Select(t => (JsonNode)new JsonObject { ["id"] = t.Id, ["name"] = t.Name })]),
            };
            if (phone is not null)
            {
                company["phoneNumber"] = phone;
            }

            if (acquired is not null)
            {
                company["dateAcquired"] = acquired;
            }

            if (revenue is not null)
            {
                company["annualRevenue"] = revenue;
            }

            return company;
        }

        private static JsonObject Contact(int id, params (string Value, string Type)[] items) => new()
        {
            ["id"] = id,
            ["firstName"] = $"Contact{id}",
            ["communicationItems"] = new JsonArray([.. items.Select(i => (JsonNode)new JsonObject { ["value"] = i.Value, ["communicationType"] = i.Type })]),
        };
    }

    [Theory]
    [InlineData("name = \"Acme Dental LLC\"", new long[] { 1 })]
    [InlineData("name = \"acme dental llc\"", new long[] { 1 })]
    [InlineData("name = 'Zeta Partners'", new long[] { 5 })]
    [InlineData("name = \"Summit \\\"Quoted\\\" Co\"", new long[] { 4 })]
    [InlineData("name != \"Zeta Partners\"", new long[] { 1, 2, 3, 4 })]
    [InlineData("id < 3", new long[] { 1, 2 })]
    [InlineData("id <= 3", new long[] { 1, 2, 3 })]
    [InlineData("id > 3", new long[] { 4, 5 })]
    [InlineData("id >= 4", new long[] { 4, 5 })]
    [InlineData("name contains \"logistics\"", new long[] { 2, 3 })]
    [InlineData("Name Not Contains \"acme\"", new long[] { 2, 4, 5 })]
    [InlineData("name like \"acme*\"", new long[] { 1, 3 })]
    [InlineData("name like \"*Co\"", new long[] { 4 })]
    [InlineData("name like \"%ridge%\"", new long[] { 2 })]
    [InlineData("name not like \"acme*\"", new long[] { 2, 4, 5 })]
    [InlineData("id in (1, 3, 5)", new long[] { 1, 3, 5 })]
    [InlineData("id not in (1,3,5)", new long[] { 2, 4 })]
    [InlineData("name in (\"zeta partners\", \"Blue Ridge Logistics\")", new long[] { 2, 5 })]
    [InlineData("status/name = \"Active\"", new long[] { 1, 3, 5 })]
    [InlineData("status/id = 2", new long[] { 2 })]
    [InlineData("phoneNumber = null", new long[] { 3, 4 })]
    [InlineData("phoneNumber != null", new long[] { 1, 2, 5 })]
    [InlineData("leadFlag = true", new long[] { 2, 4 })]
    [InlineData("leadFlag = False", new long[] { 1, 3, 5 })]
    [InlineData("dateAcquired > [2025-01-01T00:00:00Z]", new long[] { 2, 3 })]
    [InlineData("dateAcquired < [2025-06-01T12:00:00Z]", new long[] { 1, 5 })]
    [InlineData("dateAcquired = [2025-06-01T12:00:00Z]", new long[] { 2 })]
    [InlineData("annualRevenue >= 250000", new long[] { 1, 2 })]
    [InlineData("annualRevenue = 99.99", new long[] { 5 })]
    [InlineData("annualRevenue < 0.5", new long[] { 4 })]
    [InlineData("types/id = 3", new long[] { 3 })]
    [InlineData("(status/id = 1 or status/id = 2) and leadFlag = false", new long[] { 1, 3, 5 })]
    [InlineData("status/id = 1 or status/id = 2 and leadFlag = true", new long[] { 1, 2, 3, 5 })]
    [InlineData("not (status/name = \"Active\")", new long[] { 2, 4 })]
    [InlineData("NAME CONTAINS \"PARTNERS\" OR id = 1", new long[] { 1, 5 })]
    [InlineData("name = \"nobody\"", new long[0])]
    public async Task GetCompanies_Conditions_ReturnsMatchingIds(string conditions, long[] expected)
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var response = await client.GetAsync($"company/companies?conditions={Uri.EscapeDataString(conditions)}");

        // Assert
        Assert.Equal(expected, Ids(await ArrayAsync(response)));
    }

    [Theory]
    [InlineData("name =", "Expected a value at the end of the conditions.")]
    [InlineData("name \"x\"", "Expected an operator after 'name' at position 5 but found 'x'.")]
    [InlineData("(id = 1", "Expected ')' at the end of the conditions.")]
    [InlineData("id = 1 and", "Expected a field name at the end of the conditions.")]
    [InlineData("bogusField = 1", "Unknown field 'bogusField' at position 0.")]
    [InlineData("name = \"open", "Unterminated string starting at position 7.")]
    [InlineData("dateAcquired > [yesterday]", "Invalid date 'yesterday' at position 15.")]
    [InlineData("id in 1", "Expected '(' after 'in' at position 6 but found '1'.")]
    [InlineData("id = 1 id = 2", "Unexpected 'id' at position 7.")]
    [InlineData("id not = 1", "'not' cannot precede '=' at position 7.")]
    [InlineData("name = \"a\" & id = 1", "Unexpected character '&' at position 11.")]
    public async Task GetCompanies_MalformedConditions_Returns400WithVendorBody(string conditions, string message)
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var response = await client.GetAsync($"company/companies?conditions={Uri.EscapeDataString(conditions)}");

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.BadRequest);
        var expected = new JsonObject
        {
            ["code"] = "InvalidObject",
            ["message"] = "conditions object is invalid",
            ["errors"] = new JsonArray(new JsonObject
            {
                ["code"] = "InvalidField",
                ["message"] = message,
                ["resource"] = "conditions",
                ["field"] = "conditions",
            }),
        };
        Assert.Equal(expected.ToJsonString(), body.ToJsonString());
    }

    [Fact]
    public async Task GetContacts_ChildConditions_RequireBothComparisonsOnTheSameItem()
    {
        // Arrange
        using var client = host.ConnectWise();
        var query = Uri.EscapeDataString("communicationItems/value = \"a@x.example\" AND communicationItems/communicationType = \"Email\"");

        // Act
        var child = Ids(await ArrayAsync(await client.GetAsync($"company/contacts?childConditions={query}")));
        var plain = Ids(await ArrayAsync(await client.GetAsync($"company/contacts?conditions={query}")));

        // Assert
        Assert.Equal([1], child);
        Assert.Equal([1, 2], plain);
    }

    [Fact]
    public async Task GetContacts_ChildConditionsWithLike_MatchesPattern()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var ids = Ids(await ArrayAsync(await client.GetAsync($"company/contacts?childConditions={Uri.EscapeDataString("communicationItems/value like \"*@x.example\"")}")));

        // Assert
        Assert.Equal([1, 2, 3], ids);
    }
}
