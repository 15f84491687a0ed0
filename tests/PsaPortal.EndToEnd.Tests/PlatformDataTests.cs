using System.Text;
using Microsoft.Playwright;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>The Platform data page and Settings › API keys in Chromium: CSV import with preview, live usage, one-time keys.</summary>
[Collection(PortalCollection.Name)]
public sealed class PlatformDataTests(PortalUnderTest portal)
{
    private const string TenantsCsv =
        "externalId,name,domain,status\r\n" +
        "T-1,Contoso,contoso.com,Active\r\n" +
        "T-2,,fabrikam.com,Active\r\n" +
        "T-3,Litware,not a domain,Archived\r\n" +
        "T-1,Contoso again,,\r\n" +
        "T-4,Adatum,adatum.example,Suspended\r\n";

    [Fact]
    public async Task ImportCsv_PreviewThenValidRowsOnly_TenantsAppearAndUsageArrivesLive()
    {
        var organization = await portal.CreateOrganizationAsync();
        var (page, errors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(page, organization.Admin);
        await page.GotoAsync("/platform");
        await LivePortal.WaitForCircuitAsync(page);

        await page.GetByRole(AriaRole.Tab, new() { Name = "Import" }).ClickAsync();
        await page.Locator("[data-testid=import-file]").SetInputFilesAsync(new FilePayload
        {
            Name = "tenants.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(TenantsCsv),
        });

        await Assertions.Expect(page.Locator("[data-testid=import-summary]")).ToContainTextAsync("5 rows, 2 valid, 3 with errors");
        await Assertions.Expect(page.Locator("[data-testid=import-all]")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("[data-testid=import-row-error]")).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator("[data-testid=import-preview]")).ToContainTextAsync("Line 3, name: Name is required.");
        await LivePortal.ScreenshotAsync(page, "platform-import-preview");

        await page.ClickAsync("[data-testid=import-valid-only]");
        await page.ClickAsync(".rz-dialog-confirm-buttons button:has-text('Import 2 rows')");
        await Assertions.Expect(page.Locator("[data-testid=import-message]")).ToContainTextAsync("Imported 2 rows: 2 created, 0 updated, 0 unchanged; 3 rows with errors skipped.");

        await page.GetByRole(AriaRole.Tab, new() { Name = "Tenants" }).ClickAsync();
        var grid = page.Locator("[data-testid=tenants-grid]");
        await Assertions.Expect(grid).ToContainTextAsync("Contoso");
        await Assertions.Expect(grid).ToContainTextAsync("Adatum");
        var ingest = portal.GetService<PlatformIngest>();
        var pushed = await ingest.IngestAsync(organization.Id, new PlatformBatch
        {
            Products = [new ProductInput { PartNumber = "SEC-EDR-STD", Name = "EDR", Cost = 1, RetailPrice = 2, Recurring = true }],
            Usage = [new UsageInput { TenantExternalId = "T-1", PartNumber = "SEC-EDR-STD", Quantity = 25 }],
        }, "test");
        Assert.True(pushed.Succeeded);
        await Assertions.Expect(grid.Locator("[data-testid=tenant-usage]")).ToHaveTextAsync("SEC-EDR-STD 25");
        await LivePortal.ScreenshotAsync(page, "platform-tenants");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task ApiKeysTab_CreateShowsTokenOnceAndItWorks_RevokeStopsIt()
    {
        var organization = await portal.CreateOrganizationAsync();
        var (page, errors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(page, organization.Admin);
        await page.GotoAsync("/settings");
        await LivePortal.WaitForCircuitAsync(page);
        await page.GetByRole(AriaRole.Tab, new() { Name = "API keys" }).ClickAsync();

        await page.FillAsync("[data-testid=api-key-name]", "Platform billing sync");
        await page.ClickAsync("[data-testid=api-key-create]");
        var token = (await page.Locator("[data-testid=api-key-token]").InnerTextAsync()).Trim();
        await LivePortal.ScreenshotAsync(page, "settings-api-key-created");
        using var client = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var before = await client.GetAsync("/api/v1/tenants");
        await page.ClickAsync("[data-testid=api-key-done]");

        await Assertions.Expect(page.Locator("[data-testid=api-key-token]")).ToHaveCountAsync(0);
        await page.ClickAsync("[data-testid=api-key-revoke]");
        await page.ClickAsync(".rz-dialog-confirm-buttons button:has-text('Revoke')");
        await Assertions.Expect(page.Locator("[data-testid=api-key-status]")).ToHaveTextAsync("Revoked");
        var after = await client.GetAsync("/api/v1/tenants");

        Assert.Matches("^psak_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$", token);
        Assert.Equal(System.Net.HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Contains(ApiKeyAuthenticationHandler.RevokedMessage, await after.Content.ReadAsStringAsync());
        Assert.DoesNotContain(token, await page.ContentAsync());
        Assert.Empty(errors);
    }
}
