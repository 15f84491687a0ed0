using PsaPortal.Testing;
using Microsoft.Playwright;
using PsaPortal.Web.Components.Layout;

namespace PsaPortal.EndToEnd.Tests;

[Collection(PortalCollection.Name)]
public sealed class ShellTests(PortalUnderTest portal)
{
    private const string Admin = "admin@demo.psaportal.test";

    /// <summary>Whether the collapsed sidebar leaves the menu no width ("0") or shows it with its texts ("wide"), once Radzen's transition ends.</summary>
    private const string MenuWidthIs = """
        expected => {
            const box = document.querySelector('[data-testid=main-navigation]').getBoundingClientRect();
            return expected === '0' ? box.width < 1 : box.left >= 0 && box.width > 200;
        }
        """;

    [Fact]
    public async Task Admin_AddsUserThroughRadzenDialog_UserAppearsWithOneTimePassword()
    {
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, Admin);

        await page.ClickAsync("text=Users");
        await page.WaitForSelectorAsync("[data-testid=users-grid] >> text=sales@demo.psaportal.test");
        await page.ClickAsync("[data-testid=add-user]");
        var dialog = page.Locator(".rz-dialog");
        await dialog.WaitForAsync();
        await PortalUnderTest.ScreenshotAsync(page, "users-add-dialog");
        await dialog.Locator("input[name=Email]").FillAsync("new.operator@demo.psaportal.test");
        await dialog.Locator("[data-testid=add-user-submit]").ClickAsync();
        var password = await dialog.Locator("[data-testid=one-time-password]").InnerTextAsync();
        await dialog.Locator("text=Done").ClickAsync();
        await page.WaitForSelectorAsync("[data-testid=users-grid] >> text=new.operator@demo.psaportal.test");

        Assert.Matches("^[A-Za-z0-9]{16}$", password);
        Assert.Equal(0, await page.Locator(".rz-dialog").CountAsync());
        Assert.Empty(errors);

        // The new user really can sign in with the password shown once.
        var (second, secondErrors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(second, "new.operator@demo.psaportal.test", password);
        Assert.Equal("new.operator@demo.psaportal.test", await second.InnerTextAsync("[data-testid=signed-in-user]"));
        Assert.Empty(secondErrors);
    }

    [Fact]
    public async Task SignedInUser_NavigatesEveryEntryInTheCircuit_EachPageRenders()
    {
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, "operator@demo.psaportal.test");
        await PortalUnderTest.ScreenshotAsync(page, "dashboard");

        foreach (var (text, _, path) in NavMenu.Entries)
        {
            await page.ClickAsync($"[data-testid=main-navigation] .rz-navigation-item-text:text-is('{text}')");
            await page.WaitForURLAsync($"{portal.BaseUrl}/{path}");
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(text);
            // The menu follows the circuit's navigation: only the entry just opened is marked current.
            await Assertions.Expect(page.Locator("[data-testid=main-navigation] a[aria-current=page] .rz-navigation-item-text")).ToHaveTextAsync([text]);
        }

        Assert.Equal(0, await page.Locator("text=Users").CountAsync());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Navigation_ToggleAndKeyboard_HidesTheMenuAndReachesEveryEntryByTab()
    {
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, "operator@demo.psaportal.test");
        var menu = page.Locator("[data-testid=main-navigation]");

        await page.ClickAsync("[aria-label='Toggle navigation']");
        await page.WaitForFunctionAsync(MenuWidthIs, "0");
        await PortalUnderTest.ScreenshotAsync(page, "navigation-collapsed");
        await page.ClickAsync("[aria-label='Toggle navigation']");
        await page.WaitForFunctionAsync(MenuWidthIs, "wide");
        await Assertions.Expect(menu).ToBeInViewportAsync();

        // Every entry is a tab stop in order; Enter on one opens its page in the circuit.
        await menu.Locator("a").First.FocusAsync();
        foreach (var (text, _, _) in NavMenu.Entries.Skip(1))
        {
            await page.Keyboard.PressAsync("Tab");
            await Assertions.Expect(page.Locator("[data-testid=main-navigation] a:focus .rz-navigation-item-text")).ToHaveTextAsync(text);
        }

        await PortalUnderTest.ScreenshotAsync(page, "navigation-keyboard-focus");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync($"{portal.BaseUrl}/{NavMenu.Entries[^1].Path}");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(NavMenu.Entries[^1].Text);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task AppearanceToggle_Click_SwitchesToDarkThemeAndRemembersIt()
    {
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, "sales@demo.psaportal.test");

        await page.ClickAsync("[title='Light or dark theme']");
        await Assertions.Expect(page.Locator("#radzen-theme-link")).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex("material-dark"));
        await PortalUnderTest.ScreenshotAsync(page, "dashboard-dark");
        await page.ReloadAsync();
        await PortalUnderTest.WaitForCircuitAsync(page);

        await Assertions.Expect(page.Locator("#radzen-theme-link")).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex("material-dark"));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task SalesUser_TypesAdminAddress_SeesAccessDenied()
    {
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, "sales@demo.psaportal.test");

        var response = await page.GotoAsync("/users");

        Assert.Equal(403, response?.Status);
        await Assertions.Expect(page.Locator("[data-testid=access-denied]")).ToBeVisibleAsync();
        // The browser reports the 403 of the page itself; nothing else may fail.
        Assert.All(errors, e => Assert.Contains("status of 403", e));
    }

    [Fact]
    public async Task SignOut_Click_ReturnsToSignInAndProtectsPages()
    {
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, "operator@demo.psaportal.test");

        await page.ClickAsync("[data-testid=sign-out]");
        await page.WaitForURLAsync(url => url.Contains("/account/login", StringComparison.Ordinal));
        await page.GotoAsync("/billing");

        Assert.Contains("/account/login?ReturnUrl=%2Fbilling", page.Url, StringComparison.Ordinal);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task BuiltInSandbox_DemoMode_AnswersAsConnectWiseAndAutotask()
    {
        using var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };

        var companyInfo = await http.GetStringAsync("/sandbox/connectwise/login/companyinfo/sandbox");
        var zone = await http.GetStringAsync("/sandbox/autotask/atservicesrest/v1.0/zoneInformation?user=full@psaportal-sandbox.example");

        Assert.Contains("\"Codebase\"", companyInfo, StringComparison.Ordinal);
        Assert.Contains($"{portal.BaseUrl}/sandbox/autotask/", zone, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongPassword_InBrowser_ShowsMessage()
    {
        var (page, errors) = await portal.NewPageAsync();

        await page.GotoAsync("/account/login");
        await page.FillAsync("#email", "operator@demo.psaportal.test");
        await page.FillAsync("#password", "not-the-password");
        await page.ClickAsync("[data-testid=sign-in]");

        await Assertions.Expect(page.Locator("[data-testid=login-error]")).ToHaveTextAsync("Invalid email or password.");
        await PortalUnderTest.ScreenshotAsync(page, "sign-in-failed");
        Assert.Empty(errors);
    }
}
