using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.IntegrationTests.Api;

/// <summary>Who the API lets in: a live key of the organization, in either header, and nothing else.</summary>
public sealed class ApiAuthenticationTests : IAsyncLifetime
{
    private ApiPortal _portal = null!;

    public async Task InitializeAsync() => _portal = await ApiPortal.StartAsync(new PortalDatabase.Sqlite());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task NoKey_Answers401ProblemWithBearerChallenge()
    {
        using var anonymous = _portal.ClientWith(null);

        var response = await anonymous.GetAsync("/api/v1/tenants");

        var problem = await response.ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(ApiKeyAuthenticationHandler.MissingMessage, problem.GetProperty("detail").GetString());
        Assert.Equal("Bearer realm=\"PsaPortal API\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Theory]
    [InlineData("Bearer", "psak_short", ApiKeyAuthenticationHandler.MalformedMessage)]
    [InlineData("Bearer", "psak_abcdefghijkl_<script>alert(1)</script>aaaaaaaaaaaaaaaaaaaaaaa", ApiKeyAuthenticationHandler.MalformedMessage)]
    [InlineData("Bearer", "psak_ABCDEFGHIJKL_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ApiKeyAuthenticationHandler.MalformedMessage)]
    [InlineData("Basic", "dXNlcjpwYXNz", ApiKeyAuthenticationHandler.MalformedMessage)]
    [InlineData("Bearer", "psak_abcdefghijkl_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ApiKeyAuthenticationHandler.UnknownMessage)]
    public async Task BadKey_Answers401NamingTheProblemWithoutEchoingTheKey(string scheme, string token, string expected)
    {
        using var client = _portal.ClientWith(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, token);

        var response = await client.GetAsync("/api/v1/tenants");

        var problem = await response.ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(expected, problem.GetProperty("detail").GetString());
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        Assert.DoesNotContain(token, await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain(_portal.Factory.LogLines, line => line.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task KeyWithOneCharacterChanged_IsUnknown()
    {
        var tampered = _portal.Token[..^1] + (_portal.Token[^1] == 'a' ? 'b' : 'a');

        var response = await _portal.ClientWith(tampered).GetAsync("/api/v1/tenants");

        Assert.Equal(ApiKeyAuthenticationHandler.UnknownMessage, (await response.ProblemAsync(HttpStatusCode.Unauthorized)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task XApiKeyHeader_IsAcceptedLikeBearer()
    {
        using var client = _portal.ClientWith(null);
        client.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.HeaderName, _portal.Token);

        var response = await client.GetAsync("/api/v1/tenants");

        await response.JsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TwoDifferentKeys_AreMalformed()
    {
        using var client = _portal.ClientWith(_portal.Token);
        client.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.HeaderName, await ApiPortal.CreateKeyAsync(_portal.Factory, _portal.OrganizationId, "Second"));

        var response = await client.GetAsync("/api/v1/tenants");

        Assert.Equal(ApiKeyAuthenticationHandler.MalformedMessage, (await response.ProblemAsync(HttpStatusCode.Unauthorized)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task RevokedKey_Answers401AndWritesNothing()
    {
        var keys = _portal.Factory.Services.GetRequiredService<ApiKeyService>();
        var admin = ApiPortal.User(_portal.OrganizationId, PortalRoles.Admin);
        var key = (await keys.ListAsync(admin)).Single();
        await (await _portal.Client.GetAsync("/api/v1/tenants")).JsonAsync(HttpStatusCode.OK);

        var revoked = await keys.RevokeAsync(admin, key.Id);
        var response = await _portal.Client.PutJsonAsync("/api/v1/tenants/T-1", new { name = "After revocation" });

        Assert.True(revoked.Succeeded, revoked.Message);
        Assert.Equal(ApiKeyAuthenticationHandler.RevokedMessage, (await response.ProblemAsync(HttpStatusCode.Unauthorized)).GetProperty("detail").GetString());
        Assert.Equal(0, (await _portal.CountsAsync()).Tenants);
    }

    [Fact]
    public async Task PortalCookie_IsNotAcceptedByTheApi()
    {
        var browser = _portal.Factory.NewBrowser();
        await browser.SetUpAsync("Cookie Org", "owner@cookie.example", "Correct-Horse-42");
        var (dashboard, _) = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);

        var response = await browser.Client.PutAsync("/api/v1/tenants/T-1", ApiPortal.Json("""{"name":"Via cookie"}"""));

        await response.ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(0, (await _portal.CountsAsync()).Tenants);
    }

    [Fact]
    public async Task ApiKey_IsNotAcceptedByThePortalPages()
    {
        var browser = _portal.Factory.NewBrowser();
        await browser.SetUpAsync("Cookie Org", "owner@cookie.example", "Correct-Horse-42");
        using var client = _portal.ClientWith(_portal.Token);
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html");

        var page = await client.GetAsync("/platform");
        var export = await client.GetAsync("/platform/export/tenants.csv");

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/account/login", page.Headers.Location?.PathAndQuery ?? page.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, export.StatusCode);
    }

    [Fact]
    public async Task UsedKey_LastUsedAtIsWrittenAtMostOncePerMinute()
    {
        await (await _portal.Client.GetAsync("/api/v1/tenants")).JsonAsync(HttpStatusCode.OK);
        var first = await LastUsedAsync();
        await (await _portal.Client.GetAsync("/api/v1/products")).JsonAsync(HttpStatusCode.OK);
        var second = await LastUsedAsync();

        Assert.NotNull(first);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task OpenApiDocumentAndDocsUi_AreServedWithoutSignIn()
    {
        using var anonymous = _portal.ClientWith(null);

        var document = await (await anonymous.GetAsync(ApiFeature.DocumentPath)).JsonAsync(HttpStatusCode.OK);
        var ui = await anonymous.GetAsync("/api/docs/index.html");

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("ApiKey").GetProperty("scheme").GetString());
        Assert.Equal("X-Api-Key", schemes.GetProperty("ApiKeyHeader").GetProperty("name").GetString());
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/tenants/{externalId}", paths);
        Assert.Contains("/api/v1/usage/batch", paths);
        Assert.Contains("/api/v1/invoice-lines", paths);
        Assert.DoesNotContain(paths, p => !p.StartsWith("/api/v1/", StringComparison.Ordinal));
        var batchBody = document.GetProperty("paths").GetProperty("/api/v1/usage/batch").GetProperty("post").GetProperty("requestBody");
        Assert.True(batchBody.GetProperty("content").TryGetProperty("application/json", out _));
        Assert.Contains("quantity", batchBody.GetRawText() + document.GetProperty("components").GetRawText());
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Contains("swagger", await ui.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    private async Task<DateTimeOffset?> LastUsedAsync()
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        return await db.ApiKeys.Select(k => k.LastUsedAt).SingleAsync();
    }
}
