using PsaPortal.Testing;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PsaPortal.Web.Features.Permissions;
using PsaPortal.Web.Features.SystemLogs;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>Verify Permissions against sandbox API members with full and with incomplete security roles, watched by two Admins.</summary>
[Collection(PortalCollection.Name)]
public sealed class VerifyPermissionsTests(PortalUnderTest portal)
{
    [Fact]
    public async Task FullRightsMember_Verify_EveryCheckPassesOnBothOpenPages()
    {
        var organization = await portal.CreateOrganizationAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxFullPublic01", "SbxFullPrivate01");
        var (first, firstErrors) = await OpenSettingsAsync(organization.Admin);
        var (second, secondErrors) = await OpenSettingsAsync(organization.Operator);

        await first.ClickAsync("[data-testid=verify-start]");

        foreach (var page in new[] { first, second })
        {
            await Assertions.Expect(page.Locator("[data-testid=verify-summary]")).ToContainTextAsync("permissions are granted", new() { Timeout = 20_000 });
            var outcomes = await page.Locator("[data-testid=permission-row]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.outcome)");
            Assert.NotEmpty(outcomes);
            Assert.All(outcomes, outcome => Assert.Equal("Passed", outcome));
        }

        await PortalUnderTest.ScreenshotAsync(first.Locator("[data-testid=verify-permissions]"), "verify-permissions-all-passed");
        await portal.GetService<SystemLogWriter>().FlushAsync();
        await using (var db = await portal.Factory.CreateDbContextAsync())
        {
            var jobEvents = await db.SystemLog
                .Where(e => e.OrganizationId == organization.Id && e.Source == SystemLogSource.Job && e.Operation == VerifyPermissionsJob.JobName)
                .OrderBy(e => e.Id).Select(e => e.Message).ToListAsync();
            Assert.Equal(2, jobEvents.Count);
            Assert.StartsWith($"Started by {organization.Admin}", jobEvents[0], StringComparison.Ordinal);
            Assert.Matches(@"^Finished: \d+ passed, 0 missing, 0 could not be checked\.$", jobEvents[1]);
        }
        Assert.Empty(firstErrors);
        Assert.Empty(secondErrors);
    }

    [Fact]
    public async Task MemberWithoutPriority_Verify_NamesExactlyTheMissingPermissionLive()
    {
        var organization = await portal.CreateOrganizationAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxNoPriorityPublic", "SbxNoPriorityPrivate");
        var (first, firstErrors) = await OpenSettingsAsync(organization.Admin);
        var (second, secondErrors) = await OpenSettingsAsync(organization.Admin);

        await first.ClickAsync("[data-testid=verify-start]");

        foreach (var page in new[] { first, second })
        {
            await Assertions.Expect(page.Locator("[data-testid=verify-summary]")).ToContainTextAsync("1 permission missing", new() { Timeout = 20_000 });
            var failed = page.Locator("[data-testid=permission-row][data-outcome=Failed]");
            await Assertions.Expect(failed).ToHaveCountAsync(1);
            await Assertions.Expect(failed.Locator("[data-testid=permission-message]"))
                .ToHaveTextAsync("ConnectWise API user does not have permission to access Service > Priority.");
            Assert.Equal(0, await page.Locator("[data-testid=permission-row][data-outcome=CouldNotCheck]").CountAsync());
        }

        await PortalUnderTest.ScreenshotAsync(first.Locator("[data-testid=verify-permissions]"), "verify-permissions-missing-priority");
        Assert.Empty(firstErrors);
        Assert.Empty(secondErrors);
    }

    [Fact]
    public async Task Dashboard_WhileAnotherPageVerifies_UpdatesItselfLive()
    {
        var organization = await portal.CreateOrganizationAsync();
        var (dashboard, dashboardErrors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(dashboard, organization.Sales);
        await Assertions.Expect(dashboard.Locator("[data-testid=empty-state]")).ToBeVisibleAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxFullPublic01", "SbxFullPrivate01");
        await Assertions.Expect(dashboard.Locator("[data-testid=dashboard-status]")).ToHaveTextAsync("Connected");
        await Assertions.Expect(dashboard.Locator("[data-testid=dashboard-permissions]")).ToHaveTextAsync("Not verified yet.");
        await Assertions.Expect(dashboard.Locator("[data-testid=last-sync-psa]")).ToHaveTextAsync("No sync yet");
        var (settings, settingsErrors) = await OpenSettingsAsync(organization.Admin);

        await settings.ClickAsync("[data-testid=verify-start]");

        await Assertions.Expect(dashboard.Locator("[data-testid=dashboard-permissions]")).ToContainTextAsync("permissions granted", new() { Timeout = 20_000 });
        await PortalUnderTest.ScreenshotAsync(dashboard, "dashboard-linked");
        Assert.Empty(dashboardErrors);
        Assert.Empty(settingsErrors);
    }

    private async Task<(IPage Page, List<string> Errors)> OpenSettingsAsync(string email)
    {
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, email);
        await page.GotoAsync("/integrations/connectwise");
        await PortalUnderTest.WaitForCircuitAsync(page);
        return (page, errors);
    }
}
