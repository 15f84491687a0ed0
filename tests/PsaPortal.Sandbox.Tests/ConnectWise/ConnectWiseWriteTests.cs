using System.Net;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.ConnectWise;

public sealed class ConnectWiseWriteTests(SandboxHost host) : IClassFixture<SandboxHost>
{
    [Fact]
    public async Task PostTicket_MinimalBody_Returns201WithBoardDefaultsAndNoInitialDescription()
    {
        // Arrange
        using var client = host.ConnectWise();
        var ticket = """{"summary":"Ransomware behaviour blocked","company":{"id":3},"initialDescription":"Details from the platform"}""";

        // Act
        var created = await JsonAsync(await client.PostAsync("service/tickets", Json(ticket)), HttpStatusCode.Created);

        // Assert
        Assert.Equal("Help Desk", created["board"]!["name"]!.GetValue<string>());
        Assert.Equal("New", created["status"]!["name"]!.GetValue<string>());
        Assert.Equal("Tier 1", created["team"]!["name"]!.GetValue<string>());
        Assert.Equal("Priority 3 - Normal Response", created["priority"]!["name"]!.GetValue<string>());
        Assert.Equal(host.Sandbox.SeedData.Companies[2].Identifier, created["company"]!["identifier"]!.GetValue<string>());
        Assert.Null(created["initialDescription"]);
        Assert.EndsWith($"/sandbox/connectwise/v4_6_release/apis/3.0/company/companies/3", created["company"]!["_info"]!["company_href"]!.GetValue<string>(), StringComparison.Ordinal);
        var notes = await ArrayAsync(await client.GetAsync($"service/tickets/{created["id"]}/notes"));
        Assert.Equal("Details from the platform", Assert.Single(notes)!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task PostTicket_BoardWithoutDefaultTeam_Returns400InvalidObject()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var response = await client.PostAsync("service/tickets", Json("""{"summary":"Alert","company":{"id":1},"board":{"id":2}}"""));

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("InvalidObject", body["code"]!.GetValue<string>());
        Assert.Equal("ticket object is invalid", body["message"]!.GetValue<string>());
        var error = body["errors"]![0]!;
        Assert.Equal("team", error["field"]!.GetValue<string>());
        Assert.Equal("ticket", error["resource"]!.GetValue<string>());
    }

    [Fact]
    public async Task PostTicket_StatusOfAnotherBoard_Returns400WithVendorMessage()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var response = await client.PostAsync("service/tickets", Json("""{"summary":"Alert","company":{"id":1},"board":{"id":1},"status":{"id":6}}"""));

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.BadRequest);
        var error = body["errors"]![0]!;
        Assert.Equal("NotFound", error["code"]!.GetValue<string>());
        Assert.Equal("Service Status 6 not found for Service Board 1", error["message"]!.GetValue<string>());
        Assert.Equal("status/id", error["field"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"company":{"id":1}}""", "MissingRequiredField", "summary")]
    [InlineData("""{"summary":"x"}""", "MissingRequiredField", "company")]
    [InlineData("""{"summary":"x","company":{"id":99999}}""", "NotFound", "company")]
    [InlineData("""{"summary":"x","company":{"id":1},"priority":{"id":77}}""", "NotFound", "priority/id")]
    public async Task PostTicket_InvalidBody_Returns400NamingTheField(string ticket, string code, string field)
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var body = await JsonAsync(await client.PostAsync("service/tickets", Json(ticket)), HttpStatusCode.BadRequest);

        // Assert
        Assert.Equal(code, body["errors"]![0]!["code"]!.GetValue<string>());
        Assert.Equal(field, body["errors"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task PostTicket_SummaryOver100Characters_Returns400MaxLength()
    {
        // Arrange
        using var client = host.ConnectWise();
        var ticket = new JsonObject { ["summary"] = new string('x', 101), ["company"] = new JsonObject { ["id"] = 1 } };

        // Act
        var body = await JsonAsync(await client.PostAsync("service/tickets", Json(ticket.ToJsonString())), HttpStatusCode.BadRequest);

        // Assert
        Assert.Equal("The field summary must be a string with a maximum length of 100.", body["errors"]![0]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatchTicket_ReplaceStatusWithClosedStatus_ClosesTicket()
    {
        // Arrange
        using var client = host.ConnectWise();
        var created = await JsonAsync(await client.PostAsync("service/tickets", Json("""{"summary":"To close","company":{"id":2}}""")), HttpStatusCode.Created);

        // Act
        var patched = await JsonAsync(await client.PatchAsync($"service/tickets/{created["id"]}", Json("""[{"op":"replace","path":"status","value":{"id":4}}]""")));

        // Assert
        Assert.Equal("Closed", patched["status"]!["name"]!.GetValue<string>());
        Assert.True(patched["closedFlag"]!.GetValue<bool>());
    }

    [Fact]
    public async Task PatchTicket_NestedPath_IsIgnoredWithA200LikeTheVendor()
    {
        // Arrange
        using var client = host.ConnectWise();
        var before = await JsonAsync(await client.GetAsync("service/tickets/1"));

        // Act
        var patched = await JsonAsync(await client.PatchAsync("service/tickets/1", Json("""[{"op":"replace","path":"company/identifier","value":"Other"}]""")));

        // Assert
        Assert.Equal(before["company"]!.ToJsonString(), patched["company"]!.ToJsonString());
    }

    [Fact]
    public async Task PatchTicket_UnknownPath_Returns400()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var body = await JsonAsync(await client.PatchAsync("service/tickets/1", Json("""[{"op":"replace","path":"Summary","value":"case matters"}]""")), HttpStatusCode.BadRequest);

        // Assert
        Assert.Equal("InvalidField", body["errors"]![0]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Additions_CreatePatchPutDelete_FollowVendorStatusCodes()
    {
        // Arrange
        using var client = host.ConnectWise();
        const string path = "finance/agreements/1/additions";

        // Act
        var created = await JsonAsync(await client.PostAsync(path, Json("""{"product":{"identifier":"DNS-FILTER"},"billCustomer":"Billable","quantity":12}""")), HttpStatusCode.Created);
        var id = created["id"]!.GetValue<long>();
        var patched = await JsonAsync(await client.PatchAsync($"{path}/{id}", Json("""[{"op":"replace","path":"quantity","value":20}]""")));
        var put = await JsonAsync(await client.PutAsync($"{path}/{id}", Json("""{"product":{"id":8},"billCustomer":"DoNotBill","quantity":5,"cancelledDate":"2026-06-30T00:00:00Z"}""")));
        var deleted = await client.DeleteAsync($"{path}/{id}");
        var afterDelete = await client.GetAsync($"{path}/{id}");

        // Assert
        Assert.Equal(1.10m * 12, created["extPrice"]!.GetValue<decimal>());
        Assert.Equal(1, created["agreementId"]!.GetValue<int>());
        Assert.Equal(20m, patched["quantity"]!.GetValue<decimal>());
        Assert.Equal(22.00m, patched["extPrice"]!.GetValue<decimal>());
        Assert.Equal("Cancelled", put["agreementStatus"]!.GetValue<string>());
        Assert.Equal("DoNotBill", put["billCustomer"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, afterDelete.StatusCode);
    }

    [Fact]
    public async Task PostAddition_MissingBillCustomer_Returns400()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var body = await JsonAsync(await client.PostAsync("finance/agreements/1/additions", Json("""{"product":{"id":1}}""")), HttpStatusCode.BadRequest);

        // Assert
        Assert.Equal("billCustomer", body["errors"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task PostDocument_Multipart_Returns201DocumentInfo()
    {
        // Arrange
        using var client = host.ConnectWise();
        using var form = new MultipartFormDataContent
        {
            { new StringContent("Ticket"), "recordType" },
            { new StringContent("1"), "recordId" },
            { new StringContent("Incident report"), "title" },
            { new ByteArrayContent("report body"u8.ToArray()), "file", "report.txt" },
        };

        // Act
        var document = await JsonAsync(await client.PostAsync("system/documents", form), HttpStatusCode.Created);
        var json = await client.PostAsync("system/documents", Json("{}"));

        // Assert
        Assert.Equal("report.txt", document["fileName"]!.GetValue<string>());
        Assert.Equal(11, document["size"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
    }

    [Fact]
    public async Task PostTicketSearch_FilterValuesInBody_AppliesConditionsOrderAndQueryPaging()
    {
        // Arrange
        using var client = host.ConnectWise();
        var ids = string.Join(", ", Enumerable.Range(1, 40));

        // Act
        var tickets = await ArrayAsync(await client.PostAsync("service/tickets/search?pageSize=2",
            Json($$"""{"conditions":"id in ({{ids}}) and closedFlag = false","orderBy":"id desc"}""")));

        // Assert
        var expected = host.Sandbox.ConnectWise.Data.Tickets.All()
            .Where(t => t["id"]!.GetValue<long>() <= 40 && !t["closedFlag"]!.GetValue<bool>())
            .Select(t => t["id"]!.GetValue<long>()).OrderDescending().Take(2);
        Assert.Equal(expected, Ids(tickets));
    }
}
