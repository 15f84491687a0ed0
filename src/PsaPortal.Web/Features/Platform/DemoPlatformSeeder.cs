using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Features.Platform;

/// <summary>
/// With demo mode on, fills the demo organization's platform side (tenants, products, usage, incidents, invoice lines)
/// from the same seed as the built-in sandbox, so a newcomer has tenants to map to the sandbox's companies and counts
/// to sync. Runs once: an organization that has tenants is left alone.
/// </summary>
internal sealed class DemoPlatformSeeder(
    IServiceProvider services,
    IDbContextFactory<PortalDbContext> dbFactory,
    IOptions<DemoOptions> demoOptions,
    IConfiguration configuration,
    TimeProvider time,
    ILogger<DemoPlatformSeeder> logger) : IDatabaseSeeder
{
    /// <summary>Tenants the platform has and the PSA does not yet: new customers nobody has set up in the PSA.</summary>
    public const int NewCustomerCount = 4;

    /// <summary>Roughly one tenant in this many is reported without a domain.</summary>
    public const int WithoutDomainOneIn = 6;

    public const int IncidentCount = 8;

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        if (!demoOptions.Value.Enabled)
        {
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var organizationId = await db.Organizations.Where(o => o.Name == DemoSeeder.OrganizationName)
            .Select(o => (Guid?)o.Id).SingleOrDefaultAsync(cancellationToken);
        if (organizationId is null || await db.Tenants.AnyAsync(t => t.OrganizationId == organizationId, cancellationToken))
        {
            return;
        }

        var seed = SeedData();
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var plan = Plan(seed, organizationId.Value, now);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        db.Tenants.AddRange(plan.Tenants.Select(t => t.Tenant));
        db.VendorProducts.AddRange(plan.Products.Values);
        await db.SaveChangesAsync(cancellationToken);

        foreach (var (tenant, usage) in plan.Tenants.SelectMany(t => t.Usage.Select(u => (t.Tenant, u))))
        {
            var product = plan.Products[usage.Sku];
            db.TenantUsage.Add(new TenantUsage
            {
                OrganizationId = organizationId.Value, TenantId = tenant.Id, ProductId = product.Id, Quantity = usage.Quantity, AsOf = now, UpdatedAt = now,
            });
            if (usage.Invoiced)
            {
                db.TenantUsageHistory.Add(new TenantUsageHistory
                {
                    TenantId = tenant.Id, ProductId = product.Id, Quantity = usage.InvoicedQuantity, AsOf = plan.InvoiceMonthEnd, RecordedAt = plan.InvoiceMonthEnd,
                });
            }

            db.TenantUsageHistory.Add(new TenantUsageHistory
            {
                TenantId = tenant.Id, ProductId = product.Id, Quantity = usage.Quantity, AsOf = now, RecordedAt = now,
            });
        }

        var lineNumber = 0;
        foreach (var (tenant, usage) in plan.Tenants.SelectMany(t => t.Usage.Where(u => u.Invoiced).Select(u => (t.Tenant, u))))
        {
            var product = plan.Products[usage.Sku];
            db.InvoiceLines.Add(new InvoiceLine
            {
                OrganizationId = organizationId.Value,
                ExternalId = string.Create(CultureInfo.InvariantCulture, $"inv-{plan.InvoiceMonth:yyyyMM}-{++lineNumber:D5}"),
                TenantId = tenant.Id,
                ProductId = product.Id,
                ChargeType = ChargeType.CycleFee,
                BillingCycle = BillingCycle.Monthly,
                ChargeStartDate = plan.InvoiceMonth,
                ChargeEndDate = plan.InvoiceMonth.AddMonths(1).AddDays(-1),
                Quantity = usage.InvoicedQuantity,
                UnitPrice = product.RetailPrice,
                Cost = product.Cost,
                InvoiceMonth = plan.InvoiceMonth,
                UpdatedAt = now,
            });
        }

        var mapped = plan.Tenants.Where(t => t.CompanyNumber is not null).Select(t => t.Tenant).ToList();
        for (var i = 0; i < Math.Min(IncidentCount, mapped.Count); i++)
        {
            var (title, description) = Incidents[i % Incidents.Length];
            var severity = (IncidentSeverity)(i % 4);
            var status = (IncidentStatus)(i * 3 % 4);
            var detected = now.AddHours(-(i + 1) * 9);
            db.Incidents.Add(new Incident
            {
                OrganizationId = organizationId.Value,
                ExternalId = string.Create(CultureInfo.InvariantCulture, $"inc-{i + 1:D4}"),
                TenantId = mapped[i * 5 % mapped.Count].Id,
                Title = title,
                Description = description,
                Severity = severity,
                Status = status,
                DetectedAt = detected,
                UpdatedAt = detected.AddMinutes(40),
                ResolvedAt = status is IncidentStatus.Resolved or IncidentStatus.Closed ? detected.AddHours(3) : null,
                ReceivedAt = detected.AddMinutes(1),
            });
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation(
            "Demo platform data: {Tenants} tenants ({New} without a PSA company), {Products} products, {Lines} invoice lines for {Month:yyyy-MM}, from sandbox seed {Seed}",
            plan.Tenants.Count, NewCustomerCount, plan.Products.Count, lineNumber, plan.InvoiceMonth, seed.Seed);
    }

    /// <summary>What the demo organization gets from a seed: pure, so tests can compare the database with it.</summary>
    internal static DemoPlatformPlan Plan(SandboxSeedData seed, Guid organizationId, DateTimeOffset now)
    {
        var random = new Random(unchecked(seed.Seed * 7919 + 101));
        var products = SandboxSeedData.Products.ToDictionary(p => p.Sku, p => new VendorProduct
        {
            OrganizationId = organizationId,
            PartNumber = p.Sku,
            Name = p.Description,
            Description = $"{p.Description}, billed monthly per unit.",
            Cost = p.Cost,
            RetailPrice = p.Price,
            Recurring = true,
            CreatedAt = now,
            UpdatedAt = now,
        });

        var tenants = new List<DemoTenant>();
        // The sandbox's second record of a name is a stale duplicate in the PSA; the platform has that customer once.
        foreach (var company in seed.Companies.Where(c => c.DuplicateOfNumber is null))
        {
            var usage = seed.SubscriptionsOf(company.Number).Select(s => Usage(s.Sku, s.Quantity, random)).ToList();
            tenants.Add(new DemoTenant(company.Number, NewTenant(organizationId, company.Number, seed.PlatformName(company),
                random.Next(WithoutDomainOneIn) == 0 ? null : company.Domain, now), usage));
        }

        // A longer canonical list starts with the sandbox's, so the names after it are customers the PSA does not have.
        var names = CompanyNameGenerator.CanonicalNames(seed.Seed, seed.CompanyCount + NewCustomerCount);
        for (var i = 0; i < NewCustomerCount; i++)
        {
            var number = seed.CompanyCount + i + 1;
            var name = names[seed.CompanyCount + i];
            var domain = new string([.. CompanyNameGenerator.StripLegalSuffix(name).ToLowerInvariant().Where(char.IsLetterOrDigit)]) + ".example";
            var sku = SandboxSeedData.Products[random.Next(SandboxSeedData.Products.Count)].Sku;
            // New this month: nothing invoiced yet.
            tenants.Add(new DemoTenant(null, NewTenant(organizationId, number, name, domain, now), [new DemoUsage(sku, 1 + random.Next(40), 0, Invoiced: false)]));
        }

        var thisMonth = new DateOnly(now.UtcDateTime.Year, now.UtcDateTime.Month, 1);
        return new DemoPlatformPlan(tenants, products, thisMonth.AddMonths(-1),
            new DateTimeOffset(thisMonth.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddSeconds(-1));
    }

    // About one count in four has moved since the PSA was last told, so a billing sync has updates to make.
    private static DemoUsage Usage(string sku, int seededQuantity, Random random)
    {
        var quantity = seededQuantity;
        if (random.Next(4) == 0)
        {
            quantity = Math.Max(1, seededQuantity + random.Next(-10, 16));
            if (quantity == seededQuantity)
            {
                quantity++;
            }
        }

        return new DemoUsage(sku, quantity, seededQuantity, Invoiced: true);
    }

    private static Tenant NewTenant(Guid organizationId, int number, string name, string? domain, DateTimeOffset now) => new()
    {
        OrganizationId = organizationId,
        ExternalId = ExternalIdOf(number),
        Name = name,
        Domain = domain,
        Status = TenantStatus.Active,
        CreatedAt = now,
        UpdatedAt = now,
    };

    public static string ExternalIdOf(int number) => string.Create(CultureInfo.InvariantCulture, $"tn-{number:D4}");

    /// <summary>The sandbox's data when it runs in this process (it may have been reseeded), else the configured seed.</summary>
    private SandboxSeedData SeedData()
    {
        if (services.GetService<PsaSandbox>() is { } sandbox)
        {
            return sandbox.SeedData;
        }

        var options = configuration.GetSection("Sandbox").Get<SandboxOptions>() ?? new SandboxOptions();
        return SandboxSeedData.Generate(options.Seed, options.CompanyCount,
            options.ReferenceDate ?? DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
    }

    private static readonly (string Title, string Description)[] Incidents =
    [
        ("Ransomware behaviour blocked on FIN-LT-07", "Mass file renames by an unsigned process were stopped and the process quarantined."),
        ("Sign-in from an unfamiliar country", "A user signed in from a country never seen for this tenant; MFA was satisfied."),
        ("Malware quarantined on RECEPTION-PC", "A trojan dropper in a downloaded invoice was quarantined before it ran."),
        ("Brute-force attempts against RDP", "More than 400 failed sign-ins in ten minutes against an exposed RDP port."),
        ("Phishing email reported by a user", "A credential-harvesting email reached 12 mailboxes; 1 link click was blocked."),
        ("Security agent disabled on SRV-FILE01", "The endpoint agent stopped reporting after a local administrator uninstalled it."),
        ("Unusual outbound data volume", "A workstation uploaded 18 GB to a consumer cloud service overnight."),
        ("Vulnerable driver loaded", "A driver on the known-vulnerable list was loaded on a build server."),
    ];
}

internal sealed record DemoUsage(string Sku, int Quantity, int InvoicedQuantity, bool Invoiced);

/// <param name="CompanyNumber">The sandbox company this tenant is; null for a new customer the PSA does not have.</param>
internal sealed record DemoTenant(int? CompanyNumber, Tenant Tenant, IReadOnlyList<DemoUsage> Usage);

internal sealed record DemoPlatformPlan(IReadOnlyList<DemoTenant> Tenants, IReadOnlyDictionary<string, VendorProduct> Products, DateOnly InvoiceMonth, DateTimeOffset InvoiceMonthEnd);

public static class DemoPlatformData
{
    /// <summary>Registers the demo platform seeder; call after the Identity feature so it runs after the demo organization exists.</summary>
    public static IHostApplicationBuilder AddDemoPlatformData(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IDatabaseSeeder, DemoPlatformSeeder>();
        return builder;
    }
}
