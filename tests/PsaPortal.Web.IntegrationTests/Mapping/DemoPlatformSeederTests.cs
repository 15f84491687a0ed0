using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.IntegrationTests.Mapping;

/// <summary>
/// Demo mode fills the demo organization's platform side from the built-in sandbox's own seed, once, on each database
/// provider (<see cref="SqliteDemoPlatformSeederTests"/>, <see cref="PostgreSqlDemoPlatformSeederTests"/>).
/// </summary>
public abstract class DemoPlatformSeederTests : IAsyncLifetime
{
    private PortalFactory _factory = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _factory = new PortalFactory(await CreateDatabaseAsync(), new Dictionary<string, string?>
    {
        ["Demo:Enabled"] = "true",
        ["Demo:Password"] = "Demo-Password-2026",
        ["Sandbox:Enabled"] = "true",
        ["Sandbox:Seed"] = "7",
        ["Sandbox:CompanyCount"] = "30",
        ["Sandbox:SnapshotPath"] = "",
    });

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task DemoMode_Start_FillsTheDemoOrganizationFromTheSandboxSeed()
    {
        var seed = _factory.Services.GetRequiredService<PsaSandbox>().SeedData;
        var organizationId = await _factory.OrganizationIdAsync(DemoSeeder.OrganizationName);
        var companies = seed.Companies.Where(c => c.DuplicateOfNumber is null).ToList();

        await using var db = await _factory.CreateDbContextAsync();
        var tenants = await db.Tenants.Where(t => t.OrganizationId == organizationId).OrderBy(t => t.ExternalId).ToListAsync();
        var products = await db.VendorProducts.Where(p => p.OrganizationId == organizationId).ToListAsync();
        var usage = await db.TenantUsage.Where(u => u.OrganizationId == organizationId).ToListAsync();

        Assert.Equal(30, seed.CompanyCount);
        Assert.Equal(companies.Count + DemoPlatformSeeder.NewCustomerCount, tenants.Count);
        foreach (var company in companies)
        {
            var tenant = Assert.Single(tenants, t => t.ExternalId == DemoPlatformSeeder.ExternalIdOf(company.Number));
            Assert.Equal(seed.PlatformName(company), tenant.Name);
            Assert.True(tenant.Domain is null || tenant.Domain == company.Domain, $"{tenant.Name}: {tenant.Domain}");
        }

        // The sandbox's duplicate-name companies are not tenants; the new customers are no sandbox company.
        foreach (var duplicate in seed.HardCases.DuplicateNameCompanies)
        {
            Assert.DoesNotContain(tenants, t => t.ExternalId == DemoPlatformSeeder.ExternalIdOf(duplicate));
        }

        var newCustomers = tenants.Where(t => int.Parse(t.ExternalId[3..], System.Globalization.CultureInfo.InvariantCulture) > seed.CompanyCount).ToList();
        Assert.Equal(DemoPlatformSeeder.NewCustomerCount, newCustomers.Count);
        Assert.DoesNotContain(newCustomers, t => seed.Companies.Any(c => string.Equals(c.Name, t.Name, StringComparison.OrdinalIgnoreCase)));
        Assert.InRange(tenants.Count(t => t.Domain is null), 1, tenants.Count / 2);
        Assert.Contains(companies, c => seed.PlatformName(c) != c.Name);

        Assert.Equal(SandboxSeedData.Products.Select(p => (p.Sku, p.Description, p.Price, p.Cost)).Order(),
            products.Select(p => (p.PartNumber, p.Name, p.RetailPrice, p.Cost)).Order());
        Assert.All(products, p => Assert.True(p.Recurring));

        // Usage is the sandbox's subscriptions, some counts moved since, plus the new customers' first counts.
        var skuOf = products.ToDictionary(p => p.Id, p => p.PartNumber);
        var numberOf = tenants.ToDictionary(t => t.Id, t => int.Parse(t.ExternalId[3..], System.Globalization.CultureInfo.InvariantCulture));
        var reported = usage.Where(u => numberOf[u.TenantId] <= seed.CompanyCount)
            .Select(u => (Company: numberOf[u.TenantId], Sku: skuOf[u.ProductId], u.Quantity)).ToList();
        Assert.Equal(seed.Subscriptions.Select(s => (s.CompanyNumber, s.Sku)).Order(), reported.Select(r => (r.Company, r.Sku)).Order());
        var moved = reported.Count(r => seed.Subscriptions.Single(s => s.CompanyNumber == r.Company && s.Sku == r.Sku).Quantity != r.Quantity);
        Assert.InRange(moved, 1, reported.Count / 2);
        Assert.Equal(DemoPlatformSeeder.NewCustomerCount, usage.Count(u => numberOf[u.TenantId] > seed.CompanyCount));

        var invoiceLines = await db.InvoiceLines.Where(l => l.OrganizationId == organizationId).ToListAsync();
        var lastMonth = new DateOnly(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1).AddMonths(-1);
        Assert.Equal(seed.Subscriptions.Count, invoiceLines.Count);
        Assert.All(invoiceLines, l => Assert.Equal(lastMonth, l.InvoiceMonth));
        Assert.All(invoiceLines, l => Assert.Equal(lastMonth.AddMonths(1).AddDays(-1), l.ChargeEndDate));

        var incidents = await db.Incidents.Where(i => i.OrganizationId == organizationId).ToListAsync();
        Assert.Equal(DemoPlatformSeeder.IncidentCount, incidents.Count);
        Assert.Equal(4, incidents.Select(i => i.Severity).Distinct().Count());
        Assert.True(incidents.Select(i => i.Status).Distinct().Count() > 1);
        Assert.Equal(usage.Count + seed.Subscriptions.Count, await db.TenantUsageHistory.CountAsync(h => numberOf.Keys.Contains(h.TenantId)));
    }

    [Fact]
    public async Task DemoSeeders_RunAgain_AddNothing()
    {
        var organizationId = await _factory.OrganizationIdAsync(DemoSeeder.OrganizationName);
        var before = await CountsAsync(organizationId);

        foreach (var seeder in _factory.Services.GetServices<IDatabaseSeeder>())
        {
            await seeder.SeedAsync(CancellationToken.None);
        }

        Assert.Equal(before, await CountsAsync(organizationId));
        Assert.True(before.Tenants > 0);
    }

    [Fact]
    public async Task DemoMode_OtherOrganizations_GetNoPlatformData()
    {
        var other = await _factory.AddOrganizationAsync("Northwind MSP");

        foreach (var seeder in _factory.Services.GetServices<IDatabaseSeeder>())
        {
            await seeder.SeedAsync(CancellationToken.None);
        }

        await using var db = await _factory.CreateDbContextAsync();
        Assert.False(await db.Tenants.AnyAsync(t => t.OrganizationId == other));
        Assert.False(await db.VendorProducts.AnyAsync(p => p.OrganizationId == other));
    }

    private async Task<(int Tenants, int Products, int Usage, int History, int Incidents, int Lines)> CountsAsync(Guid organizationId)
    {
        await using var db = await _factory.CreateDbContextAsync();
        return (await db.Tenants.CountAsync(t => t.OrganizationId == organizationId),
            await db.VendorProducts.CountAsync(p => p.OrganizationId == organizationId),
            await db.TenantUsage.CountAsync(u => u.OrganizationId == organizationId),
            await db.TenantUsageHistory.CountAsync(),
            await db.Incidents.CountAsync(i => i.OrganizationId == organizationId),
            await db.InvoiceLines.CountAsync(l => l.OrganizationId == organizationId));
    }
}

public sealed class SqliteDemoPlatformSeederTests : DemoPlatformSeederTests
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlDemoPlatformSeederTests(PostgreSqlFixture postgres) : DemoPlatformSeederTests
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() =>
        new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
