using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Testing.Processes;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Testing.BillingScenarios;

/// <summary>
/// A portal database prepared as a person would have left it after linking a PSA and mapping every tenant: one
/// organization, one connected integration pointing at the standalone sandbox, a tenant per sandbox company with a
/// person-made, export-enabled mapping to its agreement (contract), every vendor product mapped, and usage. Each
/// trial changes a share of the counts (<see cref="PrepareTrialAsync"/>) so the run has writes to interrupt, and the
/// expected rows are computed from the PSA's state read just before the run.
/// </summary>
internal abstract class BillingScenario(IPortalStore store, SandboxProcess sandbox)
{
    public const string RequestedBy = "crash test";

    /// <summary>Share of rows whose count differs from the PSA in each trial.</summary>
    protected const double ChangedShare = 0.25;

    protected readonly Dictionary<long, int> CompanyNumberOfTenant = [];
    protected readonly Dictionary<long, long> AgreementOfTenant = [];
    protected readonly Dictionary<string, long> VendorProductIds = [];

    public IPortalStore Store => store;

    public SandboxProcess Sandbox => sandbox;

    public abstract PsaVendor Vendor { get; }

    public Guid OrganizationId { get; private set; }

    public Guid IntegrationId { get; private set; }

    public int TenantCount => AgreementOfTenant.Count;

    /// <summary>
    /// Migrates the database and writes the organization (or uses <paramref name="organizationId"/>, e.g. the one a
    /// person set up through the portal), the integration, tenants, products, mappings and usage.
    /// </summary>
    public async Task SeedAsync(Guid? organizationId = null)
    {
        await store.MigrateAsync();
        var data = await sandbox.GetDataAsync(Vendor);
        var now = DateTimeOffset.UtcNow;
        await using var db = store.CreateDbContext();
        Organization organization;
        if (organizationId is { } existing)
        {
            organization = await db.Organizations.SingleOrDefaultAsync(o => o.Id == existing)
                ?? throw new InvalidOperationException($"Organization {existing} does not exist in the portal's database.");
        }
        else
        {
            organization = new Organization { Name = "Crash Test MSP", CreatedAt = now };
            db.Organizations.Add(organization);
        }

        var integration = new Integration
        {
            OrganizationId = organization.Id,
            Vendor = Vendor,
            Status = IntegrationStatus.Connected,
            ConnectedAt = now,
            // A fresh reference sync is not due for hours, so none competes with the billing run for the PSA.
            ReferenceSyncedAt = now,
            UpdatedAt = now,
            UpdatedBy = RequestedBy,
        };
        DescribeConnection(integration);
        db.Integrations.Add(integration);
        foreach (var product in SandboxSeedData.Products)
        {
            db.VendorProducts.Add(new VendorProduct
            {
                OrganizationId = organization.Id, PartNumber = product.Sku, Name = product.Description, Cost = product.Cost, RetailPrice = product.Price,
                Recurring = true, CreatedAt = now, UpdatedAt = now,
            });
        }

        await db.SaveChangesAsync();
        foreach (var product in await db.VendorProducts.Where(p => p.OrganizationId == organization.Id).ToListAsync())
        {
            VendorProductIds[product.PartNumber] = product.Id;
            db.ProductMappings.Add(new ProductMapping
            {
                IntegrationId = integration.Id, VendorProductId = product.Id, PsaProductId = SandboxSeedData.Product(product.PartNumber).Number,
                PsaProductName = product.Name, UpdatedAt = now, UpdatedBy = RequestedBy,
            });
        }

        var mapped = MapCompanies(data);
        var tenants = mapped.Select(m => (Mapping: m, Tenant: new Tenant
        {
            OrganizationId = organization.Id, ExternalId = $"crash-{m.CompanyNumber}", Name = m.CompanyName, Status = TenantStatus.Active, CreatedAt = now, UpdatedAt = now,
        })).ToList();
        db.Tenants.AddRange(tenants.Select(t => t.Tenant));
        await db.SaveChangesAsync();

        foreach (var (mapping, tenant) in tenants)
        {
            CompanyNumberOfTenant[tenant.Id] = mapping.CompanyNumber;
            AgreementOfTenant[tenant.Id] = mapping.AgreementPsaId;
            db.TenantMappings.Add(new TenantMapping
            {
                IntegrationId = integration.Id, TenantId = tenant.Id, CompanyPsaId = mapping.CompanyPsaId, CompanyName = mapping.CompanyName, Origin = MappingOrigin.Person,
                AgreementPsaId = mapping.AgreementPsaId, AgreementName = mapping.AgreementName, ExportEnabled = true, UpdatedAt = now, UpdatedBy = RequestedBy,
            });
            foreach (var (sku, quantity) in mapping.Usage)
            {
                db.TenantUsage.Add(new TenantUsage
                {
                    OrganizationId = organization.Id, TenantId = tenant.Id, ProductId = VendorProductIds[sku], Quantity = quantity, AsOf = now, UpdatedAt = now,
                });
            }
        }

        db.PsaReferenceItems.AddRange(ReferenceCache(data, integration.Id, now));
        await db.SaveChangesAsync();
        OrganizationId = organization.Id;
        IntegrationId = integration.Id;
    }

    /// <summary>
    /// Reads the PSA as it is now, changes a share of the tenants' counts (and, where the PSA allows it, adds products
    /// the agreements lack), and returns every row the next run must produce with the PSA state it starts from.
    /// </summary>
    public async Task<(JsonObject Before, IReadOnlyList<ExpectedRow> Rows)> PrepareTrialAsync(Random random)
    {
        var before = await sandbox.GetDataAsync(Vendor);
        var now = DateTimeOffset.UtcNow;
        var rows = new List<ExpectedRow>();
        await using var db = store.CreateDbContext();
        var usage = await db.TenantUsage.Where(u => u.OrganizationId == OrganizationId).ToListAsync();
        var skuOf = VendorProductIds.ToDictionary(p => p.Value, p => p.Key);
        foreach (var (tenantId, products) in AddedProducts(before, random, usage.ToLookup(u => u.TenantId, u => skuOf[u.ProductId])))
        {
            foreach (var sku in products)
            {
                var added = new TenantUsage { OrganizationId = OrganizationId, TenantId = tenantId, ProductId = VendorProductIds[sku], Quantity = 1, AsOf = now, UpdatedAt = now };
                db.TenantUsage.Add(added);
                usage.Add(added);
            }
        }

        foreach (var row in usage.OrderBy(u => u.TenantId).ThenBy(u => u.ProductId))
        {
            var sku = skuOf[row.ProductId];
            var company = CompanyNumberOfTenant[row.TenantId];
            var agreement = AgreementOfTenant[row.TenantId];
            var psaBefore = PsaQuantity(before, agreement, SandboxSeedData.Product(sku).Number);
            var count = psaBefore is null ? 1 + random.Next(100) : random.NextDouble() < ChangedShare ? NewCount(random, (int)psaBefore.Value) : (int)psaBefore.Value;
            row.Quantity = count;
            row.AsOf = now;
            row.UpdatedAt = now;
            var (failure, mayFail) = KnownFailure(before, company, agreement, sku);
            rows.Add(new ExpectedRow(row.TenantId, company, row.ProductId, sku, SandboxSeedData.Product(sku).Number, agreement, count, psaBefore, failure, mayFail));
        }

        await db.SaveChangesAsync();
        return (before, rows);
    }

    /// <summary>What a person's Sync now leaves for the engine when the process dies before picking it up: a queued Apply run.</summary>
    public async Task<Guid> InsertQueuedRunAsync()
    {
        await using var db = store.CreateDbContext();
        var run = new BillingRun
        {
            OrganizationId = OrganizationId, IntegrationId = IntegrationId, Vendor = Vendor, Mode = BillingRunMode.Apply, Trigger = BillingRunTrigger.Manual,
            RequestedBy = RequestedBy, Status = BillingRunStatus.Queued, CreatedAt = DateTimeOffset.UtcNow,
        };
        db.BillingRuns.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    public async Task<BillingRun> GetRunAsync(Guid runId)
    {
        await using var db = store.CreateDbContext();
        return await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
    }

    public async Task<IReadOnlyList<BillingRunItem>> GetItemsAsync(Guid runId)
    {
        await using var db = store.CreateDbContext();
        return await db.BillingRunItems.AsNoTracking().Where(i => i.RunId == runId).ToListAsync();
    }

    public async Task<IReadOnlyList<BillingWrite>> GetWritesAsync(Guid runId)
    {
        await using var db = store.CreateDbContext();
        return await db.BillingWrites.AsNoTracking().Where(w => w.RunId == runId).ToListAsync();
    }

    /// <summary>Every way the PSA after the run differs from what the rows demand; empty when it is exactly right.</summary>
    public abstract IReadOnlyList<string> VerifyPsa(JsonObject before, JsonObject after, IReadOnlyList<ExpectedRow> rows, IReadOnlyDictionary<(long TenantId, long ProductId), BillingRunItem> items);

    protected abstract void DescribeConnection(Integration integration);

    /// <summary>What the reference sync would have cached, for the parts of the engine that read the cache.</summary>
    protected virtual IEnumerable<PsaReferenceItem> ReferenceCache(JsonObject data, Guid integrationId, DateTimeOffset now) => [];

    /// <summary>The tenants to create: one per sandbox company that has an agreement (contract) to bill to.</summary>
    protected abstract IReadOnlyList<CompanyMapping> MapCompanies(JsonObject data);

    /// <summary>The PSA's current quantity (units) of the product on the agreement (contract); null when it has none.</summary>
    protected abstract decimal? PsaQuantity(JsonObject data, long agreementPsaId, long psaProductId);

    protected abstract (string? Message, bool MayFail) KnownFailure(JsonObject data, int companyNumber, long agreementPsaId, string sku);

    /// <summary>Products to add to tenants' usage that their agreement lacks (ConnectWise creates the addition).</summary>
    protected virtual IEnumerable<(long TenantId, IReadOnlyList<string> Skus)> AddedProducts(JsonObject data, Random random, ILookup<long, string> usedSkus) => [];

    protected abstract int NewCount(Random random, int psaQuantity);

    /// <summary>The known PSA-side problems sit on the first six companies; ordinary tenants are the rest but the two inactive duplicates.</summary>
    protected bool IsOrdinaryCompany(int number) => number > 6 && number < sandbox.CompanyCount - 1;

    internal sealed record CompanyMapping(int CompanyNumber, long CompanyPsaId, string CompanyName, long AgreementPsaId, string AgreementName, IReadOnlyList<(string Sku, int Quantity)> Usage);
}
