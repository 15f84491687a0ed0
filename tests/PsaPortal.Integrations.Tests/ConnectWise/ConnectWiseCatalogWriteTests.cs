using System.Net;
using System.Text.Json;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Testing.Specs;
using RichardSzalay.MockHttp;

namespace PsaPortal.Integrations.Tests.ConnectWise;

/// <summary>The sandbox does not serve POST procurement/catalog, so catalog creation is checked against a stub and the spec.</summary>
public sealed class ConnectWiseCatalogWriteTests
{
    [Fact]
    public async Task CreateCatalogItem_Draft_PostsSpecConformingItemAndIsNotReplayedOn500()
    {
        // Arrange
        using var mock = new MockHttpMessageHandler(BackendDefinitionBehavior.Always);
        mock.When("https://api-na.myconnectwise.net/login/companyinfo/acme").Respond("application/json", """{"Codebase":"v2025_1/"}""");
        mock.Expect(HttpMethod.Post, "https://api-na.myconnectwise.net/v2025_1/apis/3.0/procurement/catalog")
            .Respond(HttpStatusCode.Created, "application/json", """{"id":77,"identifier":"EDR-SRV","description":"EDR for servers","price":12.5,"cost":4,"inactiveFlag":false}""");
        mock.Expect(HttpMethod.Post, "https://api-na.myconnectwise.net/v2025_1/apis/3.0/procurement/catalog")
            .Respond(HttpStatusCode.InternalServerError, "application/json", """{"code":"ConnectWiseApi","message":"A timeout has occured. Please try again."}""");
        using var traffic = new RecordingHandler(mock);
        using var factory = new PsaClientFactory(new ListCallRecorder(), new PsaClientFactoryOptions { PrimaryHandler = traffic, TimeProvider = new AcceleratedTimeProvider(TestClients.Speed) });
        var api = factory.CreateConnectWise(new ConnectWiseConnection("stub", "na.myconnectwise.net", "acme", "pub", "priv", "5f0c3a8e-6d1b-4c2a-9e47-3b8f2d6a1c90"));
        var draft = new PsaProductDraft("EDR-SRV", "EDR for servers", SubcategoryId: 1, TypeId: 1, Price: 12.5m, Cost: 4m);

        // Act
        var created = await api.CreateCatalogItemAsync(draft);
        var failure = await Record.ExceptionAsync(() => api.CreateCatalogItemAsync(draft with { Identifier = "EDR-WKS" }));

        // Assert
        Assert.Equal(new PsaProduct(77, "EDR-SRV", "EDR for servers", 12.5m, 4m, false), created);
        Assert.NotNull(failure);
        mock.VerifyNoOutstandingExpectation();
        var posts = traffic.Exchanges.Where(e => e.Method == HttpMethod.Post).ToList();
        Assert.Equal(2, posts.Count);
        using var body = JsonDocument.Parse(posts[0].RequestBody!);
        var report = VendorSpec.ConnectWise.ValidateRequest(HttpMethod.Post, "/procurement/catalog", body.RootElement, posts[0].RequestHeaderNames);
        Assert.True(report.Conforms, report.ToString());
        Assert.Equal("Agreement", body.RootElement.GetProperty("productClass").GetString());
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
}
