using PsaPortal.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>An Admin links each PSA to the built-in sandbox, as a newcomer would, and unlinks it again.</summary>
[Collection(PortalCollection.Name)]
public sealed class IntegrationLinkTests(PortalUnderTest portal)
{
    [Fact]
    public async Task ConnectWise_GoodKeys_TestsSavesAndShowsConnectedWithTheKeyMasked()
    {
        var organization = await portal.CreateOrganizationAsync();
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, organization.Admin);

        await page.GotoAsync("/integrations/connectwise");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await FillConnectWiseAsync(page, "SbxFullPublic01", "SbxFullPrivate01");
        await page.ClickAsync("[data-testid=test-connection]");
        await Assertions.Expect(page.Locator("[data-testid=link-result]")).ToHaveTextAsync(IntegrationService.TestSucceeded);
        await PortalUnderTest.ScreenshotAsync(page, "connectwise-test-successful");
        await page.ClickAsync("[data-testid=save]");
        await page.WaitForURLAsync($"{portal.BaseUrl}/mapping");
        await page.GotoAsync("/integrations/connectwise");
        await PortalUnderTest.WaitForCircuitAsync(page);

        await Assertions.Expect(page.Locator("[data-testid=status-badge]")).ToHaveTextAsync("Connected");
        Assert.Equal("", await page.InputValueAsync("input[name=PrivateKey]"));
        await Assertions.Expect(page.Locator("[data-testid=secret-stored]")).ToBeVisibleAsync();
        Assert.DoesNotContain("SbxFullPrivate01", await page.ContentAsync(), StringComparison.Ordinal);
        var stored = await FindAsync(organization.Id, PsaVendor.ConnectWise);
        Assert.Equal(IntegrationStatus.Connected, stored?.Status);
        Assert.DoesNotContain("SbxFullPrivate01", stored!.ProtectedPrivateKey, StringComparison.Ordinal);
        await PortalUnderTest.ScreenshotAsync(page, "connectwise-connected");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task ConnectWise_WrongKeys_SaysConnectionNotEstablishedAndStoresNothing()
    {
        var organization = await portal.CreateOrganizationAsync();
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, organization.Admin);

        await page.GotoAsync("/integrations/connectwise");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await FillConnectWiseAsync(page, "SbxFullPublic01", "WrongPrivateKey99");
        await page.ClickAsync("[data-testid=save]");

        await Assertions.Expect(page.Locator("[data-testid=link-result]")).ToContainTextAsync(IntegrationService.NotEstablished);
        await PortalUnderTest.ScreenshotAsync(page, "connectwise-wrong-keys");
        Assert.Contains("/integrations/connectwise", page.Url, StringComparison.Ordinal);
        Assert.Null(await FindAsync(organization.Id, PsaVendor.ConnectWise));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Autotask_SandboxUser_LinksThenDisconnectsThenDeletes()
    {
        var organization = await portal.CreateOrganizationAsync();
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, organization.Admin);

        await page.GotoAsync("/integrations/autotask");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await page.FillAsync("input[name=UserName]", "full@psaportal-sandbox.example");
        await page.FillAsync("input[name=Secret]", "SbxFullSecret1!");
        await page.FillAsync("input[name=IntegrationCode]", "PSAPORTALSANDBOX0000000000");
        await page.ClickAsync("[data-testid=save]");
        await page.WaitForURLAsync($"{portal.BaseUrl}/mapping");
        Assert.Equal(IntegrationStatus.Connected, (await FindAsync(organization.Id, PsaVendor.Autotask))?.Status);

        await page.GotoAsync("/integrations/autotask");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await page.ClickAsync("[data-testid=disconnect]");
        await page.ClickAsync(".rz-dialog-confirm-buttons button:has-text('Disconnect')");
        await Assertions.Expect(page.Locator(".rz-notification")).ToContainTextAsync("Integration disconnected successfully.");
        await Assertions.Expect(page.Locator("[data-testid=status-badge]")).ToHaveTextAsync("Not Connected");
        var disconnected = await FindAsync(organization.Id, PsaVendor.Autotask);
        Assert.Null(disconnected?.ProtectedSecret);
        Assert.Null(disconnected?.ProtectedIntegrationCode);

        await page.ClickAsync("[data-testid=delete-integration]");
        await page.ClickAsync(".rz-dialog-confirm-buttons button:has-text('Delete')");
        await Assertions.Expect(page.Locator(".rz-notification")).ToContainTextAsync("Integration deleted.");
        Assert.Null(await FindAsync(organization.Id, PsaVendor.Autotask));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task FullMemberAndSales_SettingsPage_SeeNoDeleteAndCannotEdit()
    {
        var organization = await portal.CreateOrganizationAsync();
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, organization.Operator);
        await page.GotoAsync("/integrations/connectwise");
        await PortalUnderTest.WaitForCircuitAsync(page);

        Assert.Equal(0, await page.Locator("[data-testid=delete-integration]").CountAsync());
        Assert.True(await page.Locator("input[name=SiteUrl]").IsDisabledAsync());

        var (salesPage, salesErrors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(salesPage, organization.Sales);
        await salesPage.GotoAsync("/integrations/connectwise");
        await PortalUnderTest.WaitForCircuitAsync(salesPage);
        Assert.Equal(0, await salesPage.Locator("[data-testid=admin-actions]").CountAsync());
        Assert.True(await salesPage.Locator("input[name=SiteUrl]").IsDisabledAsync());
        Assert.Empty(errors);
        Assert.Empty(salesErrors);
    }

    private async Task FillConnectWiseAsync(IPage page, string publicKey, string privateKey)
    {
        await page.FillAsync("input[name=SiteUrl]", $"{portal.BaseUrl}/sandbox/connectwise");
        await page.FillAsync("input[name=CompanyId]", "sandbox");
        await page.FillAsync("input[name=PublicKey]", publicKey);
        await page.FillAsync("input[name=PrivateKey]", privateKey);
    }

    private async Task<Integration?> FindAsync(Guid organizationId, PsaVendor vendor)
    {
        await using var db = await portal.GetService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        return await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.OrganizationId == organizationId && i.Vendor == vendor);
    }
}
