using System.Net;
using System.Net.Http.Headers;
using PsaPortal.Web.Infrastructure;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>One portal, signed in as its Admin, with the sandbox mounted: every kind of response it gives.</summary>
public sealed class HeadersPortal : IAsyncLifetime
{
    public SessionPortal Portal { get; private set; } = null!;

    public PsaPortal.Testing.PortalBrowser Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Portal = await SessionPortal.StartAsync(new Dictionary<string, string?> { ["Sandbox:Enabled"] = "true", ["Sandbox:SnapshotPath"] = "", ["Sandbox:CompanyCount"] = "5" });
        Admin = await Portal.SignedInAsync();
    }

    public async Task DisposeAsync() => await Portal.DisposeAsync();
}

/// <summary>Every response carries the security headers: pages, assets, scripts, the API, the sandbox, errors.</summary>
public sealed class SecurityHeadersTests(HeadersPortal fixture) : IClassFixture<HeadersPortal>
{
    public static TheoryData<string, string, int> Responses => new()
    {
        { "signed out", "/account/login", 200 },
        { "signed out", "/billing", 302 },
        { "signed in", "/", 200 },
        { "signed in", "/settings", 200 },
        { "signed in", "/no-such-page", 404 },
        { "signed in", "/app.css", 200 },
        { "signed in", "/_content/Radzen.Blazor/Radzen.Blazor.js", 200 },
        { "signed in", "/_framework/blazor.web.js", 200 },
        { "signed out", "/api/docs/index.html", 200 },
        { "signed out", "/openapi/v1.json", 200 },
        { "signed out", "/api/v1/tenants", 401 },
        { "signed in", "/api/no-such-endpoint", 404 },
        { "signed out", "/health/live", 200 },
        { "signed out", "/sandbox/connectwise/v4_6_release/apis/3.0/system/info", 401 },
        { "signed in", "/error", 200 },
    };

    [Theory]
    [MemberData(nameof(Responses))]
    public async Task EveryResponse_CarriesTheSecurityHeaders(string who, string path, int status)
    {
        var client = who == "signed in" ? fixture.Admin.Client : fixture.Portal.Factory.NewBrowser().Client;

        using var response = await client.GetAsync(path);

        Assert.True((int)response.StatusCode == status, $"{path} answered {(int)response.StatusCode}, expected {status}");
        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));
        Assert.Equal("same-origin", Single(response, "Referrer-Policy"));
        Assert.Equal(SecurityHeaders.PermissionsPolicy, Single(response, "Permissions-Policy"));
        Assert.Equal(SecurityHeaders.ContentSecurityPolicy, Single(response, "Content-Security-Policy"));
    }

    [Fact]
    public void ContentSecurityPolicy_AllowsNoInlineOrEvalScriptAndNoFraming()
    {
        var directives = SecurityHeaders.ContentSecurityPolicy.Split(';', StringSplitOptions.TrimEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d.Split(' ').Skip(1).ToArray());

        Assert.Equal(["'self'"], directives["script-src"]);
        Assert.Equal(["'none'"], directives["frame-ancestors"]);
        Assert.Equal(["'none'"], directives["object-src"]);
        Assert.Equal(["'self'"], directives["default-src"]);
        Assert.Equal(["'self'"], directives["form-action"]);
        Assert.DoesNotContain(SecurityHeaders.ContentSecurityPolicy.Split(' '), token => token.Contains("unsafe-eval") || token == "*" || token.StartsWith("http"));
    }

    [Fact]
    public async Task ApiJsonAndSandboxJson_AreNotSniffed()
    {
        using var api = await fixture.Portal.Factory.CreateClient().GetAsync("/api/v1/tenants");
        using var sandbox = await fixture.Portal.Factory.CreateClient().GetAsync("/sandbox/connectwise/v4_6_release/apis/3.0/system/info");

        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", Single(api, "X-Content-Type-Options"));
        Assert.Equal("nosniff", Single(sandbox, "X-Content-Type-Options"));
    }

    [Fact]
    public async Task Https_AddsStrictTransportSecurity()
    {
        using var client = fixture.Portal.Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
        {
            BaseAddress = new Uri("https://portal.example/"), AllowAutoRedirect = false,
        });
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));

        using var response = await client.GetAsync("/account/login");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("max-age=", Single(response, "Strict-Transport-Security"));
        Assert.Equal(SecurityHeaders.ContentSecurityPolicy, Single(response, "Content-Security-Policy"));
    }

    private static string Single(HttpResponseMessage response, string name)
    {
        var values = response.Headers.TryGetValues(name, out var found) ? found.ToArray()
            : response.Content.Headers.TryGetValues(name, out var content) ? content.ToArray() : [];
        Assert.True(values.Length == 1, $"{response.RequestMessage?.RequestUri?.PathAndQuery} has {values.Length} {name} headers: {string.Join(" | ", values)}");
        return values[0];
    }
}
