using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.IntegrationTests.Api;

namespace PsaPortal.Web.IntegrationTests.Platform;

/// <summary>
/// CSV import from the Platform data page's service: preview with per-row errors from the ingest rules, nothing
/// written before the person chooses, all or only the valid rows, audited; and the export, safe for spreadsheets.
/// </summary>
public sealed class PlatformImportTests : IAsyncLifetime
{
    private const string AdminEmail = "owner@msp.example";
    private const string AdminPassword = "Correct-Horse-42";

    private PortalFactory _factory = null!;
    private PortalBrowser _browser = null!;
    private Guid _organizationId;

    private PlatformImport Import => _factory.Services.GetRequiredService<PlatformImport>();

    private ClaimsPrincipal Admin => ApiPortal.User(_organizationId, PortalRoles.Admin, AdminEmail);

    public async Task InitializeAsync()
    {
        _factory = new PortalFactory(new PortalDatabase.Sqlite());
        _browser = _factory.NewBrowser();
        await _browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);
        _organizationId = await _factory.OrganizationIdAsync("Northwind MSP");
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private const string TenantsWithErrors =
        "externalId,name,domain,status\r\n" +
        "T-1,Contoso,contoso.com,Active\r\n" +
        "T-2,,fabrikam.com,Active\r\n" +
        "T-3,Litware,not a domain,Archived\r\n" +
        "T-1,Contoso again,,\r\n" +
        "T-4,Adatum,ADATUM.example,Suspended\r\n";

    [Fact]
    public async Task Preview_RowsWithErrors_NamesRowFieldAndMessageAndWritesNothing()
    {
        var preview = await PreviewAsync(CsvImportKind.Tenants, TenantsWithErrors);

        Assert.Null(preview.FileError);
        Assert.Equal(2, preview.ValidCount);
        Assert.Equal(3, preview.InvalidCount);
        Assert.False(preview.CanImportAll);
        Assert.True(preview.CanImportValidOnly);
        var errors = preview.Rows.SelectMany(r => r.Errors).Select(e => (e.LineNumber, e.Field, e.Message)).ToList();
        Assert.Contains((3, "name", "Name is required."), errors);
        Assert.Contains((4, "domain", "Domain must be a host name such as contoso.com: no scheme, path, port or spaces."), errors);
        Assert.Contains((4, "status", "Status must be one of: Active, Suspended, Deleted."), errors);
        Assert.Contains((5, "externalId", "External id 'T-1' appears more than once in this batch."), errors);
        Assert.Equal(0, await CountAsync());
    }

    [Fact]
    public async Task ImportAll_WhileRowsHaveErrors_IsRefused()
    {
        var preview = await PreviewAsync(CsvImportKind.Tenants, TenantsWithErrors);

        var outcome = await Import.ImportAsync(Admin, preview, validRowsOnly: false);

        Assert.False(outcome.Succeeded);
        Assert.Equal("3 rows have errors. Correct the file, or choose to import only the 2 valid rows.", outcome.Message);
        Assert.Equal(0, await CountAsync());
    }

    [Fact]
    public async Task ImportValidRowsOnly_WritesThoseAndAuditsTheSkippedCount()
    {
        var preview = await PreviewAsync(CsvImportKind.Tenants, TenantsWithErrors);

        var outcome = await Import.ImportAsync(Admin, preview, validRowsOnly: true);

        Assert.True(outcome.Succeeded, outcome.Message);
        Assert.Equal("Imported 2 rows: 2 created, 0 updated, 0 unchanged; 3 rows with errors skipped.", outcome.Message);
        await using var db = await _factory.CreateDbContextAsync();
        Assert.Equal([("T-1", "Contoso", "contoso.com"), ("T-4", "Adatum", "adatum.example")],
            (await db.Tenants.OrderBy(t => t.ExternalId).ToListAsync()).Select(t => (t.ExternalId, t.Name, t.Domain)));
        var entry = (await _factory.Services.GetRequiredService<AuditLog>().QueryOrganizationAsync(_organizationId, 0, 1)).Items.Single();
        Assert.Equal("Platform data imported", entry.Action);
        Assert.Equal("Tenants from tenants.csv", entry.Subject);
        Assert.Equal(AdminEmail, entry.ActorName);
    }

    [Fact]
    public async Task ImportAll_ValidFileTwice_SecondTimeEverythingUnchanged()
    {
        var csv = "externalId,name\r\nT-1,Contoso\r\nT-2,Fabrikam\r\n";

        var first = await Import.ImportAsync(Admin, await PreviewAsync(CsvImportKind.Tenants, csv), validRowsOnly: false);
        var second = await Import.ImportAsync(Admin, await PreviewAsync(CsvImportKind.Tenants, csv), validRowsOnly: false);

        Assert.Equal("Imported 2 rows: 2 created, 0 updated, 0 unchanged.", first.Message);
        Assert.Equal("Imported 2 rows: 0 created, 0 updated, 2 unchanged.", second.Message);
    }

    [Fact]
    public async Task UsagePreview_UnknownTenantAndProduct_AreRowErrors()
    {
        await SeedAsync();
        var preview = await PreviewAsync(CsvImportKind.Usage,
            "tenantExternalId,partNumber,quantity,asOf\r\nT-1,SEC-EDR-STD,25,2026-01-01T00:00:00Z\r\nT-9,SEC-EDR-STD,3,\r\nT-1,NOPE,3,\r\nT-1,BKP-M365-USER,-4,\r\n");

        var outcome = await Import.ImportAsync(Admin, preview, validRowsOnly: true);

        var errors = preview.Rows.SelectMany(r => r.Errors).Select(e => (e.LineNumber, e.Field)).ToList();
        Assert.Equal([(3, "tenantExternalId"), (4, "partNumber"), (5, "quantity")], errors);
        Assert.True(outcome.Succeeded, outcome.Message);
        await using var db = await _factory.CreateDbContextAsync();
        Assert.Equal(25, (await db.TenantUsage.SingleAsync(u => u.Quantity == 25)).Quantity);
    }

    [Theory]
    [InlineData(PortalRoles.Sales)]
    public async Task PreviewAndImport_Sales_AreRefused(string role)
    {
        var sales = ApiPortal.User(_organizationId, role, "sales@msp.example");
        var adminPreview = await PreviewAsync(CsvImportKind.Tenants, "externalId,name\r\nT-1,Contoso\r\n");

        var preview = await Import.PreviewAsync(sales, CsvImportKind.Tenants, "tenants.csv", Encoding.UTF8.GetBytes("externalId,name\r\nT-1,Contoso\r\n"));
        var outcome = await Import.ImportAsync(sales, adminPreview, validRowsOnly: false);

        Assert.Equal(PlatformImport.EditorsOnly, preview.FileError);
        Assert.Equal(PlatformImport.EditorsOnly, outcome.Message);
        Assert.Equal(0, await CountAsync());
    }

    [Fact]
    public async Task Preview_FileOverTenMegabytes_IsRefused()
    {
        var preview = await Import.PreviewAsync(Admin, CsvImportKind.Tenants, "big.csv", new byte[PlatformCsv.MaxFileBytes + 1]);

        Assert.Equal(PlatformImport.TooLargeMessage, preview.FileError);
    }

    [Fact]
    public async Task Export_FormulaLikeValues_AreEscapedAndServicesListed()
    {
        await SeedAsync();
        var ingest = _factory.Services.GetRequiredService<PlatformIngest>();
        await ingest.IngestAsync(_organizationId, new PlatformBatch
        {
            Tenants =
            [
                new TenantInput { ExternalId = "-2", Name = "=HYPERLINK(\"http://evil.example\",\"Click\")" },
                new TenantInput { ExternalId = "@x", Name = "+cmd|' /C calc'!A0" },
            ],
            Usage =
            [
                new UsageInput { TenantExternalId = "T-1", PartNumber = "SEC-EDR-STD", Quantity = 25 },
                new UsageInput { TenantExternalId = "T-1", PartNumber = "BKP-M365-USER", Quantity = 40 },
                new UsageInput { TenantExternalId = "T-2", PartNumber = "SEC-EDR-STD", Quantity = 0 },
            ],
        }, "test");

        var response = await _browser.Client.GetAsync(PlatformFeature.TenantExportPath);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var lines = Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        Assert.Equal("externalId,name,domain,status,services", lines[0]);
        Assert.Contains("T-1,Contoso,contoso.com,Active,BKP-M365-USER:40;SEC-EDR-STD:25", lines);
        Assert.Contains("T-2,Fabrikam,,Active,", lines);
        Assert.Contains("\"'-2\",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\",,Active,", lines);
        Assert.Contains("\"'@x\",\"'+cmd|' /C calc'!A0\",,Active,", lines);
        var cells = lines.Skip(1).SelectMany(l => l.Split(',')).Select(c => c.TrimStart('"'));
        Assert.DoesNotContain(cells, c => c.Length > 0 && c[0] is '=' or '+' or '-' or '@' or '\t' or '\r');
    }

    [Fact]
    public async Task Export_ThenImport_ChangesNothing()
    {
        await SeedAsync();
        var exported = await _browser.Client.GetByteArrayAsync(PlatformFeature.TenantExportPath);
        var asImport = Encoding.UTF8.GetString(exported).Replace(",services", "", StringComparison.Ordinal);
        var rows = asImport.Split("\r\n").Select(l => l.Split(',').Length > 4 ? string.Join(",", l.Split(',')[..4]) : l);

        var outcome = await Import.ImportAsync(Admin, await PreviewAsync(CsvImportKind.Tenants, string.Join("\r\n", rows)), validRowsOnly: false);

        Assert.Equal("Imported 2 rows: 0 created, 0 updated, 2 unchanged.", outcome.Message);
    }

    [Fact]
    public async Task Export_SignedOut_IsRedirectedToSignIn()
    {
        var stranger = _factory.NewBrowser();

        var (response, _) = await stranger.GetAsync(PlatformFeature.TenantExportPath);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    private Task<ImportPreview> PreviewAsync(CsvImportKind kind, string csv) =>
        Import.PreviewAsync(Admin, kind, kind == CsvImportKind.Tenants ? "tenants.csv" : "usage.csv", Encoding.UTF8.GetBytes(csv));

    private async Task SeedAsync()
    {
        var result = await _factory.Services.GetRequiredService<PlatformIngest>().IngestAsync(_organizationId, new PlatformBatch
        {
            Tenants = [new TenantInput { ExternalId = "T-1", Name = "Contoso", Domain = "contoso.com" }, new TenantInput { ExternalId = "T-2", Name = "Fabrikam" }],
            Products =
            [
                new ProductInput { PartNumber = "SEC-EDR-STD", Name = "EDR", Cost = 1, RetailPrice = 2, Recurring = true },
                new ProductInput { PartNumber = "BKP-M365-USER", Name = "Backup", Cost = 1, RetailPrice = 2, Recurring = true },
            ],
        }, "test");
        Assert.True(result.Succeeded);
    }

    private async Task<int> CountAsync()
    {
        await using var db = await _factory.CreateDbContextAsync();
        return await db.Tenants.CountAsync() + await db.TenantUsage.CountAsync();
    }
}
