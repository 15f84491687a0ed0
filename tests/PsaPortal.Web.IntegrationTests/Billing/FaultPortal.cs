using System.Globalization;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Recording;
using PsaPortal.Integrations.Resilience;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// The portal on Kestrel with its built-in sandbox of a few hundred companies, for the fault tests. One thing differs
/// from production: the PSA clients give up on an attempt after <see cref="AttemptTimeout"/> instead of 30 s, so the
/// sandbox's injected timeouts (which hang longer than that) cost seconds, not minutes. Retries, back-off, Retry-After
/// and the circuit breaker keep their production settings.
/// </summary>
internal sealed class FaultPortal : IAsyncDisposable
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);

    private readonly PortalFactory _portal;
    private readonly WebApplicationFactory<Program> _host;

    private FaultPortal(PortalFactory portal, WebApplicationFactory<Program> host, string baseUrl, Guid organizationId)
    {
        _portal = portal;
        _host = host;
        BaseUrl = baseUrl;
        OrganizationId = organizationId;
    }

    public string BaseUrl { get; }

    public Guid OrganizationId { get; }

    public PsaSandbox Sandbox => Get<PsaSandbox>();

    /// <summary>What the portal logged, one line per entry: level, category, message, exception.</summary>
    public IEnumerable<string> LogLines => _portal.LogLines;

    /// <summary>The SQLite database file (on the default database), readable after the host has stopped.</summary>
    public string SqliteFile => Path.Combine(_portal.DataDirectory, "psaportal.db");

    public ClaimsPrincipal Admin => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, "fault-test-admin"),
            new Claim(ClaimTypes.Name, "admin@faults.example"),
            new Claim(ClaimTypes.Role, PortalRoles.Admin),
            new Claim(PortalClaims.OrganizationId, OrganizationId.ToString()),
        ],
        "Test"));

    /// <summary>Starts the portal on SQLite (or <paramref name="database"/>), with <paramref name="settings"/> added to its configuration.</summary>
    /// <param name="resilience">The PSA clients' timeouts, retries and breaker; production's with <see cref="AttemptTimeout"/> when null.</param>
    /// <param name="interceptor">Sees every PSA request between the clients' resilience and the socket, and may answer it itself.</param>
    public static async Task<FaultPortal> StartAsync(
        int companyCount, PortalDatabase? database = null, IReadOnlyDictionary<string, string?>? settings = null, PsaResilienceOptions? resilience = null, DelegatingHandler? interceptor = null)
    {
        var port = LoopbackPort.Free();
        var configuration = new Dictionary<string, string?>
        {
            ["Sandbox:Enabled"] = "true",
            ["Sandbox:SnapshotPath"] = "",
            ["Sandbox:CompanyCount"] = companyCount.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        var portal = new PortalFactory(database ?? new PortalDatabase.Sqlite(), configuration);
        var host = portal.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddSingleton<IPsaClientFactory>(sp =>
            {
                resilience ??= new PsaResilienceOptions { AttemptTimeout = AttemptTimeout };
                HttpMessageHandler socket = new SocketsHttpHandler
                {
                    ConnectCallback = sp.GetRequiredService<SiteAddressPolicy>().ConnectAsync,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                };
                if (interceptor is not null)
                {
                    interceptor.InnerHandler = socket;
                }

                return new PsaClientFactory(sp.GetRequiredService<IPsaCallRecorder>(), new PsaClientFactoryOptions
                {
                    ConnectWise = new ConnectWiseOptions { Resilience = resilience },
                    Autotask = new AutotaskOptions { Resilience = resilience },
                    TimeProvider = sp.GetRequiredService<TimeProvider>(),
                    PrimaryHandler = interceptor ?? socket,
                });
            })));
        host.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        host.StartServer();
        var organization = new Organization { Name = "Faulty Networks MSP", CreatedAt = DateTimeOffset.UtcNow };
        await using (var db = await host.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            db.Organizations.Add(organization);
            await db.SaveChangesAsync();
        }

        return new FaultPortal(portal, host, $"http://127.0.0.1:{port}", organization.Id);
    }

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    public Task<PortalDbContext> CreateDbContextAsync() => Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();

    /// <summary>
    /// Links the PSA to the built-in sandbox as its full-rights user and waits for the reference sync that linking
    /// starts (the ConnectWise engine reads a company's other agreements from that cache).
    /// </summary>
    public async Task<Guid> LinkAsync(PsaVendor vendor)
    {
        var integrations = Get<IntegrationService>();
        var linked = vendor == PsaVendor.ConnectWise
            ? await integrations.SaveConnectWiseAsync(Admin, new ConnectWiseLinkForm
            {
                SiteUrl = $"{BaseUrl}/sandbox/connectwise", CompanyId = "sandbox", PublicKey = "SbxFullPublic01", PrivateKey = "SbxFullPrivate01",
            })
            : await integrations.SaveAutotaskAsync(Admin, new AutotaskLinkForm
            {
                UserName = "full@psaportal-sandbox.example", Secret = "SbxFullSecret1!", IntegrationCode = "PSAPORTALSANDBOX0000000000", UseSandbox = true,
            }, new Uri(BaseUrl + "/"));
        Assert.True(linked.Succeeded, linked.Message);
        var integrationId = (await integrations.FindAsync(OrganizationId, vendor))!.Id;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while ((await integrations.FindAsync(OrganizationId, vendor))?.ReferenceSyncedAt is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The {vendor} reference sync after linking did not finish in 3 minutes.");
            await Task.Delay(200);
        }

        return integrationId;
    }

    /// <summary>
    /// One tenant per active sandbox company, mapped by a person to its company and agreement (ConnectWise "Managed
    /// Services") or contract (Autotask: the future-dated and expired hard cases on their renewal and expired contracts),
    /// every product mapped, and usage for every product the agreement (contract) carries.
    /// </summary>
    public async Task<IReadOnlyList<FaultTenant>> MapEveryCompanyAsync(PsaVendor vendor, Guid integrationId)
    {
        var now = DateTimeOffset.UtcNow;
        var seed = Sandbox.SeedData;
        await using var db = await CreateDbContextAsync();
        var products = SandboxSeedData.Products.Select(p => new VendorProduct
        {
            OrganizationId = OrganizationId, PartNumber = p.Sku, Name = p.Description, Cost = p.Cost, RetailPrice = p.Price, Recurring = true, CreatedAt = now, UpdatedAt = now,
        }).ToList();
        db.VendorProducts.AddRange(products);
        await db.SaveChangesAsync();
        db.ProductMappings.AddRange(products.Select(p => new ProductMapping
        {
            IntegrationId = integrationId, VendorProductId = p.Id, PsaProductId = SandboxSeedData.Product(p.PartNumber).Number, PsaProductName = p.Name, UpdatedAt = now,
        }));

        var tenants = new List<FaultTenant>();
        foreach (var company in seed.Companies.Where(c => c.DuplicateOfNumber is null))
        {
            var (agreementId, agreementName, skus) = vendor == PsaVendor.ConnectWise ? FaultPsa.ConnectWiseAgreement(Sandbox, company.Number) : FaultPsa.AutotaskContract(Sandbox, company.Number);
            var tenant = new Tenant
            {
                OrganizationId = OrganizationId, ExternalId = string.Create(CultureInfo.InvariantCulture, $"fault-{company.Number}"), Name = company.Name, Status = TenantStatus.Active,
                CreatedAt = now, UpdatedAt = now,
            };
            db.Tenants.Add(tenant);
            await db.SaveChangesAsync();
            db.TenantMappings.Add(new TenantMapping
            {
                IntegrationId = integrationId, TenantId = tenant.Id, CompanyPsaId = vendor == PsaVendor.ConnectWise ? company.Number : 1000 + company.Number, CompanyName = company.Name,
                Origin = MappingOrigin.Person, AgreementPsaId = agreementId, AgreementName = agreementName, ExportEnabled = true, UpdatedAt = now,
            });
            var usage = skus.Select(sku => new TenantUsage
            {
                OrganizationId = OrganizationId, TenantId = tenant.Id, ProductId = products.Single(p => p.PartNumber == sku).Id, Quantity = 1, AsOf = now, UpdatedAt = now,
            }).ToList();
            db.TenantUsage.AddRange(usage);
            tenants.Add(new FaultTenant(company.Number, tenant.Id, agreementId, products.ToDictionary(p => p.Id, p => p.PartNumber)));
        }

        await db.SaveChangesAsync();
        return tenants;
    }

    /// <summary>Two counts in three move away from what the PSA holds, up or down.</summary>
    public async Task MoveCountsAsync(PsaVendor vendor, IReadOnlyList<FaultTenant> tenants)
    {
        var index = 0;
        await using var db = await CreateDbContextAsync();
        foreach (var tenant in tenants)
        {
            foreach (var row in db.TenantUsage.Where(u => u.TenantId == tenant.TenantId).ToList())
            {
                var productId = SandboxSeedData.Product(tenant.SkuOfProduct[row.ProductId]).Number;
                var current = vendor == PsaVendor.ConnectWise
                    ? (int)FaultPsa.ActiveAdditions(Sandbox, tenant.AgreementPsaId, productId).FirstOrDefault().Quantity
                    : FaultPsa.ContractServices(Sandbox, tenant.AgreementPsaId, productId) is [var line, ..] ? FaultPsa.UnitsToday(Sandbox, line) : 0;
                var change = index++ % 3 == 0 ? 0 : 1 + (index % 9);
                row.Quantity = index % 2 == 0 && current - change >= 1 ? current - change : current + change;
            }
        }

        await db.SaveChangesAsync();
    }

    public async Task<BillingRun> WaitForEndAsync(Guid runId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var run = await FindRunAsync(runId);
            if (run is { Status: not (BillingRunStatus.Queued or BillingRunStatus.Running) })
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Billing run {runId} is still {run?.Status.ToString() ?? "unreadable (database down)"} ({run?.Done}/{run?.Total} rows) after {timeout.TotalMinutes:0} minutes.");
            await Task.Delay(250);
        }
    }

    /// <summary>The run as stored, or null while the database cannot be reached (the database fault tests take it away).</summary>
    public async Task<BillingRun?> FindRunAsync(Guid runId)
    {
        try
        {
            await using var db = await CreateDbContextAsync();
            return await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
        }
        catch (Exception exception) when (DatabaseFailures.IsTransient(exception))
        {
            return null;
        }
    }

    public async Task<List<BillingRunItem>> RowsAsync(Guid runId)
    {
        await using var db = await CreateDbContextAsync();
        return await db.BillingRunItems.AsNoTracking().Where(i => i.RunId == runId).OrderBy(i => i.Id).ToListAsync();
    }

    /// <summary>
    /// The run's Failed rows whose write's outcome it could not confirm: the journal still holds the write as Planned
    /// (sent, no answer), or as Applied (an Autotask adjustment accepted) without a re-read that confirmed it.
    /// </summary>
    public async Task<IReadOnlySet<long>> UnconfirmedAsync(Guid runId)
    {
        await using var db = await CreateDbContextAsync();
        var ids = await (
                from w in db.BillingWrites.AsNoTracking()
                join i in db.BillingRunItems.AsNoTracking() on w.ItemId equals i.Id
                where w.RunId == runId && i.Outcome == BillingOutcome.Failed && (w.State == BillingWriteState.Planned || w.State == BillingWriteState.Applied)
                select i.Id)
            .ToListAsync();
        return ids.ToHashSet();
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _portal.DisposeAsync();
    }
}

/// <summary>A mapped tenant of the fault tests: its seed company, its agreement (contract) and the SKU of each vendor product id.</summary>
internal sealed record FaultTenant(int CompanyNumber, long TenantId, long AgreementPsaId, IReadOnlyDictionary<long, string> SkuOfProduct);
