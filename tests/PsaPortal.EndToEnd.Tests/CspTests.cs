using Microsoft.Playwright;
using PsaPortal.Testing;
using PsaPortal.Web.Infrastructure;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>
/// The portal's Content-Security-Policy in a real Chromium: Blazor's circuit, Radzen's script, styles, dialogs and
/// tabs, and Swagger UI at /api/docs all work under it — no page reports a <c>securitypolicyviolation</c> or a CSP
/// console error — while an inline script is refused, which proves the policy is enforced and watched.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class CspTests(PortalUnderTest portal)
{
    private const string WatchViolations =
        "window.__cspViolations = [];" +
        "document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(" +
        "e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' in ' + e.sourceFile + ':' + e.lineNumber));";

    [Fact]
    public async Task MainPages_WorkUnderTheContentSecurityPolicy_WithNoViolation()
    {
        var organization = await portal.CreateOrganizationAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxFullPublic01", "SbxFullPrivate01");
        var (page, errors) = await portal.NewPageAsync();
        await page.Context.AddInitScriptAsync(WatchViolations);
        var violations = new List<string>();

        var login = await page.GotoAsync("/account/login");
        Assert.Equal(SecurityHeaders.ContentSecurityPolicy, await login!.HeaderValueAsync("content-security-policy"));
        violations.AddRange(await ViolationsAsync(page, "/account/login"));
        await PortalUnderTest.SignInAsync(page, organization.Admin);
        violations.AddRange(await ViolationsAsync(page, "sign-in"));

        foreach (var (path, heading) in new[]
                 {
                     ("/", "Dashboard"), ("/integrations", "Integrations"), ("/platform", "Platform data"), ("/mapping", "Mapping"),
                     ("/billing", "Billing"), ("/tickets", "Tickets"), ("/invoices", "Invoices"), ("/system-logs", "System Logs"),
                     ("/settings", "Settings"), ("/users", "Users"),
                 })
        {
            await page.GotoAsync(path);
            await PortalUnderTest.WaitForCircuitAsync(page);
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(heading);
            violations.AddRange(await ViolationsAsync(page, path));
        }

        // Interactive pieces: Radzen tabs and grid on Settings, a Radzen dialog on Users, the ConnectWise page's cards,
        // the theme switch (Radzen writes its cookie from script), navigation inside the circuit.
        await page.GotoAsync("/settings");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await page.ClickAsync(".rz-tabview-nav >> text=API keys");
        await page.ClickAsync(".rz-tabview-nav >> text=Audit");
        await page.ClickAsync("[title='Light or dark theme']");
        await Assertions.Expect(page.Locator("#radzen-theme-link")).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex("material-dark"));
        violations.AddRange(await ViolationsAsync(page, "/settings tabs and theme"));

        await page.GotoAsync("/users");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await page.ClickAsync("[data-testid=add-user]");
        await page.Locator(".rz-dialog").WaitForAsync();
        violations.AddRange(await ViolationsAsync(page, "/users add dialog"));

        await page.GotoAsync("/integrations/connectwise");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await page.ClickAsync("[data-testid=main-navigation] .rz-navigation-item-text:text-is('Mapping')");
        await page.WaitForURLAsync($"{portal.BaseUrl}/mapping");
        violations.AddRange(await ViolationsAsync(page, "/integrations/connectwise, then Mapping in the circuit"));

        var docs = await page.GotoAsync("/api/docs");
        await page.Locator(".swagger-ui .opblock").First.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        await page.Locator(".swagger-ui .opblock-summary").First.ClickAsync();
        await page.Locator(".swagger-ui .opblock-body").First.WaitForAsync();
        violations.AddRange(await ViolationsAsync(page, "/api/docs"));

        Assert.Equal(SecurityHeaders.ContentSecurityPolicy, await docs!.HeaderValueAsync("content-security-policy"));
        Assert.Empty(violations);
        Assert.Empty(errors);

        // Cookies as the browser holds them: the session is out of script's reach; the theme is only a theme name.
        var cookies = (await page.Context.CookiesAsync()).ToDictionary(c => c.Name);
        Assert.True(cookies["PsaPortal.Auth"].HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, cookies["PsaPortal.Auth"].SameSite);
        Assert.True(cookies["PsaPortal.Antiforgery"].HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookies["PsaPortal.Antiforgery"].SameSite);
        Assert.Equal("material-dark", cookies["PsaPortal.Theme"].Value);
        Assert.Equal(SameSiteAttribute.Lax, cookies["PsaPortal.Theme"].SameSite);
    }

    [Fact]
    public async Task InlineScript_IsRefused_AndReported()
    {
        var (page, errors) = await portal.NewPageAsync();
        await page.Context.AddInitScriptAsync(WatchViolations);
        await page.GotoAsync("/account/login");

        await page.AddScriptTagAsync(new PageAddScriptTagOptions { Content = "window.__injected = true;" }).ContinueWith(_ => { });
        var ran = await page.EvaluateAsync<bool>("() => window.__injected === true");
        var violations = await page.EvaluateAsync<string[]>("() => window.__cspViolations");

        Assert.False(ran);
        Assert.Contains(violations, v => v.StartsWith("script-src", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Content Security Policy", StringComparison.Ordinal));
    }

    private static async Task<IEnumerable<string>> ViolationsAsync(IPage page, string where) =>
        (await page.EvaluateAsync<string[]>("() => window.__cspViolations || []")).Select(v => $"{where}: {v}");
}
