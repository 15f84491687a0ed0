using System.Data.Common;
using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Ticketing;
using PsaPortal.Web.Features.Users;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>Who asks, in the authorization matrix: a role of organization A, or nobody.</summary>
public enum MatrixRole
{
    SignedOut,
    Admin,
    FullMember,
    Sales,
}

/// <summary>One organization's seeded objects: what the matrix points at, by id, from both sides.</summary>
public sealed record MatrixOrganization(
    Guid Id,
    string Name,
    string Marker,
    Guid IntegrationId,
    long TenantId,
    long ProductId,
    long IncidentId,
    long IncidentTicketId,
    long InvoiceLineId,
    Guid RunId,
    Guid PreviewRunId,
    long RunItemId,
    long ScheduleId,
    Guid ExportId,
    Guid ApiKeyId,
    string ApiToken,
    string AdminUserId,
    string SalesUserId);

/// <summary>
/// One real portal (SQLite, the built-in sandbox on so its endpoints are in the list) shared by a matrix test class:
/// organization A ("Northwind MSP") with an Admin, a Full Member and a Sales user, organization B ("Zebra Networks")
/// with an Admin, and the same objects seeded in both (integration, tenant, product, incident and its failed ticket,
/// invoice line, mapping, billing runs and schedule, API key). Every name of B's data holds <see cref="ForeignMarker"/>,
/// so a page of A that shows any of it is caught by one string search.
/// </summary>
public sealed class AuthorizationMatrixPortal : IAsyncLifetime
{
    public const string ForeignMarker = "Zebra";
    public const string Password = "Correct-Horse-42";
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);

    private readonly Dictionary<MatrixRole, PortalBrowser> _browsers = [];
    private readonly Dictionary<MatrixRole, string> _cookies = [];
    private readonly Dictionary<MatrixRole, ClaimsPrincipal> _principals = [];

    public PortalFactory Factory { get; } = new(new PortalDatabase.Sqlite(), new Dictionary<string, string?>
    {
        ["Sandbox:Enabled"] = "true",
        ["Sandbox:CompanyCount"] = "3",
    });

    public MatrixOrganization A { get; private set; } = null!;

    public MatrixOrganization B { get; private set; } = null!;

    /// <summary>Organization B's Admin, as the services see them.</summary>
    public ClaimsPrincipal ForeignAdmin { get; private set; } = null!;

    public string ForeignAdminCookie { get; private set; } = null!;

    public PortalBrowser Browser(MatrixRole role) => _browsers[role];

    /// <summary>The value of the <c>Cookie</c> header a signed-in role sends (null when signed out).</summary>
    public string? Cookie(MatrixRole role) => _cookies.GetValueOrDefault(role);

    public ClaimsPrincipal Principal(MatrixRole role) => _principals[role];

    public async Task InitializeAsync()
    {
        var setup = Factory.NewBrowser();
        var (response, _) = await setup.SetUpAsync("Northwind MSP", "admin@northwind.example", Password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var northwind = await Factory.OrganizationIdAsync("Northwind MSP");
        var zebra = await Factory.AddOrganizationAsync("Zebra Networks");

        var fullMemberPassword = await AddUserAsync(northwind, "member@northwind.example", PortalRoles.FullMember);
        var salesPassword = await AddUserAsync(northwind, "sales@northwind.example", PortalRoles.Sales);
        var zebraPassword = await AddUserAsync(zebra, "admin@zebra.example", PortalRoles.Admin);

        _browsers[MatrixRole.SignedOut] = Factory.NewBrowser();
        foreach (var (role, email, password) in new[]
                 {
                     (MatrixRole.Admin, "admin@northwind.example", Password),
                     (MatrixRole.FullMember, "member@northwind.example", fullMemberPassword),
                     (MatrixRole.Sales, "sales@northwind.example", salesPassword),
                 })
        {
            (_browsers[role], _cookies[role]) = await SignInAsync(email, password);
            _principals[role] = await PrincipalAsync(email);
        }

        (_, ForeignAdminCookie) = await SignInAsync("admin@zebra.example", zebraPassword);
        ForeignAdmin = await PrincipalAsync("admin@zebra.example");

        A = await SeedAsync(northwind, "Northwind MSP", "Northwind", _principals[MatrixRole.Admin]);
        B = await SeedAsync(zebra, "Zebra Networks", ForeignMarker, ForeignAdmin);
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();

    /// <summary>An HTTP client without cookies (for the API and raw requests), redirects not followed.</summary>
    public HttpClient RawClient(string? cookie = null, string? apiToken = null)
    {
        var client = Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        if (cookie is not null)
        {
            client.DefaultRequestHeaders.Add("Cookie", cookie);
        }

        if (apiToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiToken);
        }

        return client;
    }

    /// <summary>
    /// Every row of every table except the audit trail and System Logs (a refusal may be audited), as text: what a
    /// refused action must leave exactly as it was.
    /// </summary>
    public async Task<string> SnapshotAsync()
    {
        await using var db = await Factory.CreateDbContextAsync();
        var skipped = new[] { typeof(AuditEntry), typeof(PsaPortal.Web.Features.SystemLogs.SystemLogEntry) }
            .Select(t => db.Model.FindEntityType(t)!.GetTableName()).ToHashSet(StringComparer.Ordinal);
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var text = new StringBuilder();
        foreach (var table in tables.Where(t => !skipped.Contains(t)))
        {
            await using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table}\"";
            await using var reader = await select.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "∅" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
            }

            rows.Sort(StringComparer.Ordinal);
            text.Append('#').Append(table).Append('\n');
            rows.ForEach(r => text.Append(r).Append('\n'));
        }

        return text.ToString();
    }

    private async Task<string> AddUserAsync(Guid organizationId, string email, string role)
    {
        var added = await Factory.Services.GetRequiredService<UserDirectory>().AddAsync(organizationId, Actor.Portal, email, role);
        Assert.True(added.Succeeded, added.Message);
        return added.Password!;
    }

    private async Task<(PortalBrowser Browser, string Cookie)> SignInAsync(string email, string password)
    {
        var browser = Factory.NewBrowser();
        var (response, _) = await browser.SignInAsync(email, password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("PsaPortal.Auth=", StringComparison.Ordinal));
        return (browser, cookie.Split(';')[0]);
    }

    /// <summary>The principal the portal itself builds for the user at sign-in (roles and organization claims).</summary>
    private async Task<ClaimsPrincipal> PrincipalAsync(string email)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException(email);
        return await scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<PortalUser>>().CreateAsync(user);
    }

    private async Task<MatrixOrganization> SeedAsync(Guid organizationId, string name, string marker, ClaimsPrincipal admin)
    {
        var ingest = Factory.Services.GetRequiredService<PlatformIngest>();
        var ingested = await ingest.IngestAsync(organizationId, new PlatformBatch
        {
            Tenants = [new TenantInput { ExternalId = "t-1", Name = $"{marker} Tenant", Domain = $"{marker.ToLowerInvariant()}.example" }],
            Products = [new ProductInput { PartNumber = "p-1", Name = $"{marker} Product", Cost = 1, RetailPrice = 2, Recurring = true }],
            Usage = [new UsageInput { TenantExternalId = "t-1", PartNumber = "p-1", Quantity = 5, AsOf = "2026-11-29T12:00:00Z" }],
            Incidents =
            [
                new IncidentInput
                {
                    ExternalId = "inc-1", TenantExternalId = "t-1", Title = $"{marker} Incident", Severity = "High", Status = "Open",
                    DetectedAt = "2026-11-29T12:00:00Z",
                },
            ],
            InvoiceLines =
            [
                new InvoiceLineInput
                {
                    ExternalId = "line-1", TenantExternalId = "t-1", PartNumber = "p-1", ChargeType = "CycleFee", BillingCycle = "Monthly",
                    ChargeStartDate = "2026-11-01", ChargeEndDate = "2026-11-30", Quantity = 5, UnitPrice = 2, Cost = 1, InvoiceMonth = "2026-11",
                },
            ],
        }, "authorization matrix seed");
        Assert.True(ingested.Succeeded, string.Join("; ", ingested.Errors.Select(e => e.Message)));

        await using var db = await Factory.CreateDbContextAsync();
        var tenant = await db.Tenants.SingleAsync(t => t.OrganizationId == organizationId);
        var product = await db.VendorProducts.SingleAsync(p => p.OrganizationId == organizationId);
        var incident = await db.Incidents.SingleAsync(i => i.OrganizationId == organizationId);
        var line = await db.InvoiceLines.SingleAsync(l => l.OrganizationId == organizationId);

        var integration = new Integration
        {
            OrganizationId = organizationId, Vendor = PsaVendor.ConnectWise, Status = IntegrationStatus.Connected, SiteUrl = "https://na.myconnectwise.net",
            CompanyId = $"{marker.ToLowerInvariant()}co", PublicKey = $"{marker}PublicKey", UpdatedAt = Start, ConnectedAt = Start,
        };
        db.Integrations.Add(integration);
        db.TenantMappings.Add(new TenantMapping
        {
            IntegrationId = integration.Id, TenantId = tenant.Id, CompanyPsaId = 100, CompanyName = $"{marker} Company", Origin = MappingOrigin.Person,
            AgreementPsaId = 200, AgreementName = $"{marker} Agreement", ExportEnabled = true,
        });
        var ticket = new IncidentTicket
        {
            OrganizationId = organizationId, IntegrationId = integration.Id, IncidentId = incident.Id, State = TicketState.Failed,
            ExternalReference = $"psaportal-{marker}-inc-1", Error = $"{marker} ticket error", Attempts = 3, CreatedAt = Start, UpdatedAt = Start,
        };
        db.IncidentTickets.Add(ticket);
        BillingRun Run(BillingRunMode mode) => new()
        {
            OrganizationId = organizationId, IntegrationId = integration.Id, Vendor = PsaVendor.ConnectWise, Mode = mode, Trigger = BillingRunTrigger.Manual,
            RequestedBy = $"admin@{marker.ToLowerInvariant()}.example", Status = BillingRunStatus.CompletedWithFailures, CreatedAt = Start, StartedAt = Start,
            FinishedAt = Start.AddMinutes(1), Total = 1, Done = 1, Failed = 1,
        };
        var run = Run(BillingRunMode.Apply);
        var preview = Run(BillingRunMode.Preview);
        db.BillingRuns.AddRange(run, preview);
        var schedule = new BillingSchedule
        {
            IntegrationId = integration.Id, Frequency = BillingFrequency.Daily, TimeOfDay = new TimeOnly(2, 0), DayOfMonth = 1, TimeZone = "UTC", Enabled = false,
            UpdatedAt = Start, UpdatedBy = $"admin@{marker.ToLowerInvariant()}.example",
        };
        db.BillingSchedules.Add(schedule);
        var export = new InvoiceExport
        {
            OrganizationId = organizationId, IntegrationId = integration.Id, Trigger = InvoiceRunTrigger.Manual, RequestedBy = $"admin@{marker.ToLowerInvariant()}.example",
            Status = InvoiceExportStatus.Succeeded, CreatedAt = Start, StartedAt = Start, FinishedAt = Start.AddMinutes(1), ProductsCreated = 1,
        };
        db.InvoiceExports.Add(export);
        db.InvoiceExportLog.Add(new InvoiceExportLogEntry
        {
            ExportId = export.Id, At = Start, Level = InvoiceExportLogLevel.Info, Subject = $"{marker} Product", Message = $"{marker} export log entry",
        });
        await db.SaveChangesAsync();
        BillingRunItem Item(Guid runId) => new()
        {
            RunId = runId, TenantId = tenant.Id, TenantName = tenant.Name, VendorProductId = product.Id, VendorProductName = product.Name, CompanyPsaId = 100,
            CompanyName = $"{marker} Company", AgreementPsaId = 200, AgreementName = $"{marker} Agreement", New = 5, Action = BillingAction.UpdateQuantity,
            Outcome = BillingOutcome.Failed, Message = $"{marker} billing failure", Attempts = 1, UpdatedAt = Start,
        };
        var item = Item(run.Id);
        db.BillingRunItems.AddRange(item, Item(preview.Id));
        await db.SaveChangesAsync();

        var key = await Factory.Services.GetRequiredService<ApiKeyService>().CreateAsync(admin, $"{marker} key");
        Assert.True(key.Succeeded, key.Message);
        var keyId = await db.ApiKeys.Where(k => k.OrganizationId == organizationId).Select(k => k.Id).SingleAsync();
        await using var scope = Factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var userIds = await db.Users.Where(u => u.OrganizationId == organizationId).Select(u => new { u.Id, u.Email }).ToListAsync();
        var adminId = userIds.Single(u => u.Email!.StartsWith("admin@", StringComparison.Ordinal)).Id;
        var salesId = userIds.FirstOrDefault(u => u.Email!.StartsWith("sales@", StringComparison.Ordinal))?.Id ?? adminId;
        return new MatrixOrganization(organizationId, name, marker, integration.Id, tenant.Id, product.Id, incident.Id, ticket.Id, line.Id, run.Id, preview.Id,
            item.Id, schedule.Id, export.Id, keyId, key.Token!, adminId, salesId);
    }
}
