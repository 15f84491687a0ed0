using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.IntegrationTests.Reference;
using Quartz;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// What a person asks of billing besides Sync now — preview and apply, retry of one row or of every failed row,
/// schedules — against the sandbox, on each database provider.
/// </summary>
public abstract class BillingRequestScenarios : IAsyncLifetime
{
    private SandboxPortal _portal = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _portal = await SandboxPortal.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    private IBillingRuns Runs => _portal.Get<IBillingRuns>();

    [Fact]
    public async Task Preview_WritesNothing_ApplyPreview_WritesExactlyThePlanAndFailsARowChangedInThePsaSince()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.ConnectWise);
        var lines = OrdinaryLines(world).Take(2).ToList();
        var (kept, changedInPsa) = (lines[0], lines[1]);
        await world.SetUsageAsync(kept.Company, kept.Sku, kept.Quantity + 3);
        await world.SetUsageAsync(changedInPsa.Company, changedInPsa.Sku, changedInPsa.Quantity + 2);
        var before = world.LastRequest;

        var preview = await Runs.PreviewAsync(_portal.UserIn(PortalRoles.FullMember), PsaVendor.ConnectWise);
        var previewRun = await world.WaitForEndAsync(preview.RunId!.Value);

        Assert.Empty(world.BillingWrites(before));
        Assert.Equal(BillingRunMode.Preview, previewRun.Mode);
        var planned = await world.RowsAsync(previewRun.Id);
        var keptRow = Row(world, planned, kept);
        Assert.Equal((BillingOutcome.Planned, BillingAction.UpdateQuantity, (decimal?)kept.Quantity, (decimal?)kept.Quantity + 3),
            (keptRow.Outcome, keptRow.Action, keptRow.Previous, keptRow.New));
        Assert.Equal(BillingAction.UpdateQuantity, Row(world, planned, changedInPsa).Action);
        Assert.Equal(planned.Count - 2, planned.Count(r => r.Outcome == BillingOutcome.Planned && r.Action == BillingAction.NoChange) + planned.Count(r => r.Outcome == BillingOutcome.Failed));
        Assert.Contains(planned, r => r.Message == BillingMessages.MultipleAgreements);
        Assert.Empty(await world.WritesAsync(previewRun.Id));

        // After the preview: the live count moves again (the plan keeps its number) and someone edits the PSA under another row.
        await world.SetUsageAsync(kept.Company, kept.Sku, kept.Quantity + 50);
        var changedRow = Row(world, planned, changedInPsa);
        await ConnectWise().SetAdditionQuantityAsync(changedRow.AgreementPsaId!.Value, changedRow.LinePsaId!.Value, changedInPsa.Quantity + 7);
        before = world.LastRequest;

        var apply = await Runs.ApplyPreviewAsync(_portal.Admin, previewRun.Id);
        var applyRun = await world.WaitForEndAsync(apply.RunId!.Value);

        Assert.True(apply.Accepted, apply.Message);
        Assert.Equal((BillingRunTrigger.ApplyPreview, previewRun.Id), (applyRun.Trigger, applyRun.SourceRunId));
        var applied = await world.RowsAsync(applyRun.Id);
        Assert.Equal(planned.Count(r => r.Outcome == BillingOutcome.Planned), applied.Count);
        var keptApplied = Row(world, applied, kept);
        Assert.Equal((BillingOutcome.Synced, (decimal?)kept.Quantity + 3), (keptApplied.Outcome, keptApplied.New));
        Assert.Equal(kept.Quantity + 3, BillingWorld.Long(Assert.Single(world.ActiveAdditions(keptApplied.AgreementPsaId!.Value, keptApplied.PsaProductId!.Value))["quantity"]));
        var refused = Row(world, applied, changedInPsa);
        Assert.Equal((BillingOutcome.Failed, $"Changed in the PSA since the preview (was {changedInPsa.Quantity}, now {changedInPsa.Quantity + 7}). Run a new preview."),
            (refused.Outcome, refused.Message));
        Assert.Equal(changedInPsa.Quantity + 7, BillingWorld.Long(Assert.Single(world.ActiveAdditions(refused.AgreementPsaId!.Value, refused.PsaProductId!.Value))["quantity"]));
        var writes = world.BillingWrites(before);
        Assert.Single(writes);
        Assert.All(applied.Where(r => r.Id != keptApplied.Id && r.Id != refused.Id), r => Assert.Equal(BillingOutcome.Unchanged, r.Outcome));

        var again = await Runs.ApplyPreviewAsync(_portal.Admin, previewRun.Id);
        Assert.Equal((false, "This preview has already been applied. Run a new preview."), (again.Accepted, again.Message));
    }

    [Fact]
    public async Task RetryItem_AfterTheContractIsFixed_SyncsOnlyThatRowAndTurnsTheSourceRowLive()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.Autotask);
        var first = await Runs.SyncNowAsync(_portal.Admin, PsaVendor.Autotask);
        var run = await world.WaitForEndAsync(first.RunId!.Value);
        var rows = await world.RowsAsync(run.Id);
        var futureTenant = world.TenantOf[world.Hard.FutureDatedContractCompany];
        var failed = rows.First(r => r.TenantId == futureTenant && r.Outcome == BillingOutcome.Failed);
        Assert.StartsWith("Contract \"Managed Services Renewal - ", failed.Message, StringComparison.Ordinal);
        StartContractLastMonth(failed.AgreementPsaId!.Value);
        var changes = new ConcurrentQueue<BillingRunItemChanged>();
        using var subscription = _portal.Get<IPortalEventStream>().Subscribe(_portal.OrganizationId, e =>
        {
            if (e is BillingRunItemChanged changed)
            {
                changes.Enqueue(changed);
            }

            return Task.CompletedTask;
        });
        var before = world.LastRequest;

        var retry = await Runs.RetryItemAsync(_portal.UserIn(PortalRoles.FullMember), run.Id, failed.Id);
        var retryRun = await world.WaitForEndAsync(retry.RunId!.Value);

        Assert.True(retry.Accepted, retry.Message);
        Assert.Equal((BillingRunTrigger.RetryTenant, run.Id, (long?)futureTenant, 1, 1), (retryRun.Trigger, retryRun.SourceRunId, retryRun.TenantId, retryRun.Total, retryRun.Synced));
        var retried = Assert.Single(await world.RowsAsync(retryRun.Id));
        Assert.Equal((failed.TenantId, failed.VendorProductId, BillingOutcome.Synced), (retried.TenantId, retried.VendorProductId, retried.Outcome));
        Assert.Equal(retried.New, world.UnitsToday(retried.LinePsaId!.Value));
        Assert.Single(world.BillingWrites(before));
        var source = (await world.RowsAsync(run.Id)).Single(r => r.Id == failed.Id);
        Assert.Equal((BillingOutcome.Synced, (string?)null, 2, retried.New), (source.Outcome, source.Message, source.Attempts, source.New));
        var sourceRun = await world.WaitForEndAsync(run.Id);
        Assert.Equal((run.Failed - 1, run.Synced + 1), (sourceRun.Failed, sourceRun.Synced));
        Assert.Contains(changes, c => c.RunId == run.Id && c.ItemId == failed.Id && c.Outcome == BillingOutcome.Synced && c.Counts.Failed == run.Failed - 1);
        // Only that tenant's contract was read: one contract, its services, its units.
        var reads = _portal.Sandbox.Autotask.RequestLog.Entries().Where(e => e.Sequence > before && e.Method == "POST" && e.Path.EndsWith("/query", StringComparison.Ordinal)).ToList();
        Assert.InRange(reads.Count, 3, 5);
    }

    [Fact]
    public async Task RetryFailed_RetriesEveryFailedRowInOneRun_FixedOnesSyncAndTheRestFailAgain()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.Autotask);
        var first = await Runs.SyncNowAsync(_portal.Admin, PsaVendor.Autotask);
        var run = await world.WaitForEndAsync(first.RunId!.Value);
        var failed = (await world.RowsAsync(run.Id)).Where(r => r.Outcome == BillingOutcome.Failed).ToList();
        var future = failed.Where(r => r.TenantId == world.TenantOf[world.Hard.FutureDatedContractCompany]).ToList();
        StartContractLastMonth(future[0].AgreementPsaId!.Value);

        var retry = await Runs.RetryFailedAsync(_portal.Admin, run.Id);
        var retryRun = await world.WaitForEndAsync(retry.RunId!.Value);

        Assert.Equal((BillingRunTrigger.RetryFailed, failed.Count), (retryRun.Trigger, retryRun.Total));
        var rows = await world.RowsAsync(retryRun.Id);
        Assert.Equal(future.Select(r => r.VendorProductId).Order(), rows.Where(r => r.Outcome == BillingOutcome.Synced).Select(r => r.VendorProductId).Order());
        Assert.Equal(failed.Count - future.Count, retryRun.Failed);
        var sourceRun = await world.WaitForEndAsync(run.Id);
        Assert.Equal(failed.Count - future.Count, sourceRun.Failed);
        var nothingLeft = await Runs.RetryFailedAsync(_portal.UserIn(PortalRoles.Sales), run.Id);
        Assert.Equal(BillingMessages.SalesRefused, nothingLeft.Message);
    }

    [Fact]
    public async Task Schedules_SaveReplaceDelete_KeepQuartzTriggersInTheIntegrationsGroup_DisconnectPausesThem()
    {
        var integrationId = await _portal.LinkConnectWiseAsync();
        await _portal.NextSyncFinishedAsync();
        var scheduler = await _portal.Get<ISchedulerFactory>().GetScheduler();

        var hourly = await Runs.SaveScheduleAsync(_portal.Admin, PsaVendor.ConnectWise, null, new BillingScheduleInput(BillingFrequency.Hourly, new TimeOnly(0, 15), 0, "UTC", true));
        var schedule = Assert.Single(await Runs.GetSchedulesAsync(_portal.Admin, PsaVendor.ConnectWise));
        var key = BillingScheduleTriggers.KeyOf(integrationId, schedule.Id);

        Assert.Equal((true, "Saved: Hourly at minute 15 (UTC)."), (hourly.Accepted, hourly.Message));
        Assert.Equal(IntegrationSchedules.GroupOf(integrationId), key.Group);
        var trigger = Assert.IsAssignableFrom<ICronTrigger>(await scheduler.GetTrigger(key));
        Assert.Equal(("0 15 * * * ?", "UTC"), (trigger.CronExpressionString, trigger.TimeZone.Id));

        var monthly = await Runs.SaveScheduleAsync(_portal.Admin, PsaVendor.ConnectWise, schedule.Id,
            new BillingScheduleInput(BillingFrequency.Monthly, new TimeOnly(6, 30), 0, "Europe/Berlin", true));
        Assert.Equal("Saved: Monthly on the last day at 06:30 (Europe/Berlin).", monthly.Message);
        trigger = Assert.IsAssignableFrom<ICronTrigger>(await scheduler.GetTrigger(key));
        Assert.Equal(("0 30 6 L * ?", "Europe/Berlin"), (trigger.CronExpressionString, trigger.TimeZone.Id));
        Assert.Single(await Runs.GetSchedulesAsync(_portal.Admin, PsaVendor.ConnectWise));

        var badZone = await Runs.SaveScheduleAsync(_portal.Admin, PsaVendor.ConnectWise, null, new BillingScheduleInput(BillingFrequency.Daily, new TimeOnly(0, 0), 0, "Mars/Olympus", true));
        Assert.Equal((false, "\"Mars/Olympus\" is not a time zone this server knows. Use an IANA time zone id such as UTC, Europe/Berlin or America/New_York."),
            (badZone.Accepted, badZone.Message));
        var badDay = await Runs.SaveScheduleAsync(_portal.Admin, PsaVendor.ConnectWise, null, new BillingScheduleInput(BillingFrequency.Monthly, new TimeOnly(0, 0), 31, "UTC", true));
        Assert.Equal("The day of the month must be 1 to 28, or \"Last day of the month\".", badDay.Message);
        var sales = await Runs.SaveScheduleAsync(_portal.UserIn(PortalRoles.Sales), PsaVendor.ConnectWise, null, new BillingScheduleInput(BillingFrequency.Daily, default, 0, "UTC", true));
        Assert.Equal(BillingMessages.SalesRefused, sales.Message);

        await _portal.Get<IntegrationService>().DisconnectAsync(_portal.Admin, PsaVendor.ConnectWise);
        Assert.Equal(TriggerState.Paused, await scheduler.GetTriggerState(key));

        var deleted = await Runs.DeleteScheduleAsync(_portal.Admin, PsaVendor.ConnectWise, schedule.Id);
        Assert.Equal((true, "Deleted: Monthly on the last day at 06:30 (Europe/Berlin)."), (deleted.Accepted, deleted.Message));
        Assert.Null(await scheduler.GetTrigger(key));
        Assert.Empty(await Runs.GetSchedulesAsync(_portal.Admin, PsaVendor.ConnectWise));
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var audit = await db.AuditEntries.Select(e => e.Action).ToListAsync();
        Assert.Contains("Billing schedule added", audit);
        Assert.Contains("Billing schedule changed", audit);
        Assert.Contains("Billing schedule deleted", audit);
    }

    [Fact]
    public async Task ScheduleFires_RunsAScheduledSync_ASecondFiringWhileOneIsQueuedIsSkipped()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.ConnectWise);
        await Runs.SaveScheduleAsync(_portal.Admin, PsaVendor.ConnectWise, null, new BillingScheduleInput(BillingFrequency.Daily, new TimeOnly(0, 0), 0, "UTC", true));
        var schedule = Assert.Single(await Runs.GetSchedulesAsync(_portal.Admin, PsaVendor.ConnectWise));
        var starter = _portal.Get<BillingRunStarter>();

        var fired = await starter.StartScheduledAsync(world.IntegrationId, schedule.Id, CancellationToken.None);
        var skipped = await starter.StartScheduledAsync(world.IntegrationId, schedule.Id, CancellationToken.None);
        await _portal.Get<BillingEngine>().RunAsync(fired.RunId!.Value, CancellationToken.None);

        var run = await world.WaitForEndAsync(fired.RunId!.Value);
        Assert.Equal((BillingRunTrigger.Scheduled, "Schedule: Daily at 00:00 (UTC)"), (run.Trigger, run.RequestedBy));
        Assert.Equal(BillingRunStatus.CompletedWithFailures, run.Status);
        Assert.Equal((false, "A billing run is already running for ConnectWise."), (skipped.Accepted, skipped.Message));
    }

    [Fact]
    public async Task Queries_FilterSearchSortPageInTheDatabase_HistoryNewestFirst_CsvNeutralisesFormulas()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.ConnectWise);
        var line = OrdinaryLines(world).First();
        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            var tenant = await db.Tenants.SingleAsync(t => t.Id == world.TenantOf[line.Company]);
            tenant.Name = "=HYPERLINK(\"http://evil.example\")";
            await db.SaveChangesAsync();
        }

        var first = await world.WaitForEndAsync((await Runs.PreviewAsync(_portal.Admin, PsaVendor.ConnectWise)).RunId!.Value);
        var second = await world.WaitForEndAsync((await Runs.SyncNowAsync(_portal.Admin, PsaVendor.ConnectWise)).RunId!.Value);
        var queries = _portal.Get<IBillingRunQueries>();

        var history = await queries.ListRunsAsync(_portal.OrganizationId, world.IntegrationId, 0, 10);
        Assert.Equal([second.Id, first.Id], history.Rows.Select(r => r.Id));
        Assert.Null(await queries.GetRunAsync(Guid.NewGuid(), second.Id));
        Assert.Equal(0, (await queries.ListItemsAsync(Guid.NewGuid(), second.Id, null, null, 0, 50, null)).Count);

        var failed = await queries.ListItemsAsync(_portal.OrganizationId, second.Id, BillingOutcome.Failed, null, 0, 50, null);
        Assert.Equal(second.Failed, failed.Count);
        Assert.All(failed.Rows, r => Assert.Equal(BillingOutcome.Failed, r.Outcome));
        var found = await queries.ListItemsAsync(_portal.OrganizationId, second.Id, null, "  =hyperlink ", 0, 50, null);
        Assert.Equal(world.Seed.SubscriptionsOf(line.Company).Count(), found.Count);
        Assert.All(found.Rows, r => Assert.Equal(world.TenantOf[line.Company], r.TenantId));
        var byMessage = await queries.ListItemsAsync(_portal.OrganizationId, second.Id, null, "multiple agreements", 0, 50, null);
        Assert.Single(byMessage.Rows);

        var all = await queries.ListItemsAsync(_portal.OrganizationId, second.Id, null, null, 0, 1000, "New desc");
        Assert.Equal(second.Total, all.Count);
        Assert.Equal(all.Rows.OrderByDescending(r => r.New).Select(r => r.New), all.Rows.Select(r => r.New));
        var page = await queries.ListItemsAsync(_portal.OrganizationId, second.Id, null, null, 5, 5, "TenantName, Id");
        var ordered = (await queries.ListItemsAsync(_portal.OrganizationId, second.Id, null, null, 0, 1000, "TenantName, Id")).Rows;
        Assert.Equal(ordered.Skip(5).Take(5).Select(r => r.Id), page.Rows.Select(r => r.Id));
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => queries.ListItemsAsync(_portal.OrganizationId, second.Id, null, null, 0, 5, "Secret; drop table"));
        Assert.StartsWith("Cannot sort billing rows by \"Secret; drop table\"", refused.Message, StringComparison.Ordinal);

        using var csv = new MemoryStream();
        await queries.WriteCsvAsync(_portal.OrganizationId, second.Id, null, csv);
        var text = System.Text.Encoding.UTF8.GetString(csv.ToArray()).TrimStart('\uFEFF');
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith(string.Join(",", BillingRuns.CsvHeaders), lines[0], StringComparison.Ordinal);
        Assert.Equal(second.Total + 1, lines.Length);
        Assert.Contains("'=HYPERLINK", text, StringComparison.Ordinal);
        Assert.DoesNotContain(",=HYPERLINK", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"=HYPERLINK", text, StringComparison.Ordinal);
    }

    /// <summary>Moves the sandbox contract's period so it began a month ago (a person fixing the start date in Autotask).</summary>
    private void StartContractLastMonth(long contractId)
    {
        var contracts = _portal.Sandbox.Autotask.Data.Contracts;
        var contract = (JsonObject)contracts.Find(contractId)!.DeepClone();
        contract["startDate"] = DateTime.UtcNow.Date.AddMonths(-1).ToString("yyyy-MM-dd'T'00:00:00", System.Globalization.CultureInfo.InvariantCulture);
        contracts.Replace(contract);
    }

    private static BillingRunItem Row(BillingWorld world, IEnumerable<BillingRunItem> rows, (int Company, string Sku, int Quantity) line) =>
        rows.Single(r => r.TenantId == world.TenantOf[line.Company] && r.VendorProductId == world.ProductOf[line.Sku]);

    private static IEnumerable<(int Company, string Sku, int Quantity)> OrdinaryLines(BillingWorld world)
    {
        var hard = world.Hard;
        int[] avoid = [hard.ProductOnTwoAgreementsCompany, hard.FutureDatedContractCompany, hard.ExpiredContractCompany, hard.DuplicateServiceCompany, hard.CancelledAdditionCompany];
        return world.Seed.Companies.Where(c => c.DuplicateOfNumber is null && !avoid.Contains(c.Number))
            .SelectMany(c => world.Seed.SubscriptionsOf(c.Number).Take(1).Select(s => (c.Number, s.Sku, s.Quantity)));
    }

    private PsaPortal.Integrations.ConnectWise.IConnectWiseApi ConnectWise()
    {
        var integrations = _portal.Get<IntegrationService>();
        return integrations.ConnectWiseApiFor(integrations.FindAsync(_portal.OrganizationId, PsaVendor.ConnectWise).GetAwaiter().GetResult()!);
    }
}

public sealed class SqliteBillingRequestScenarios : BillingRequestScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlBillingRequestScenarios(PostgreSqlFixture postgres) : BillingRequestScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
