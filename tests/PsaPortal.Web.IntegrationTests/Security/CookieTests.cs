using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using PsaPortal.Testing;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>
/// The flags of every cookie the portal sets: the sign-in cookie and the antiforgery cookie are HttpOnly, SameSite and
/// Secure whenever the request came over https; the session expires after 8 idle hours and slides while in use.
/// </summary>
public sealed class CookieTests : IAsyncLifetime
{
    private SessionPortal _portal = null!;

    public async Task InitializeAsync() => _portal = await SessionPortal.StartAsync();

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Theory]
    [InlineData("http://localhost/", false)]
    [InlineData("https://portal.example/", true)]
    public async Task SignIn_SetsHttpOnlySameSiteCookies_SecureOnlyOverHttps(string baseAddress, bool secure)
    {
        var browser = new PortalBrowser(_portal.Factory.CreateClient(new WebApplicationFactoryClientOptions
        {
            BaseAddress = new Uri(baseAddress), AllowAutoRedirect = false, HandleCookies = true,
        }));

        var (page, _) = await browser.GetAsync("/account/login");
        var (signIn, _) = await browser.SignInAsync(SessionPortal.AdminEmail, SessionPortal.AdminPassword);

        var antiforgery = CookieNamed(page, "PsaPortal.Antiforgery");
        Assert.True(antiforgery.HttpOnly);
        Assert.Equal(Microsoft.Net.Http.Headers.SameSiteMode.Strict, antiforgery.SameSite);
        Assert.Equal(secure, antiforgery.Secure);
        Assert.Equal("/", antiforgery.Path.ToString());

        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var auth = CookieNamed(signIn, "PsaPortal.Auth");
        Assert.True(auth.HttpOnly);
        Assert.Equal(Microsoft.Net.Http.Headers.SameSiteMode.Lax, auth.SameSite);
        Assert.Equal(secure, auth.Secure);
        // A session cookie: it goes when the browser closes; the ticket inside expires on its own (below).
        Assert.Null(auth.Expires);
        Assert.Null(auth.MaxAge);
    }

    [Fact]
    public void AuthCookie_ExpiresAfterEightIdleHours_AndSlides()
    {
        var options = _portal.Factory.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(IdentityConstants.ApplicationScheme);

        Assert.Equal(TimeSpan.FromHours(8), options.ExpireTimeSpan);
        Assert.True(options.SlidingExpiration);
        Assert.Equal(CookieSecurePolicy.SameAsRequest, options.Cookie.SecurePolicy);
        Assert.True(options.Cookie.HttpOnly);
    }

    [Fact]
    public async Task SignOut_ClearsTheAuthCookie_AndPagesAskForSignInAgain()
    {
        var browser = await _portal.SignedInAsync();
        var (dashboard, document) = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);

        var signOut = await SignOutAsync(browser, document);
        var (after, _) = await browser.GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        var cleared = CookieNamed(signOut, "PsaPortal.Auth");
        Assert.True(cleared.Expires < DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/account/login", after.Headers.Location!.OriginalString.Replace("http://localhost", "", StringComparison.Ordinal));
    }

    [Fact]
    public void SecurityStamp_IsCheckedEveryMinute()
    {
        var options = _portal.Factory.Services.GetRequiredService<IOptions<SecurityStampValidatorOptions>>().Value;

        Assert.Equal(TimeSpan.FromMinutes(1), options.ValidationInterval);
    }

    [Fact]
    public async Task SignOut_ACopyOfTheCookieTakenBefore_NoLongerSignsIn()
    {
        // The stamp is checked on every request here instead of every minute, so the test need not wait a minute.
        await using var host = _portal.Factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = TimeSpan.Zero)));
        var browser = new PortalBrowser(host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));
        await browser.GetAsync("/account/login");
        var (signIn, _) = await browser.SignInAsync(SessionPortal.AdminEmail, SessionPortal.AdminPassword);
        var copied = CookieNamed(signIn, "PsaPortal.Auth");
        var (dashboard, document) = await browser.GetAsync("/");
        var withCopy = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        withCopy.DefaultRequestHeaders.Add("Cookie", $"{copied.Name}={copied.Value}");
        var beforeSignOut = await withCopy.GetAsync("/");

        var signOut = await SignOutAsync(browser, document);
        var afterSignOut = await withCopy.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Equal(HttpStatusCode.OK, beforeSignOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, afterSignOut.StatusCode);
        Assert.StartsWith("/account/login", afterSignOut.Headers.Location!.OriginalString.Replace("http://localhost", "", StringComparison.Ordinal));
    }

    /// <summary>Posts the page's sign-out form, with its antiforgery token, as the browser would.</summary>
    private static Task<HttpResponseMessage> SignOutAsync(PortalBrowser browser, IDocument page)
    {
        var form = page.QuerySelectorAll<IHtmlFormElement>("form").Single(f => f.GetAttribute("action")?.EndsWith("account/logout", StringComparison.Ordinal) == true);
        var fields = form.QuerySelectorAll<IHtmlInputElement>("input[name]").ToDictionary(i => i.Name!, i => i.Value ?? "");
        return browser.Client.PostAsync("/account/logout", new FormUrlEncodedContent(fields));
    }

    private static SetCookieHeaderValue CookieNamed(HttpResponseMessage response, string name)
    {
        var all = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToArray() : [];
        var cookie = SetCookieHeaderValue.ParseList(all).SingleOrDefault(c => c.Name == name);
        Assert.True(cookie is not null, $"{response.RequestMessage?.RequestUri} set no {name} cookie; it set: {string.Join(" | ", all)}");
        return cookie;
    }
}
