using System.Text.RegularExpressions;
using PsaPortal.Integrations;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Platform;
using Xunit.Abstractions;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// A billing run over a few hundred tenants while the sandbox answers 20 % of calls with 5xx, throttles in storms (every
/// call 429 for seconds at a time, and at random between them) and lets calls hang past the client's attempt timeout:
/// every row must end Synced, Unchanged or Failed with a reason a person can act on, the PSA must hold exactly what the
/// synced rows say (no addition created twice, no adjustment posted twice), and once the faults stop, Retry all failed
/// must bring every row but the PSA's own hard cases home.
/// </summary>
public sealed partial class FaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int CompanyCount = 300;

    private static readonly FaultSettings Faults = new()
    {
        LatencyMilliseconds = 2,
        ServerErrorRate = 0.2,
        TimeoutRate = 0.03,
        TimeoutMilliseconds = (int)(FaultPortal.AttemptTimeout.TotalMilliseconds * 2),
        ThrottleRate = 0.05,
        ThrottleStormSeconds = 3,
        ThrottleStormIntervalSeconds = 15,
    };

    private FaultPortal _portal = null!;

    public async Task InitializeAsync() => _portal = await FaultPortal.StartAsync(CompanyCount);

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task ConnectWise_ServerErrorsThrottleStormsAndTimeouts_EveryRowSyncedOrFailedWithItsReason_AndRetryOfTheFailedSyncsThemOnceFaultsStop() =>
        await RunThroughFaultsAsync(PsaVendor.ConnectWise);

    [Fact]
    public async Task Autotask_ServerErrorsThrottleStormsAndTimeouts_EveryRowSyncedOrFailedWithItsReason_AndRetryOfTheFailedSyncsThemOnceFaultsStop() =>
        await RunThroughFaultsAsync(PsaVendor.Autotask);

    private async Task RunThroughFaultsAsync(PsaVendor vendor)
    {
        var sandbox = _portal.Sandbox;
        var integrationId = await _portal.LinkAsync(vendor);
        var tenants = await _portal.MapEveryCompanyAsync(vendor, integrationId);
        var changed = await ChangeCountsAsync(vendor, tenants);
        var before = FaultPsa.Take(sandbox);
        var runs = _portal.Get<IBillingRuns>();
        var log = vendor == PsaVendor.ConnectWise ? sandbox.ConnectWise.RequestLog : sandbox.Autotask.RequestLog;
        var firstCall = log.TotalCount;

        Configure(sandbox, vendor, Faults);
        // The first storm starts with the settings; the run starts after it, so its first read round is not spent on
        // one storm with all of the client's retries (the later storms, every 15 s, and the random 429s still hit it).
        await Task.Delay(TimeSpan.FromSeconds(Faults.ThrottleStormSeconds + 1));
        var started = await runs.SyncNowAsync(_portal.Admin, vendor);
        Assert.True(started.Accepted, started.Message);
        var run = await _portal.WaitForEndAsync(started.RunId!.Value, TimeSpan.FromMinutes(8));
        Configure(sandbox, vendor, new FaultSettings());

        var calls = log.Entries().Where(e => e.Sequence > firstCall).ToList();
        var injected = (ServerErrors: calls.Count(c => c.Status >= 500), Throttled: calls.Count(c => c.Status == 429), Dropped: calls.Count(c => c.Status == 0));
        var rows = await _portal.RowsAsync(run.Id);
        output.WriteLine($"{vendor}: {rows.Count} rows ({changed} counts changed); run {run.Status}: {run.Synced} synced, {run.Unchanged} unchanged, {run.Failed} failed; " +
                         $"{calls.Count} PSA calls, of them {injected.ServerErrors} 5xx, {injected.Throttled} 429 and {injected.Dropped} dropped (timeouts)");
        foreach (var reason in rows.Where(r => r.Outcome == BillingOutcome.Failed).GroupBy(r => r.Message).OrderByDescending(g => g.Count()))
        {
            output.WriteLine($"  failed x{reason.Count()}: {reason.Key}");
        }

        Assert.True(injected.ServerErrors > 0 && injected.Throttled > 0 && injected.Dropped > 0, $"the faults did not all happen: {injected}");
        Assert.True(rows.Count >= (CompanyCount - 2) * 1.5, $"only {rows.Count} rows for {CompanyCount - 2} tenants");
        Assert.Contains(run.Status, new[] { BillingRunStatus.Succeeded, BillingRunStatus.CompletedWithFailures });
        Assert.All(rows, row =>
        {
            Assert.Contains(row.Outcome, new[] { BillingOutcome.Synced, BillingOutcome.Unchanged, BillingOutcome.Failed });
            if (row.Outcome == BillingOutcome.Failed)
            {
                AssertClearReason(row);
            }
        });
        // A row whose write's outcome the run could not confirm may hold either; the retry below must settle it.
        Assert.Empty(Mismatches(vendor, sandbox, before, rows, await _portal.UnconfirmedAsync(run.Id)));

        // The faults stop; Retry all failed recomputes the failed rows and syncs them, leaving only the PSA's own problems.
        var hardCases = HardCases(vendor, sandbox, tenants);
        if (rows.Any(r => r.Outcome == BillingOutcome.Failed))
        {
            var retry = await runs.RetryFailedAsync(_portal.Admin, run.Id);
            Assert.True(retry.Accepted, retry.Message);
            var retried = await _portal.WaitForEndAsync(retry.RunId!.Value, TimeSpan.FromMinutes(3));
            var retriedRows = await _portal.RowsAsync(retried.Id);
            Assert.Equal(rows.Count(r => r.Outcome == BillingOutcome.Failed), retriedRows.Count);
            Assert.All(retriedRows, row => Assert.True(
                hardCases.TryGetValue((row.TenantId, row.VendorProductId), out var message)
                    ? row.Outcome == BillingOutcome.Failed && row.Message == message
                    : row.Outcome is BillingOutcome.Synced or BillingOutcome.Unchanged,
                $"{FaultPsa.Describe(row)}: \"{row.Message}\""));
        }

        // The first run's rows now read as the retry left them; the PSA must hold every one of them, from the same starting point.
        var final = await _portal.RowsAsync(run.Id);
        Assert.All(final, row => Assert.True(
            hardCases.TryGetValue((row.TenantId, row.VendorProductId), out var message)
                ? row.Outcome == BillingOutcome.Failed && row.Message == message
                : row.Outcome is BillingOutcome.Synced or BillingOutcome.Unchanged,
            $"{FaultPsa.Describe(row)}: \"{row.Message}\""));
        Assert.Empty(Mismatches(vendor, sandbox, before, final));
    }

    /// <summary>About half the counts move away from what the PSA holds (up or down); on ConnectWise some tenants start using a product their agreement lacks.</summary>
    private async Task<int> ChangeCountsAsync(PsaVendor vendor, IReadOnlyList<FaultTenant> tenants)
    {
        var random = new Random(20_260_000 + (int)vendor);
        var sandbox = _portal.Sandbox;
        var changed = 0;
        await using var db = await _portal.CreateDbContextAsync();
        var productOfSku = tenants[0].SkuOfProduct.ToDictionary(p => p.Value, p => p.Key);
        foreach (var tenant in tenants)
        {
            var usage = db.TenantUsage.Where(u => u.TenantId == tenant.TenantId).ToList();
            if (vendor == PsaVendor.ConnectWise && tenant.CompanyNumber > 6 && random.NextDouble() < 0.1)
            {
                var unused = SandboxSeedData.Products.Where(p => usage.All(u => tenant.SkuOfProduct[u.ProductId] != p.Sku)).ToList();
                if (unused.Count > 0)
                {
                    var added = new TenantUsage
                    {
                        OrganizationId = _portal.OrganizationId, TenantId = tenant.TenantId, ProductId = productOfSku[unused[random.Next(unused.Count)].Sku],
                        Quantity = 1 + random.Next(50), AsOf = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
                    };
                    db.TenantUsage.Add(added);
                    changed++;
                }
            }

            foreach (var row in usage)
            {
                var productId = SandboxSeedData.Product(tenant.SkuOfProduct[row.ProductId]).Number;
                var current = vendor == PsaVendor.ConnectWise
                    ? (int)(FaultPsa.ActiveAdditions(sandbox, tenant.AgreementPsaId, productId).FirstOrDefault().Quantity)
                    : FaultPsa.ContractServices(sandbox, tenant.AgreementPsaId, productId) is [var line, ..] ? FaultPsa.UnitsToday(sandbox, line) : 0;
                row.Quantity = current;
                if (random.NextDouble() < 0.5)
                {
                    var change = 1 + random.Next(30);
                    row.Quantity = random.Next(2) == 0 && current - change >= 1 ? current - change : current + change;
                    changed++;
                }
            }
        }

        await db.SaveChangesAsync();
        return changed;
    }

    /// <summary>The rows the PSA's own data must fail whatever the faults, with DESIGN.md's messages.</summary>
    private static Dictionary<(long TenantId, long ProductId), string> HardCases(PsaVendor vendor, PsaSandbox sandbox, IReadOnlyList<FaultTenant> tenants)
    {
        var hard = sandbox.SeedData.HardCases;
        var result = new Dictionary<(long, long), string>();
        foreach (var tenant in tenants)
        {
            foreach (var (productId, sku) in tenant.SkuOfProduct)
            {
                var message = vendor == PsaVendor.ConnectWise
                    ? tenant.CompanyNumber == hard.ProductOnTwoAgreementsCompany && sku == hard.ProductOnTwoAgreementsSku ? BillingMessages.MultipleAgreements : null
                    : tenant.CompanyNumber == hard.FutureDatedContractCompany || tenant.CompanyNumber == hard.ExpiredContractCompany ? ContractMessage(sandbox, tenant.CompanyNumber)
                    : tenant.CompanyNumber == hard.DuplicateServiceCompany && sku == hard.DuplicateServiceSku ? BillingMessages.DuplicateService(2) : null;
                if (message is not null)
                {
                    result[(tenant.TenantId, productId)] = message;
                }
            }
        }

        return result;
    }

    private static string ContractMessage(PsaSandbox sandbox, int companyNumber)
    {
        var (id, name, _) = FaultPsa.AutotaskContract(sandbox, companyNumber);
        var contract = sandbox.Autotask.Data.Contracts.All().Single(c => JsonRecords.GetId(c) == id);
        DateOnly DateOf(string field) => DateOnly.FromDateTime(DateTime.Parse(JsonRecords.GetString(contract[field])!, System.Globalization.CultureInfo.InvariantCulture));
        return companyNumber == sandbox.SeedData.HardCases.FutureDatedContractCompany
            ? BillingMessages.FutureContract(name, DateOf("startDate"))
            : BillingMessages.ExpiredContract(name, DateOf("endDate"));
    }

    private static List<string> Mismatches(PsaVendor vendor, PsaSandbox sandbox, FaultPsa.Snapshot before, IReadOnlyList<BillingRunItem> rows, IReadOnlySet<long>? unconfirmed = null) =>
        vendor == PsaVendor.ConnectWise ? FaultPsa.ConnectWiseMismatches(sandbox, before, rows, unconfirmed) : FaultPsa.AutotaskMismatches(sandbox, before, rows, unconfirmed);

    /// <summary>A failed row says why in words: not empty, no exception type, no stack frame.</summary>
    private static void AssertClearReason(BillingRunItem row)
    {
        Assert.False(string.IsNullOrWhiteSpace(row.Message), $"{FaultPsa.Describe(row)} failed without a message");
        Assert.DoesNotMatch(StackFrame(), row.Message);
        Assert.DoesNotMatch(ExceptionName(), row.Message);
        Assert.DoesNotContain("Object reference", row.Message, StringComparison.Ordinal);
    }

    private static void Configure(PsaSandbox sandbox, PsaVendor vendor, FaultSettings faults)
    {
        if (vendor == PsaVendor.ConnectWise)
        {
            sandbox.ConnectWise.Configure(s => s with { Faults = faults });
        }
        else
        {
            sandbox.Autotask.Configure(s => s with { Faults = faults });
        }
    }

    [GeneratedRegex(@"\bat [\w.`<>]+\(|\.cs:line \d+")]
    private static partial Regex StackFrame();

    [GeneratedRegex(@"\b\w*Exception\b")]
    private static partial Regex ExceptionName();
}
