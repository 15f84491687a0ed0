using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Text.Json.Nodes;
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
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using Quartz;

namespace PsaPortal.Web.IntegrationTests.Invoices;

/// <summary>
/// The portal on Kestrel with its built-in sandbox (the minimum 12 companies) and ConnectWise linked as its full-rights
/// API member, for the invoice posting engine, the catalog export and the users list. As in the ticket and billing
/// fault worlds, the PSA clients give up on an attempt after <see cref="AttemptTimeout"/> (production: 30 s) so an answer
/// the sandbox holds back costs seconds; everything else is as in production. Everything the tests assert about
/// ConnectWise is read from the sandbox's own tables.
/// </summary>
internal sealed class InvoicePostingWorld : IAsyncDisposable
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);

    private readonly WebApplicationFactory<Program> _host;
    private readonly PortalFactory _portal;

    private InvoicePostingWorld(PortalFactory portal, WebApplicationFactory<Program> host, string baseUrl, Guid organizationId)
    {
        _portal = portal;
        _host = host;
        BaseUrl = baseUrl;
        OrganizationId = organizationId;
    }

    public string BaseUrl { get; }

    public Guid OrganizationId { get; }

    public Guid IntegrationId { get; private set; }

    public PsaSandbox Sandbox => Get<PsaSandbox>();

    public ConnectWiseDataView ConnectWise => new(Sandbox);

    public ClaimsPrincipal Admin => UserIn(PortalRoles.Admin);

    public ClaimsPrincipal UserIn(string role) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, $"invoice-{role}"),
            new Claim(ClaimTypes.Name, $"{role.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()}@invoices.example"),
            new Claim(ClaimTypes.Role, role),
            new Claim(PortalClaims.OrganizationId, OrganizationId.ToString()),
        ],
        "Test"));

    public static async Task<InvoicePostingWorld> StartAsync(PortalDatabase database)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Sandbox:Enabled"] = "true",
            ["Sandbox:SnapshotPath"] = "",
            ["Sandbox:CompanyCount"] = "12",
        };
        var portal = new PortalFactory(database, configuration);
        var host = portal.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddSingleton<IPsaClientFactory>(sp =>
            {
                var resilience = new PsaResilienceOptions { AttemptTimeout = AttemptTimeout };
                return new PsaClientFactory(sp.GetRequiredService<IPsaCallRecorder>(), new PsaClientFactoryOptions
                {
                    ConnectWise = new ConnectWiseOptions { Resilience = resilience },
                    Autotask = new AutotaskOptions { Resilience = resilience },
                    TimeProvider = sp.GetRequiredService<TimeProvider>(),
                    PrimaryHandler = new SocketsHttpHandler { ConnectCallback = sp.GetRequiredService<SiteAddressPolicy>().ConnectAsync },
                });
            })));
        var port = LoopbackPort.Free();
        host.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        host.StartServer();
        var organization = new Organization { Name = "Invoice Desk MSP", CreatedAt = DateTimeOffset.UtcNow };
        await using (var db = await host.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            db.Organizations.Add(organization);
            await db.SaveChangesAsync();
        }

        var world = new InvoicePostingWorld(portal, host, $"http://127.0.0.1:{port}", organization.Id);
        await world.LinkAsync();
        return world;
    }

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    public Task<PortalDbContext> CreateDbContextAsync() => Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();

    /// <summary>Links ConnectWise and waits for the reference sync linking starts, so its reads are not mixed into the tests' request counts.</summary>
    private async Task LinkAsync()
    {
        var integrations = Get<IntegrationService>();
        // Linking calls the sandbox under the 2 s attempt timeout too; on a loaded machine a first call can miss it.
        var attempt = 0;
        LinkResult linked;
        do
        {
            linked = await integrations.SaveConnectWiseAsync(Admin, new ConnectWiseLinkForm
            {
                SiteUrl = $"{BaseUrl}/sandbox/connectwise", CompanyId = "sandbox", PublicKey = "SbxFullPublic01", PrivateKey = "SbxFullPrivate01",
            });
        }
        while (!linked.Succeeded && linked.Message.Contains("did not answer in time", StringComparison.Ordinal) && ++attempt < 3);

        Assert.True(linked.Succeeded, linked.Message);
        IntegrationId = (await integrations.FindAsync(OrganizationId, PsaVendor.ConnectWise))!.Id;
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await integrations.FindAsync(OrganizationId, PsaVendor.ConnectWise))?.ReferenceSyncedAt is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "The reference sync after linking did not finish in a minute.");
            await Task.Delay(100);
        }
    }

    /// <summary>Writes the integration's invoice settings (an Agreement Type from the sandbox) and applies its triggers, as Save Configuration does.</summary>
    public async Task<InvoiceSettings> ConfigureAsync(Action<InvoiceSettings>? change = null)
    {
        await using var db = await CreateDbContextAsync();
        var settings = await db.InvoiceSettings.SingleOrDefaultAsync(s => s.IntegrationId == IntegrationId);
        if (settings is null)
        {
            var type = Sandbox.ConnectWise.Data.AgreementTypes.All().First();
            settings = new InvoiceSettings { IntegrationId = IntegrationId, AgreementTypeId = JsonRecords.GetId(type), AgreementTypeName = JsonRecords.GetString(type["name"]) };
            db.InvoiceSettings.Add(settings);
        }

        change?.Invoke(settings);
        settings.UpdatedAt = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync();
        await Get<InvoiceScheduleTriggers>().ApplyAsync(settings);
        return settings;
    }

    public async Task<Tenant> AddTenantAsync(string name)
    {
        await using var db = await CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow;
        var tenant = new Tenant
        {
            OrganizationId = OrganizationId, ExternalId = "tn-" + Guid.NewGuid().ToString("N")[..8], Name = name, Status = TenantStatus.Active, CreatedAt = now, UpdatedAt = now,
        };
        db.Tenants.Add(tenant);
        await db.SaveChangesAsync();
        return tenant;
    }

    /// <summary>Maps the tenant to a ConnectWise company and (optionally) agreement, by a person unless said otherwise.</summary>
    public async Task MapTenantAsync(Tenant tenant, long companyId, long? agreementId, MappingOrigin origin = MappingOrigin.Person)
    {
        await using var db = await CreateDbContextAsync();
        db.TenantMappings.Add(new TenantMapping
        {
            IntegrationId = IntegrationId, TenantId = tenant.Id, CompanyPsaId = companyId, CompanyName = $"Company {companyId}", AgreementPsaId = agreementId,
            AgreementName = agreementId is null ? null : $"Agreement {agreementId}", Origin = origin, ExportEnabled = true, UpdatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync();
    }

    /// <summary>A vendor product; mapped to the catalog item <paramref name="catalogId"/> when given.</summary>
    public async Task<VendorProduct> AddProductAsync(string partNumber, string name, decimal price, decimal cost, long? catalogId = null)
    {
        await using var db = await CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow;
        var product = new VendorProduct { OrganizationId = OrganizationId, PartNumber = partNumber, Name = name, RetailPrice = price, Cost = cost, Recurring = true, CreatedAt = now, UpdatedAt = now };
        db.VendorProducts.Add(product);
        await db.SaveChangesAsync();
        if (catalogId is not null)
        {
            db.ProductMappings.Add(new ProductMapping { IntegrationId = IntegrationId, VendorProductId = product.Id, PsaProductId = catalogId, PsaProductName = name, UpdatedAt = now });
            await db.SaveChangesAsync();
        }

        return product;
    }

    public async Task MapProductAsync(VendorProduct product, long catalogId)
    {
        await using var db = await CreateDbContextAsync();
        var mapping = await db.ProductMappings.SingleOrDefaultAsync(m => m.IntegrationId == IntegrationId && m.VendorProductId == product.Id);
        if (mapping is null)
        {
            db.ProductMappings.Add(new ProductMapping { IntegrationId = IntegrationId, VendorProductId = product.Id, PsaProductId = catalogId, PsaProductName = product.Name, UpdatedAt = DateTimeOffset.UtcNow });
        }
        else
        {
            mapping.PsaProductId = catalogId;
        }

        await db.SaveChangesAsync();
    }

    public async Task<InvoiceLine> AddLineAsync(Tenant tenant, VendorProduct product, decimal quantity, decimal price, decimal cost,
        string start = "2026-12-01", string end = "2026-12-31", ChargeType type = ChargeType.CycleFee)
    {
        await using var db = await CreateDbContextAsync();
        var startDate = DateOnly.Parse(start, CultureInfo.InvariantCulture);
        var line = new InvoiceLine
        {
            OrganizationId = OrganizationId, ExternalId = "INV-" + Guid.NewGuid().ToString("N")[..10], TenantId = tenant.Id, ProductId = product.Id, ChargeType = type,
            BillingCycle = BillingCycle.Monthly, ChargeStartDate = startDate, ChargeEndDate = DateOnly.Parse(end, CultureInfo.InvariantCulture),
            Quantity = quantity, UnitPrice = price, Cost = cost, InvoiceMonth = new DateOnly(startDate.Year, startDate.Month, 1), UpdatedAt = DateTimeOffset.UtcNow,
        };
        db.InvoiceLines.Add(line);
        await db.SaveChangesAsync();
        return line;
    }

    public async Task AddUsageAsync(Tenant tenant, VendorProduct product, int quantity)
    {
        await using var db = await CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow;
        db.TenantUsage.Add(new TenantUsage { OrganizationId = OrganizationId, TenantId = tenant.Id, ProductId = product.Id, Quantity = quantity, AsOf = now, UpdatedAt = now });
        await db.SaveChangesAsync();
    }

    /// <summary>Each line's state row (no row: the line was never touched).</summary>
    public async Task<Dictionary<long, InvoiceLineSync>> SyncsAsync()
    {
        await using var db = await CreateDbContextAsync();
        return await db.InvoiceLineSyncs.AsNoTracking().Where(s => s.IntegrationId == IntegrationId).ToDictionaryAsync(s => s.InvoiceLineId);
    }

    /// <summary>Sync all mapped through the service the Invoices tab calls, then waits until the Quartz job it queued has run.</summary>
    public async Task SyncAllMappedAsync()
    {
        var accepted = await Get<IInvoiceLineSync>().SyncAllMappedAsync(Admin, IntegrationId);
        Assert.True(accepted.Accepted, accepted.Message);
        await WaitForInvoiceJobsAsync();
    }

    public async Task SyncSelectedAsync(params long[] lineIds)
    {
        var accepted = await Get<IInvoiceLineSync>().SyncSelectedAsync(Admin, IntegrationId, lineIds);
        Assert.True(accepted.Accepted, accepted.Message);
        await WaitForInvoiceJobsAsync();
    }

    /// <summary>
    /// Fires the invoice job now through Quartz with the job data of the integration's stored trigger
    /// <paramref name="triggerName"/> (e.g. the daily line sync), as the scheduler does at midnight, and waits for it.
    /// </summary>
    public async Task FireAsync(JobDataMap data)
    {
        var scheduler = await Get<ISchedulerFactory>().GetScheduler();
        var trigger = TriggerBuilder.Create()
            .WithIdentity("test-fire-" + Guid.NewGuid().ToString("N"), IntegrationSchedules.GroupOf(IntegrationId))
            .ForJob(InvoiceExportJob.Key)
            .UsingJobData(data)
            .StartNow()
            .Build();
        await scheduler.ScheduleJob(trigger);
        await WaitForInvoiceJobsAsync();
    }

    public async Task<ITrigger?> StoredTriggerAsync(string name)
    {
        var scheduler = await Get<ISchedulerFactory>().GetScheduler();
        return await scheduler.GetTrigger(new TriggerKey(name, IntegrationSchedules.GroupOf(IntegrationId)));
    }

    /// <summary>Until no one-shot invoice trigger of the integration is left (Quartz removes one when its job has completed) and no invoice job runs.</summary>
    public async Task WaitForInvoiceJobsAsync(TimeSpan? timeout = null)
    {
        var scheduler = await Get<ISchedulerFactory>().GetScheduler();
        var group = IntegrationSchedules.GroupOf(IntegrationId);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var pending = (await scheduler.GetTriggerKeys(GroupMatcher<TriggerKey>.GroupEquals(group)))
                .Where(k => k.Name.StartsWith("invoice-lines-now-", StringComparison.Ordinal) || k.Name.StartsWith("invoice-export-now-", StringComparison.Ordinal)
                    || k.Name.StartsWith("test-fire-", StringComparison.Ordinal))
                .ToList();
            var firings = await scheduler.QueryFireInstances(new FireInstanceQuery { TriggerGroup = GroupMatcher<TriggerKey>.GroupEquals(group), State = null });
            var running = firings.Items.Any(f => InvoiceExportJob.Key.Equals(f.JobKey));
            if (pending.Count == 0 && !running)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Invoice jobs still pending or running after {(timeout ?? TimeSpan.FromSeconds(60)).TotalSeconds} s: {string.Join(", ", pending)}");
            await Task.Delay(50);
        }
    }

    public void Faults(FaultSettings faults) => Sandbox.ConnectWise.Configure(s => s with { Faults = faults });

    /// <summary>Requests the sandbox answered with this method on a path ending so (e.g. POST "/additions").</summary>
    public int Calls(string method, string pathEnd) =>
        Sandbox.ConnectWise.RequestLog.Entries().Count(e => e.Method == method && e.Path.EndsWith(pathEnd, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _portal.DisposeAsync();
    }
}

/// <summary>The ConnectWise state the tests check, read straight from the sandbox's tables.</summary>
internal readonly struct ConnectWiseDataView(PsaSandbox sandbox)
{
    public static long Long(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var value) ? (long)value : throw new InvalidOperationException($"not a number: {node}");

    public static decimal Decimal(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var value) ? value : throw new InvalidOperationException($"not a number: {node}");

    /// <summary>A company's active agreement of the given name.</summary>
    public long Agreement(long companyId, string name = "Managed Services") => JsonRecords.GetId(sandbox.ConnectWise.Data.Agreements.All()
        .First(a => Long(a["company"]!["id"]) == companyId && JsonRecords.GetString(a["name"]) == name));

    /// <summary>Companies with an active Managed Services agreement, in number order.</summary>
    public IReadOnlyList<long> CompaniesWithAgreements() => [.. sandbox.ConnectWise.Data.Agreements.All()
        .Where(a => JsonRecords.GetString(a["name"]) == "Managed Services" && JsonRecords.GetString(a["agreementStatus"]) == "Active")
        .Select(a => Long(a["company"]!["id"])).Distinct().Order()];

    public long MaxAdditionId() => sandbox.ConnectWise.Data.Additions.All().Select(JsonRecords.GetId).DefaultIfEmpty(0).Max();

    /// <summary>The additions created after <paramref name="afterId"/>, as comparable tuples.</summary>
    public IReadOnlyList<PostedAddition> AdditionsAfter(long afterId) => [.. sandbox.ConnectWise.Data.Additions.All()
        .Where(a => JsonRecords.GetId(a) > afterId)
        .Select(a => new PostedAddition(JsonRecords.GetId(a), Long(a["agreementId"]), Long(a["product"]!["id"]), Decimal(a["quantity"]), Decimal(a["unitPrice"]), Decimal(a["unitCost"]),
            DateOnly.FromDateTime(DateTimeOffset.Parse(JsonRecords.GetString(a["effectiveDate"])!, CultureInfo.InvariantCulture).UtcDateTime), JsonRecords.GetString(a["invoiceDescription"])))
        .OrderBy(a => a.Id)];

    public JsonObject? CatalogItem(string identifier) => sandbox.ConnectWise.Data.Catalog.All()
        .SingleOrDefault(c => string.Equals(JsonRecords.GetString(c["identifier"]), identifier, StringComparison.OrdinalIgnoreCase));

    public int CatalogCount(string identifier) => sandbox.ConnectWise.Data.Catalog.All()
        .Count(c => string.Equals(JsonRecords.GetString(c["identifier"]), identifier, StringComparison.OrdinalIgnoreCase));

    /// <summary>The documents attached to an agreement, with their bytes.</summary>
    public IReadOnlyList<(JsonObject Document, byte[] Content)> AgreementDocuments(long agreementId)
    {
        var data = sandbox.ConnectWise.Data;
        var attached = data.DocumentRecords.All()
            .Where(r => JsonRecords.GetString(r["recordType"]) == "Agreement" && Long(r["recordId"]) == agreementId)
            .Select(JsonRecords.GetId).ToHashSet();
        return [.. data.Documents.All().Where(d => attached.Contains(JsonRecords.GetId(d)))
            .Select(d => (d, Convert.FromBase64String(JsonRecords.GetString(data.DocumentContents.Find(JsonRecords.GetId(d))!["content"]) ?? string.Empty)))];
    }
}

/// <summary>One addition as ConnectWise holds it.</summary>
internal sealed record PostedAddition(long Id, long AgreementId, long ProductId, decimal Quantity, decimal UnitPrice, decimal UnitCost, DateOnly EffectiveDate, string? InvoiceDescription)
{
    /// <summary>What the tests compare (no invoice description reads as empty).</summary>
    public (long, long, decimal, decimal, decimal, DateOnly, string) Key => (AgreementId, ProductId, Quantity, UnitPrice, UnitCost, EffectiveDate, InvoiceDescription ?? string.Empty);
}
