using System.Net;
using AngleSharp;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>What a sign-in form post answered, as the client at <c>Address</c> saw it.</summary>
public sealed record SignInAnswer(int Status, string? RetryAfter, IReadOnlyList<string> SetCookies, IDocument Document)
{
    public string? Error => Document.QuerySelector("[data-testid=login-error]")?.TextContent.Trim();

    public bool SignedIn => Status == StatusCodes.Status302Found && SetCookies.Any(c => c.StartsWith("PsaPortal.Auth=", StringComparison.Ordinal));
}

/// <summary>
/// The real portal (in-memory test server, a fresh SQLite file) set up with one organization and its Admin, for the
/// session suites. Sign-in posts can come from any client address (<see cref="PostSignInAsync"/>), as they would
/// through Kestrel, so the per-address rate limit can be tested.
/// </summary>
public sealed class SessionPortal : IAsyncDisposable
{
    public const string Organization = "Northwind MSP";
    public const string AdminEmail = "owner@msp.example";
    public const string AdminPassword = "Correct-Horse-42";

    private static readonly IBrowsingContext Parser = BrowsingContext.New(Configuration.Default);

    private SessionPortal(PortalFactory factory) => Factory = factory;

    public PortalFactory Factory { get; }

    public static async Task<SessionPortal> StartAsync(IReadOnlyDictionary<string, string?>? settings = null, bool setUp = true)
    {
        var portal = new SessionPortal(new PortalFactory(new PortalDatabase.Sqlite(), settings));
        if (setUp)
        {
            var (response, _) = await portal.Factory.NewBrowser().SetUpAsync(Organization, AdminEmail, AdminPassword);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        }
        else
        {
            _ = portal.Factory.Server;
        }

        return portal;
    }

    public async Task<PortalBrowser> SignedInAsync(string email = AdminEmail, string password = AdminPassword)
    {
        var browser = Factory.NewBrowser();
        var (response, document) = await browser.SignInAsync(email, password);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect,
            $"Sign-in as {email} answered {(int)response.StatusCode}: {document.QuerySelector("[data-testid=login-error]")?.TextContent}");
        return browser;
    }

    /// <summary>Adds a user of the organization with the role and returns nothing: the password is the one given.</summary>
    public async Task AddUserAsync(string email, string role, string password)
    {
        var organizationId = await Factory.OrganizationIdAsync(Organization);
        await using var scope = Factory.Services.CreateAsyncScope();
        var created = await scope.ServiceProvider.GetRequiredService<UserAccounts>().CreateAsync(organizationId, email, role, password);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
    }

    /// <summary>
    /// Loads the sign-in page (its antiforgery cookie and token) and posts the form from <paramref name="address"/>,
    /// the way a browser at that address would; <paramref name="headers"/> are added to the post (e.g. a proxy's
    /// <c>X-Forwarded-For</c>).
    /// </summary>
    public async Task<SignInAnswer> PostSignInAsync(IPAddress address, string email, string password, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var client = Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var page = await client.GetAsync("/account/login");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var cookies = page.Headers.TryGetValues("Set-Cookie", out var set) ? set.Select(c => c.Split(';')[0]).ToArray() : [];
        var pageHtml = await page.Content.ReadAsStringAsync();
        var document = await Parser.OpenAsync(request => request.Content(pageHtml));
        var form = document.QuerySelectorAll<IHtmlFormElement>("form")
            .Single(f => f.QuerySelector<IHtmlInputElement>("input[name=_handler]")?.Value == "login");
        var fields = form.QuerySelectorAll<IHtmlInputElement>("input[name]").ToDictionary(i => i.Name!, i => i.Value);
        fields["Input.Email"] = email;
        fields["Input.Password"] = password;
        var body = await new FormUrlEncodedContent(fields).ReadAsByteArrayAsync();

        var context = await Factory.Server.SendAsync(http =>
        {
            http.Connection.RemoteIpAddress = address;
            http.Request.Method = HttpMethods.Post;
            http.Request.Path = IdentityFeature.LoginPath;
            http.Request.Headers.Accept = "text/html";
            http.Request.Headers.Cookie = string.Join("; ", cookies);
            http.Request.ContentType = "application/x-www-form-urlencoded";
            http.Request.ContentLength = body.Length;
            http.Request.Body = new MemoryStream(body);
            foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            {
                http.Request.Headers[name] = value;
            }
        });
        var html = await new StreamReader(context.Response.Body).ReadToEndAsync();
        return new SignInAnswer(
            context.Response.StatusCode,
            context.Response.Headers.RetryAfter.FirstOrDefault(),
            context.Response.Headers.SetCookie.Select(c => c!).ToArray(),
            await Parser.OpenAsync(request => request.Content(html)));
    }

    public ValueTask DisposeAsync() => Factory.DisposeAsync();
}
