using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.IntegrationTests.Api;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>
/// Every state change a browser holding the portal's cookie could be tricked into sending needs the antiforgery
/// token: found from the app's own endpoint list, so a new endpoint without it fails here until it validates the token
/// or is listed below with the reason it need not.
/// </summary>
public sealed class AntiforgeryTests : IAsyncLifetime
{
    /// <summary>Endpoints that change state without an antiforgery token, and why that is safe. Keep this list short.</summary>
    private static readonly (string Name, Func<RouteEndpoint, bool> Matches, string Reason)[] Exempt =
    [
        ("ingest API", e => Pattern(e).StartsWith("/api/v1/", StringComparison.Ordinal) && RequiresPolicy(e, ApiFeature.PolicyName),
            "API keys only: the IngestApi policy authenticates with the ApiKey scheme alone, so the portal's cookie is no credential there (CookieAloneCannotCallTheIngestApi)."),
        ("API catch-all", e => Pattern(e) == "/api/{**path}",
            "Answers a 404 problem for any method and changes nothing."),
        ("Blazor circuit hub", e => Pattern(e).StartsWith("/_blazor", StringComparison.Ordinal),
            "SignalR (negotiate, connection, disconnect): not a form post. The SameSite=Lax sign-in cookie is not sent on another site's fetch or WebSocket, no CORS lets one read an answer, and a circuit only starts from descriptors the server put, protected, in a page that other site cannot read; changes travel inside the circuit."),
        ("status hub", e => Pattern(e).StartsWith("/hubs/status", StringComparison.Ordinal),
            "SignalR as above; the hub has no methods a client can call, it only sends events to its own organization."),
        ("health probes", e => Pattern(e).StartsWith("/health/", StringComparison.Ordinal),
            "Read-only: they answer any method with the process's or the database's health and change nothing."),
        ("Swagger UI", e => Pattern(e) == "/api/docs/{**path}",
            "Serves Swagger UI's static files for any method and changes nothing; the API it calls accepts API keys only."),
        ("sandbox", e => Pattern(e).StartsWith("/sandbox/", StringComparison.Ordinal),
            "The PSA simulators (Sandbox:Enabled, never in production): they take their own ConnectWise/Autotask credentials, never the portal's cookie."),
    ];

    private static readonly string[] SafeMethods = [HttpMethods.Get, HttpMethods.Head, HttpMethods.Options, HttpMethods.Trace];

    private SessionPortal _portal = null!;

    public async Task InitializeAsync() =>
        _portal = await SessionPortal.StartAsync(new Dictionary<string, string?> { ["Sandbox:Enabled"] = "true", ["Sandbox:SnapshotPath"] = "", ["Sandbox:CompanyCount"] = "5" });

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public void EveryStateChangingEndpoint_ValidatesAntiforgery_OrIsListedWithItsReason()
    {
        var endpoints = _portal.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var changing = endpoints.Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is not { } methods || methods.Any(m => !SafeMethods.Contains(m))).ToList();

        var unprotected = changing
            .Where(e => e.Metadata.GetMetadata<IAntiforgeryMetadata>()?.RequiresValidation != true)
            .Where(e => !Exempt.Any(x => x.Matches(e)))
            .Select(e => $"{Methods(e)} {Pattern(e)} ({e.DisplayName})")
            .ToList();

        Assert.True(unprotected.Count == 0, "These endpoints change state without validating an antiforgery token and are not listed as exempt:\n" + string.Join("\n", unprotected));
        // The list is no wider than needed: each entry still names an endpoint, and none names one that validates anyway.
        foreach (var (name, matches, _) in Exempt)
        {
            Assert.True(changing.Any(matches), $"The exemption '{name}' matches no state-changing endpoint any more; remove it.");
        }

        // The pages and the sign-out form are the ones that must validate.
        Assert.Contains(changing, e => Pattern(e) == "/account/login" && e.Metadata.GetMetadata<IAntiforgeryMetadata>()?.RequiresValidation == true);
        Assert.Contains(changing, e => Pattern(e) == "/account/logout" && e.Metadata.GetMetadata<IAntiforgeryMetadata>()?.RequiresValidation == true);
        Assert.Contains(changing, e => Pattern(e) == "/setup" && e.Metadata.GetMetadata<IAntiforgeryMetadata>()?.RequiresValidation == true);
        Assert.Contains(changing, e => Pattern(e) == "/users" && e.Metadata.GetMetadata<IAntiforgeryMetadata>()?.RequiresValidation == true);
    }

    [Fact]
    public async Task SignInWithoutToken_Is400_AndSignsNobodyIn()
    {
        var browser = _portal.Factory.NewBrowser();
        await browser.GetAsync("/account/login");

        var response = await browser.Client.PostAsync("/account/login", Form(("_handler", "login"), ("Input.Email", SessionPortal.AdminEmail), ("Input.Password", SessionPortal.AdminPassword)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("PsaPortal.Auth=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task SignOutWithoutToken_Is400_AndTheSessionStays()
    {
        var admin = await _portal.SignedInAsync();

        var forged = await admin.Client.PostAsync("/account/logout", Form(("returnUrl", "/")));
        var (dashboard, _) = await admin.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
    }

    [Fact]
    public async Task AnotherSessionsToken_IsRefused()
    {
        await _portal.AddUserAsync("operator@msp.example", PsaPortal.Web.Features.Identity.PortalRoles.FullMember, "Operator-Password-42");
        var admin = await _portal.SignedInAsync();
        var operatorBrowser = await _portal.SignedInAsync("operator@msp.example", "Operator-Password-42");
        var (_, adminPage) = await admin.GetAsync("/");
        var adminToken = adminPage.QuerySelector<IHtmlInputElement>("input[name=__RequestVerificationToken]")?.Value ?? "";

        var forged = await operatorBrowser.Client.PostAsync("/account/logout", Form(("__RequestVerificationToken", adminToken)));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
    }

    [Fact]
    public async Task PagePostWithoutToken_Is400()
    {
        var admin = await _portal.SignedInAsync();

        var forged = await admin.Client.PostAsync("/users", Form(("_handler", "anything"), ("Email", "intruder@evil.example")));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        await using var db = await _portal.Factory.CreateDbContextAsync();
        Assert.False(await db.Users.AnyAsync(u => u.Email == "intruder@evil.example"));
    }

    [Fact]
    public async Task SetupWithoutToken_Is400_AndCreatesNothing()
    {
        await using var fresh = await SessionPortal.StartAsync(setUp: false);
        var browser = fresh.Factory.NewBrowser();
        await browser.GetAsync("/setup");

        var forged = await browser.Client.PostAsync("/setup", Form(("_handler", "setup"), ("Input.OrganizationName", "Intruder"),
            ("Input.Email", "intruder@evil.example"), ("Input.Password", "Correct-Horse-42"), ("Input.ConfirmPassword", "Correct-Horse-42")));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        await using var db = await fresh.Factory.CreateDbContextAsync();
        Assert.False(await db.Organizations.AnyAsync());
        Assert.False(await db.Users.AnyAsync());
    }

    [Fact]
    public async Task CookieAloneCannotCallTheIngestApi()
    {
        var admin = await _portal.SignedInAsync();
        var (dashboard, _) = await admin.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);

        var read = await admin.Client.GetAsync("/api/v1/tenants");
        var put = await admin.Client.PutJsonAsync("/api/v1/tenants/t-1", new { name = "Tenant One" });
        var batch = await admin.Client.PostJsonAsync("/api/v1/tenants/batch", new { items = new[] { new { externalId = "t-2", name = "Tenant Two" } } });
        var delete = await admin.Client.DeleteAsync("/api/v1/tenants/t-1");

        foreach (var response in new[] { read, put, batch, delete })
        {
            var problem = await response.ProblemAsync(HttpStatusCode.Unauthorized);
            Assert.Equal(ApiKeyAuthenticationHandler.MissingMessage, problem.GetProperty("detail").GetString());
        }

        await using var db = await _portal.Factory.CreateDbContextAsync();
        Assert.False(await db.Tenants.AnyAsync());
    }

    private static string Pattern(RouteEndpoint endpoint) => "/" + endpoint.RoutePattern.RawText?.TrimStart('/');

    private static string Methods(RouteEndpoint endpoint) =>
        endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { } methods ? string.Join(",", methods) : "*";

    private static bool RequiresPolicy(RouteEndpoint endpoint, string policy) =>
        endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == policy);

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
}
