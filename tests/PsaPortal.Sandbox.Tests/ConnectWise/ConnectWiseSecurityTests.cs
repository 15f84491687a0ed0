using System.Net;
using System.Net.Http.Headers;
using PsaPortal.Sandbox.ConnectWise;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.ConnectWise;

public sealed class ConnectWiseSecurityTests(SandboxHost host) : IClassFixture<SandboxHost>
{
    private static ConnectWiseApiMember Member(string identifier) => ConnectWiseApiMember.Seeded.Single(m => m.Identifier == identifier);

    [Fact]
    public async Task GetCompanyInfo_KnownCompany_ReturnsCodebaseWithoutAuthentication()
    {
        // Arrange
        using var client = host.CreateClient();

        // Act
        var body = await JsonAsync(await client.GetAsync("/sandbox/connectwise/login/companyinfo/sandbox"));

        // Assert
        Assert.Equal("v2025_1/", body["Codebase"]!.GetValue<string>());
        Assert.Equal("sandbox", body["CompanyID"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetCompanyInfo_UnknownCompany_ReturnsJsonNull()
    {
        // Arrange
        using var client = host.CreateClient();

        // Act
        var response = await client.GetAsync("/sandbox/connectwise/login/companyinfo/nosuchcompany");

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("null", await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string, string?, bool> BadCredentials => new()
    {
        { "no Authorization header", null, true },
        { "wrong private key", SandboxHost.ConnectWiseAuthorization("SbxFullPublic01", "wrong").ToString(), true },
        { "unknown public key", SandboxHost.ConnectWiseAuthorization("nobody", "SbxFullPrivate01").ToString(), true },
        { "other company id", SandboxHost.ConnectWiseAuthorization("SbxFullPublic01", "SbxFullPrivate01", "othermsp").ToString(), true },
        { "not base64", "Basic !!!", true },
    };

    [Theory]
    [MemberData(nameof(BadCredentials))]
    public async Task GetCompanies_BadCredentials_Returns401WithVendorBody(string scenario, string? authorization, bool withClientId)
    {
        // Arrange
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sandbox/connectwise/v4_6_release/apis/3.0/company/companies");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (withClientId)
        {
            request.Headers.Add("clientId", ConnectWiseSandbox.SeededClientId);
        }

        // Act
        var response = await client.SendAsync(request);

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.Unauthorized);
        Assert.True("""{"code":"ConnectWiseApi","message":"UserNotAuthenticated"}""" == body.ToJsonString(), scenario);
    }

    [Fact]
    public async Task GetCompanies_MissingClientId_Returns401()
    {
        // Arrange
        using var client = host.ConnectWise();
        client.DefaultRequestHeaders.Remove("clientId");

        // Act
        var response = await client.GetAsync("company/companies");

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("ConnectWiseApi", body["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("PsaPortalNoPrio", "GET", "service/priorities", HttpStatusCode.Forbidden)]
    [InlineData("PsaPortalNoPrio", "GET", "service/boards", HttpStatusCode.OK)]
    [InlineData("PsaPortalNoAgrEd", "GET", "finance/agreements/1/additions", HttpStatusCode.OK)]
    [InlineData("PsaPortalNoAgrEd", "PATCH", "finance/agreements/1/additions/1", HttpStatusCode.Forbidden)]
    [InlineData("PsaPortalNoAgrEd", "POST", "finance/agreements/1/additions", HttpStatusCode.Forbidden)]
    [InlineData("PsaPortalNoAgrEd", "DELETE", "finance/agreements/1/additions/1", HttpStatusCode.Forbidden)]
    [InlineData("PsaPortalReadOnly", "GET", "service/tickets", HttpStatusCode.OK)]
    [InlineData("PsaPortalReadOnly", "POST", "service/tickets", HttpStatusCode.Forbidden)]
    [InlineData("PsaPortalTicketing", "GET", "finance/agreements", HttpStatusCode.Forbidden)]
    [InlineData("PsaPortalTicketing", "GET", "procurement/catalog", HttpStatusCode.Forbidden)]
    [InlineData("PsaPortalReadOnly", "POST", "procurement/catalog", HttpStatusCode.Forbidden)]
    [InlineData("PsaPortalTicketing", "GET", "company/companies", HttpStatusCode.OK)]
    [InlineData("PsaPortalFull", "GET", "finance/agreements/types", HttpStatusCode.OK)]
    public async Task Request_PerSecurityProfile_AllowsOrReturnsVendor403(string member, string method, string path, HttpStatusCode expected)
    {
        // Arrange
        using var client = host.ConnectWise(Member(member));
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PATCH")
        {
            request.Content = Json("[]");
        }

        // Act
        var response = await client.SendAsync(request);

        // Assert
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal("""{"code":"Security","message":"You do not have security permission to perform this action."}""", body);
        }
    }

    [Fact]
    public async Task GetMySecurity_NoPriorityMember_ReportsPriorityLevelsNone()
    {
        // Arrange
        using var client = host.ConnectWise(Member("PsaPortalNoPrio"));

        // Act
        var rows = await ArrayAsync(await client.GetAsync("system/mySecurity?pageSize=1000"));

        // Assert
        var priority = rows.Single(r => r!["moduleFunctionName"]!.GetValue<string>() == "Priority")!;
        Assert.Equal("Service Desk", priority["moduleName"]!.GetValue<string>());
        Assert.Equal(["None", "None", "None", "None"], new[] { "addLevel", "editLevel", "deleteLevel", "inquireLevel" }.Select(f => priority[f]!.GetValue<string>()));
        var tickets = rows.Single(r => r!["moduleFunctionName"]!.GetValue<string>() == "Service Tickets")!;
        Assert.Equal("All", tickets["inquireLevel"]!.GetValue<string>());
        Assert.Equal("PsaPortalNoPrio", priority["member"]!["identifier"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetMySecurity_NoAgreementEditMember_ReportsInquireOnlyOnAgreements()
    {
        // Arrange
        using var client = host.ConnectWise(Member("PsaPortalNoAgrEd"));

        // Act
        var rows = await ArrayAsync(await client.GetAsync($"system/mySecurity?conditions={Uri.EscapeDataString("moduleFunctionName = \"Agreements\"")}"));

        // Assert
        var agreements = Assert.Single(rows)!;
        Assert.Equal("All", agreements["inquireLevel"]!.GetValue<string>());
        Assert.Equal("None", agreements["editLevel"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_AcceptVersion_EchoedAsApiCurrentVersion()
    {
        // Arrange
        using var client = host.ConnectWise();
        client.DefaultRequestHeaders.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/vnd.connectwise.com+json; version=2023.2"));

        // Act
        var versioned = await client.GetAsync("system/info");
        client.DefaultRequestHeaders.Accept.Clear();
        var latest = await client.GetAsync("system/info");

        // Assert
        Assert.Equal("2023.2", versioned.Headers.GetValues("api-current-version").Single());
        Assert.Equal("2025.1", latest.Headers.GetValues("api-current-version").Single());
    }

    [Fact]
    public async Task Get_UnknownResource_Returns404WithVendorBody()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var response = await client.GetAsync("company/nonexistent");

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("NotFound", body["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetCompany_UnknownId_Returns404WithVendorBody()
    {
        // Arrange
        using var client = host.ConnectWise();

        // Act
        var response = await client.GetAsync("company/companies/999999");

        // Assert
        var body = await JsonAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("company recId 999999 not found", body["message"]!.GetValue<string>());
    }
}
