using System.Net;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Web.Features.Live;
using Xunit.Abstractions;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>What a request must get: its status and, for redirects, where to.</summary>
public enum Outcome
{
    /// <summary>200 and the content.</summary>
    Ok,

    /// <summary>302 to the sign-in page.</summary>
    Login,

    /// <summary>302 to the access-denied page (a signed-in user without the role).</summary>
    Denied,

    /// <summary>401 without a redirect (hubs, the API).</summary>
    Unauthorized,

    /// <summary>403 (the access-denied page itself).</summary>
    Forbidden,

    NotFound,

    /// <summary>400: a form post without its antiforgery token, or a hub request without a connection.</summary>
    BadRequest,

    /// <summary>302 to the dashboard (the sign-in and setup forms of a signed-in user).</summary>
    Home,

    /// <summary>500, or an exception out of the pipeline: never expected.</summary>
    ServerError,

    /// <summary>Anything else (a redirect elsewhere, another status): never expected.</summary>
    Unexpected,
}

/// <summary>
/// One rule of the matrix: a route pattern and method of the app's endpoint list, a concrete address to try (ids of
/// organization A in braces are filled in), and what each role of organization A gets.
/// </summary>
public sealed record EndpointRule(string Method, string Pattern, string Sample, Outcome SignedOut, Outcome Admin, Outcome FullMember, Outcome Sales, string Why)
{
    /// <summary>The method the matrix tries: the rule's own, or for an endpoint that takes any method, the one its clients use.</summary>
    public string TryWith => Method != "*" ? Method : Pattern.EndsWith("negotiate", StringComparison.Ordinal) || Pattern.Contains("disconnect", StringComparison.Ordinal) ? "POST" : "GET";

    public string Key => $"{Method} {Pattern}";

    public Outcome For(MatrixRole role) => role switch
    {
        MatrixRole.SignedOut => SignedOut,
        MatrixRole.Admin => Admin,
        MatrixRole.FullMember => FullMember,
        _ => Sales,
    };
}

/// <summary>
/// The authorization matrix over HTTP, generated from the running portal's own endpoint list: every route pattern and
/// method must have a rule here (a new endpoint without one fails <see cref="EveryEndpoint_HasARule"/> naming it),
/// every rule is tried as each role of organization A and signed out, and no page, CSV or filter of A's users shows
/// anything of organization B, even when given B's ids.
/// </summary>
public sealed class AuthorizationMatrixEndpointTests(AuthorizationMatrixPortal portal, ITestOutputHelper output) : IClassFixture<AuthorizationMatrixPortal>
{
    private const string SandboxPrefix = "/sandbox/";

    /// <summary>Any signed-in user of the organization; signed out goes to sign-in.</summary>
    private static IEnumerable<EndpointRule> Page(string pattern, string? sample = null, string why = "a page for every signed-in user of the organization") =>
    [
        new("GET", pattern, sample ?? pattern, Outcome.Login, Outcome.Ok, Outcome.Ok, Outcome.Ok, why),
        new("POST", pattern, sample ?? pattern, Outcome.Login, Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest,
            "pages take no form posts but the ones of sign-in and setup; a post without the antiforgery token is refused"),
    ];

    /// <summary>Signed in, Admins only: Full Members and Sales go to access denied.</summary>
    private static IEnumerable<EndpointRule> AdminPage(string pattern, string why) =>
    [
        new("GET", pattern, pattern, Outcome.Login, Outcome.Ok, Outcome.Denied, Outcome.Denied, why),
        new("POST", pattern, pattern, Outcome.Login, Outcome.BadRequest, Outcome.Denied, Outcome.Denied, why),
    ];

    /// <summary>The ingest API: API keys only; neither a signed-out visitor nor the portal's cookie gets in.</summary>
    private static EndpointRule Api(string method, string pattern, string sample) =>
        new(method, pattern, sample, Outcome.Unauthorized, Outcome.Unauthorized, Outcome.Unauthorized, Outcome.Unauthorized,
            "the vendor platform's API: an API key of the organization, never the portal's cookie");

    private static readonly IReadOnlyList<EndpointRule> Rules =
    [
        .. Page("/"),
        .. Page("/integrations"),
        .. Page("/integrations/connectwise"),
        .. Page("/integrations/autotask"),
        .. Page("/mapping"),
        .. Page("/platform"),
        .. Page("/billing"),
        .. Page("/billing/runs/{RunId:guid}", "/billing/runs/{A.RunId}", "a run of the user's organization; another's answers not found"),
        .. Page("/tickets"),
        .. Page("/invoices"),
        .. Page("/invoices/export", why: "the export status; Start export now is refused by the service for Sales"),
        .. Page("/invoices/export/{ExportId:guid}", "/invoices/export/{A.ExportId}", "an export's log of the user's organization; another's shows not found"),
        .. Page("/system-logs"),
        .. Page("/settings", why: "everyone reads the Dictionary; the audit trail and API keys tabs are rendered for Admins only"),
        .. AdminPage("/users", "only Admins manage users"),
        new("GET", "/account/login", "/account/login", Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, "the sign-in form"),
        new("POST", "/account/login", "/account/login", Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest,
            "the sign-in form's post; without its antiforgery token it is refused"),
        new("GET", "/setup", "/setup", Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, "first run only: once an Admin exists it says so and shows no form"),
        new("POST", "/setup", "/setup", Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest,
            "first run only; without the antiforgery token it is refused (with one, 409 once set up: PortalScenarios)"),
        new("GET", "/account/access-denied", "/account/access-denied", Outcome.Forbidden, Outcome.Forbidden, Outcome.Forbidden, Outcome.Forbidden, "says access is denied"),
        new("POST", "/account/access-denied", "/account/access-denied", Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest, "no form"),
        new("GET", "/not-found", "/not-found", Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok,
            "the not-found page, public; re-executed for an unknown address it answers that address with 404"),
        new("POST", "/not-found", "/not-found", Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest, "no form"),
        new("GET", "/error", "/error", Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, "the error page, shown to anyone"),
        new("POST", "/error", "/error", Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest, "no form"),
        new("POST", "/account/logout", "/account/logout", Outcome.Login, Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest,
            "signing out is a form post with the antiforgery token"),
        new("GET", "/billing/runs/{runId:guid}/rows.csv", "/billing/runs/{A.RunId}/rows.csv", Outcome.Login, Outcome.Ok, Outcome.Ok, Outcome.Ok,
            "a run's rows as CSV for any signed-in user of its organization; another's answers 404"),
        new("GET", "/platform/export/tenants.csv", "/platform/export/tenants.csv", Outcome.Login, Outcome.Ok, Outcome.Ok, Outcome.Ok,
            "the organization's tenants as CSV for any signed-in user"),
        new("*", StatusHub.Path + "/negotiate", StatusHub.Path + "/negotiate?negotiateVersion=1", Outcome.Unauthorized, Outcome.Ok, Outcome.Ok, Outcome.Ok,
            "the live status hub: signed-in users, each in their organization's group (AuthorizationMatrixHubAndApiTests)"),
        new("*", StatusHub.Path, StatusHub.Path, Outcome.Unauthorized, Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest,
            "the live status hub's connection; without a negotiated connection id it is refused"),
        new("*", "/health/live", "/health/live", Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, "probes; says Healthy and nothing else"),
        new("*", "/health/ready", "/health/ready", Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, "probes; says Healthy and nothing else"),
        new("*", "api/docs/{**path}", "/api/docs/index.html", Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, "Swagger UI for the API, public"),
        new("GET", "/_framework/blazor.web.js", "/_framework/blazor.web.js", Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, "Blazor's script, public (ADR-0001)"),
        new("GET", "/_framework/opaque-redirect", "/_framework/opaque-redirect", Outcome.Login, Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest,
            "Blazor's redirect after an enhanced form post; only with the data-protected address Blazor gave it"),
        new("GET", "{**path:file}", "/no-such-file.css", Outcome.Login, Outcome.NotFound, Outcome.NotFound, Outcome.NotFound,
            "a file address that matches no static asset: 404 for a signed-in user, the sign-in page otherwise (the fallback policy)"),
        new("HEAD", "{**path:file}", "/no-such-file.css", Outcome.Login, Outcome.NotFound, Outcome.NotFound, Outcome.NotFound,
            "a file address that matches no static asset: 404 for a signed-in user, the sign-in page otherwise (the fallback policy)"),
        new("*", "/_blazor/negotiate", "/_blazor/negotiate?negotiateVersion=1", Outcome.Unauthorized, Outcome.Ok, Outcome.Ok, Outcome.Ok,
            "the Blazor circuit: signed-in users; every page inside authorizes its own user"),
        new("*", "/_blazor", "/_blazor", Outcome.Unauthorized, Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest,
            "the Blazor circuit's connection; without a negotiated connection id it is refused"),
        new("*", "/_blazor/disconnect/", "/_blazor/disconnect/", Outcome.Login, Outcome.BadRequest, Outcome.BadRequest, Outcome.BadRequest,
            "the browser closing its circuit; only with the circuit's own id"),
        new("*", "/_blazor/initializers/", "/_blazor/initializers/", Outcome.Login, Outcome.Ok, Outcome.Ok, Outcome.Ok,
            "the list of JavaScript initializers, the same for everyone"),
        new("GET", "/openapi/{documentName}.json", "/openapi/v1.json", Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, "the API's description, public"),
        new("*", "/api/{**path}", "/api/v2/anything", Outcome.NotFound, Outcome.NotFound, Outcome.NotFound, Outcome.NotFound,
            "any other address under /api: a problem details 404, never the sign-in redirect"),
        Api("GET", "/api/v1/tenants/", "/api/v1/tenants"),
        Api("GET", "/api/v1/tenants/{externalId}", "/api/v1/tenants/t-1"),
        Api("PUT", "/api/v1/tenants/{externalId}", "/api/v1/tenants/t-1"),
        Api("POST", "/api/v1/tenants/batch", "/api/v1/tenants/batch"),
        Api("DELETE", "/api/v1/tenants/{externalId}", "/api/v1/tenants/t-1"),
        Api("GET", "/api/v1/tenants/{externalId}/usage", "/api/v1/tenants/t-1/usage"),
        Api("GET", "/api/v1/tenants/{externalId}/usage/history", "/api/v1/tenants/t-1/usage/history"),
        Api("GET", "/api/v1/products/", "/api/v1/products"),
        Api("GET", "/api/v1/products/{partNumber}", "/api/v1/products/p-1"),
        Api("PUT", "/api/v1/products/{partNumber}", "/api/v1/products/p-1"),
        Api("POST", "/api/v1/products/batch", "/api/v1/products/batch"),
        Api("DELETE", "/api/v1/products/{partNumber}", "/api/v1/products/p-1"),
        Api("POST", "/api/v1/usage/batch", "/api/v1/usage/batch"),
        Api("GET", "/api/v1/incidents/", "/api/v1/incidents"),
        Api("GET", "/api/v1/incidents/{externalId}", "/api/v1/incidents/inc-1"),
        Api("PUT", "/api/v1/incidents/{externalId}", "/api/v1/incidents/inc-1"),
        Api("POST", "/api/v1/incidents/batch", "/api/v1/incidents/batch"),
        Api("GET", "/api/v1/invoice-lines/", "/api/v1/invoice-lines"),
        Api("GET", "/api/v1/invoice-lines/{externalId}", "/api/v1/invoice-lines/line-1"),
        Api("PUT", "/api/v1/invoice-lines/{externalId}", "/api/v1/invoice-lines/line-1"),
        Api("POST", "/api/v1/invoice-lines/batch", "/api/v1/invoice-lines/batch"),
        Api("POST", "/api/v1/batch", "/api/v1/batch"),
    ];

    /// <summary>
    /// Endpoints the framework or a package maps that are the same for everyone by design; each family has its reason,
    /// and one member is tried.
    /// </summary>
    private static readonly IReadOnlyList<(string Name, Func<RouteEndpoint, bool> Matches, string Sample, Outcome Everyone, string Why)> Families =
    [
        ("static assets", e => e.Metadata.Any(m => m.GetType().Name == "StaticAssetDescriptor"), "/app.css", Outcome.Ok,
            "files of wwwroot and of the packages (scripts, styles, images): public, the sign-in page needs them"),
        ("PSA sandbox", e => e.RoutePattern.RawText?.StartsWith(SandboxPrefix, StringComparison.Ordinal) == true,
            "/sandbox/connectwise/login/companyinfo/sandbox", Outcome.Ok,
            "the ConnectWise and Autotask simulators with their own API authentication, mapped only with Sandbox:Enabled (demo, tests), never in production"),
    ];

    [Fact]
    public void EveryEndpoint_HasARule()
    {
        var missing = new List<string>();
        var used = new HashSet<string>();
        foreach (var (endpoint, method) in EndpointsByMethod())
        {
            if (Families.Any(f => f.Matches(endpoint)))
            {
                continue;
            }

            var key = $"{method} {endpoint.RoutePattern.RawText}";
            if (Rules.Any(r => r.Key == key))
            {
                used.Add(key);
            }
            else
            {
                missing.Add($"{key} ({endpoint.DisplayName})");
            }
        }

        var stale = Rules.Select(r => r.Key).Where(k => !used.Contains(k)).ToList();
        Assert.True(missing.Count == 0,
            "These endpoints have no rule in the authorization matrix. Add one to AuthorizationMatrixEndpointTests.Rules saying who may call each:\n  "
            + string.Join("\n  ", missing));
        Assert.True(stale.Count == 0, "These rules match no endpoint of the app any more; remove or correct them:\n  " + string.Join("\n  ", stale));
    }

    [Fact]
    public async Task EveryRule_EachRoleGetsWhatTheRuleSays()
    {
        var failures = new List<string>();
        var table = new StringBuilder();
        foreach (var rule in Rules)
        {
            table.Append($"{rule.Key,-60}");
            foreach (var role in Enum.GetValues<MatrixRole>())
            {
                var (actual, body) = await SendAsync(role, rule.TryWith, Fill(rule.Sample));
                table.Append($" {role}={actual}");
                if (actual != rule.For(role))
                {
                    failures.Add($"{rule.Key} as {role}: expected {rule.For(role)}, got {actual}");
                }

                if (body.Contains(AuthorizationMatrixPortal.ForeignMarker, StringComparison.OrdinalIgnoreCase))
                {
                    failures.Add($"{rule.Key} as {role} shows organization B's data");
                }
            }

            table.AppendLine();
        }

        foreach (var family in Families)
        {
            foreach (var role in Enum.GetValues<MatrixRole>())
            {
                var (actual, _) = await SendAsync(role, "GET", family.Sample);
                if (actual != family.Everyone)
                {
                    failures.Add($"{family.Name} ({family.Sample}) as {role}: expected {family.Everyone}, got {actual}");
                }
            }
        }

        output.WriteLine(table.ToString());
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData(MatrixRole.Admin)]
    [InlineData(MatrixRole.FullMember)]
    [InlineData(MatrixRole.Sales)]
    public async Task AnotherOrganizationsIds_InAddresses_ShowNothingOfIt(MatrixRole role)
    {
        var b = portal.B;
        var failures = new List<string>();
        foreach (var (url, expected) in new (string, Outcome?)[]
                 {
                     ($"/billing/runs/{b.RunId}", null),
                     ($"/billing/runs/{b.PreviewRunId}", null),
                     ($"/billing/runs/{b.RunId}/rows.csv", Outcome.NotFound),
                     ($"/billing/runs/{b.RunId}/rows.csv?outcome=Failed", Outcome.NotFound),
                     ("/tickets?incident=inc-1", Outcome.Ok),
                     ($"/tickets?incident={b.IncidentId}&failed=true&psa=ConnectWise&state=Failed", Outcome.Ok),
                     ($"/invoices/export/{b.ExportId}", null),
                     ($"/mapping?integration={b.IntegrationId}", Outcome.Ok),
                     ($"/invoices?integration={b.IntegrationId}", Outcome.Ok),
                     ("/platform/export/tenants.csv", Outcome.Ok),
                 })
        {
            var (actual, body) = await SendAsync(role, "GET", url);
            if (expected is { } status && actual != status)
            {
                failures.Add($"{url} as {role}: expected {status}, got {actual}");
            }

            if (expected is null && actual is not (Outcome.Ok or Outcome.NotFound))
            {
                failures.Add($"{url} as {role}: expected the not-found page, got {actual}");
            }

            if (body.Contains(AuthorizationMatrixPortal.ForeignMarker, StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"{url} as {role} shows organization B's data");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task OwnOrganizationsPages_ShowItsOwnData()
    {
        // The negative searches above mean something only if the same pages do show the organization's own data.
        var (_, run) = await SendAsync(MatrixRole.Sales, "GET", $"/billing/runs/{portal.A.RunId}/rows.csv");
        var (_, tenants) = await SendAsync(MatrixRole.Sales, "GET", "/platform/export/tenants.csv");
        var (_, runPage) = await SendAsync(MatrixRole.Sales, "GET", $"/billing/runs/{portal.A.RunId}");
        var (_, exportPage) = await SendAsync(MatrixRole.Sales, "GET", $"/invoices/export/{portal.A.ExportId}");

        Assert.Contains("Northwind Tenant", run);
        Assert.Contains("Northwind Tenant", tenants);
        Assert.Contains("Northwind", runPage);
        Assert.Contains("Northwind export log entry", exportPage);
    }

    private IEnumerable<(RouteEndpoint Endpoint, string Method)> EndpointsByMethod() =>
        portal.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => (e, m)));

    private string Fill(string sample) => sample
        .Replace("{A.RunId}", portal.A.RunId.ToString(), StringComparison.Ordinal)
        .Replace("{A.ExportId}", portal.A.ExportId.ToString(), StringComparison.Ordinal);

    private async Task<(Outcome Outcome, string Body)> SendAsync(MatrixRole role, string method, string url)
    {
        var client = portal.Browser(role).Client;
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PUT")
        {
            request.Content = new StringContent(method == "POST" && !url.StartsWith("/api", StringComparison.Ordinal) ? "" : "{}", Encoding.UTF8,
                url.StartsWith("/api", StringComparison.Ordinal) ? "application/json" : "application/x-www-form-urlencoded");
        }

        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            output.WriteLine($"{method} {url} as {role} threw {e.GetType().Name}: {e.Message}");
            return (Outcome.ServerError, "");
        }

        using var _ = response;
        var body = await response.Content.ReadAsStringAsync();
        var location = response.Headers.Location?.OriginalString ?? "";
        Outcome outcome = (int)response.StatusCode switch
        {
            200 => Outcome.Ok,
            302 when location.Contains("/account/login", StringComparison.Ordinal) => Outcome.Login,
            302 when location.Contains("/account/access-denied", StringComparison.Ordinal) => Outcome.Denied,
            302 when location is "/" or "http://localhost/" => Outcome.Home,
            401 => Outcome.Unauthorized,
            403 => Outcome.Forbidden,
            404 => Outcome.NotFound,
            400 => Outcome.BadRequest,
            500 => Outcome.ServerError,
            _ => Outcome.Unexpected,
        };
        if (outcome == Outcome.Unexpected)
        {
            output.WriteLine($"{method} {url} as {role} answered {(int)response.StatusCode} {location}");
        }

        return (outcome, body);
    }
}
