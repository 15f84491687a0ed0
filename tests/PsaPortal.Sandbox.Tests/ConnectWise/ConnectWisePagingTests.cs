using System.Net.Http.Json;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.ConnectWise;

public sealed class ConnectWisePagingTests(ConnectWisePagingTests.Host host) : IClassFixture<ConnectWisePagingTests.Host>
{
    public sealed class Host : SandboxHost
    {
        protected override int CompanyCount => 1205;
    }

    [Fact]
    public async Task GetCompanies_NoPagingParameters_ReturnsFirst25ById()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var companies = await ArrayAsync(await client.GetAsync("company/companies"));

        // Assert
        Assert.Equal(Enumerable.Range(1, 25).Select(i => (long)i), Ids(companies));
    }

    [Fact]
    public async Task GetCompanies_PageSizeAbove1000_IsCappedAt1000()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var companies = await ArrayAsync(await client.GetAsync("company/companies?pageSize=5000"));

        // Assert
        Assert.Equal(1000, companies.Count);
    }

    [Fact]
    public async Task GetCompanies_MiddlePage_LinkHeaderHasFirstPrevNextLast()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var response = await client.GetAsync("company/companies?pageSize=100&page=3&conditions=id%3E0");
        var companies = await ArrayAsync(response);

        // Assert
        Assert.Equal(Enumerable.Range(201, 100).Select(i => (long)i), Ids(companies));
        var links = ParseLinks(response);
        Assert.EndsWith("pageSize=100&page=1", links["first"], StringComparison.Ordinal);
        Assert.EndsWith("pageSize=100&page=2", links["prev"], StringComparison.Ordinal);
        Assert.EndsWith("pageSize=100&page=4", links["next"], StringComparison.Ordinal);
        Assert.EndsWith("pageSize=100&page=13", links["last"], StringComparison.Ordinal);
        Assert.Contains("conditions=id%3E0", links["next"], StringComparison.Ordinal);
        Assert.StartsWith(host.BaseAddress.ToString().TrimEnd('/') + "/sandbox/connectwise/v4_6_release/apis/3.0/company/companies?", links["next"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCompanies_FirstAndLastPage_OmitPrevAndNext()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var first = ParseLinks(await client.GetAsync("company/companies?pageSize=1000&page=1"));
        var last = ParseLinks(await client.GetAsync("company/companies?pageSize=1000&page=2"));

        // Assert
        Assert.Equal(["last", "next"], first.Keys.Order());
        Assert.Equal(["first", "prev"], last.Keys.Order());
    }

    [Fact]
    public async Task GetCompanies_FollowingNextLinks_VisitsEveryRecordOnce()
    {
        // Arrange
        using var client = host.ConnectWise();
        var seen = new List<long>();
        string? url = "company/companies?pageSize=400";

        // Act
        while (url is not null)
        {
            var response = await client.GetAsync(url);
            seen.AddRange(Ids(await ArrayAsync(response)));
            url = ParseLinks(response).GetValueOrDefault("next");
        }

        // Assert
        Assert.Equal(Enumerable.Range(1, 1205).Select(i => (long)i), seen);
    }

    [Fact]
    public async Task GetCompanies_ForwardOnly_PagesByPageIdUntilNoNextLink()
    {
        // Arrange
        using var client = host.ConnectWise();
        client.DefaultRequestHeaders.Add("pagination-type", "forward-only");
        var seen = new List<long>();
        string? url = "company/companies?pageSize=500&conditions=id%3E100";
        var requests = 0;

        // Act
        while (url is not null)
        {
            var response = await client.GetAsync(url);
            requests++;
            seen.AddRange(Ids(await ArrayAsync(response)));
            Assert.True(response.Headers.Contains("Link"), "forward-only responses always carry a Link header");
            url = ParseLinks(response).GetValueOrDefault("next");
        }

        // Assert
        Assert.Equal(3, requests);
        Assert.Equal(Enumerable.Range(101, 1105).Select(i => (long)i), seen);
    }

    [Fact]
    public async Task GetCompanies_ForwardOnlyNextLink_CarriesLastIdAsPageId()
    {
        // Arrange
        using var client = host.ConnectWise();
        client.DefaultRequestHeaders.Add("pagination-type", "forward-only");

        // Act
        var response = await client.GetAsync("company/companies?pageSize=10&pageId=50");
        var ids = Ids(await ArrayAsync(response));

        // Assert
        Assert.Equal(Enumerable.Range(51, 10).Select(i => (long)i), ids);
        Assert.EndsWith("pageSize=10&pageId=60", ParseLinks(response)["next"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCompanies_ForwardOnlyWithOrderBy_Returns400()
    {
        // Arrange
        using var client = host.ConnectWise();
        client.DefaultRequestHeaders.Add("pagination-type", "forward-only");

        // Act
        var response = await client.GetAsync("company/companies?orderBy=name");

        // Assert
        var body = await JsonAsync(response, System.Net.HttpStatusCode.BadRequest);
        Assert.Equal("InvalidObject", body["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetCompaniesCount_WithConditions_CountsMatches()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var body = await client.GetFromJsonAsync<Dictionary<string, int>>("company/companies/count?conditions=id%20%3C%3D%20300");

        // Assert
        Assert.Equal(300, body!["count"]);
    }

    [Fact]
    public async Task GetCompanies_OrderByNameDescWithFields_ReturnsOnlyRequestedFieldsInOrder()
    {
        // Arrange
        using var client = host.ConnectWise();
        var expected = host.Sandbox.SeedData.Companies.Select(c => c.Name).Order(StringComparer.OrdinalIgnoreCase).Reverse().Take(5).ToList();

        // Act
        var companies = await ArrayAsync(await client.GetAsync("company/companies?orderBy=name%20desc&pageSize=5&fields=id,name,status/name"));

        // Assert
        Assert.Equal(expected, companies.Select(c => c!["name"]!.GetValue<string>()));
        Assert.All(companies, c => Assert.Equal(["id", "name", "status"], c!.AsObject().Select(p => p.Key)));
        Assert.All(companies, c => Assert.Equal(["name"], c!["status"]!.AsObject().Select(p => p.Key)));
    }

    private static Dictionary<string, string> ParseLinks(HttpResponseMessage response)
    {
        var links = new Dictionary<string, string>();
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return links;
        }

        foreach (var part in string.Join(",", values).Split(", <"))
        {
            var pieces = part.Split(">; rel=\"");
            links[pieces[1].TrimEnd('"')] = pieces[0].TrimStart('<');
        }

        return links;
    }
}
