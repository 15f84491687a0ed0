using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.IntegrationTests.Reference;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// A portal linked to one sandbox PSA with the platform side built from the sandbox's own tables: one tenant per
/// active seed company, mapped by a person to its company and agreement (ConnectWise "Managed Services") or contract
/// (Autotask: the future-dated and expired hard cases on their renewal / expired contracts, the rest on the main one),
/// every product mapped, and each tenant's usage equal to what the PSA holds now — so a sync changes nothing until a
/// test changes a count.
/// </summary>
internal sealed class BillingWorld
{
    private BillingWorld(SandboxPortal portal, PsaVendor vendor, Guid integrationId, IReadOnlyDictionary<int, long> tenants, IReadOnlyDictionary<string, long> products)
    {
        Portal = portal;
        Vendor = vendor;
        IntegrationId = integrationId;
        TenantOf = tenants;
        ProductOf = products;
    }

    public SandboxPortal Portal { get; }

    public PsaVendor Vendor { get; }

    public Guid IntegrationId { get; }

    /// <summary>Seed company number → tenant id.</summary>
    public IReadOnlyDictionary<int, long> TenantOf { get; }

    /// <summary>SKU → vendor product id.</summary>
    public IReadOnlyDictionary<string, long> ProductOf { get; }

    public SandboxSeedData Seed => Portal.Sandbox.SeedData;

    public SeedHardCases Hard => Seed.HardCases;

    public static async Task<BillingWorld> CreateAsync(SandboxPortal portal, PsaVendor vendor)
    {
        var integrationId = vendor == PsaVendor.ConnectWise ? await portal.LinkConnectWiseAsync() : await portal.LinkAutotaskAsync();
        var finished = await portal.NextSyncFinishedAsync();
        Assert.Equal(0, finished.Failed);

        var seed = portal.Sandbox.SeedData;
        var now = DateTimeOffset.UtcNow;
        await using var db = await portal.Factory.CreateDbContextAsync();
        var products = SandboxSeedData.Products.Select(p => new VendorProduct
        {
            OrganizationId = portal.OrganizationId, PartNumber = p.Sku, Name = p.Description, Cost = p.Cost, RetailPrice = p.Price, Recurring = true, CreatedAt = now, UpdatedAt = now,
        }).ToList();
        db.VendorProducts.AddRange(products);
        await db.SaveChangesAsync();
        foreach (var (product, seedProduct) in products.Zip(SandboxSeedData.Products))
        {
            db.ProductMappings.Add(new ProductMapping
            {
                IntegrationId = integrationId, VendorProductId = product.Id, PsaProductId = seedProduct.Number,
                PsaProductName = vendor == PsaVendor.ConnectWise ? seedProduct.Sku : seedProduct.Description, UpdatedAt = now,
            });
        }

        var tenants = new Dictionary<int, long>();
        foreach (var company in seed.Companies.Where(c => c.DuplicateOfNumber is null))
        {
            var tenant = new Tenant
            {
                OrganizationId = portal.OrganizationId, ExternalId = string.Create(CultureInfo.InvariantCulture, $"tn-{company.Number:D4}"), Name = company.Name,
                Status = TenantStatus.Active, CreatedAt = now, UpdatedAt = now,
            };
            db.Tenants.Add(tenant);
            await db.SaveChangesAsync();
            tenants[company.Number] = tenant.Id;
            var (agreement, usage) = vendor == PsaVendor.ConnectWise ? ConnectWiseLines(portal, company) : AutotaskLines(portal, company);
            db.TenantMappings.Add(new TenantMapping
            {
                IntegrationId = integrationId, TenantId = tenant.Id, CompanyPsaId = vendor == PsaVendor.ConnectWise ? company.Number : 1000 + company.Number,
                CompanyName = company.Name, Origin = MappingOrigin.Person, AgreementPsaId = agreement.Id, AgreementName = agreement.Name, ExportEnabled = true, UpdatedAt = now,
            });
            foreach (var (sku, quantity) in usage)
            {
                db.TenantUsage.Add(new TenantUsage
                {
                    OrganizationId = portal.OrganizationId, TenantId = tenant.Id, ProductId = products.Single(p => p.PartNumber == sku).Id, Quantity = quantity, AsOf = now, UpdatedAt = now,
                });
            }
        }

        await db.SaveChangesAsync();
        return new BillingWorld(portal, vendor, integrationId, tenants, products.ToDictionary(p => p.PartNumber, p => p.Id));
    }

    /// <summary>ConnectWise: the company's Managed Services agreement and its active additions' quantities.</summary>
    private static ((long Id, string Name) Agreement, List<(string Sku, int Quantity)> Usage) ConnectWiseLines(SandboxPortal portal, SeedCompany company)
    {
        var data = portal.Sandbox.ConnectWise.Data;
        var agreement = data.Agreements.All().First(a => Long(a["company"]!["id"]) == company.Number && JsonRecords.GetString(a["name"]) == "Managed Services");
        var lines = data.Additions.All()
            .Where(a => Long(a["agreementId"]) == JsonRecords.GetId(agreement) && a["cancelledDate"] is null)
            .Select(a => (JsonRecords.GetString(a["product"]!["identifier"])!, (int)Long(a["quantity"])))
            .ToList();
        return ((JsonRecords.GetId(agreement), JsonRecords.GetString(agreement["name"])!), lines);
    }

    /// <summary>Autotask: the contract the hard case calls for, and the seeded subscription counts.</summary>
    private static ((long Id, string Name) Contract, List<(string Sku, int Quantity)> Usage) AutotaskLines(SandboxPortal portal, SeedCompany company)
    {
        var hard = portal.Sandbox.SeedData.HardCases;
        var prefix = company.Number == hard.FutureDatedContractCompany ? "Managed Services Renewal - "
            : company.Number == hard.ExpiredContractCompany ? "Managed Services 2024 - " : "Managed Services - ";
        var contract = portal.Sandbox.Autotask.Data.Contracts.All()
            .First(c => Long(c["companyID"]) == 1000 + company.Number && JsonRecords.GetString(c["contractName"])!.StartsWith(prefix, StringComparison.Ordinal));
        var usage = portal.Sandbox.SeedData.SubscriptionsOf(company.Number).Select(s => (s.Sku, s.Quantity)).ToList();
        return ((JsonRecords.GetId(contract), JsonRecords.GetString(contract["contractName"])!), usage);
    }

    public async Task SetUsageAsync(int companyNumber, string sku, int quantity)
    {
        await using var db = await Portal.Factory.CreateDbContextAsync();
        var tenantId = TenantOf[companyNumber];
        var productId = ProductOf[sku];
        var usage = await db.TenantUsage.SingleOrDefaultAsync(u => u.TenantId == tenantId && u.ProductId == productId);
        if (usage is null)
        {
            db.TenantUsage.Add(new TenantUsage
            {
                OrganizationId = Portal.OrganizationId, TenantId = tenantId, ProductId = productId, Quantity = quantity, AsOf = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            });
        }
        else
        {
            usage.Quantity = quantity;
        }

        await db.SaveChangesAsync();
    }

    /// <summary>Waits (polling with a deadline) until the run has ended; returns it.</summary>
    public async Task<BillingRun> WaitForEndAsync(Guid runId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            await using (var db = await Portal.Factory.CreateDbContextAsync())
            {
                var run = await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
                if (run.Status is not (BillingRunStatus.Queued or BillingRunStatus.Running))
                {
                    return run;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"billing run {runId} did not end in time");
            await Task.Delay(50);
        }
    }

    public async Task<List<BillingRunItem>> RowsAsync(Guid runId)
    {
        await using var db = await Portal.Factory.CreateDbContextAsync();
        return await db.BillingRunItems.AsNoTracking().Where(i => i.RunId == runId).OrderBy(i => i.Id).ToListAsync();
    }

    public async Task<List<BillingWrite>> WritesAsync(Guid runId)
    {
        await using var db = await Portal.Factory.CreateDbContextAsync();
        return await db.BillingWrites.AsNoTracking().Where(w => w.RunId == runId).OrderBy(w => w.Id).ToListAsync();
    }

    /// <summary>The sandbox's write calls (POST creates and PATCH updates of billing lines) since <paramref name="after"/>.</summary>
    public IReadOnlyList<RequestLogEntry> BillingWrites(long after = 0)
    {
        var log = Vendor == PsaVendor.ConnectWise ? Portal.Sandbox.ConnectWise.RequestLog : Portal.Sandbox.Autotask.RequestLog;
        return [.. log.Entries().Where(e => e.Sequence > after && e.Method is "POST" or "PATCH" or "PUT"
                                            && (e.Path.Contains("/additions", StringComparison.Ordinal) || e.Path.Contains("ServiceAdjustments", StringComparison.Ordinal)))];
    }

    public long LastRequest => (Vendor == PsaVendor.ConnectWise ? Portal.Sandbox.ConnectWise.RequestLog : Portal.Sandbox.Autotask.RequestLog).TotalCount;

    /// <summary>ConnectWise: the active additions of a product on an agreement.</summary>
    public List<JsonObject> ActiveAdditions(long agreementId, long productId) =>
        [.. Portal.Sandbox.ConnectWise.Data.Additions.All().Where(a => Long(a["agreementId"]) == agreementId && Long(a["product"]!["id"]) == productId && a["cancelledDate"] is null)];

    /// <summary>Autotask: today's units of a contract service (0 without a row for today).</summary>
    public decimal UnitsToday(long contractServiceId)
    {
        var today = DateTime.UtcNow.Date;
        var row = Portal.Sandbox.Autotask.Data.ContractServiceUnits.All().Where(u => Long(u["contractServiceID"]) == contractServiceId)
            .FirstOrDefault(u => Date(u["startDate"]) <= today && today <= Date(u["endDate"]));
        return row is null ? 0 : Long(row["units"]);
    }

    public static long Long(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var number) ? (long)number : throw new InvalidOperationException($"Not a number: {node}");

    private static DateTime Date(JsonNode? node) => DateTime.Parse(JsonRecords.GetString(node)![..10], CultureInfo.InvariantCulture);
}
