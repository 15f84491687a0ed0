using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.ConnectWise;

/// <summary>Catalog items changed after creation (PATCH / PUT <c>procurement/catalog/{id}</c>) and uploaded documents read back (<c>system/documents/{id}/download</c>).</summary>
public sealed class ConnectWiseCatalogEditTests(SandboxHost host) : IClassFixture<SandboxHost>
{
    [Fact]
    public async Task PatchCatalogItem_PriceCostAndDescription_Returns200WithTheChangeListed()
    {
        // Arrange
        using var client = host.ConnectWise();
        var id = await CreateAsync(client, "PATCH-ME");
        var patch = """[{"op":"replace","path":"price","value":19.99},{"op":"replace","path":"cost","value":7.25},{"op":"replace","path":"description","value":"Renamed"}]""";

        // Act
        var updated = await JsonAsync(await client.PatchAsync($"procurement/catalog/{id}", Json(patch)));
        var listed = await ArrayAsync(await client.GetAsync("procurement/catalog?conditions=identifier%3D%22PATCH-ME%22"));

        // Assert
        Assert.Equal(19.99m, updated["price"]!.GetValue<decimal>());
        Assert.Equal(7.25m, updated["cost"]!.GetValue<decimal>());
        Assert.Equal("Renamed", updated["description"]!.GetValue<string>());
        var row = Assert.Single(listed)!;
        Assert.Equal(19.99m, row["price"]!.GetValue<decimal>());
        Assert.Equal("PATCH-ME", row["identifier"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatchCatalogItem_IdentifierOfAnotherItem_Returns400ObjectExistsAndKeepsTheItem()
    {
        // Arrange
        using var client = host.ConnectWise();
        var id = await CreateAsync(client, "KEEP-ME");
        await CreateAsync(client, "TAKEN");

        // Act
        var body = await JsonAsync(await client.PatchAsync($"procurement/catalog/{id}", Json("""[{"op":"replace","path":"identifier","value":"taken"}]""")), HttpStatusCode.BadRequest);
        var item = await JsonAsync(await client.GetAsync($"procurement/catalog/{id}"));

        // Assert
        var error = Assert.Single((JsonArray)body["errors"]!)!;
        Assert.Equal("ObjectExists", error["code"]!.GetValue<string>());
        Assert.Equal("KEEP-ME", item["identifier"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatchCatalogItem_Missing_Returns404()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var response = await client.PatchAsync("procurement/catalog/987654", Json("""[{"op":"replace","path":"price","value":1}]"""));

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task DownloadDocument_Uploaded_ReturnsTheSameBytes()
    {
        // Arrange
        using var client = host.ConnectWise();
        var bytes = "Tenant,Product,Quantity\nContoso,EDR,3\n"u8.ToArray();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        using var form = new MultipartFormDataContent
        {
            { new StringContent("Agreement"), "recordType" },
            { new StringContent("3"), "recordId" },
            { file, "file", "users.csv" },
        };
        var document = await JsonAsync(await client.PostAsync("system/documents", form), HttpStatusCode.Created);

        // Act
        var downloaded = await client.GetByteArrayAsync($"system/documents/{document["id"]}/download");
        var missing = await client.GetAsync("system/documents/987654/download");

        // Assert
        Assert.Equal(bytes, downloaded);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private static async Task<long> CreateAsync(HttpClient client, string identifier)
    {
        var item = $$"""{"identifier":"{{identifier}}","description":"{{identifier}}","customerDescription":"{{identifier}}","subcategory":{"id":1},"type":{"id":1},"price":1,"cost":0.5}""";
        return (await JsonAsync(await client.PostAsync("procurement/catalog", Json(item)), HttpStatusCode.Created))["id"]!.GetValue<long>();
    }
}
