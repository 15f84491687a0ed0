using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>
/// Integrations → ConnectWise → Configuration and the Invoices tab in Chromium: the Agreement Type is required and the
/// panel says so, a rule and a custom name saved with Save Configuration give lines the System Updated badge with the
/// computed dates, an inline override gives User Updated, the filter shows only lines not fully mapped, and Sales users
/// read both; Sync selected posts a line through the engine and its row turns Posted live with the addition the sandbox
/// holds. Takes the docs/invoices.md screenshots.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class InvoiceConfigurationTests(PortalUnderTest portal)
{
    [Fact]
    public async Task Configuration_RulesAndNames_GiveSystemUpdatedLines_OverrideGivesUserUpdated()
    {
        var organization = await portal.CreateOrganizationAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxFullPublic01", "SbxFullPrivate01");
        await SeedLinesAsync(organization.Id);
        var (page, errors) = await OpenAsync(organization.Admin, "/integrations/connectwise");
        var panel = page.Locator("[data-testid=invoice-configuration]");
        await Assertions.Expect(panel.Locator("[data-testid=agreement-type-required]")).ToContainTextAsync("invoice lines cannot be posted to ConnectWise until one is chosen");
        await Assertions.Expect(panel.Locator("[data-testid=future-syncs-only]")).ToContainTextAsync("Save Configuration applies to future syncs only");

        // Saving without an agreement type is refused and loses nothing typed.
        await panel.Locator("[data-testid=custom-name-ItemFee]").FillAsync("Licence");
        await panel.Locator("[data-testid=custom-name-ItemFee]").BlurAsync();
        await panel.Locator("[data-testid=save-configuration]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=invoice-configuration-result]")).ToHaveTextAsync("Choose an Agreement Type: invoice lines cannot be posted to ConnectWise until one is chosen.");
        await Assertions.Expect(panel.Locator("[data-testid=custom-name-ItemFee]")).ToHaveValueAsync("Licence");

        await panel.Locator("[data-testid=agreement-type]").ClickAsync();
        await page.Locator(".rz-dropdown-panel:visible .rz-dropdown-item", new() { HasText = "Managed Services" }).First.ClickAsync();
        await panel.Locator("[data-testid=end-rule-add]").ClickAsync();
        await panel.Locator("[data-testid=end-rule-kind]").First.SelectOptionAsync("FirstDayOfFollowingMonth");
        await panel.Locator("[data-testid=end-rule-add]").ClickAsync();
        // Cycle Fee is taken by the first rule: the second row cannot choose it.
        await Assertions.Expect(panel.Locator("[data-testid=end-rule-type]").Nth(1).Locator("option", new() { HasText = "Cycle Fee" })).ToHaveCountAsync(0);
        await panel.Locator("[data-testid=end-rule-type]").Nth(1).SelectOptionAsync("UsageFee");
        await panel.Locator("[data-testid=start-rule-add]").ClickAsync();
        await panel.Locator("[data-testid=daily-sync]").ClickAsync();
        await panel.Locator("[data-testid=export-products]").ClickAsync();
        await panel.Locator("[data-testid=export-quantities]").ClickAsync();
        await panel.Locator("[data-testid=save-configuration]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=invoice-configuration-result]")).ToContainTextAsync("Configuration saved; it applies to future syncs only.");
        await Assertions.Expect(panel.Locator("[data-testid=agreement-type-required]")).ToHaveCountAsync(0);
        await Assertions.Expect(panel.Locator("[data-testid=end-date-rule]")).ToHaveCountAsync(2);
        await page.Mouse.MoveAsync(0, 0);
        await PortalUnderTest.ScreenshotAsync(panel, "invoice-configuration");

        await page.SetViewportSizeAsync(1366, 760);
        await page.GotoAsync("/invoices");
        await PortalUnderTest.WaitForCircuitAsync(page);
        var mapped = page.Locator("[data-testid=invoice-line][data-line='INV-100']");
        await Assertions.Expect(mapped.Locator("[data-testid=end-date]")).ToContainTextAsync("2027-01-01");
        await Assertions.Expect(mapped.Locator("[data-testid=start-date]")).ToContainTextAsync("2027-01-01");
        await Assertions.Expect(mapped.Locator("[data-testid=badge-system-updated]")).ToBeVisibleAsync();
        await Assertions.Expect(mapped.Locator("[data-testid=mapping-state]")).ToHaveTextAsync("Fully mapped");
        var renamed = page.Locator("[data-testid=invoice-line][data-line='INV-102']");
        await Assertions.Expect(renamed.Locator("[data-testid=charge-type-name]")).ToContainTextAsync("Licence");

        await mapped.Locator("[data-testid=edit-dates]").ClickAsync();
        await mapped.Locator("[data-testid=edit-end]").FillAsync("2027-01-31");
        await mapped.Locator("[data-testid=save-dates]").ClickAsync();
        await Assertions.Expect(mapped.Locator("[data-testid=badge-user-updated]")).ToBeVisibleAsync();
        await Assertions.Expect(mapped.Locator("[data-testid=end-date]")).ToContainTextAsync("2027-01-31");
        await page.Locator(".rz-notification-item .rz-notification-close").ClickAsync();
        await renamed.Locator("[data-testid=select-line]").CheckAsync();
        await Assertions.Expect(page.Locator("[data-testid=sync-selected]")).ToContainTextAsync("Sync selected (1)");
        await page.Mouse.MoveAsync(0, 0);
        await Assertions.Expect(page.Locator(".rz-notification-item")).ToHaveCountAsync(0);
        await PortalUnderTest.ScreenshotAsync(page, "invoices-page");

        // Sync selected posts the one chosen line through the engine; its row turns Posted live, with its addition.
        await page.Locator("[data-testid=sync-selected]").ClickAsync();
        await Assertions.Expect(renamed.Locator("[data-testid=sync-state]")).ToHaveTextAsync("Posted", new() { Timeout = 30_000 });
        await Assertions.Expect(renamed.Locator("[data-testid=addition-id]")).ToBeVisibleAsync();
        await Assertions.Expect(renamed.Locator("[data-testid=edit-dates]")).ToHaveCountAsync(0);
        var additionId = long.Parse((await renamed.Locator("[data-testid=addition-id]").InnerTextAsync())["Addition ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var addition = portal.GetService<PsaPortal.Sandbox.PsaSandbox>().ConnectWise.Data.Additions.Find(additionId);
        Assert.NotNull(addition);
        Assert.True(PsaPortal.Sandbox.Core.JsonRecords.TryGetDecimal(addition["agreementId"], out var agreementId));
        Assert.Equal(1m, agreementId);
        Assert.True(PsaPortal.Sandbox.Core.JsonRecords.TryGetDecimal(addition["quantity"], out var quantity));
        Assert.Equal(1m, quantity);
        await Assertions.Expect(mapped.Locator("[data-testid=sync-state]")).ToHaveTextAsync("Pending");

        await page.Locator("[data-testid=filter-not-mapped]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=invoice-line]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-testid=invoice-line]")).ToHaveAttributeAsync("data-line", "INV-200");

        var (sales, salesErrors) = await OpenAsync(organization.Sales, "/integrations/connectwise");
        await Assertions.Expect(sales.Locator("[data-testid=invoice-configuration-read-only]")).ToBeVisibleAsync();
        await Assertions.Expect(sales.Locator("[data-testid=save-configuration]")).ToHaveCountAsync(0);
        await sales.GotoAsync("/invoices");
        await PortalUnderTest.WaitForCircuitAsync(sales);
        await Assertions.Expect(sales.Locator("[data-testid=invoice-line]")).ToHaveCountAsync(3);
        await Assertions.Expect(sales.Locator("[data-testid=edit-dates]")).ToHaveCountAsync(0);
        await Assertions.Expect(sales.Locator("[data-testid=sync-all-mapped]")).ToHaveCountAsync(0);
        Assert.Empty(errors);
        Assert.Empty(salesErrors);
    }

    private async Task SeedLinesAsync(Guid organizationId)
    {
        await using var db = await portal.Factory.CreateDbContextAsync();
        var integrationId = await db.Integrations.Where(i => i.OrganizationId == organizationId && i.Vendor == PsaPortal.Integrations.PsaVendor.ConnectWise).Select(i => i.Id).SingleAsync();
        var now = DateTimeOffset.UtcNow;
        var contoso = new Tenant { OrganizationId = organizationId, ExternalId = "T-A", Name = "Contoso", CreatedAt = now, UpdatedAt = now };
        var fabrikam = new Tenant { OrganizationId = organizationId, ExternalId = "T-B", Name = "Fabrikam", CreatedAt = now, UpdatedAt = now };
        var mailbox = new VendorProduct { OrganizationId = organizationId, PartNumber = "MAIL-STD", Name = "Mailbox Protection", Cost = 2, RetailPrice = 4, CreatedAt = now, UpdatedAt = now };
        db.AddRange(contoso, fabrikam, mailbox);
        await db.SaveChangesAsync();
        db.TenantMappings.Add(new TenantMapping
        {
            IntegrationId = integrationId, TenantId = contoso.Id, CompanyPsaId = 1, CompanyName = "Contoso Ltd", AgreementPsaId = 1, AgreementName = "Contoso Managed Services",
            Origin = MappingOrigin.Person, UpdatedAt = now,
        });
        db.ProductMappings.Add(new ProductMapping { IntegrationId = integrationId, VendorProductId = mailbox.Id, PsaProductId = 1, PsaProductName = "Mailbox Protection", UpdatedAt = now });
        InvoiceLine Line(string id, Tenant tenant, ChargeType type, BillingCycle cycle, string start, string end, decimal quantity) => new()
        {
            OrganizationId = organizationId, ExternalId = id, TenantId = tenant.Id, ProductId = mailbox.Id, ChargeType = type, BillingCycle = cycle,
            ChargeStartDate = DateOnly.Parse(start, System.Globalization.CultureInfo.InvariantCulture), ChargeEndDate = DateOnly.Parse(end, System.Globalization.CultureInfo.InvariantCulture),
            Quantity = quantity, UnitPrice = 4, Cost = 2, InvoiceMonth = new DateOnly(2026, 12, 1), UpdatedAt = now,
        };
        db.InvoiceLines.AddRange(
            Line("INV-100", contoso, ChargeType.CycleFee, BillingCycle.Monthly, "2026-12-15", "2026-12-31", 3),
            Line("INV-102", contoso, ChargeType.ItemFee, BillingCycle.OneTime, "2026-12-01", "2026-12-31", 1),
            Line("INV-200", fabrikam, ChargeType.UsageFee, BillingCycle.Monthly, "2026-12-01", "2026-12-31", 4));
        await db.SaveChangesAsync();
    }

    private async Task<(IPage Page, List<string> Errors)> OpenAsync(string email, string path)
    {
        var (page, errors) = await LivePortal.NewPageAsync(portal.Browser, portal.BaseUrl, new ViewportSize { Width = 1366, Height = 2600 });
        await PortalUnderTest.SignInAsync(page, email);
        await page.GotoAsync(path);
        await PortalUnderTest.WaitForCircuitAsync(page);
        return (page, errors);
    }
}
