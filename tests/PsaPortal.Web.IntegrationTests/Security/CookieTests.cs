using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
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

        var form = document.QuerySelectorAll<IHtmlFormElement>("form").Single(f => f.GetAttribute("action")?.EndsWith("account/logout", StringComparison.Ordinal) == true);
        var fields = form.QuerySelectorAll<IHtmlInputElement>("input[name]").ToDictionary(i => i.Name!, i => i.Value ?? "");
        var signOut = await browser.Client.PostAsync("/account/logout", new FormUrlEncodedContent(fields));
        var (after, _) = await browser.GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        var cleared = CookieNamed(signOut, "PsaPortal.Auth");
        Assert.True(cleared.Expires < DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/account/login", after.Headers.Location!.OriginalString.Replace("http://localhost", "", StringComparison.Ordinal));
    }

    private static SetCookieHeaderValue CookieNamed(HttpResponseMessage response, string name)
    {
        var all = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToArray() : [];
        var cookie = SetCookieHeaderValue.ParseList(all).SingleOrDefault(c => c.Name == name);
        Assert.True(cookie is not null, $"{response.RequestMessage?.RequestUri} set no {name} cookie; it set: {string.Join(" | ", all)}");
        return cookie;
    }
}
