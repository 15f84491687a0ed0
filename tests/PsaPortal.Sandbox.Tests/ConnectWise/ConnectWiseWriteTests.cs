using System.Net;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Seed;
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
        using var form = DocumentForm("Ticket", "1", "report.txt", "report body");

        // Act
        var document = await JsonAsync(await client.PostAsync("system/documents", form), HttpStatusCode.Created);
        var json = await client.PostAsync("system/documents", Json("{}"));

        // Assert
        Assert.Equal("report.txt", document["fileName"]!.GetValue<string>());
        Assert.Equal(11, document["size"]!.GetValue<int>());
        Assert.Null(document["recordType"]);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
    }

    [Fact]
    public async Task GetDocuments_ByRecordTypeAndId_ListsAndCountsOnlyThatRecordsDocuments()
    {
        // Arrange
        using var client = host.ConnectWise();
        var agreementId = host.Sandbox.ConnectWise.Data.Agreements.All()[^1]["id"]!.GetValue<long>();
        using var csv = DocumentForm("agreement", agreementId.ToString(System.Globalization.CultureInfo.InvariantCulture), "lines.csv", "sku,quantity\nEDR,3\n");
        using var other = DocumentForm("Company", "2", "lines.csv", "sku,quantity\n");
        var attached = await JsonAsync(await client.PostAsync("system/documents", csv), HttpStatusCode.Created);
        await JsonAsync(await client.PostAsync("system/documents", other), HttpStatusCode.Created);

        // Act
        var documents = await ArrayAsync(await client.GetAsync($"system/documents?recordType=Agreement&recordId={agreementId}"));
        var count = await JsonAsync(await client.GetAsync($"system/documents/count?recordType=Agreement&recordId={agreementId}"));
        var none = await ArrayAsync(await client.GetAsync($"system/documents?recordType=Agreement&recordId={agreementId - 1}"));

        // Assert
        Assert.Equal([attached["id"]!.GetValue<long>()], Ids(documents));
        Assert.Equal("lines.csv", documents[0]!["fileName"]!.GetValue<string>());
        Assert.Equal(1, count["count"]!.GetValue<int>());
        Assert.Empty(none);
    }

    [Theory]
    [InlineData(null, "1", "MissingRequiredField", "recordType")]
    [InlineData("Agreement", null, "MissingRequiredField", "recordId")]
    [InlineData("Agreement", "one", "InvalidField", "recordId")]
    [InlineData("Invoice", "1", "InvalidField", "recordType")]
    [InlineData("Agreement", "999999", "NotFound", "recordId")]
    public async Task PostDocument_WithoutAnExistingRecord_Returns400(string? recordType, string? recordId, string code, string field)
    {
        // Arrange
        using var client = host.ConnectWise();
        using var form = DocumentForm(recordType, recordId, "x.txt", "x");
        var before = host.Sandbox.ConnectWise.Data.Documents.Count;

        // Act
        var body = await JsonAsync(await client.PostAsync("system/documents", form), HttpStatusCode.BadRequest);

        // Assert
        Assert.Equal("InvalidObject", body["code"]!.GetValue<string>());
        Assert.Equal(code, body["errors"]![0]!["code"]!.GetValue<string>());
        Assert.Equal(field, body["errors"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(before, host.Sandbox.ConnectWise.Data.Documents.Count);
    }

    [Fact]
    public async Task PostCatalogItem_RequiredFields_Returns201CompletedAndListed()
    {
        // Arrange
        using var client = host.ConnectWise();
        var item = """{"identifier":"EDR-SRV","description":"EDR for servers","customerDescription":"Endpoint protection for servers","subcategory":{"id":1},"type":{"id":1},"price":12.5,"cost":4}""";

        // Act
        var created = await JsonAsync(await client.PostAsync("procurement/catalog", Json(item)), HttpStatusCode.Created);
        var listed = await ArrayAsync(await client.GetAsync("procurement/catalog?conditions=identifier%3D%22EDR-SRV%22"));

        // Assert
        Assert.True(created["id"]!.GetValue<long>() > SandboxSeedData.Products.Count);
        Assert.Equal("NonInventory", created["productClass"]!.GetValue<string>());
        Assert.False(created["inactiveFlag"]!.GetValue<bool>());
        Assert.Equal("Security Services", created["subcategory"]!["name"]!.GetValue<string>());
        Assert.EndsWith("/apis/3.0/procurement/subcategories/1", created["subcategory"]!["_info"]!["subcategory_href"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("PsaPortalFull", created["_info"]!["enteredBy"]!.GetValue<string>());
        Assert.Equal([created["id"]!.GetValue<long>()], Ids(listed));
    }

    [Fact]
    public async Task PostCatalogItem_SeveralProblems_Returns400ListingEachField()
    {
        // Arrange
        using var client = host.ConnectWise();
        var item = $$"""{"identifier":"{{new string('X', 76)}}","customerDescription":"x","subcategory":{"id":99},"productClass":"Hardware"}""";

        // Act
        var body = await JsonAsync(await client.PostAsync("procurement/catalog", Json(item)), HttpStatusCode.BadRequest);

        // Assert
        Assert.Equal("catalogItem object is invalid", body["message"]!.GetValue<string>());
        var errors = ((JsonArray)body["errors"]!).Select(e => (e!["code"]!.GetValue<string>(), e["field"]!.GetValue<string>())).ToList();
        Assert.Equal(
            [("MaxLengthField", "identifier"), ("MissingRequiredField", "description"), ("NotFound", "subcategory/id"), ("MissingRequiredField", "type"), ("InvalidField", "productClass")],
            errors);
    }

    [Fact]
    public async Task PostCatalogItem_IdentifierInUse_Returns400ObjectExistsWhateverTheCase()
    {
        // Arrange
        using var client = host.ConnectWise();
        var existing = SandboxSeedData.Products[0].Sku.ToLowerInvariant();
        var item = $$$"""{"identifier":"{{{existing}}}","description":"Copy","customerDescription":"Copy","subcategory":{"id":1},"type":{"name":"Recurring Service"}}""";

        // Act
        var body = await JsonAsync(await client.PostAsync("procurement/catalog", Json(item)), HttpStatusCode.BadRequest);

        // Assert
        var error = Assert.Single((JsonArray)body["errors"]!)!;
        Assert.Equal("ObjectExists", error["code"]!.GetValue<string>());
        Assert.Equal("identifier", error["field"]!.GetValue<string>());
    }

    private static MultipartFormDataContent DocumentForm(string? recordType, string? recordId, string fileName, string content)
    {
        var form = new MultipartFormDataContent();
        if (recordType is not null)
        {
            form.Add(new StringContent(recordType), "recordType");
        }

        if (recordId is not null)
        {
            form.Add(new StringContent(recordId), "recordId");
        }

        form.Add(new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(content)), "file", fileName);
        return form;
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
