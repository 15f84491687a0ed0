using System.Net;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.Autotask;

public sealed class AutotaskApiTests(AutotaskApiTests.Host host) : IClassFixture<AutotaskApiTests.Host>
{
    public sealed class Host : SandboxHost
    {
        protected override int CompanyCount => 1100;
    }

    private static AutotaskApiUser User(string prefix) => AutotaskApiUser.Seeded.Single(u => u.UserName.StartsWith(prefix + "@", StringComparison.Ordinal));

    [Fact]
    public async Task GetZoneInformation_KnownUser_ReturnsZoneUrlBackIntoThisSandbox()
    {
        // Arrange
        using var client = host.CreateClient();

        // Act
        var zone = await JsonAsync(await client.GetAsync("/sandbox/autotask/atservicesrest/v1.0/zoneInformation?user=full@psaportal-sandbox.example"));

        // Assert
        Assert.Equal(new Uri(host.BaseAddress, "/sandbox/autotask/webservices5/ATServicesRest/").ToString(), zone["url"]!.GetValue<string>());
        Assert.Equal(5, zone["ci"]!.GetValue<int>());
    }

    [Fact]
    public async Task GetZoneInformation_UnknownUser_Returns500ZoneError()
    {
        // Arrange
        using var client = host.CreateClient();

        // Act
        var body = await JsonAsync(await client.GetAsync("/sandbox/autotask/atservicesrest/v1.0/zoneInformation?user=nobody@example.com"), HttpStatusCode.InternalServerError);

        // Assert
        Assert.Equal("""{"errors":["Zone information could not be determined"]}""", body.ToJsonString());
    }

    [Theory]
    [InlineData("UserName", "nobody@example.com", HttpStatusCode.InternalServerError, """{"errors":["Zone information could not be determined"]}""")]
    [InlineData("ApiIntegrationCode", "WRONGCODE", HttpStatusCode.InternalServerError, """{"errors":["IntegrationCode is invalid."]}""")]
    [InlineData("Secret", "wrong-secret", HttpStatusCode.Unauthorized, "")]
    public async Task Get_BadCredentialHeader_AnswersAsTheVendor(string header, string value, HttpStatusCode expected, string expectedBody)
    {
        // Arrange
        using var client = host.Autotask();
        client.DefaultRequestHeaders.Remove(header);
        client.DefaultRequestHeaders.Add(header, value);

        // Act
        var response = await client.GetAsync("ThresholdInformation");

        // Assert
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expectedBody, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PostQuery_MoreThan500Matches_PagesThroughNextPageUrl()
    {
        // Arrange
        using var client = host.Autotask();
        var seen = new List<long>();
        var pages = 0;

        // Act
        var body = await JsonAsync(await client.PostAsync("Companies/query", Json("""{"filter":[{"op":"gt","field":"id","value":1050}]}""")));
        while (true)
        {
            pages++;
            seen.AddRange(Ids((JsonArray)body["items"]!));
            var next = body["pageDetails"]!["nextPageUrl"]?.GetValue<string>();
            if (next is null)
            {
                break;
            }

            Assert.StartsWith(host.AutotaskZoneRoot().ToString() + "Companies/query/next?paging=", next, StringComparison.Ordinal);
            body = await JsonAsync(await client.PostAsync(next, null));
        }

        // Assert
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1051, 1050).Select(i => (long)i), seen);
    }

    [Fact]
    public async Task PostQuery_FirstPage_ReportsPageDetails()
    {
        // Arrange
        using var client = host.Autotask();

        // Act
        var body = await JsonAsync(await client.PostAsync("Companies/query", Json("""{"filter":[{"op":"exist","field":"id"}]}""")));

        // Assert
        var details = body["pageDetails"]!;
        Assert.Equal(500, details["count"]!.GetValue<int>());
        Assert.Equal(500, details["requestCount"]!.GetValue<int>());
        Assert.Null(details["prevPageUrl"]);
        Assert.NotNull(details["nextPageUrl"]);
    }

    [Fact]
    public async Task GetEntityInformation_UserWithoutContractRights_ReportsNone()
    {
        // Arrange
        using var full = host.Autotask();
        using var restricted = host.Autotask(User("nocontracts"));

        // Act
        var fullInfo = await JsonAsync(await full.GetAsync("Contracts/entityInformation"));
        var restrictedInfo = await JsonAsync(await restricted.GetAsync("Contracts/entityInformation"));

        // Assert
        Assert.True(fullInfo["info"]!["canQuery"]!.GetValue<bool>());
        Assert.Equal("All", fullInfo["info"]!["userAccessForQuery"]!.GetValue<string>());
        Assert.Equal("None", restrictedInfo["info"]!["userAccessForQuery"]!.GetValue<string>());
        Assert.Equal("None", restrictedInfo["info"]!["userAccessForCreate"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("nocontracts", "POST", "Contracts/query", HttpStatusCode.Forbidden)]
    [InlineData("nocontracts", "POST", "Companies/query", HttpStatusCode.OK)]
    [InlineData("noadjust", "POST", "ContractServiceAdjustments", HttpStatusCode.Forbidden)]
    [InlineData("noadjust", "POST", "ContractServiceUnits/query", HttpStatusCode.OK)]
    [InlineData("readonly", "POST", "Tickets", HttpStatusCode.Forbidden)]
    [InlineData("readonly", "POST", "Tickets/query", HttpStatusCode.OK)]
    [InlineData("noticket", "POST", "Tickets/query", HttpStatusCode.Forbidden)]
    public async Task Request_PerApiUser_AllowsOrForbids(string user, string method, string path, HttpStatusCode expected)
    {
        // Arrange
        using var client = host.Autotask(User(user));
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = Json("""{"filter":[{"op":"exist","field":"id"}]}""") };

        // Act
        var response = await client.SendAsync(request);

        // Assert
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            var body = await JsonAsync(response, HttpStatusCode.Forbidden);
            Assert.StartsWith("User does not have permission to ", body["errors"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task GetTicketFields_Picklists_ListQueueStatusAndPriorityValues()
    {
        // Arrange
        using var client = host.Autotask();

        // Act
        var body = await JsonAsync(await client.GetAsync("Tickets/entityInformation/fields"));

        // Assert
        var fields = ((JsonArray)body["fields"]!).ToDictionary(f => f!["name"]!.GetValue<string>());
        foreach (var picklist in new[] { "queueID", "status", "priority" })
        {
            Assert.True(fields[picklist]!["isPickList"]!.GetValue<bool>());
            Assert.NotEmpty((JsonArray)fields[picklist]!["picklistValues"]!);
        }

        Assert.Contains((JsonArray)fields["status"]!["picklistValues"]!, v => v!["value"]!.GetValue<string>() == "5" && v["label"]!.GetValue<string>() == "Complete");
    }

    [Fact]
    public async Task PostTicket_ValidThenPatch_ReturnsItemIdAndUpdatesSparsely()
    {
        // Arrange
        using var client = host.Autotask();

        // Act
        var created = await JsonAsync(await client.PostAsync("Tickets", Json("""{"companyID":1001,"title":"Malware found","status":1,"priority":2,"queueID":8}""")));
        var id = created["itemId"]!.GetValue<long>();
        var patched = await JsonAsync(await client.PatchAsync("Tickets", Json($$"""{"id":{{id}},"status":5}""")));
        var ticket = await JsonAsync(await client.GetAsync($"Tickets/{id}"));

        // Assert
        Assert.Equal(id, patched["itemId"]!.GetValue<long>());
        Assert.Equal(5, ticket["item"]!["status"]!.GetValue<int>());
        Assert.Equal("Malware found", ticket["item"]!["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatchTicket_CompleteThenEditThenReopen_StampsKeepsAndClearsCompletedDate()
    {
        // Arrange
        using var client = host.Autotask();
        var user = AutotaskApiUser.Seeded[0];
        var created = await JsonAsync(await client.PostAsync("Tickets", Json("""{"companyID":1001,"title":"Backup failed","status":1,"priority":2,"queueID":8}""")));
        var id = created["itemId"]!.GetValue<long>();
        async Task<JsonNode> Ticket() => (await JsonAsync(await client.GetAsync($"Tickets/{id}")))["item"]!;
        async Task Patch(JsonObject fields)
        {
            fields["id"] = id;
            await JsonAsync(await client.PatchAsync("Tickets", Json(fields.ToJsonString())));
        }

        var open = await Ticket();

        // Act
        var completedAt = host.Sandbox.Clock.GetUtcNow();
        await Patch(new JsonObject { ["status"] = 5, ["completedDate"] = "2001-01-01T00:00:00" });
        var completed = await Ticket();
        host.Sandbox.Clock.Advance(TimeSpan.FromHours(3));
        await Patch(new JsonObject { ["title"] = "Backup failed (retried)" });
        var edited = await Ticket();
        await Patch(new JsonObject { ["status"] = 8 });
        var reopened = await Ticket();

        // Assert
        Assert.Null(open["completedDate"]);
        var stamped = DateTime.Parse(completed["completedDate"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(stamped, completedAt.UtcDateTime.AddSeconds(-1), completedAt.UtcDateTime.AddMinutes(1));
        Assert.Equal(user.ResourceId, completed["completedByResourceID"]!.GetValue<long>());
        Assert.Equal(completed["completedDate"]!.GetValue<string>(), edited["completedDate"]!.GetValue<string>());
        Assert.Null(reopened["completedDate"]);
        Assert.Null(reopened["completedByResourceID"]);
    }

    [Fact]
    public async Task PostTicket_CreatedComplete_IsStampedCompletedAndFieldsReportItReadOnly()
    {
        // Arrange
        using var client = host.Autotask();

        // Act
        var created = await JsonAsync(await client.PostAsync("Tickets", Json("""{"companyID":1001,"title":"Resolved by the platform","status":5,"priority":2,"queueID":8}""")));
        var ticket = (await JsonAsync(await client.GetAsync($"Tickets/{created["itemId"]}")))["item"]!;
        var fields = ((JsonArray)(await JsonAsync(await client.GetAsync("Tickets/entityInformation/fields")))["fields"]!).ToDictionary(f => f!["name"]!.GetValue<string>());

        // Assert
        Assert.NotNull(ticket["completedDate"]);
        Assert.True(fields["completedDate"]!["isReadOnly"]!.GetValue<bool>());
        Assert.True(fields["completedByResourceID"]!["isReadOnly"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("""{"companyID":1001,"title":"x","status":1,"priority":99}""", "Picklist value [99] does not exist for priority.")]
    [InlineData("""{"companyID":1001,"title":"x","status":1}""", "Ticket: priority is required.")]
    [InlineData("""{"companyID":1001,"title":"x","status":1,"priority":2,"colour":"red"}""", "Unable to find colour in the Ticket Entity.")]
    public async Task PostTicket_Invalid_Returns500WithErrors(string ticket, string message)
    {
        // Arrange
        using var client = host.Autotask();

        // Act
        var body = await JsonAsync(await client.PostAsync("Tickets", Json(ticket)), HttpStatusCode.InternalServerError);

        // Assert
        Assert.Equal(message, body["errors"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task GetById_Missing_ReturnsNullItem()
    {
        // Arrange
        using var client = host.Autotask();

        // Act
        var body = await JsonAsync(await client.GetAsync("Companies/99999999"));

        // Assert
        Assert.Equal("""{"item":null}""", body.ToJsonString());
    }
}
