using System.Text.Json;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Testing.Specs;

namespace PsaPortal.Integrations.Tests.ConnectWise;

/// <summary>Catalog creation against the sandbox: a spec-conforming request, the vendor's refusals, and no replay of a failed POST.</summary>
public sealed class ConnectWiseCatalogWriteTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly TestClients _clients = new(host);

    public void Dispose()
    {
        host.ResetSettings();
        _clients.Dispose();
    }

    [Fact]
    public async Task CreateCatalogItem_Draft_PostsSpecConformingItemThatIsThenListed()
    {
        // Arrange
        var api = _clients.ConnectWise();
        var draft = new PsaProductDraft("EDR-SRV", "EDR for servers", SubcategoryId: 1, TypeId: 1, Price: 12.5m, Cost: 4m);

        // Act
        var created = await api.CreateCatalogItemAsync(draft);
        var listed = await api.ListCatalogAsync(ConnectWiseCondition.Field("identifier").EqualTo("EDR-SRV")).ToListAsync();

        // Assert
        Assert.Equal(new PsaProduct(created.Id, "EDR-SRV", "EDR for servers", 12.5m, 4m, false, SubcategoryId: 1, TypeId: 1), created);
        Assert.Equal([created], listed);
        var post = Assert.Single(_clients.Traffic.Exchanges, e => e.Method == HttpMethod.Post);
        Assert.Equal(201, post.StatusCode);
        using var body = JsonDocument.Parse(post.RequestBody!);
        var report = VendorSpec.ConnectWise.ValidateRequest(HttpMethod.Post, "/procurement/catalog", body.RootElement, post.RequestHeaderNames);
        Assert.True(report.Conforms, report.ToString());
        Assert.Equal("Agreement", body.RootElement.GetProperty("productClass").GetString());
    }

    [Fact]
    public async Task CreateCatalogItem_IdentifierInUse_ThrowsValidationNamingTheField()
    {
        // Arrange
        var api = _clients.ConnectWise();
        var existing = SandboxSeedData.Products[0];

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.CreateCatalogItemAsync(new PsaProductDraft(existing.Sku, "Duplicate", SubcategoryId: 1, TypeId: 1)));

        // Assert
        Assert.Equal(PsaErrorKind.Validation, failure.Kind);
        Assert.Contains(failure.VendorErrors, e => e is { Code: "ObjectExists", Field: "identifier" });
    }

    [Fact]
    public async Task CreateCatalogItem_UnknownSubcategory_ThrowsValidationNamingTheReference()
    {
        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => _clients.ConnectWise().CreateCatalogItemAsync(new PsaProductDraft("EDR-WKS", "EDR for workstations", SubcategoryId: 999, TypeId: 1)));

        // Assert
        Assert.Equal(PsaErrorKind.Validation, failure.Kind);
        Assert.Equal("subcategory/id", failure.Field);
    }

    [Fact]
    public async Task CreateCatalogItem_ServerError_IsNotReplayed()
    {
        // Arrange
        var api = _clients.ConnectWise();
        await api.GetSystemInfoAsync();
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ServerErrorRate = 1 } });
        var before = CatalogPosts();

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.CreateCatalogItemAsync(new PsaProductDraft("EDR-MAC", "EDR for Macs", SubcategoryId: 1, TypeId: 1)));

        // Assert
        Assert.Equal(PsaErrorKind.OutcomeUnknown, failure.Kind);
        Assert.Equal(before + 1, CatalogPosts());
    }

    [Fact]
    public async Task UpdateCatalogItem_PriceCostAndDescription_PatchesOnlyThoseFields()
    {
        // Arrange
        var api = _clients.ConnectWise();
        var created = await api.CreateCatalogItemAsync(new PsaProductDraft("EDR-UPD", "EDR before", SubcategoryId: 1, TypeId: 1, Price: 10m, Cost: 3m));

        // Act
        var updated = await api.UpdateCatalogItemAsync(created.Id, new PsaProductChange("EDR after", Price: 11m, Cost: 3.5m));
        var listed = await api.ListCatalogAsync(ConnectWiseCondition.Field("identifier").EqualTo("EDR-UPD")).ToListAsync();

        // Assert
        Assert.Equal(created with { Description = "EDR after", Price = 11m, Cost = 3.5m }, updated);
        Assert.Equal([updated], listed);
        var patch = Assert.Single(_clients.Traffic.Exchanges, e => e.Method == HttpMethod.Patch);
        using var body = JsonDocument.Parse(patch.RequestBody!);
        Assert.Equal(["description", "customerDescription", "price", "cost"], body.RootElement.EnumerateArray().Select(o => o.GetProperty("path").GetString()));
        var report = VendorSpec.ConnectWise.ValidateRequest(HttpMethod.Patch, $"/procurement/catalog/{created.Id}", body.RootElement, patch.RequestHeaderNames);
        Assert.True(report.Conforms, report.ToString());
    }

    [Fact]
    public async Task UpdateCatalogItem_Missing_ThrowsNotFound()
    {
        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => _clients.ConnectWise().UpdateCatalogItemAsync(987654, new PsaProductChange(Price: 1m)));

        // Assert
        Assert.Equal(PsaErrorKind.NotFound, failure.Kind);
    }

    [Fact]
    public async Task DownloadDocument_UploadedToAgreement_ListedOnItAndReadBackByteForByte()
    {
        // Arrange
        var api = _clients.ConnectWise();
        var content = "Tenant,Product,Quantity\nContoso,EDR,3\n"u8.ToArray();
        var uploaded = await api.UploadAgreementDocumentAsync(5, "users.csv", content, "Users");

        // Act
        var listed = await api.ListAgreementDocumentsAsync(5).ToListAsync();
        var downloaded = await api.DownloadDocumentAsync(uploaded.Id);

        // Assert
        Assert.Contains(listed, d => d.Id == uploaded.Id && d.FileName == "users.csv" && d.Title == "Users");
        Assert.Equal(content, downloaded);
    }

    [Fact]
    public void ToString_Connections_NeverShowSecrets()
    {
        // Arrange
        var connectWise = new ConnectWiseConnection("Acme", "na.myconnectwise.net", "acme", "PublicKey1", "PrivateKey1", "client-guid");
        var autotask = new PsaPortal.Integrations.Autotask.AutotaskConnection("Acme", "api@acme.example", "Secret1", "IntegrationCode1");

        // Act
        var text = connectWise + " " + autotask;

        // Assert
        Assert.DoesNotContain("PrivateKey1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Secret1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("IntegrationCode1", text, StringComparison.Ordinal);
    }

    private int CatalogPosts() =>
        host.Sandbox.ConnectWise.RequestLog.Entries().Count(e => e.Method == "POST" && e.Path.EndsWith("/procurement/catalog", StringComparison.Ordinal));
}
