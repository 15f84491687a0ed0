using Microsoft.Playwright;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Ticketing;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>
/// The Ticketing panel of each integration page in Chromium: Refresh reads the PSA's lists, every choice saves at once
/// with a visible confirmation, a board without a Default Team is refused with how to fix it, and Sales users see the
/// panel read-only. Takes the docs/ticketing.md screenshots.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class TicketingSettingsTests(PortalUnderTest portal)
{
    [Fact]
    public async Task ConnectWisePanel_ChoicesSaveAtOnce_BoardWithoutDefaultTeamRefused_SalesReadOnly()
    {
        var organization = await portal.CreateOrganizationAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxFullPublic01", "SbxFullPrivate01");
        var (page, errors) = await OpenAsync(organization.Admin, "connectwise");
        var panel = page.Locator("[data-testid=ticketing-settings]");

        await panel.Locator("[data-testid=ticketing-refresh]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-result]")).ToContainTextAsync("Refreshed from ConnectWise", new() { Timeout = 30_000 });

        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-Board]"), "Security Alerts");
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-result]")).ToHaveTextAsync(TicketingSettingsRules.NoDefaultTeam("Security Alerts"));
        await Assertions.Expect(page.Locator(".rz-notification-item", new() { HasText = "Not saved" })).ToBeVisibleAsync();

        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-Board]"), "Help Desk");
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-result]")).ToHaveTextAsync("Saved. Service Board set to \"Help Desk\"; Closed Status set to \"Closed\", the board's closed status.");
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-Board]")).ToContainTextAsync("Help Desk");
        await Assertions.Expect(panel).ToContainTextAsync("Default Team: Tier 1");
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-missing]")).ToContainTextAsync("Default Priority");
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-DefaultPriority]"), "Priority 3 - Normal Response");
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-missing]")).ToHaveCountAsync(0);
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-CriticalPriority]"), "Priority 1 - Emergency Response");
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-HighPriority]"), "Priority 2 - Quick Response");
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-Source]"), "Integration");
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-result]")).ToHaveTextAsync("Saved. Source set to \"Integration\".");
        await panel.Locator("[data-testid=ticketing-enabled]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-enabled-label]")).ToHaveTextAsync("On: new incidents become tickets");
        await page.Mouse.MoveAsync(0, 0);
        await PortalUnderTest.ScreenshotAsync(panel, "ticketing-connectwise");

        var (sales, salesErrors) = await OpenAsync(organization.Sales, "connectwise");
        var readOnly = sales.Locator("[data-testid=ticketing-settings]");
        await Assertions.Expect(readOnly.Locator("[data-testid=ticketing-read-only]")).ToBeVisibleAsync();
        await Assertions.Expect(readOnly.Locator("[data-testid=ticketing-Board]")).ToContainTextAsync("Help Desk");
        await Assertions.Expect(readOnly.Locator("[data-testid=ticketing-Board]")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("rz-state-disabled"));
        await Assertions.Expect(readOnly.Locator("[data-testid=ticketing-refresh]")).ToHaveCountAsync(0);
        Assert.Empty(errors);
        Assert.Empty(salesErrors);
    }

    [Fact]
    public async Task AutotaskPanel_PicklistsFromAutotask_StatusesAndPrioritiesSaveAtOnce()
    {
        var organization = await portal.CreateOrganizationAsync();
        var linked = await portal.GetService<IntegrationService>().SaveAutotaskAsync(LivePortal.AdminOf(organization), new AutotaskLinkForm
        {
            UserName = "full@psaportal-sandbox.example", Secret = "SbxFullSecret1!", IntegrationCode = "PSAPORTALSANDBOX0000000000", UseSandbox = true,
        }, new Uri(portal.BaseUrl + "/"));
        Assert.True(linked.Succeeded, linked.Message);
        var (page, errors) = await OpenAsync(organization.Admin, "autotask");
        var panel = page.Locator("[data-testid=ticketing-settings]");

        await panel.Locator("[data-testid=ticketing-refresh]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-result]")).ToContainTextAsync("Refreshed from Autotask", new() { Timeout = 30_000 });
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-Queue]"), "Monitoring Alert");
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-NewStatus]"), "New");
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-UpdatedStatus]"), "In Progress");
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-AutotaskClosedStatus]"), "Complete");
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-result]")).ToHaveTextAsync("Saved. Status for closed tickets set to \"Complete\".");
        await panel.Locator("[data-testid=ticketing-enabled]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-result]")).ToHaveTextAsync("Ticketing cannot be turned on yet: choose Default Priority first.");
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-enabled-label]")).ToHaveTextAsync("Off");
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-DefaultPriority]"), "Medium");
        foreach (var severity in new[] { "Low", "Medium", "High", "Critical" })
        {
            await ChooseAsync(page, panel.Locator($"[data-testid=ticketing-{severity}Priority]"), severity);
            await Assertions.Expect(panel.Locator("[data-testid=ticketing-result]")).ToHaveTextAsync($"Saved. Priority for {severity} set to \"{severity}\".");
        }

        await panel.Locator("[data-testid=ticketing-enabled]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-enabled-label]")).ToHaveTextAsync("On: new incidents become tickets");
        await page.Mouse.MoveAsync(0, 0);
        await PortalUnderTest.ScreenshotAsync(panel, "ticketing-autotask");
        Assert.Empty(errors);
    }

    private async Task<(IPage Page, List<string> Errors)> OpenAsync(string email, string vendorPath)
    {
        // Tall enough for the whole panel in its screenshot.
        var (page, errors) = await LivePortal.NewPageAsync(portal.Browser, portal.BaseUrl, new ViewportSize { Width = 1366, Height = 2400 });
        await PortalUnderTest.SignInAsync(page, email);
        await page.GotoAsync($"/integrations/{vendorPath}");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("[data-testid=ticketing-settings]")).ToBeVisibleAsync();
        return (page, errors);
    }

    private static async Task ChooseAsync(IPage page, ILocator dropDown, string text)
    {
        await dropDown.ClickAsync();
        var items = page.Locator(".rz-dropdown-panel:visible .rz-dropdown-item");
        await items.Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex($"^{System.Text.RegularExpressions.Regex.Escape(text)}( ·.*)?$") }).First.ClickAsync();
        await Assertions.Expect(page.Locator(".rz-dropdown-panel:visible")).ToHaveCountAsync(0);
        // Saved or refused, the answer names the choice; the panel is busy until then.
        await Assertions.Expect(page.Locator("[data-testid=ticketing-result]")).ToContainTextAsync($"\"{text}\"");
    }
}
