using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>
/// The Export status page in Chromium: reached from the Invoices tab, it shows the next scheduled export in UTC; Start
/// export now runs an export that the page follows live to its end (a product ConnectWise refuses makes it Completed
/// with failures); the detailed log lists every line with ConnectWise's words; Sales users see the page read-only with
/// the reason, and another organization's users cannot open the log. Takes the docs/invoices.md screenshots.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class InvoiceExportStatusTests(PortalUnderTest portal)
{
    [Fact]
    public async Task ExportStatus_StartExportNow_FollowsItLive_ThenTheDetailedLog()
    {
        var organization = await portal.CreateOrganizationAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxFullPublic01", "SbxFullPrivate01");
        var sandbox = portal.GetService<PsaSandbox>();
        var type = sandbox.ConnectWise.Data.AgreementTypes.All().First(t => JsonRecords.GetString(t["name"]) == "Managed Services");
        var saved = await portal.GetService<InvoiceSettingsService>().SaveAsync(LivePortal.AdminOf(organization), new InvoiceSettingsInput(
            JsonRecords.GetId(type), DailySyncEnabled: false, ExportProducts: true, ExportQuantities: true, ExportCost: false, ExportRetailPrice: false,
            ExportUsersList: false, NotificationContacts: null, InvoiceExportFrequency.Daily, 1, new TimeOnly(2, 0), [], [], new Dictionary<ChargeType, string?>()));
        Assert.True(saved.Succeeded, saved.Message);
        var newPart = $"ARCHIVE-{Guid.NewGuid():N}"[..16].ToUpperInvariant();
        var refusedPart = "BUNDLE-" + new string('9', 72);
        await SeedProductsAsync(organization.Id, sandbox, newPart, refusedPart);

        var (page, errors) = await OpenAsync(organization.Admin, "/invoices");
        await page.Locator("[data-testid=export-status-link]").ClickAsync();
        await page.WaitForURLAsync("**/invoices/export");
        await Assertions.Expect(page.Locator("[data-testid=next-export-at]")).ToHaveTextAsync(ExpectedNextDaily(2));
        await Assertions.Expect(page.Locator("[data-testid=next-export-schedule]")).ToContainTextAsync("Daily at 02:00 UTC");
        await Assertions.Expect(page.Locator("[data-testid=no-exports]")).ToBeVisibleAsync();

        // Slow ConnectWise down a little, so the export is seen running before it ends; the page is never reloaded.
        sandbox.ConnectWise.Configure(s => s with { Faults = new() { LatencyMilliseconds = 300 } });
        try
        {
            await page.Locator("[data-testid=start-export]").ClickAsync();
            var summary = page.Locator("[data-testid=export-summary]");
            await Assertions.Expect(summary.Locator("[data-testid=export-status]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(Queued|Running)$"));
            await Assertions.Expect(page.Locator("[data-testid=start-export]")).ToBeDisabledAsync();
            await Assertions.Expect(page.Locator("[data-testid=start-refusal]")).ToContainTextAsync("An export is already");
            await Assertions.Expect(summary.Locator("[data-testid=export-status]")).ToHaveTextAsync("Completed with failures", new() { Timeout = 60_000 });
        }
        finally
        {
            sandbox.ConnectWise.Configure(s => s with { Faults = new() });
        }

        var summaryCard = page.Locator("[data-testid=export-summary]");
        await Assertions.Expect(summaryCard.Locator("[data-testid=count-created] [data-testid=count-value]")).ToHaveTextAsync("1");
        await Assertions.Expect(summaryCard.Locator("[data-testid=count-unchanged] [data-testid=count-value]")).ToHaveTextAsync("1");
        await Assertions.Expect(summaryCard.Locator("[data-testid=count-failed] [data-testid=count-value]")).ToHaveTextAsync("1");
        await Assertions.Expect(summaryCard.Locator("[data-testid=export-origin]")).ToContainTextAsync($"Start export now by {organization.Admin}");
        await Assertions.Expect(summaryCard.Locator("[data-testid=export-duration]")).ToContainTextAsync("took ");
        await Assertions.Expect(page.Locator("[data-testid=export-row]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-testid=start-export]")).ToBeEnabledAsync();
        await page.Locator(".rz-notification-item .rz-notification-close").ClickAsync();
        await page.Mouse.MoveAsync(0, 0);
        await Assertions.Expect(page.Locator(".rz-notification-item")).ToHaveCountAsync(0);
        await PortalUnderTest.ScreenshotAsync(page, "invoice-export-status");

        await summaryCard.Locator("[data-testid=open-log]").ClickAsync();
        await page.WaitForURLAsync("**/invoices/export/*");
        var exportPath = new Uri(page.Url).AbsolutePath;
        var failure = page.Locator("[data-testid=log-entry][data-level=Error]");
        await Assertions.Expect(failure).ToHaveCountAsync(1);
        await Assertions.Expect(failure.Locator("[data-testid=log-subject]")).ToHaveTextAsync(refusedPart);
        await Assertions.Expect(failure.Locator("[data-testid=log-message]")).ToContainTextAsync("The field identifier must be a string with a maximum length of 75.");
        await Assertions.Expect(page.Locator("[data-testid=log-entry]", new() { HasText = newPart })).ToContainTextAsync("Catalog item created.");
        await Assertions.Expect(page.Locator("[data-testid=log-entry]", new() { HasText = "Notification" })).ToContainTextAsync("No notification contacts are set");
        await page.Locator("[data-testid=errors-only]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=log-entry]")).ToHaveCountAsync(1);
        await page.Locator("[data-testid=errors-only]").ClickAsync();
        await page.Mouse.MoveAsync(0, 0);
        await PortalUnderTest.ScreenshotAsync(page, "invoice-export-log");
        Assert.NotNull(sandbox.ConnectWise.Data.Catalog.All().SingleOrDefault(c => JsonRecords.GetString(c["identifier"]) == newPart));

        // Sales: the same page, read-only, saying why.
        var (sales, salesErrors) = await OpenAsync(organization.Sales, "/invoices/export");
        await Assertions.Expect(sales.Locator("[data-testid=export-summary] [data-testid=export-status]")).ToHaveTextAsync("Completed with failures");
        await Assertions.Expect(sales.Locator("[data-testid=start-export]")).ToHaveCountAsync(0);
        await Assertions.Expect(sales.Locator("[data-testid=start-refusal]")).ToHaveTextAsync(InvoiceExportRuns.EditorsOnly);

        // Another organization's Admin gets "No such export" for this export's log.
        var other = await portal.CreateOrganizationAsync();
        var (outsider, outsiderErrors) = await OpenAsync(other.Admin, exportPath);
        await Assertions.Expect(outsider.Locator("[data-testid=export-not-found]")).ToContainTextAsync("No such export");
        await Assertions.Expect(outsider.Locator("[data-testid=log-entry]")).ToHaveCountAsync(0);
        Assert.Empty(errors);
        Assert.Empty(salesErrors);
        Assert.Empty(outsiderErrors);
    }

    /// <summary>The next hour:00 UTC from now, as the page writes it.</summary>
    private static string ExpectedNextDaily(int hour)
    {
        var now = DateTimeOffset.UtcNow;
        var at = new DateTimeOffset(now.UtcDateTime.Date.AddHours(hour), TimeSpan.Zero);
        return InvoiceExportSummary.At(at > now ? at : at.AddDays(1));
    }

    private async Task SeedProductsAsync(Guid organizationId, PsaSandbox sandbox, string newPart, string refusedPart)
    {
        await using var db = await portal.Factory.CreateDbContextAsync();
        var integrationId = await db.Integrations.Where(i => i.OrganizationId == organizationId && i.Vendor == PsaPortal.Integrations.PsaVendor.ConnectWise).Select(i => i.Id).SingleAsync();
        var item = sandbox.ConnectWise.Data.Catalog.Find(1)!;
        var now = DateTimeOffset.UtcNow;
        var existing = new VendorProduct
        {
            OrganizationId = organizationId, PartNumber = JsonRecords.GetString(item["identifier"])!, Name = JsonRecords.GetString(item["description"])!,
            Cost = 1, RetailPrice = 2, CreatedAt = now, UpdatedAt = now,
        };
        db.VendorProducts.AddRange(
            existing,
            new VendorProduct { OrganizationId = organizationId, PartNumber = newPart, Name = "Mailbox Archive", Cost = 2, RetailPrice = 4, CreatedAt = now, UpdatedAt = now },
            new VendorProduct { OrganizationId = organizationId, PartNumber = refusedPart, Name = "Security Bundle (long part number)", Cost = 5, RetailPrice = 9, CreatedAt = now, UpdatedAt = now });
        await db.SaveChangesAsync();
        db.ProductMappings.Add(new ProductMapping { IntegrationId = integrationId, VendorProductId = existing.Id, PsaProductId = 1, PsaProductName = existing.Name, UpdatedAt = now });
        await db.SaveChangesAsync();
    }

    private async Task<(IPage Page, List<string> Errors)> OpenAsync(string email, string path)
    {
        var (page, errors) = await LivePortal.NewPageAsync(portal.Browser, portal.BaseUrl, new ViewportSize { Width = 1366, Height = 900 });
        await PortalUnderTest.SignInAsync(page, email);
        await page.GotoAsync(path);
        await PortalUnderTest.WaitForCircuitAsync(page);
        return (page, errors);
    }
}
