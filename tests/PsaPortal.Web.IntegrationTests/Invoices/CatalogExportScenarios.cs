using System.Text;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Invoices;

namespace PsaPortal.Web.IntegrationTests.Invoices;

/// <summary>
/// The product catalog export and the users list against the sandbox over real HTTP, on each database provider
/// (<see cref="SqliteCatalogExportTests"/>, <see cref="PostgreSqlCatalogExportTests"/>): run twice it creates nothing the
/// second time and changes only what changed; an existing item with the part number as identifier is updated, never
/// duplicated; the users CSV arrives on each mapped tenant's agreement with formula injection neutralised.
/// </summary>
public abstract class CatalogExportScenarios : IAsyncLifetime
{
    private static readonly SeedProduct Email = SandboxSeedData.Product("EML-SEC-USER");
    private static readonly SeedProduct Edr = SandboxSeedData.Product("SEC-EDR-STD");

    private InvoicePostingWorld _world = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _world = await InvoicePostingWorld.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await _world.DisposeAsync();

    private ConnectWiseDataView ConnectWise => _world.ConnectWise;

    private Task<InvoiceExport> ExportAsync() => _world.Get<CatalogExport>().RunAsync(_world.IntegrationId, null);

    [Fact]
    public async Task Export_Twice_CreatesTheMissingItemsOnce_TheSecondCreatesAndChangesNothing_ThenOnlyTheChangedItemIsUpdated()
    {
        await _world.ConfigureAsync(s => (s.ExportProducts, s.ExportRetailPrice, s.ExportCost) = (true, true, true));
        // Mapped, and as ConnectWise has it: unchanged. Its catalog item gives new items their subcategory and type.
        await _world.AddProductAsync(Email.Sku, Email.Description, Email.Price, Email.Cost, Email.Number);
        // Not mapped, but in the catalog under its part number (ConnectWise compares identifiers without case) with
        // another price: updated, not duplicated.
        await _world.AddProductAsync(Edr.Sku.ToLowerInvariant(), Edr.Description, 4.95m, Edr.Cost);
        var newOne = await _world.AddProductAsync("PSA-NEW-001", "Cloud Firewall (per site)", 19.00m, 8.50m);
        var longName = await _world.AddProductAsync("PSA-NEW-002", "Managed Detection and Response for Microsoft 365 Tenants, Premium Tier", 6.00m, 2.25m);
        var catalogBefore = _world.Sandbox.ConnectWise.Data.Catalog.Count;

        var first = await ExportAsync();

        Assert.Equal((InvoiceExportStatus.Succeeded, 2, 1, 1, 0), (first.Status, first.ProductsCreated, first.ProductsUpdated, first.ProductsUnchanged, first.ProductsFailed));
        Assert.Equal(catalogBefore + 2, _world.Sandbox.ConnectWise.Data.Catalog.Count);
        foreach (var sku in new[] { Email.Sku, Edr.Sku, newOne.PartNumber, longName.PartNumber })
        {
            Assert.Equal(1, ConnectWise.CatalogCount(sku));
        }

        Assert.Equal(4.95m, ConnectWiseDataView.Decimal(ConnectWise.CatalogItem(Edr.Sku)!["price"]));
        var created = ConnectWise.CatalogItem(newOne.PartNumber)!;
        var template = ConnectWise.CatalogItem(Email.Sku)!;
        Assert.Equal(("Cloud Firewall (per site)", 19.00m, 8.50m), (JsonRecords.GetString(created["description"]), ConnectWiseDataView.Decimal(created["price"]), ConnectWiseDataView.Decimal(created["cost"])));
        Assert.Equal(JsonRecords.GetId((System.Text.Json.Nodes.JsonObject)template["subcategory"]!), JsonRecords.GetId((System.Text.Json.Nodes.JsonObject)created["subcategory"]!));
        Assert.Equal(JsonRecords.GetId((System.Text.Json.Nodes.JsonObject)template["type"]!), JsonRecords.GetId((System.Text.Json.Nodes.JsonObject)created["type"]!));
        // ConnectWise holds 60 characters of description; the export cuts there, and the next export sees no change.
        Assert.Equal(longName.Name[..60], JsonRecords.GetString(ConnectWise.CatalogItem(longName.PartNumber)!["description"]));
        Assert.Equal((2, 1), (_world.Calls("POST", "/procurement/catalog"), CatalogPatches()));
        var snapshot = Snapshot();

        var second = await ExportAsync();

        Assert.Equal((InvoiceExportStatus.Succeeded, 0, 0, 4, 0), (second.Status, second.ProductsCreated, second.ProductsUpdated, second.ProductsUnchanged, second.ProductsFailed));
        Assert.Equal(snapshot, Snapshot());
        Assert.Equal(2, _world.Calls("POST", "/procurement/catalog"));
        Assert.Equal(1, CatalogPatches());

        // One price changes on the platform: exactly that item is updated.
        await using (var db = await _world.CreateDbContextAsync())
        {
            var product = await db.VendorProducts.SingleAsync(p => p.Id == newOne.Id);
            product.RetailPrice = 21.00m;
            await db.SaveChangesAsync();
        }

        var third = await ExportAsync();

        Assert.Equal((0, 1, 3), (third.ProductsCreated, third.ProductsUpdated, third.ProductsUnchanged));
        Assert.Equal(21.00m, ConnectWiseDataView.Decimal(ConnectWise.CatalogItem(newOne.PartNumber)!["price"]));
        Assert.Equal(snapshot.Where(i => i.Identifier != newOne.PartNumber), Snapshot().Where(i => i.Identifier != newOne.PartNumber));
        Assert.Equal(2, CatalogPatches());
        Assert.Equal(2, _world.Calls("POST", "/procurement/catalog"));
        await using (var db = await _world.CreateDbContextAsync())
        {
            var log = await db.InvoiceExportLog.AsNoTracking().Where(e => e.ExportId == third.Id).ToListAsync();
            Assert.Equal("Catalog item updated.", log.Single(e => e.Subject == newOne.PartNumber).Message);
        }
    }

    [Fact]
    public async Task Export_PriceAndCostOff_NewItemsCarryNeither_AndPriceDifferencesAreNotUpdates()
    {
        await _world.ConfigureAsync(s => (s.ExportProducts, s.ExportRetailPrice, s.ExportCost) = (true, false, false));
        await _world.AddProductAsync(Email.Sku, Email.Description, 9.99m, 9.99m, Email.Number);
        var newOne = await _world.AddProductAsync("PSA-NEW-003", "Backup Appliance Rental", 30m, 12m);

        var first = await ExportAsync();

        Assert.Equal((1, 0, 1), (first.ProductsCreated, first.ProductsUpdated, first.ProductsUnchanged));
        Assert.Equal((Email.Price, Email.Cost), (ConnectWiseDataView.Decimal(ConnectWise.CatalogItem(Email.Sku)!["price"]), ConnectWiseDataView.Decimal(ConnectWise.CatalogItem(Email.Sku)!["cost"])));
        var created = ConnectWise.CatalogItem(newOne.PartNumber)!;
        Assert.False(JsonRecords.TryGetDecimal(created["price"], out var price) && price == 30m);
        Assert.False(JsonRecords.TryGetDecimal(created["cost"], out var cost) && cost == 12m);
        Assert.Equal(0, CatalogPatches());
    }

    [Fact]
    public async Task Export_UsersList_ACsvOnEachMappedTenantsAgreement_FormulaInjectionNeutralised()
    {
        await _world.ConfigureAsync(s => s.ExportUsersList = true);
        var companies = ConnectWise.CompaniesWithAgreements();
        var (contosoAgreement, evilAgreement) = (ConnectWise.Agreement(companies[0]), ConnectWise.Agreement(companies[1]));
        var contoso = await _world.AddTenantAsync("Contoso");
        var evil = await _world.AddTenantAsync("=cmd|' /C calc'!A0");
        var unmapped = await _world.AddTenantAsync("Unmapped Inc");
        await _world.MapTenantAsync(contoso, companies[0], contosoAgreement);
        await _world.MapTenantAsync(evil, companies[1], evilAgreement);
        var email = await _world.AddProductAsync(Email.Sku, "Email Security", Email.Price, Email.Cost, Email.Number);
        var edr = await _world.AddProductAsync(Edr.Sku, "+EDR Standard", Edr.Price, Edr.Cost, Edr.Number);
        await _world.AddUsageAsync(contoso, email, 12);
        await _world.AddUsageAsync(contoso, edr, 0);
        await _world.AddUsageAsync(evil, edr, 4);
        await _world.AddUsageAsync(unmapped, email, 3);
        var documentsBefore = _world.Sandbox.ConnectWise.Data.Documents.Count;
        var today = DateOnly.FromDateTime(DateTime.UtcNow);

        var export = await ExportAsync();

        Assert.Equal((InvoiceExportStatus.Succeeded, 2, 0), (export.Status, export.DocumentsUploaded, export.DocumentsFailed));
        Assert.Equal(documentsBefore + 2, _world.Sandbox.ConnectWise.Data.Documents.Count);
        var (contosoDocument, contosoCsv) = Assert.Single(ConnectWise.AgreementDocuments(contosoAgreement));
        Assert.Equal($"users-Contoso-{today:yyyy-MM-dd}.csv", JsonRecords.GetString(contosoDocument["fileName"]));
        Assert.Equal("Users and services of Contoso", JsonRecords.GetString(contosoDocument["title"]));
        Assert.Equal([0xEF, 0xBB, 0xBF], contosoCsv[..3]);
        Assert.Equal(
            ["Tenant,Part Number,Product,Quantity", "Contoso,EML-SEC-USER,Email Security,12"],
            Lines(contosoCsv));

        var (_, evilCsv) = Assert.Single(ConnectWise.AgreementDocuments(evilAgreement));
        var evilLines = Lines(evilCsv);
        Assert.Equal(2, evilLines.Count);
        // Formula-looking values get a leading apostrophe (and quotes), as the platform's tenants export writes them.
        Assert.Equal("\"'=cmd|' /C calc'!A0\",SEC-EDR-STD,\"'+EDR Standard\",4", evilLines[1]);
        Assert.DoesNotContain(evilLines.SelectMany(l => l.Split(',')), cell => cell.TrimStart('"').Length > 0 && "=+-@".Contains(cell.TrimStart('"')[0], StringComparison.Ordinal));
    }

    private static List<string> Lines(byte[] csv) =>
        [.. new UTF8Encoding(false).GetString(csv).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries)];

    private int CatalogPatches() =>
        _world.Sandbox.ConnectWise.RequestLog.Entries().Count(e => e.Method == "PATCH" && e.Path.Contains("/procurement/catalog/", StringComparison.Ordinal));

    private List<(string Identifier, string? Description, decimal? Price, decimal? Cost)> Snapshot() => [.. _world.Sandbox.ConnectWise.Data.Catalog.All()
        .Select(c => (JsonRecords.GetString(c["identifier"])!, JsonRecords.GetString(c["description"]),
            JsonRecords.TryGetDecimal(c["price"], out var p) ? p : (decimal?)null, JsonRecords.TryGetDecimal(c["cost"], out var k) ? k : (decimal?)null))
        .OrderBy(c => c.Item1, StringComparer.Ordinal)];
}

public sealed class SqliteCatalogExportTests : CatalogExportScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlCatalogExportTests(PostgreSqlFixture postgres) : CatalogExportScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
