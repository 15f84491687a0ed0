using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Psa;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.IntegrationTests.Reference;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// Resume after a crash: the database holds exactly what a killed run leaves (a Running run, final rows, one row in
/// flight with its write journalled as Planned), the PSA either received that write or not, and the engine picks the run
/// up again. It must settle the write by re-reading the PSA — never by sending it blindly — so nothing is applied twice
/// and nothing is lost, and it must leave rows that were already final alone.
/// </summary>
public abstract class BillingResumeScenarios : IAsyncLifetime
{
    private SandboxPortal _portal = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _portal = await SandboxPortal.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Resume_ConnectWiseQuantityWriteInFlight_SettledByRereadAndAppliedExactlyOnce(bool reachedThePsa)
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.ConnectWise);
        var (company, sku, quantity) = OrdinaryLine(world);
        await world.SetUsageAsync(company, sku, quantity + 4);
        var crash = await CrashedRunAsync(world, company, sku, BillingAction.UpdateQuantity);
        if (reachedThePsa)
        {
            await ConnectWise().SetAdditionQuantityAsync(crash.Row.AgreementPsaId!.Value, crash.Row.LinePsaId!.Value, quantity + 4);
        }

        var before = world.LastRequest;

        await _portal.Get<BillingEngine>().RunAsync(crash.RunId, CancellationToken.None);

        var run = await world.WaitForEndAsync(crash.RunId);
        Assert.Equal((BillingRunStatus.Succeeded, 1), (run.Status, run.Resumes));
        var row = (await world.RowsAsync(run.Id)).Single(r => r.Id == crash.Row.Id);
        Assert.Equal(BillingOutcome.Synced, row.Outcome);
        var line = Assert.Single(world.ActiveAdditions(row.AgreementPsaId!.Value, row.PsaProductId!.Value));
        Assert.Equal(quantity + 4, BillingWorld.Long(line["quantity"]));
        var journal = await world.WritesAsync(run.Id);
        Assert.Equal(reachedThePsa ? [BillingWriteState.Applied] : [BillingWriteState.NotApplied, BillingWriteState.Applied], journal.Select(w => w.State));
        Assert.Equal(reachedThePsa ? 0 : 1, world.BillingWrites(before).Count);
        await AssertFinalRowsUntouchedAsync(world, crash);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Resume_ConnectWiseAdditionCreateInFlight_NeverCreatesASecondAddition(bool reachedThePsa)
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.ConnectWise);
        var (company, _, _) = OrdinaryLine(world);
        var missing = PsaPortal.Sandbox.Seed.SandboxSeedData.Products.First(p => world.Seed.SubscriptionsOf(company).All(s => s.Sku != p.Sku));
        await world.SetUsageAsync(company, missing.Sku, 6);
        var crash = await CrashedRunAsync(world, company, missing.Sku, BillingAction.CreateAddition);
        if (reachedThePsa)
        {
            await ConnectWise().CreateAdditionAsync(crash.Row.AgreementPsaId!.Value, new PsaAdditionDraft(missing.Number, 6, DateOnly.FromDateTime(DateTime.UtcNow)));
        }

        var before = world.LastRequest;

        await _portal.Get<BillingEngine>().RunAsync(crash.RunId, CancellationToken.None);

        var run = await world.WaitForEndAsync(crash.RunId);
        Assert.Equal(BillingRunStatus.Succeeded, run.Status);
        var line = Assert.Single(world.ActiveAdditions(crash.Row.AgreementPsaId!.Value, missing.Number));
        Assert.Equal(6, BillingWorld.Long(line["quantity"]));
        var journal = await world.WritesAsync(run.Id);
        Assert.Equal(reachedThePsa ? [BillingWriteState.Applied] : [BillingWriteState.NotApplied, BillingWriteState.Applied], journal.Select(w => w.State));
        Assert.Equal(PsaPortal.Sandbox.Core.JsonRecords.GetId(line), journal[^1].ResultPsaId);
        Assert.Equal(reachedThePsa ? 0 : 1, world.BillingWrites(before).Count(w => w.Method == "POST"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Resume_AutotaskAdjustmentInFlight_SettledByRereadAndNeverAdjustedTwice(bool reachedThePsa)
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.Autotask);
        var (company, sku, quantity) = OrdinaryLine(world);
        await world.SetUsageAsync(company, sku, quantity + 5);
        var crash = await CrashedRunAsync(world, company, sku, BillingAction.Adjust);
        if (reachedThePsa)
        {
            await Autotask().CreateContractServiceAdjustmentAsync(new PsaUnitAdjustment(crash.Row.AgreementPsaId!.Value, crash.Row.LinePsaId!.Value, DateOnly.FromDateTime(DateTime.UtcNow), 5));
        }

        var before = world.LastRequest;

        await _portal.Get<BillingEngine>().RunAsync(crash.RunId, CancellationToken.None);

        var run = await world.WaitForEndAsync(crash.RunId);
        Assert.Equal(BillingRunStatus.Succeeded, run.Status);
        Assert.Equal(quantity + 5, world.UnitsToday(crash.Row.LinePsaId!.Value));
        Assert.Equal(quantity + 5, (decimal)_portal.Sandbox.Autotask.Data.ContractServiceAdjustments.All().Sum(a => BillingWorld.Long(a["unitChange"])) + quantity);
        var journal = await world.WritesAsync(run.Id);
        Assert.Equal(reachedThePsa ? [BillingWriteState.Applied] : [BillingWriteState.NotApplied, BillingWriteState.Applied], journal.Select(w => w.State));
        Assert.Equal(reachedThePsa ? 0 : 1, world.BillingWrites(before).Count);
        await AssertFinalRowsUntouchedAsync(world, crash);
    }

    [Fact]
    public async Task Resume_AutotaskUnitsChangedOutsideWhileInFlight_FailsTheRowWithTheUnitsAndSendsNothing()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.Autotask);
        var (company, sku, quantity) = OrdinaryLine(world);
        await world.SetUsageAsync(company, sku, quantity + 5);
        var crash = await CrashedRunAsync(world, company, sku, BillingAction.Adjust);
        await Autotask().CreateContractServiceAdjustmentAsync(new PsaUnitAdjustment(crash.Row.AgreementPsaId!.Value, crash.Row.LinePsaId!.Value, DateOnly.FromDateTime(DateTime.UtcNow), 2));
        var before = world.LastRequest;

        await _portal.Get<BillingEngine>().RunAsync(crash.RunId, CancellationToken.None);

        var run = await world.WaitForEndAsync(crash.RunId);
        var row = (await world.RowsAsync(run.Id)).Single(r => r.Id == crash.Row.Id);
        Assert.Equal((BillingRunStatus.CompletedWithFailures, BillingOutcome.Failed), (run.Status, row.Outcome));
        Assert.Equal(BillingMessages.UnitsChangedOutside(quantity, quantity + 5, quantity + 2), row.Message);
        Assert.Empty(world.BillingWrites(before));
        Assert.Equal(quantity + 2, world.UnitsToday(crash.Row.LinePsaId!.Value));
    }

    [Fact]
    public async Task Resume_RowsStoredOnlyPartWay_AreBuiltAgainWhole_NoRowTwiceOrMissing()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.ConnectWise);
        var integration = (await _portal.Get<IntegrationService>().FindAsync(_portal.OrganizationId, world.Vendor))!;
        var run = new BillingRun
        {
            OrganizationId = _portal.OrganizationId, IntegrationId = integration.Id, Vendor = world.Vendor, Mode = BillingRunMode.Apply, Trigger = BillingRunTrigger.Manual,
            RequestedBy = "admin@northwind.example", Status = BillingRunStatus.Running, CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-1), StartedAt = DateTimeOffset.UtcNow.AddMinutes(-1),
        };
        var rows = await _portal.Get<BillingRowSource>().BuildAsync(integration, run.Id, null, CancellationToken.None);
        // A process killed after the first of the store's chunks: some rows, and the run's Total (written with the last) still 0.
        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            db.BillingRuns.Add(run);
            db.BillingRunItems.AddRange(rows.Take(rows.Count / 2));
            await db.SaveChangesAsync();
        }

        await _portal.Get<BillingEngine>().RunAsync(run.Id, CancellationToken.None);

        var ended = await world.WaitForEndAsync(run.Id);
        var stored = await world.RowsAsync(run.Id);
        Assert.Equal((rows.Count, rows.Count, rows.Count), (ended.Total, ended.Done, stored.Count));
        Assert.Equal(rows.Select(r => (r.TenantId, r.VendorProductId)).Order(), stored.Select(r => (r.TenantId, r.VendorProductId)).Order());
        Assert.DoesNotContain(stored, r => r.Outcome is BillingOutcome.Pending or BillingOutcome.InFlight);
    }

    private sealed record Crash(Guid RunId, BillingRunItem Row, IReadOnlyDictionary<long, DateTimeOffset?> FinalRows);

    /// <summary>
    /// What a process killed right after journalling one write leaves: the run Running, every other row final
    /// (Unchanged or Failed as planned), the row InFlight with its Planned write.
    /// </summary>
    private async Task<Crash> CrashedRunAsync(BillingWorld world, int company, string sku, BillingAction action)
    {
        var integration = (await _portal.Get<IntegrationService>().FindAsync(_portal.OrganizationId, world.Vendor))!;
        var run = new BillingRun
        {
            OrganizationId = _portal.OrganizationId, IntegrationId = integration.Id, Vendor = world.Vendor, Mode = BillingRunMode.Apply, Trigger = BillingRunTrigger.Manual,
            RequestedBy = "admin@northwind.example", Status = BillingRunStatus.Running, CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-1), StartedAt = DateTimeOffset.UtcNow.AddMinutes(-1),
        };
        var rows = await _portal.Get<BillingRowSource>().BuildAsync(integration, run.Id, null, CancellationToken.None);
        var target = rows.Single(r => r.TenantId == world.TenantOf[company] && r.VendorProductId == world.ProductOf[sku]);
        var stamp = DateTimeOffset.UtcNow.AddMinutes(-1);
        foreach (var row in rows.Where(r => r != target))
        {
            row.Outcome = row.Outcome == BillingOutcome.Failed ? BillingOutcome.Failed : BillingOutcome.Unchanged;
            row.Action = row.Outcome == BillingOutcome.Unchanged ? BillingAction.NoChange : BillingAction.None;
            row.Attempts = 1;
            row.UpdatedAt = stamp;
        }

        var (lineId, current) = world.Vendor == PsaVendor.ConnectWise
            ? world.ActiveAdditions(target.AgreementPsaId!.Value, target.PsaProductId!.Value).Select(a => ((long?)PsaPortal.Sandbox.Core.JsonRecords.GetId(a), (decimal?)BillingWorld.Long(a["quantity"]))).SingleOrDefault()
            : AutotaskLine(target);
        target.Outcome = BillingOutcome.InFlight;
        target.Action = action;
        target.LinePsaId = lineId;
        target.Previous = current;
        target.Attempts = 1;
        run.Total = rows.Count;
        run.Done = rows.Count - 1;
        await using var db = await _portal.Factory.CreateDbContextAsync();
        db.BillingRuns.Add(run);
        db.BillingRunItems.AddRange(rows);
        await db.SaveChangesAsync();
        db.BillingWrites.Add(new BillingWrite
        {
            RunId = run.Id, ItemId = target.Id, Action = action, AgreementPsaId = target.AgreementPsaId!.Value, LinePsaId = lineId, PsaProductId = target.PsaProductId!.Value,
            Before = current, After = target.New!.Value, EffectiveDate = DateOnly.FromDateTime(DateTime.UtcNow), State = BillingWriteState.Planned, PlannedAt = stamp,
        });
        await db.SaveChangesAsync();
        var stored = await world.RowsAsync(run.Id);
        return new Crash(run.Id, target, stored.Where(r => r.Id != target.Id).ToDictionary(r => r.Id, r => r.UpdatedAt));
    }

    private (long?, decimal?) AutotaskLine(BillingRunItem row)
    {
        var line = _portal.Sandbox.Autotask.Data.ContractServices.All()
            .Single(s => BillingWorld.Long(s["contractID"]) == row.AgreementPsaId && BillingWorld.Long(s["serviceID"]) == row.PsaProductId);
        var id = PsaPortal.Sandbox.Core.JsonRecords.GetId(line);
        var world = _portal.Sandbox.Autotask.Data.ContractServiceUnits.All();
        var today = DateTime.UtcNow.Date;
        var units = world.Where(u => BillingWorld.Long(u["contractServiceID"]) == id)
            .Where(u => DateTime.Parse(PsaPortal.Sandbox.Core.JsonRecords.GetString(u["startDate"])![..10], System.Globalization.CultureInfo.InvariantCulture) <= today
                        && today <= DateTime.Parse(PsaPortal.Sandbox.Core.JsonRecords.GetString(u["endDate"])![..10], System.Globalization.CultureInfo.InvariantCulture))
            .Select(u => (decimal)BillingWorld.Long(u["units"])).SingleOrDefault();
        return (id, units);
    }

    private static (int Company, string Sku, int Quantity) OrdinaryLine(BillingWorld world)
    {
        var hard = world.Hard;
        int[] avoid = [hard.ProductOnTwoAgreementsCompany, hard.FutureDatedContractCompany, hard.ExpiredContractCompany, hard.DuplicateServiceCompany, hard.CancelledAdditionCompany];
        var company = world.Seed.Companies.First(c => c.DuplicateOfNumber is null && !avoid.Contains(c.Number) && world.Seed.SubscriptionsOf(c.Number).Any());
        var line = world.Seed.SubscriptionsOf(company.Number).First();
        return (company.Number, line.Sku, line.Quantity);
    }

    private async Task AssertFinalRowsUntouchedAsync(BillingWorld world, Crash crash)
    {
        var rows = await world.RowsAsync(crash.RunId);
        Assert.All(rows.Where(r => r.Id != crash.Row.Id), r => Assert.Equal(crash.FinalRows[r.Id], r.UpdatedAt));
    }

    private IConnectWiseApi ConnectWise()
    {
        var integrations = _portal.Get<IntegrationService>();
        return integrations.ConnectWiseApiFor(integrations.FindAsync(_portal.OrganizationId, PsaVendor.ConnectWise).GetAwaiter().GetResult()!);
    }

    private PsaPortal.Integrations.Autotask.IAutotaskApi Autotask()
    {
        var integrations = _portal.Get<IntegrationService>();
        return integrations.AutotaskApiFor(integrations.FindAsync(_portal.OrganizationId, PsaVendor.Autotask).GetAwaiter().GetResult()!);
    }
}

public sealed class SqliteBillingResumeScenarios : BillingResumeScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlBillingResumeScenarios(PostgreSqlFixture postgres) : BillingResumeScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
