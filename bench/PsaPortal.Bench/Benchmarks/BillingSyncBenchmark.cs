using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Bench.Benchmarks;

/// <summary>
/// A billing Sync now over --tenants (10,000) mapped tenants per PSA: the portal on Kestrel with SQLite and its
/// built-in sandbox seeded with that many companies, latency --latency (50) ms; ConnectWise throttled at
/// --cw-limit (1,000) requests a minute with the portal's budget the same, Autotask at 10,000 requests an hour and 3
/// concurrent requests per endpoint. Every tenant is mapped by a person to its company's agreement (contract) with
/// export on, every product is mapped, usage equals the PSA's current quantity except one product of
/// --changed-percent (10) % of the tenants. Starts the run through IBillingRuns.SyncNowAsync, waits for
/// BillingRunFinished, and prints the PSA calls (sandbox request log) against the minimum the plan needs, the wall time
/// against the rate-limit bound, peak memory, and whether every row's PSA value now equals the tenant's count.
/// Options: --tenants 10000 --latency 50 --changed-percent 10 --cw-limit 1000 --psa both|connectwise|autotask.
/// </summary>
internal sealed class BillingSyncBenchmark : IBenchmark
{
    private const int AutotaskPage = 500;

    public string Name => "billing-sync";

    public string Description => "Billing Sync now of 10,000 mapped tenants per PSA, 10 % changed, latency 50 ms: calls vs minimum, time vs rate-limit bound";

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var tenants = arguments.Int("tenants", 10_000);
        var latency = arguments.Int("latency", 50);
        var changedPercent = arguments.Int("changed-percent", 10);
        var cwLimit = arguments.Int("cw-limit", 1_000);
        var which = arguments.String("psa") ?? "both";
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        var port = LoopbackPort.Free();
        await using var portal = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?>
        {
            ["Sandbox:Enabled"] = "true",
            // The two recycle-bin duplicates at the end have no agreement, so two more companies give --tenants mapped ones.
            ["Sandbox:CompanyCount"] = (tenants + 2).ToString(CultureInfo.InvariantCulture),
            ["Sandbox:SnapshotPath"] = "",
            ["Sandbox:RequestLogCapacity"] = "200000",
            ["Psa:ConnectWiseRequestsPerMinute"] = cwLimit.ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        portal.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        portal.StartServer();
        var baseUrl = $"http://127.0.0.1:{port}";
        var sandbox = portal.Services.GetRequiredService<PsaSandbox>();
        sandbox.ConnectWise.Configure(s => s with { RateLimitPerMinute = cwLimit, Faults = new FaultSettings { LatencyMilliseconds = latency } });
        sandbox.Autotask.Configure(s => s with { HourlyThreshold = 10_000, ThreadLimitPerEndpoint = 3, Faults = new FaultSettings { LatencyMilliseconds = latency } });
        Console.WriteLine($"billing-sync: {tenants:N0} tenants per PSA, {changedPercent} % with a changed count, sandbox latency {latency} ms, ConnectWise {cwLimit:N0}/min " +
            $"(portal budget {cwLimit:N0}/min), Autotask 10,000/hour and 3 per endpoint; SQLite in {portal.DataDirectory}; {Environment.ProcessorCount} cores");

        var exit = 0;
        if (which is "both" or "connectwise")
        {
            var scenario = new ConnectWiseBench(sandbox, $"{baseUrl}/sandbox/connectwise");
            exit |= await RunOneAsync(portal, scenario, tenants, changedPercent, latency, cwLimit, cancellationToken);
        }

        if (which is "both" or "autotask")
        {
            var scenario = new AutotaskBench(sandbox, $"{baseUrl}/sandbox/autotask/atservicesrest/");
            exit |= await RunOneAsync(portal, scenario, tenants, changedPercent, latency, cwLimit, cancellationToken);
        }

        return exit;
    }

    private static async Task<int> RunOneAsync(PortalFactory portal, PsaBench psa, int tenants, int changedPercent, int latency, int cwLimit, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var (organizationId, rows) = await SeedAsync(portal, psa, tenants, changedPercent, cancellationToken);
        var changed = rows.Count(r => r.Usage != r.PsaBefore);
        Console.WriteLine();
        Console.WriteLine($"{psa.Vendor}: seeded {rows.Select(r => r.TenantId).Distinct().Count():N0} mapped tenants, {rows.Count:N0} rows, {changed:N0} changed " +
            $"({watch.Elapsed.TotalSeconds:F0} s)");

        var user = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, "bench"), new Claim(ClaimTypes.Name, "bench@msp.example"),
                new Claim(ClaimTypes.Role, PortalRoles.Admin), new Claim(PortalClaims.OrganizationId, organizationId.ToString()),
            ],
            "Bench"));
        var log = psa.Log;
        var finished = new TaskCompletionSource<BillingRunFinished>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = portal.Services.GetRequiredService<IPortalEventStream>().Subscribe(organizationId, e =>
        {
            if (e is BillingRunFinished done)
            {
                finished.TrySetResult(done);
            }

            return Task.CompletedTask;
        });

        GC.Collect();
        using var process = Process.GetCurrentProcess();
        using var heap = new HeapSampler(live: false);
        var heapBefore = GC.GetTotalMemory(forceFullCollection: false);
        var callsBefore = log.TotalCount;
        var sequenceBefore = log.Entries().LastOrDefault()?.Sequence ?? 0;
        var cpuBefore = process.TotalProcessorTime;
        watch.Restart();
        var runStartedAt = DateTimeOffset.UtcNow;
        var started = await portal.Services.GetRequiredService<IBillingRuns>().SyncNowAsync(user, psa.Vendor, cancellationToken);
        if (!started.Accepted)
        {
            Console.WriteLine($"  Sync now refused: {started.Message}");
            return 1;
        }

        var result = await finished.Task.WaitAsync(TimeSpan.FromHours(2), cancellationToken);
        var elapsed = watch.Elapsed;
        var calls = log.TotalCount - callsBefore;
        var entries = log.Entries().Where(e => e.Sequence > sequenceBefore).ToList();
        process.Refresh();

        Console.WriteLine($"  run {result.RunId}: {result.Status}, {result.Counts.Total:N0} rows: {result.Counts.Synced:N0} synced, {result.Counts.Unchanged:N0} unchanged, " +
            $"{result.Counts.Failed:N0} failed{(result.Error is null ? "" : " — " + result.Error)}");
        var byRoute = entries.GroupBy(e => $"{e.Method} {Shorten(e.Route)}").OrderByDescending(g => g.Count());
        Console.WriteLine($"  PSA calls by route: {string.Join(", ", byRoute.Select(g => $"{g.Key} {g.Count():N0}"))}" +
            (entries.Count < calls ? $" (log holds {entries.Count:N0} of {calls:N0})" : ""));
        var throttled = entries.Count(e => e.Status == 429);
        Console.WriteLine($"  429 answers: {throttled:N0}; other non-2xx: {entries.Count(e => e.Status is < 200 or >= 300 && e.Status != 429):N0}");

        var minimum = psa.MinimumCalls(rows, out var minimumHow);
        Console.WriteLine($"  PSA calls {calls:N0} vs minimum {minimum:N0} ({minimumHow}): ratio {calls / (double)minimum:F3} (target ≤ 1.05)");
        var (bound, boundHow) = psa.TimeBound(entries, calls, latency, cwLimit);
        Console.WriteLine($"  wall time {elapsed.TotalSeconds:F1} s vs bound {bound.TotalSeconds:F1} s ({boundHow}): ratio {elapsed / bound:F3} (target ≤ 1.15)");
        Console.WriteLine($"  timeline (s from Sync now): {Timeline(entries, runStartedAt, elapsed)}");
        var cpu = process.TotalProcessorTime - cpuBefore;
        Console.WriteLine($"  CPU used by the process (portal, sandbox, benchmark) during the run: {cpu.TotalSeconds:F1} s = {cpu / elapsed:F2} of {Environment.ProcessorCount} cores on average");
        Console.WriteLine($"  memory: managed heap before {Mb(heapBefore)}, peak during the run {Mb(heap.Peak)} (sampled every 50 ms, garbage included); " +
            $"process peak working set {Mb(process.PeakWorkingSet64)} (portal, sandbox with its data, benchmark)");

        await using var db = await portal.CreateDbContextAsync();
        var (wrong, failedRows) = await VerifyAsync(db, psa, rows, result.RunId, cancellationToken);
        Console.WriteLine($"  verify: {rows.Count - wrong.Count - failedRows.Count:N0} of {rows.Count:N0} rows hold the tenant's count in the PSA; {failedRows.Count:N0} failed rows " +
            $"({string.Join("; ", failedRows.GroupBy(f => f).Select(g => $"{g.Count()} × {g.Key}"))}); {wrong.Count:N0} wrong{(wrong.Count > 0 ? ": " + string.Join("; ", wrong.Take(5)) : "")}");
        return wrong.Count == 0 && result.Status is BillingRunStatus.Succeeded or BillingRunStatus.CompletedWithFailures ? 0 : 1;
    }

    /// <summary>Writes organization, integration, products and their mappings, tenants, person-made mappings and usage (the load benchmark seeds the same way).</summary>
    internal static async Task<(Guid OrganizationId, List<BenchRow> Rows)> SeedAsync(PortalFactory portal, PsaBench psa, int tenants, int changedPercent, CancellationToken cancellationToken)
    {
        var organizationId = await portal.AddOrganizationAsync($"Bench MSP {psa.Vendor}");
        var secrets = portal.Services.GetRequiredService<IntegrationSecrets>();
        var now = DateTimeOffset.UtcNow;
        await using var db = await portal.CreateDbContextAsync();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var integration = new Integration
        {
            OrganizationId = organizationId, Vendor = psa.Vendor, Status = IntegrationStatus.Connected, ConnectedAt = now,
            // A fresh reference sync is not due for hours, so none competes with the billing run for the PSA.
            ReferenceSyncedAt = now, UpdatedAt = now, UpdatedBy = "bench",
        };
        psa.DescribeConnection(integration, secrets);
        db.Integrations.Add(integration);
        var products = SandboxSeedData.Products.Select(p => new VendorProduct
        {
            OrganizationId = organizationId, PartNumber = p.Sku, Name = p.Description, Cost = p.Cost, RetailPrice = p.Price, Recurring = true, CreatedAt = now, UpdatedAt = now,
        }).ToList();
        db.VendorProducts.AddRange(products);
        await db.SaveChangesAsync(cancellationToken);
        db.ProductMappings.AddRange(products.Select(p => new ProductMapping
        {
            IntegrationId = integration.Id, VendorProductId = p.Id, PsaProductId = SandboxSeedData.Product(p.PartNumber).Number, PsaProductName = p.Name, UpdatedAt = now, UpdatedBy = "bench",
        }));

        var mapped = psa.MapCompanies().Take(tenants).ToList();
        var tenantRows = mapped.Select(m => new Tenant
        {
            OrganizationId = organizationId, ExternalId = $"bench-{m.CompanyPsaId}", Name = m.CompanyName, Status = TenantStatus.Active, CreatedAt = now, UpdatedAt = now,
        }).ToList();
        db.Tenants.AddRange(tenantRows);
        await db.SaveChangesAsync(cancellationToken);

        var random = new Random(7);
        var productId = products.ToDictionary(p => SandboxSeedData.Product(p.PartNumber).Number, p => p.Id);
        var rows = new List<BenchRow>();
        for (var index = 0; index < mapped.Count; index++)
        {
            var (company, tenant) = (mapped[index], tenantRows[index]);
            db.TenantMappings.Add(new TenantMapping
            {
                IntegrationId = integration.Id, TenantId = tenant.Id, CompanyPsaId = company.CompanyPsaId, CompanyName = company.CompanyName, Origin = MappingOrigin.Person,
                AgreementPsaId = company.AgreementPsaId, AgreementName = company.AgreementName, ExportEnabled = true, UpdatedAt = now, UpdatedBy = "bench",
            });
            var change = company.Lines.Count > 0 && random.Next(100) < changedPercent ? random.Next(company.Lines.Count) : -1;
            for (var line = 0; line < company.Lines.Count; line++)
            {
                var (psaProductId, quantity) = company.Lines[line];
                var usage = line == change ? quantity + 1 + random.Next(20) : quantity;
                db.TenantUsage.Add(new TenantUsage
                {
                    OrganizationId = organizationId, TenantId = tenant.Id, ProductId = productId[(int)psaProductId], Quantity = (int)usage, AsOf = now, UpdatedAt = now,
                });
                rows.Add(new BenchRow(tenant.Id, company.CompanyPsaId, company.AgreementPsaId, psaProductId, quantity, usage));
            }
        }

        db.PsaReferenceItems.AddRange(psa.ReferenceCache(integration.Id, now));
        await db.SaveChangesAsync(cancellationToken);
        return (organizationId, rows);
    }

    /// <summary>Rows whose PSA value differs from the tenant's count (other than rows the run failed), and the failed rows' messages.</summary>
    internal static async Task<(List<string> Wrong, List<string> Failed)> VerifyAsync(PortalDbContext db, PsaBench psa, List<BenchRow> rows, Guid runId, CancellationToken cancellationToken)
    {
        var items = await db.BillingRunItems.AsNoTracking().Where(i => i.RunId == runId).ToListAsync(cancellationToken);
        var failed = items.Where(i => i.Outcome == BillingOutcome.Failed).ToDictionary(i => (i.TenantId, i.PsaProductId ?? 0), i => i.Message ?? "(no message)");
        var wrong = new List<string>();
        var failedMessages = new List<string>();
        foreach (var row in rows)
        {
            if (failed.TryGetValue((row.TenantId, row.PsaProductId), out var message))
            {
                failedMessages.Add(message.Length > 90 ? message[..90] + "…" : message);
                continue;
            }

            var now = psa.Quantity(row.AgreementPsaId, row.PsaProductId);
            if (now != row.Usage)
            {
                wrong.Add($"tenant {row.TenantId} agreement {row.AgreementPsaId} product {row.PsaProductId}: PSA {now?.ToString(CultureInfo.InvariantCulture) ?? "none"}, count {row.Usage}");
            }
        }

        return (wrong, failedMessages);
    }

    /// <summary>Where the wall time goes: per endpoint, when its first call started and its last one ended; then the end.</summary>
    private static string Timeline(List<RequestLogEntry> entries, DateTimeOffset runStartedAt, TimeSpan elapsed)
    {
        double At(DateTimeOffset moment) => (moment - runStartedAt).TotalSeconds;
        var phases = entries.GroupBy(e => $"{e.Method} {Shorten(e.Route).Split('/')[0]}")
            .Select(g => (g.Key, First: g.Min(e => e.StartedAt), Last: g.Max(e => e.StartedAt.AddMilliseconds(e.ElapsedMilliseconds))))
            .OrderBy(p => p.First);
        return string.Join(", ", phases.Select(p => $"{p.Key} {At(p.First):F1}–{At(p.Last):F1}")) + $", finished {elapsed.TotalSeconds:F1}";
    }

    private static string Shorten(string route)
    {
        var index = route.IndexOf("apis/3.0/", StringComparison.Ordinal);
        if (index >= 0)
        {
            return route[(index + "apis/3.0/".Length)..];
        }

        index = route.IndexOf("v1.0/", StringComparison.OrdinalIgnoreCase);
        return index >= 0 ? route[(index + "v1.0/".Length)..] : route;
    }

    private static string Mb(long bytes) => $"{bytes / 1024.0 / 1024.0:F0} MiB";

    private static long Long(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var value) ? (long)value : 0;

    internal sealed record BenchRow(long TenantId, long CompanyPsaId, long AgreementPsaId, long PsaProductId, decimal PsaBefore, decimal Usage);

    internal sealed record MappedCompany(long CompanyPsaId, string CompanyName, long AgreementPsaId, string AgreementName, IReadOnlyList<(long PsaProductId, decimal Quantity)> Lines);

    /// <summary>One PSA's side: its data in the sandbox, the mappings a person would make, the minimum and the bound.</summary>
    internal abstract class PsaBench(PsaSandbox sandbox)
    {
        protected PsaSandbox Sandbox => sandbox;

        public abstract PsaVendor Vendor { get; }

        public abstract RequestLog Log { get; }

        public abstract void DescribeConnection(Integration integration, IntegrationSecrets secrets);

        public abstract IEnumerable<MappedCompany> MapCompanies();

        public virtual IEnumerable<PsaReferenceItem> ReferenceCache(Guid integrationId, DateTimeOffset now) => [];

        public abstract long MinimumCalls(List<BenchRow> rows, out string how);

        public abstract (TimeSpan Bound, string How) TimeBound(List<RequestLogEntry> entries, long calls, int latency, int cwLimit);

        /// <summary>The PSA's value of the row's line now (active addition quantity; units of the current period); null when there is none.</summary>
        public abstract decimal? Quantity(long agreementPsaId, long psaProductId);
    }

    internal sealed class ConnectWiseBench(PsaSandbox sandbox, string siteUrl) : PsaBench(sandbox)
    {
        public override PsaVendor Vendor => PsaVendor.ConnectWise;

        public override RequestLog Log => Sandbox.ConnectWise.RequestLog;

        public override void DescribeConnection(Integration integration, IntegrationSecrets secrets)
        {
            integration.SiteUrl = siteUrl;
            integration.CompanyId = "sandbox";
            integration.PublicKey = "SbxFullPublic01";
            integration.ProtectedPrivateKey = secrets.Protect("SbxFullPrivate01");
            integration.ApiVersion = "ConnectWise 2025.1";
        }

        private IEnumerable<JsonObject> ActiveAdditions(long agreementId) =>
            Sandbox.ConnectWise.Data.Additions.FindBy("agreementId", [agreementId])!.Where(a => a["cancelledDate"] is null);

        public override IEnumerable<MappedCompany> MapCompanies()
        {
            var managed = Sandbox.ConnectWise.Data.Agreements.All()
                .Where(a => JsonRecords.GetString(a["name"]) == "Managed Services" && JsonRecords.GetBoolean(a["cancelledFlag"]) != true)
                .ToLookup(a => Long(a["company"]?["id"]));
            foreach (var company in Sandbox.ConnectWise.Data.Companies.All())
            {
                var agreement = managed[JsonRecords.GetId(company)].FirstOrDefault();
                if (agreement is null)
                {
                    continue;
                }

                var lines = ActiveAdditions(JsonRecords.GetId(agreement)).GroupBy(a => Long(a["product"]?["id"]))
                    .Select(g => (g.Key, JsonRecords.TryGetDecimal(g.First()["quantity"], out var q) ? q : 0m)).ToList();
                yield return new MappedCompany(JsonRecords.GetId(company), JsonRecords.GetString(company["name"]) ?? "", JsonRecords.GetId(agreement), "Managed Services", lines);
            }
        }

        /// <summary>What a reference sync would have cached: agreements and their active additions (the engine reads other agreements of a company from it).</summary>
        public override IEnumerable<PsaReferenceItem> ReferenceCache(Guid integrationId, DateTimeOffset now)
        {
            foreach (var agreement in Sandbox.ConnectWise.Data.Agreements.All())
            {
                var name = JsonRecords.GetString(agreement["name"]) ?? "";
                yield return new PsaReferenceItem
                {
                    IntegrationId = integrationId, Kind = PsaReferenceKind.Agreement, PsaId = JsonRecords.GetId(agreement), ParentPsaId = Long(agreement["company"]?["id"]),
                    Name = name, SearchText = name.ToLowerInvariant(), Type = JsonRecords.GetString(agreement["type"]?["name"]),
                    IsActive = JsonRecords.GetBoolean(agreement["cancelledFlag"]) != true, SyncGeneration = 1, SyncedAt = now,
                };
            }

            foreach (var addition in Sandbox.ConnectWise.Data.Additions.All().Where(a => a["cancelledDate"] is null))
            {
                var productId = Long(addition["product"]?["id"]);
                var name = SandboxSeedData.Products.FirstOrDefault(p => p.Number == productId)?.Description ?? $"product {productId}";
                yield return new PsaReferenceItem
                {
                    IntegrationId = integrationId, Kind = PsaReferenceKind.Addition, PsaId = JsonRecords.GetId(addition), ParentPsaId = Long(addition["agreementId"]), ProductPsaId = productId,
                    Name = name, SearchText = name.ToLowerInvariant(), SyncGeneration = 1, SyncedAt = now,
                };
            }
        }

        public override long MinimumCalls(List<BenchRow> rows, out string how)
        {
            var agreements = rows.Select(r => r.AgreementPsaId).Distinct().Count();
            var agreementsOfCompany = Sandbox.ConnectWise.Data.Agreements.All().Where(a => JsonRecords.GetBoolean(a["cancelledFlag"]) != true).ToLookup(a => Long(a["company"]?["id"]), JsonRecords.GetId);
            var others = rows.SelectMany(r => agreementsOfCompany[r.CompanyPsaId].Where(a => a != r.AgreementPsaId && ActiveAdditions(a).Any(x => Long(x["product"]?["id"]) == r.PsaProductId)))
                .Distinct().Count();
            var writes = rows.Count(r => r.Usage != r.PsaBefore && !SharedProduct(r, agreementsOfCompany));
            how = $"1 codebase discovery + {agreements:N0} additions reads (one per mapped agreement) + {others:N0} other agreements of a company holding the product + {writes:N0} writes for the changed rows";
            return 1 + agreements + others + writes;
        }

        /// <summary>A row whose product sits on another agreement of the company fails with DESIGN.md's message and is not written.</summary>
        private bool SharedProduct(BenchRow row, ILookup<long, long> agreementsOfCompany) =>
            agreementsOfCompany[row.CompanyPsaId].Any(a => a != row.AgreementPsaId && ActiveAdditions(a).Any(x => Long(x["product"]?["id"]) == row.PsaProductId));

        public override (TimeSpan Bound, string How) TimeBound(List<RequestLogEntry> entries, long calls, int latency, int cwLimit) =>
            (TimeSpan.FromMinutes(calls / (double)cwLimit), $"calls ÷ {cwLimit:N0}/min");

        public override decimal? Quantity(long agreementPsaId, long psaProductId) =>
            ActiveAdditions(agreementPsaId).Where(a => Long(a["product"]?["id"]) == psaProductId)
                .Select(a => JsonRecords.TryGetDecimal(a["quantity"], out var q) ? q : (decimal?)null).FirstOrDefault();
    }

    internal sealed class AutotaskBench(PsaSandbox sandbox, string zoneDiscoveryUrl) : PsaBench(sandbox)
    {
        private DateOnly Today => Sandbox.SeedData.ReferenceDate;

        public override PsaVendor Vendor => PsaVendor.Autotask;

        public override RequestLog Log => Sandbox.Autotask.RequestLog;

        public override void DescribeConnection(Integration integration, IntegrationSecrets secrets)
        {
            integration.UserName = "full@psaportal-sandbox.example";
            integration.ProtectedSecret = secrets.Protect("SbxFullSecret1!");
            integration.ProtectedIntegrationCode = secrets.Protect("PSAPORTALSANDBOX0000000000");
            integration.ZoneDiscoveryUrl = zoneDiscoveryUrl;
            integration.ApiVersion = "Autotask REST v1.0";
        }

        private IEnumerable<JsonObject> Services(long contractId) => Sandbox.Autotask.Data.ContractServices.FindBy("contractID", [contractId])!;

        /// <summary>The units of a contract service in the period containing the reference date; null when there is no such row.</summary>
        private decimal? CurrentUnits(long contractServiceId) =>
            Sandbox.Autotask.Data.ContractServiceUnits.FindBy("contractServiceID", [contractServiceId])!
                .Where(u => Date(u["startDate"]) <= Today && Today <= Date(u["endDate"]))
                .Select(u => JsonRecords.TryGetDecimal(u["units"], out var units) ? units : (decimal?)null).FirstOrDefault();

        private static DateOnly Date(JsonNode? node) => DateOnly.FromDateTime(DateTime.Parse(JsonRecords.GetString(node) ?? "0001-01-01", CultureInfo.InvariantCulture));

        public override IEnumerable<MappedCompany> MapCompanies()
        {
            var contracts = Sandbox.Autotask.Data.Contracts.All().Where(c => Long(c["contractType"]) == 7).ToLookup(c => Long(c["companyID"]));
            foreach (var company in Sandbox.Autotask.Data.Companies.All())
            {
                var contract = contracts[JsonRecords.GetId(company)].FirstOrDefault();
                if (contract is null || JsonRecords.GetBoolean(company["isActive"]) == false)
                {
                    continue;
                }

                var lines = Services(JsonRecords.GetId(contract)).GroupBy(s => Long(s["serviceID"]))
                    .Select(g => (g.Key, CurrentUnits(JsonRecords.GetId(g.First())) ?? 0m)).ToList();
                yield return new MappedCompany(JsonRecords.GetId(company), JsonRecords.GetString(company["companyName"]) ?? "", JsonRecords.GetId(contract),
                    JsonRecords.GetString(contract["contractName"]) ?? "", lines);
            }
        }

        public override long MinimumCalls(List<BenchRow> rows, out string how)
        {
            var contracts = rows.Select(r => r.AgreementPsaId).Distinct().ToList();
            var services = contracts.Sum(c => Services(c).Count());
            var changed = rows.Count(r => r.Usage != r.PsaBefore);
            static long Pages(long rowCount) => (rowCount + AutotaskPage - 1) / AutotaskPage;
            how = $"1 zone discovery + 1 threshold reading + {Pages(contracts.Count)} contract pages + {Pages(services)} contract-service pages + {Pages(services)} units pages " +
                $"(500 rows a page) + {changed:N0} adjustments for the changed rows + {Pages(changed)} confirm re-read pages";
            return 2 + Pages(contracts.Count) + 2 * Pages(services) + changed + Pages(changed);
        }

        public override (TimeSpan Bound, string How) TimeBound(List<RequestLogEntry> entries, long calls, int latency, int cwLimit)
        {
            // Each endpoint runs 3 requests at a time; the plan's phases (contracts, services, units, adjustments, confirm) follow one another.
            var perEndpoint = entries.GroupBy(e => Shorten(e.Route).Split('/')[0]).Select(g => (Endpoint: g.Key, Rounds: (g.Count() + 2) / 3)).ToList();
            var concurrency = TimeSpan.FromMilliseconds(perEndpoint.Sum(e => e.Rounds) * (double)latency);
            var threshold = TimeSpan.FromHours(Math.Max(0, calls - 9_000) / 10_000.0);
            var asRate = TimeSpan.FromHours(calls / 10_000.0);
            return (concurrency > threshold ? concurrency : threshold,
                $"max(rolling-hour threshold: 0 while calls ≤ 9,000 of 10,000 (10 % reserve) = {threshold.TotalSeconds:F0} s; per endpoint ⌈calls ÷ 3⌉ × {latency} ms, endpoints one after another = " +
                $"{concurrency.TotalSeconds:F1} s [{string.Join(", ", perEndpoint.Select(e => $"{e.Endpoint} {e.Rounds}"))}]); reading the threshold as a rate instead (calls ÷ 10,000/h) gives {asRate.TotalSeconds:F0} s");
        }

        public override decimal? Quantity(long agreementPsaId, long psaProductId) =>
            Services(agreementPsaId).Where(s => Long(s["serviceID"]) == psaProductId).Select(s => CurrentUnits(JsonRecords.GetId(s))).FirstOrDefault();
    }
}
