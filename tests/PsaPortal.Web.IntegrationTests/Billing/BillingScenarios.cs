using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.IntegrationTests.Reference;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// Billing runs against the sandbox over real HTTP with its seeded hard cases, on each database provider
/// (<see cref="SqliteBillingScenarios"/>, <see cref="PostgreSqlBillingScenarios"/>). Expected rows, messages and PSA
/// state come from the sandbox's own tables and seed; write calls are counted in the sandbox's request log.
/// </summary>
public abstract class BillingScenarios : IAsyncLifetime
{
    private SandboxPortal _portal = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _portal = await SandboxPortal.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    private IBillingRuns Runs => _portal.Get<IBillingRuns>();

    [Fact]
    public async Task SyncNow_ConnectWise_MultipleAgreementsForExactlyThatRow_UpdatesAndCreatesOnlyWhatChanged_SecondRunWritesNothing()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.ConnectWise);
        var hard = world.Hard;
        var (changedCompany, changedSku, changedQuantity) = ChangedLine(world, avoid: [hard.ProductOnTwoAgreementsCompany, hard.CancelledAdditionCompany]);
        await world.SetUsageAsync(changedCompany, changedSku, changedQuantity);
        var missingSku = SandboxSeedData.Products.Select(p => p.Sku).First(s => world.Seed.SubscriptionsOf(changedCompany).All(x => x.Sku != s));
        await world.SetUsageAsync(changedCompany, missingSku, 9);
        var cancelledCase = world.Seed.SubscriptionsOf(hard.CancelledAdditionCompany).Single(s => s.Sku == hard.CancelledAdditionSku);
        await world.SetUsageAsync(hard.CancelledAdditionCompany, hard.CancelledAdditionSku, cancelledCase.Quantity + 2);
        var before = world.LastRequest;

        var started = await Runs.SyncNowAsync(_portal.Admin, PsaVendor.ConnectWise);

        Assert.True(started.Accepted, started.Message);
        var run = await world.WaitForEndAsync(started.RunId!.Value);
        var rows = await world.RowsAsync(run.Id);
        var multiple = rows.Where(r => r.Message == BillingMessages.MultipleAgreements).ToList();
        var twice = Assert.Single(multiple);
        Assert.Equal((world.TenantOf[hard.ProductOnTwoAgreementsCompany], world.ProductOf[hard.ProductOnTwoAgreementsSku]), (twice.TenantId, twice.VendorProductId));
        Assert.Equal(BillingRunStatus.CompletedWithFailures, run.Status);
        Assert.Equal((rows.Count, rows.Count, 1), (run.Total, run.Done, run.Failed));
        Assert.All(rows.Where(r => r.Id != twice.Id), r => Assert.True(r.Outcome is BillingOutcome.Synced or BillingOutcome.Unchanged, $"{r.TenantName} {r.VendorProductName}: {r.Outcome} {r.Message}"));

        var changed = rows.Single(r => r.TenantId == world.TenantOf[changedCompany] && r.VendorProductId == world.ProductOf[changedSku]);
        Assert.Equal((BillingAction.UpdateQuantity, BillingOutcome.Synced, (decimal?)changedQuantity), (changed.Action, changed.Outcome, changed.New));
        var line = Assert.Single(world.ActiveAdditions(changed.AgreementPsaId!.Value, changed.PsaProductId!.Value));
        Assert.Equal(changedQuantity, BillingWorld.Long(line["quantity"]));
        var created = rows.Single(r => r.TenantId == world.TenantOf[changedCompany] && r.VendorProductId == world.ProductOf[missingSku]);
        Assert.Equal((BillingAction.CreateAddition, BillingOutcome.Synced, (decimal?)null), (created.Action, created.Outcome, created.Previous));
        var newLine = Assert.Single(world.ActiveAdditions(created.AgreementPsaId!.Value, created.PsaProductId!.Value));
        Assert.Equal((9L, created.LinePsaId!.Value), (BillingWorld.Long(newLine["quantity"]), JsonRecords.GetId(newLine)));
        var cancelled = rows.Single(r => r.TenantId == world.TenantOf[hard.CancelledAdditionCompany] && r.VendorProductId == world.ProductOf[hard.CancelledAdditionSku]);
        Assert.Equal((BillingAction.UpdateQuantity, BillingOutcome.Synced), (cancelled.Action, cancelled.Outcome));
        Assert.Equal(cancelledCase.Quantity + 2, BillingWorld.Long(Assert.Single(world.ActiveAdditions(cancelled.AgreementPsaId!.Value, cancelled.PsaProductId!.Value))["quantity"]));

        // Exactly one write per changed row, none for the unchanged ones; every write journalled as applied.
        var writes = world.BillingWrites(before);
        Assert.Equal(3, writes.Count);
        Assert.Equal(2, writes.Count(w => w.Method == "PATCH"));
        Assert.Equal(1, writes.Count(w => w.Method == "POST"));
        Assert.All(await world.WritesAsync(run.Id), w => Assert.Equal(BillingWriteState.Applied, w.State));
        Assert.Equal(3, rows.Count(r => r.Outcome == BillingOutcome.Synced));
        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            Assert.NotNull((await db.TenantMappings.SingleAsync(m => m.TenantId == world.TenantOf[changedCompany])).LastBilledAt);
        }

        var afterFirst = world.LastRequest;
        var second = await Runs.SyncNowAsync(_portal.Admin, PsaVendor.ConnectWise);
        var secondRun = await world.WaitForEndAsync(second.RunId!.Value);

        Assert.Empty(world.BillingWrites(afterFirst));
        Assert.Equal((rows.Count - 1, 0, 1), (secondRun.Unchanged, secondRun.Synced, secondRun.Failed));
    }

    [Fact]
    public async Task SyncNow_Autotask_PeriodAndDuplicateMessagesForExactlyThoseRows_AdjustsOnlyChangedUnits_SecondRunWritesNothing()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.Autotask);
        var hard = world.Hard;
        var (changedCompany, changedSku, changedQuantity) = ChangedLine(world, avoid: [hard.FutureDatedContractCompany, hard.ExpiredContractCompany, hard.DuplicateServiceCompany]);
        await world.SetUsageAsync(changedCompany, changedSku, changedQuantity);
        var before = world.LastRequest;

        var started = await Runs.SyncNowAsync(_portal.Admin, PsaVendor.Autotask);

        Assert.True(started.Accepted, started.Message);
        var run = await world.WaitForEndAsync(started.RunId!.Value);
        var rows = await world.RowsAsync(run.Id);
        var contracts = _portal.Sandbox.Autotask.Data.Contracts.All();
        string ContractName(int company, string prefix) => JsonRecords.GetString(contracts.First(c => BillingWorld.Long(c["companyID"]) == 1000 + company
            && JsonRecords.GetString(c["contractName"])!.StartsWith(prefix, StringComparison.Ordinal))["contractName"])!;
        DateOnly ContractDate(int company, string prefix, string field) => DateOnly.Parse(JsonRecords.GetString(contracts.First(c => BillingWorld.Long(c["companyID"]) == 1000 + company
            && JsonRecords.GetString(c["contractName"])!.StartsWith(prefix, StringComparison.Ordinal))[field])![..10], System.Globalization.CultureInfo.InvariantCulture);

        var future = BillingMessages.FutureContract(ContractName(hard.FutureDatedContractCompany, "Managed Services Renewal - "),
            ContractDate(hard.FutureDatedContractCompany, "Managed Services Renewal - ", "startDate"));
        Assert.StartsWith("Contract \"Managed Services Renewal - ", future, StringComparison.Ordinal);
        Assert.Contains(", which is in the future. Billing cannot be synced until the contract period has begun — update the contract start date in Autotask or wait until the contract is active.", future, StringComparison.Ordinal);
        var expired = BillingMessages.ExpiredContract(ContractName(hard.ExpiredContractCompany, "Managed Services 2024 - "),
            ContractDate(hard.ExpiredContractCompany, "Managed Services 2024 - ", "endDate"));
        var duplicate = BillingMessages.DuplicateService(2);
        Assert.Equal("Duplicate service found — the mapped Autotask Service appears 2 times on this contract. Remove the duplicate in Autotask by deleting it (if not yet invoiced) or setting its units to 0 with a past-dated removal, then retry.", duplicate);

        AssertMessageOnExactly(rows, future, rows.Where(r => r.TenantId == world.TenantOf[hard.FutureDatedContractCompany]));
        AssertMessageOnExactly(rows, expired, rows.Where(r => r.TenantId == world.TenantOf[hard.ExpiredContractCompany]));
        AssertMessageOnExactly(rows, duplicate, rows.Where(r => r.TenantId == world.TenantOf[hard.DuplicateServiceCompany] && r.VendorProductId == world.ProductOf[hard.DuplicateServiceSku]));
        Assert.All(rows.Where(r => r.Outcome == BillingOutcome.Failed), r => Assert.Contains(r.Message, new[] { future, expired, duplicate }));

        var changed = rows.Single(r => r.TenantId == world.TenantOf[changedCompany] && r.VendorProductId == world.ProductOf[changedSku]);
        Assert.Equal((BillingAction.Adjust, BillingOutcome.Synced, (decimal?)changedQuantity), (changed.Action, changed.Outcome, changed.New));
        Assert.Equal(changedQuantity, world.UnitsToday(changed.LinePsaId!.Value));
        var writes = world.BillingWrites(before);
        Assert.Single(writes);
        var adjustment = Assert.Single(_portal.Sandbox.Autotask.Data.ContractServiceAdjustments.All());
        Assert.Equal(changedQuantity - (long)changed.Previous!.Value, BillingWorld.Long(adjustment["unitChange"]));
        Assert.Equal(rows.Count(r => r.Outcome == BillingOutcome.Failed), run.Failed);

        var afterFirst = world.LastRequest;
        var second = await Runs.SyncNowAsync(_portal.Admin, PsaVendor.Autotask);
        var secondRun = await world.WaitForEndAsync(second.RunId!.Value);
        Assert.Empty(world.BillingWrites(afterFirst));
        Assert.Equal((0, run.Failed), (secondRun.Synced, secondRun.Failed));
        // Bulk reads: contracts, services and units by id lists, not one read per tenant.
        var reads = (world.Vendor == PsaVendor.Autotask ? _portal.Sandbox.Autotask.RequestLog : _portal.Sandbox.ConnectWise.RequestLog).Entries().Where(e => e.Sequence > afterFirst).ToList();
        Assert.InRange(reads.Count, 3, 6);
    }

    [Fact]
    public async Task SyncNow_SalesUser_Refused_AndSecondRunWhileOneIsQueued_Refused()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.ConnectWise);

        // The PSA answers slowly while the second is asked for, so the first run cannot have ended by then (CI once saw
        // a run of this small world finish between the two calls).
        var faults = _portal.Sandbox.ConnectWise.Settings.Faults;
        _portal.Sandbox.ConnectWise.Configure(s => s with { Faults = s.Faults with { LatencyMilliseconds = 300 } });
        var sales = await Runs.SyncNowAsync(_portal.UserIn(PortalRoles.Sales), PsaVendor.ConnectWise);
        var first = await Runs.SyncNowAsync(_portal.Admin, PsaVendor.ConnectWise);
        var second = await Runs.PreviewAsync(_portal.UserIn(PortalRoles.FullMember), PsaVendor.ConnectWise);
        _portal.Sandbox.ConnectWise.Configure(s => s with { Faults = faults });

        Assert.Equal((false, BillingMessages.SalesRefused), (sales.Accepted, sales.Message));
        Assert.True(first.Accepted, first.Message);
        Assert.Equal((false, "A billing run is already running for ConnectWise."), (second.Accepted, second.Message));
        await world.WaitForEndAsync(first.RunId!.Value);
        await using var db = await _portal.Factory.CreateDbContextAsync();
        Assert.Equal(1, await db.BillingRuns.CountAsync());
        Assert.Contains(await db.AuditEntries.ToListAsync(), e => e.Action == "Billing sync started" && e.ActorName == "admin@northwind.example");
    }

    /// <summary>A line of an ordinary company whose count a test moves by +3.</summary>
    private static (int Company, string Sku, int Quantity) ChangedLine(BillingWorld world, IReadOnlyCollection<int> avoid)
    {
        var company = world.Seed.Companies.First(c => c.DuplicateOfNumber is null && !avoid.Contains(c.Number) && world.Seed.SubscriptionsOf(c.Number).Any());
        var line = world.Seed.SubscriptionsOf(company.Number).First();
        return (company.Number, line.Sku, line.Quantity + 3);
    }

    private static void AssertMessageOnExactly(IReadOnlyList<BillingRunItem> rows, string message, IEnumerable<BillingRunItem> expected)
    {
        var want = expected.Select(r => r.Id).Order().ToList();
        Assert.NotEmpty(want);
        Assert.Equal(want, rows.Where(r => r.Message == message).Select(r => r.Id).Order().ToList());
        Assert.All(rows.Where(r => want.Contains(r.Id)), r => Assert.Equal(BillingOutcome.Failed, r.Outcome));
    }
}

public sealed class SqliteBillingScenarios : BillingScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlBillingScenarios(PostgreSqlFixture postgres) : BillingScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
