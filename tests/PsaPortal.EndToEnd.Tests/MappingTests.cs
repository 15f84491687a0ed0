using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PsaPortal.Sandbox;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>
/// A newcomer's first mapping, in Chromium, on demo data: link the ConnectWise sandbox, refresh PSA data, Suggest,
/// accept, choose the agreement and the products, enable export; then the portal restarts on the same data folder and
/// the mapping is still there. This test runs its own portal (the shared one cannot restart) and borrows the
/// collection's Chromium.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class MappingTests(PortalUnderTest portal) : IAsyncLifetime
{
    private const string DemoAdmin = "admin@demo.psaportal.test";

    private readonly int _port = LoopbackPort.Free();
    private readonly List<PortalFactory> _portals = [];

    private string BaseUrl => $"http://127.0.0.1:{_port}";

    [Fact]
    public async Task DemoData_SuggestAcceptMapAndExport_SurvivesARestart()
    {
        // The second portal owns the data folder (and removes it); the first borrows it, so a restart finds it intact.
        var restarted = new PortalFactory(new PortalDatabase.Sqlite(), Settings(dataDirectory: null));
        var first = Start(new PortalFactory(new PortalDatabase.Sqlite(), Settings(restarted.DataDirectory)));
        var (page, errors) = await NewPageAsync();
        await LivePortal.SignInAsync(page, DemoAdmin);

        await page.GotoAsync("/integrations/connectwise");
        await LivePortal.WaitForCircuitAsync(page);
        await page.FillAsync("input[name=SiteUrl]", $"{BaseUrl}/sandbox/connectwise");
        await page.FillAsync("input[name=CompanyId]", "sandbox");
        await page.FillAsync("input[name=PublicKey]", "SbxFullPublic01");
        await page.FillAsync("input[name=PrivateKey]", "SbxFullPrivate01");
        await page.ClickAsync("[data-testid=save]");
        await page.WaitForURLAsync($"{BaseUrl}/mapping");
        await LivePortal.WaitForCircuitAsync(page);

        // Linking starts the first reference sync by itself; the button waits while one runs.
        var refresh = page.Locator("[data-testid=refresh-psa]");
        if (await refresh.IsEnabledAsync())
        {
            await refresh.ClickAsync();
        }

        await Assertions.Expect(page.Locator("[data-testid=reference-synced]")).ToHaveTextAsync("just now", new() { Timeout = 120_000 });
        await Assertions.Expect(refresh).ToBeEnabledAsync();
        var firstSync = await ReferenceSyncedAtAsync(first);
        await refresh.ClickAsync();
        await Assertions.Expect(page.Locator(".rz-notification")).ToContainTextAsync("Refreshing ConnectWise reference data");
        await Assertions.Expect(refresh).ToBeEnabledAsync(new() { Timeout = 120_000 });
        Assert.True(await ReferenceSyncedAtAsync(first) > firstSync, "Refresh PSA data did not sync again.");

        await page.ClickAsync("[data-testid=suggest]");
        await Assertions.Expect(page.Locator(".rz-notification")).ToContainTextAsync("Suggested a company for", new() { Timeout = 30_000 });
        var (tenant, company) = await SuggestedTenantAsync(first);

        await page.FillAsync("input[name=Search]", tenant.ExternalId);
        await page.PressAsync("input[name=Search]", "Enter");
        var row = page.Locator("[data-testid=mapping-grid] tbody tr").Filter(new() { HasText = tenant.ExternalId });
        await Assertions.Expect(row.Locator("[data-testid=state]")).ToHaveTextAsync("Suggested");
        await Assertions.Expect(row.Locator("[data-testid=company-picker]")).ToContainTextAsync(company);
        await row.Locator("[data-testid=accept-suggestion]").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=state]")).ToHaveTextAsync("Mapped");

        await row.Locator("[data-testid=agreement-picker]").ClickAsync();
        await page.Locator(".rz-dropdown-panel .rz-dropdown-item:visible", new() { HasText = "Managed Services" }).First.ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=agreement-picker]")).ToContainTextAsync("Managed Services");

        await page.ClickAsync("[role=tab]:has-text('Products')");
        await page.ClickAsync("[data-testid=accept-product-suggestions]");
        await Assertions.Expect(page.Locator(".rz-notification")).ToContainTextAsync("Mapped 10 products as suggested.");
        await Assertions.Expect(page.Locator("[data-testid=use-product-suggestion]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator(".rz-notification-item")).ToHaveCountAsync(0, new() { Timeout = 20_000 });
        await LivePortal.ScreenshotAsync(page, "mapping-products");
        await page.ClickAsync("[role=tab]:has-text('Organizations')");

        await row.Locator("[data-testid=export-toggle]").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=export-toggle] input")).ToBeCheckedAsync();
        await Assertions.Expect(row.Locator("[data-testid=state]")).ToHaveTextAsync("Mapped");
        await Assertions.Expect(row.Locator("[data-testid=problem]")).ToHaveCountAsync(0);

        // For the docs: mapped rows first, then the suggestions with their scores, then the rest.
        await page.FillAsync("input[name=Search]", "");
        await page.PressAsync("input[name=Search]", "Enter");
        await page.ClickAsync("[data-testid=mapping-grid] th:has-text('State')");
        await page.ClickAsync("[data-testid=mapping-grid] th:has-text('State')");
        await Assertions.Expect(page.Locator("[data-testid=mapping-grid] tbody tr").First.Locator("[data-testid=state]")).ToHaveTextAsync("Mapped");
        await Assertions.Expect(page.Locator("[data-testid=mapping-grid] tbody tr").Nth(1).Locator("[data-testid=state]")).ToHaveTextAsync("Suggested");
        await Assertions.Expect(page.Locator(".rz-notification-item")).ToHaveCountAsync(0, new() { Timeout = 20_000 });
        await LivePortal.ScreenshotAsync(page, "mapping");
        var saved = await MappingOfAsync(first, tenant.Id);
        var tenants = await TenantCountAsync(first);
        Assert.Empty(errors);

        await page.Context.CloseAsync();
        await first.DisposeAsync();
        _portals.Remove(first);
        var second = Start(restarted);
        (page, errors) = await NewPageAsync();
        await LivePortal.SignInAsync(page, DemoAdmin);
        await page.GotoAsync("/mapping");
        await LivePortal.WaitForCircuitAsync(page);
        await page.FillAsync("input[name=Search]", tenant.ExternalId);
        await page.PressAsync("input[name=Search]", "Enter");
        row = page.Locator("[data-testid=mapping-grid] tbody tr").Filter(new() { HasText = tenant.ExternalId });

        await Assertions.Expect(row.Locator("[data-testid=state]")).ToHaveTextAsync("Mapped");
        await Assertions.Expect(row.Locator("[data-testid=company-picker]")).ToContainTextAsync(company);
        await Assertions.Expect(row.Locator("[data-testid=agreement-picker]")).ToContainTextAsync("Managed Services");
        await Assertions.Expect(row.Locator("[data-testid=export-toggle] input")).ToBeCheckedAsync();
        Assert.Equal(saved, await MappingOfAsync(second, tenant.Id));
        Assert.Equal((MappingOrigin.Person, true, "Managed Services"), (saved.Origin, saved.ExportEnabled, saved.AgreementName));
        Assert.Equal(tenants, await TenantCountAsync(second));
        await using (var db = await second.CreateDbContextAsync())
        {
            Assert.Equal(10, await db.ProductMappings.CountAsync(m => m.PsaProductId != null));
        }

        Assert.Empty(errors);
    }

    [Fact]
    public async Task BilledTenant_CompanyChanged_AsksFirstThenRemapsAndAudits()
    {
        var organization = await portal.CreateOrganizationAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxFullPublic01", "SbxFullPrivate01");
        var seed = portal.GetService<PsaSandbox>().SeedData;
        var (billed, other) = (seed.Companies[7], seed.Companies[8]);
        var tenantId = await AddTenantAsync(organization.Id, billed.Name);
        var (page, errors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(page, organization.Admin);
        await page.GotoAsync("/mapping");
        await LivePortal.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("[data-testid=reference-synced]")).ToHaveTextAsync("just now", new() { Timeout = 120_000 });

        var admin = LivePortal.AdminOf(organization);
        var mapping = portal.GetService<MappingService>();
        var integrationId = (await mapping.IntegrationsAsync(admin)).Single().Id;
        var agreement = (await mapping.AgreementsOfAsync(admin, integrationId, billed.Number)).Single();
        Assert.True((await mapping.SetCompanyAsync(admin, integrationId, tenantId, billed.Number)).Succeeded);
        Assert.True((await mapping.SetAgreementAsync(admin, integrationId, tenantId, agreement.PsaId)).Succeeded);
        Assert.True((await mapping.SetExportAsync(admin, integrationId, tenantId, true)).Succeeded);
        await using (var db = await portal.Factory.CreateDbContextAsync())
        {
            await db.TenantMappings.Where(m => m.TenantId == tenantId)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastBilledAt, DateTimeOffset.UtcNow.AddDays(-1)));
        }

        await page.ReloadAsync();
        await LivePortal.WaitForCircuitAsync(page);
        var row = page.Locator("[data-testid=mapping-grid] tbody tr").Filter(new() { HasText = billed.Name });
        await Assertions.Expect(row.Locator("[data-testid=state]")).ToHaveTextAsync("Mapped");

        // Keep the mapping: nothing changes. Then remap for real.
        await ChooseCompanyAsync(page, row, other.Name);
        var dialog = page.Locator(".rz-dialog");
        await Assertions.Expect(dialog).ToContainTextAsync("the old agreement's addition will no longer be updated by PsaPortal");
        await LivePortal.ScreenshotAsync(page, "mapping-remap-warning");
        await dialog.Locator("button:has-text('Keep the mapping')").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=company-picker]")).ToContainTextAsync(billed.Name);
        await Assertions.Expect(row.Locator("[data-testid=export-toggle] input")).ToBeCheckedAsync();

        await ChooseCompanyAsync(page, row, other.Name);
        await dialog.Locator("button:has-text('Remap')").ClickAsync();
        row = page.Locator("[data-testid=mapping-grid] tbody tr").Filter(new() { HasText = other.Name });
        await Assertions.Expect(row.Locator("[data-testid=company-picker]")).ToContainTextAsync(other.Name);
        await Assertions.Expect(row.Locator("[data-testid=export-toggle] input")).Not.ToBeCheckedAsync();
        await Assertions.Expect(row.Locator("[data-testid=agreement-picker]")).ToContainTextAsync("Choose an agreement");
        await using (var db = await portal.Factory.CreateDbContextAsync())
        {
            var entry = await db.AuditEntries.SingleAsync(e => e.OrganizationId == organization.Id && e.Action == "Billed tenant remapped");
            Assert.Contains($"company \"{billed.Name}\" (Person), \"{agreement.Name}\", export on → company \"{other.Name}\" (Person)", entry.Details, StringComparison.Ordinal);
        }

        // Sales sees the same page, read-only.
        var (salesPage, salesErrors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(salesPage, organization.Sales);
        await salesPage.GotoAsync("/mapping");
        await LivePortal.WaitForCircuitAsync(salesPage);
        await Assertions.Expect(salesPage.Locator("[data-testid=company-picker]")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("rz-state-disabled"));
        await Assertions.Expect(salesPage.Locator("[data-testid=suggest]")).ToBeDisabledAsync();
        Assert.Empty(errors);
        Assert.Empty(salesErrors);
    }

    [Fact]
    public async Task BothPsasLinked_SwitchToAutotask_MapsToARecurringServiceContract()
    {
        var organization = await portal.CreateOrganizationAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxFullPublic01", "SbxFullPrivate01");
        var linked = await portal.GetService<IntegrationService>().SaveAutotaskAsync(LivePortal.AdminOf(organization), new AutotaskLinkForm
        {
            UserName = "full@psaportal-sandbox.example", Secret = "SbxFullSecret1!", IntegrationCode = "PSAPORTALSANDBOX0000000000", UseSandbox = true,
        }, new Uri(portal.BaseUrl));
        Assert.True(linked.Succeeded, linked.Message);
        var company = portal.GetService<PsaSandbox>().SeedData.Companies[9];
        await AddTenantAsync(organization.Id, company.Name.ToUpperInvariant());
        var (page, errors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(page, organization.Operator);
        await page.GotoAsync("/mapping");
        await LivePortal.WaitForCircuitAsync(page);

        await page.Locator("[data-testid=psa-selector]").GetByText("Autotask").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=mapping-grid] th", new() { HasText = "Contract" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=reference-synced]")).ToHaveTextAsync("just now", new() { Timeout = 120_000 });
        await page.ClickAsync("[data-testid=suggest]");
        var row = page.Locator("[data-testid=mapping-grid] tbody tr").Filter(new() { HasText = company.Name.ToUpperInvariant() });
        await Assertions.Expect(row.Locator("[data-testid=state]")).ToHaveTextAsync("Suggested");
        await Assertions.Expect(row.Locator("[data-testid=company-picker]")).ToContainTextAsync(company.Name);
        await row.Locator("[data-testid=accept-suggestion]").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=state]")).ToHaveTextAsync("Mapped");
        await row.Locator("[data-testid=agreement-picker]").ClickAsync();
        await page.Locator(".rz-dropdown-panel .rz-dropdown-item:visible", new() { HasText = $"Managed Services - {company.Name}" }).ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=agreement-picker]")).ToContainTextAsync($"Managed Services - {company.Name}");
        await row.Locator("[data-testid=export-toggle]").ClickAsync();

        await Assertions.Expect(row.Locator("[data-testid=export-toggle] input")).ToBeCheckedAsync();
        await Assertions.Expect(row.Locator("[data-testid=state]")).ToHaveTextAsync("Mapped");
        await using (var db = await portal.Factory.CreateDbContextAsync())
        {
            var mappings = await db.TenantMappings.Where(m => db.Integrations.Any(i => i.Id == m.IntegrationId && i.OrganizationId == organization.Id))
                .Select(m => new { m.IntegrationId, m.CompanyPsaId, m.ExportEnabled }).ToListAsync();
            var mapped = Assert.Single(mappings);
            Assert.Equal((1000L + company.Number, true), (mapped.CompanyPsaId!.Value, mapped.ExportEnabled));
        }

        Assert.Empty(errors);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var started in _portals)
        {
            await started.DisposeAsync();
        }
    }

    /// <summary>Picks a company in a row's picker by typing part of its name, as a person would with 10,000 companies.</summary>
    private static async Task ChooseCompanyAsync(IPage page, ILocator row, string company)
    {
        await row.Locator("[data-testid=company-picker]").ClickAsync();
        var panel = page.Locator(".rz-dropdown-panel:visible");
        await panel.Locator("input").FillAsync(company[..Math.Min(company.Length, 12)]);
        await panel.Locator(".rz-dropdown-item", new() { HasText = company }).First.ClickAsync();
    }

    private async Task<long> AddTenantAsync(Guid organizationId, string name)
    {
        await using var db = await portal.Factory.CreateDbContextAsync();
        var tenant = new Tenant { OrganizationId = organizationId, ExternalId = "tn-remap", Name = name, Domain = null };
        db.Tenants.Add(tenant);
        await db.SaveChangesAsync();
        return tenant.Id;
    }

    private static Dictionary<string, string?> Settings(string? dataDirectory)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Demo:Enabled"] = "true",
            ["Demo:Password"] = LivePortal.DemoPassword,
            ["Sandbox:Enabled"] = "true",
            // The restarted sandbox seeds the same companies again; its snapshot is not what this test is about.
            ["Sandbox:SnapshotPath"] = "",
        };
        if (dataDirectory is not null)
        {
            settings["Storage:DataDirectory"] = dataDirectory;
        }

        return settings;
    }

    private PortalFactory Start(PortalFactory factory)
    {
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, _port));
        factory.StartServer();
        _portals.Add(factory);
        return factory;
    }

    private Task<(IPage Page, List<string> Errors)> NewPageAsync() =>
        LivePortal.NewPageAsync(portal.Browser, BaseUrl, new ViewportSize { Width = 1440, Height = 900 });

    /// <summary>A tenant whose suggestion is its own sandbox company (past the companies that carry billing hard cases).</summary>
    private static async Task<((long Id, string ExternalId) Tenant, string Company)> SuggestedTenantAsync(PortalFactory factory)
    {
        await using var db = await factory.CreateDbContextAsync();
        var suggested = await (
                from m in db.TenantMappings
                where m.Origin == MappingOrigin.Suggested
                join t in db.Tenants on m.TenantId equals t.Id
                select new { t.Id, t.ExternalId, m.CompanyPsaId, m.CompanyName })
            .ToListAsync();
        var pick = suggested
            .Where(s => int.Parse(s.ExternalId[3..], CultureInfo.InvariantCulture) is var number && number > 6 && s.CompanyPsaId == number)
            .OrderBy(s => s.ExternalId, StringComparer.Ordinal)
            .First();
        return ((pick.Id, pick.ExternalId), pick.CompanyName!);
    }

    private static async Task<DateTimeOffset?> ReferenceSyncedAtAsync(PortalFactory factory)
    {
        var organizationId = await factory.OrganizationIdAsync(DemoSeeder.OrganizationName);
        await using var db = await factory.CreateDbContextAsync();
        return await db.Integrations.Where(i => i.OrganizationId == organizationId).Select(i => i.ReferenceSyncedAt).SingleAsync();
    }

    private static async Task<int> TenantCountAsync(PortalFactory factory)
    {
        var organizationId = await factory.OrganizationIdAsync(DemoSeeder.OrganizationName);
        await using var db = await factory.CreateDbContextAsync();
        return await db.Tenants.CountAsync(t => t.OrganizationId == organizationId);
    }

    private static async Task<(MappingOrigin Origin, long? CompanyPsaId, long? AgreementPsaId, string? AgreementName, bool ExportEnabled)> MappingOfAsync(
        PortalFactory factory, long tenantId)
    {
        await using var db = await factory.CreateDbContextAsync();
        var mapping = await db.TenantMappings.AsNoTracking().SingleAsync(m => m.TenantId == tenantId);
        return (mapping.Origin, mapping.CompanyPsaId, mapping.AgreementPsaId, mapping.AgreementName, mapping.ExportEnabled);
    }
}
