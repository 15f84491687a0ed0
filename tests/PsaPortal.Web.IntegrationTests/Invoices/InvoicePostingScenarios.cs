using Microsoft.EntityFrameworkCore;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using Quartz;

namespace PsaPortal.Web.IntegrationTests.Invoices;

/// <summary>
/// The invoice posting engine against the sandbox over real HTTP, on each database provider
/// (<see cref="SqliteInvoicePostingTests"/>, <see cref="PostgreSqlInvoicePostingTests"/>): the additions ConnectWise ends
/// up holding (agreement, product, quantity, price, cost, effective date, invoice description) for the Part Number +
/// Price + Cost split and two tenants on one company, a second sync posting nothing, an answer lost after the addition
/// was created settled by reading back, a refusal failing the lines with ConnectWise's words and Retry posting once, the
/// daily job posting only fully mapped lines, and the export settings deciding what is sent.
/// </summary>
public abstract class InvoicePostingScenarios : IAsyncLifetime
{
    private const string December = "Cycle Fee: 2026-12-01 to 2026-12-31";

    private static readonly SeedProduct Email = SandboxSeedData.Product("EML-SEC-USER");
    private static readonly SeedProduct Edr = SandboxSeedData.Product("SEC-EDR-STD");

    private InvoicePostingWorld _world = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _world = await InvoicePostingWorld.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await _world.DisposeAsync();

    private ConnectWiseDataView ConnectWise => _world.ConnectWise;

    private async Task<(Tenant Tenant, long Company, long Agreement)> MappedTenantAsync(string name, int companyIndex = 0)
    {
        var company = ConnectWise.CompaniesWithAgreements()[companyIndex];
        var agreement = ConnectWise.Agreement(company);
        var tenant = await _world.AddTenantAsync(name);
        await _world.MapTenantAsync(tenant, company, agreement);
        return (tenant, company, agreement);
    }

    private Task ConfigureAllOnAsync(bool daily = false) => _world.ConfigureAsync(s =>
    {
        s.ExportQuantities = true;
        s.ExportRetailPrice = true;
        s.ExportCost = true;
        s.DailySyncEnabled = daily;
    });

    [Fact]
    public async Task SyncAllMapped_PartNumberPriceCostSplit_ExactlyTheExpectedAdditions_AndASecondSyncPostsNothing()
    {
        await ConfigureAllOnAsync();
        var (contoso, _, agreement) = await MappedTenantAsync("Contoso");
        var email = await _world.AddProductAsync(Email.Sku, Email.Description, Email.Price, Email.Cost, Email.Number);
        var edr = await _world.AddProductAsync(Edr.Sku, Edr.Description, Edr.Price, Edr.Cost, Edr.Number);
        var first = await _world.AddLineAsync(contoso, email, 3, 1.95m, 0.80m);
        var same = await _world.AddLineAsync(contoso, email, 2, 1.95m, 0.80m);
        var otherPrice = await _world.AddLineAsync(contoso, email, 4, 2.50m, 0.80m);
        var otherCost = await _world.AddLineAsync(contoso, email, 1, 1.95m, 0.90m);
        var otherProduct = await _world.AddLineAsync(contoso, edr, 7, 4.50m, 2.10m);
        var otherMonth = await _world.AddLineAsync(contoso, email, 2, 1.95m, 0.80m, "2027-01-01", "2027-01-31");
        var before = ConnectWise.MaxAdditionId();

        await _world.SyncAllMappedAsync();

        var additions = ConnectWise.AdditionsAfter(before);
        Assert.Equal(
            new (long, long, decimal, decimal, decimal, DateOnly, string)[]
            {
                (agreement, (long)Email.Number, 5m, 1.95m, 0.80m, new DateOnly(2026, 12, 1), December),
                (agreement, (long)Email.Number, 4m, 2.50m, 0.80m, new DateOnly(2026, 12, 1), December),
                (agreement, (long)Email.Number, 1m, 1.95m, 0.90m, new DateOnly(2026, 12, 1), December),
                (agreement, (long)Edr.Number, 7m, 4.50m, 2.10m, new DateOnly(2026, 12, 1), December),
                (agreement, (long)Email.Number, 2m, 1.95m, 0.80m, new DateOnly(2027, 1, 1), "Cycle Fee: 2027-01-01 to 2027-01-31"),
            }.Order(),
            additions.Select(a => a.Key).Order());
        var syncs = await _world.SyncsAsync();
        Assert.All(new[] { first, same, otherPrice, otherCost, otherProduct, otherMonth }, line =>
        {
            var sync = syncs[line.Id];
            Assert.Equal((InvoiceLineSyncState.Posted, agreement, (string?)null), (sync.State, sync.AgreementPsaId!.Value, sync.Message));
            Assert.Contains(additions, a => a.Id == sync.AdditionPsaId);
        });
        Assert.Equal(syncs[first.Id].AdditionPsaId, syncs[same.Id].AdditionPsaId);
        Assert.Equal(5, additions.Select(a => a.Id).Distinct().Count());
        var posts = _world.Calls("POST", "/additions");
        Assert.Equal(5, posts);

        // Sync again: every line is already posted; nothing new reaches ConnectWise.
        await _world.SyncAllMappedAsync();
        var again = await _world.Get<InvoiceLinePoster>().PostAsync(_world.IntegrationId, null);

        Assert.Equal((0, 0, 6), (again.Posted, again.Additions, again.AlreadyPosted));
        Assert.Equal(additions, ConnectWise.AdditionsAfter(before));
        Assert.Equal(posts, _world.Calls("POST", "/additions"));
    }

    [Fact]
    public async Task SyncAllMapped_TwoTenantsOnOneCompany_TwoAdditionsEachOnItsOwnAgreement()
    {
        await ConfigureAllOnAsync();
        var company = _world.Sandbox.SeedData.HardCases.ProductOnTwoAgreementsCompany;
        var managed = ConnectWise.Agreement(company);
        var bundle = ConnectWise.Agreement(company, "Security Bundle");
        var tenantA = await _world.AddTenantAsync("Tenant A");
        var tenantB = await _world.AddTenantAsync("Tenant B");
        await _world.MapTenantAsync(tenantA, company, managed);
        await _world.MapTenantAsync(tenantB, company, bundle);
        var email = await _world.AddProductAsync(Email.Sku, "Mailbox", Email.Price, Email.Cost, Email.Number);
        await _world.AddLineAsync(tenantA, email, 3, 1.95m, 0.80m);
        await _world.AddLineAsync(tenantB, email, 4, 1.95m, 0.80m);
        var before = ConnectWise.MaxAdditionId();

        await _world.SyncAllMappedAsync();

        Assert.Equal(
            new (long, long, decimal, decimal, decimal, DateOnly, string)[]
            {
                (managed, (long)Email.Number, 3m, 1.95m, 0.80m, new DateOnly(2026, 12, 1), December),
                (bundle, (long)Email.Number, 4m, 1.95m, 0.80m, new DateOnly(2026, 12, 1), December),
            }.Order(),
            ConnectWise.AdditionsAfter(before).Select(a => a.Key).Order());
    }

    [Fact]
    public async Task Sync_AnswerHeldBackPastTheClientTimeoutAfterTheAdditionWasCreated_SettledByReadingBack_NoDuplicate()
    {
        await ConfigureAllOnAsync();
        var (contoso, _, agreement) = await MappedTenantAsync("Contoso");
        var email = await _world.AddProductAsync(Email.Sku, Email.Description, Email.Price, Email.Cost, Email.Number);
        var line = await _world.AddLineAsync(contoso, email, 3, 1.95m, 0.80m);
        var before = ConnectWise.MaxAdditionId();
        _world.Faults(new FaultSettings { SlowWriteAnswerMilliseconds = (int)(InvoicePostingWorld.AttemptTimeout.TotalMilliseconds * 2) });

        await _world.SyncSelectedAsync(line.Id);
        _world.Faults(new FaultSettings());

        var addition = Assert.Single(ConnectWise.AdditionsAfter(before));
        Assert.Equal((agreement, (long)Email.Number, 3m), (addition.AgreementId, addition.ProductId, addition.Quantity));
        var sync = (await _world.SyncsAsync())[line.Id];
        Assert.Equal((InvoiceLineSyncState.Posted, addition.Id), (sync.State, sync.AdditionPsaId!.Value));
        Assert.Equal(1, _world.Calls("POST", "/additions"));

        await _world.SyncAllMappedAsync();
        Assert.Single(ConnectWise.AdditionsAfter(before));
        Assert.Equal(1, _world.Calls("POST", "/additions"));
    }

    [Fact]
    public async Task Sync_TwoPassesAtOnce_EachAdditionPostedOnce()
    {
        await ConfigureAllOnAsync();
        var (contoso, _, _) = await MappedTenantAsync("Contoso");
        var email = await _world.AddProductAsync(Email.Sku, Email.Description, Email.Price, Email.Cost, Email.Number);
        var edr = await _world.AddProductAsync(Edr.Sku, Edr.Description, Edr.Price, Edr.Cost, Edr.Number);
        await _world.AddLineAsync(contoso, email, 3, 1.95m, 0.80m);
        await _world.AddLineAsync(contoso, edr, 2, 4.50m, 2.10m);
        var before = ConnectWise.MaxAdditionId();
        // Slow answers widen the window in which a second pass could see the lines still unposted.
        _world.Faults(new FaultSettings { LatencyMilliseconds = 300 });
        var poster = _world.Get<InvoiceLinePoster>();

        var passes = await Task.WhenAll(poster.PostAsync(_world.IntegrationId, null), poster.PostAsync(_world.IntegrationId, null), poster.PostAsync(_world.IntegrationId, null));
        _world.Faults(new FaultSettings());

        Assert.Equal(2, ConnectWise.AdditionsAfter(before).Count);
        Assert.Equal(2, _world.Calls("POST", "/additions"));
        Assert.Equal(2, passes.Sum(p => p.Posted));
        Assert.All((await _world.SyncsAsync()).Values, s => Assert.Equal(InvoiceLineSyncState.Posted, s.State));
    }

    [Fact]
    public async Task Sync_LinesLeftPostingByAnEarlierPass_TheOneConnectWiseHasIsAdopted_TheMissingOneIsPostedOnce()
    {
        await ConfigureAllOnAsync();
        var (contoso, _, agreement) = await MappedTenantAsync("Contoso");
        var email = await _world.AddProductAsync(Email.Sku, Email.Description, Email.Price, Email.Cost, Email.Number);
        var edr = await _world.AddProductAsync(Edr.Sku, Edr.Description, Edr.Price, Edr.Cost, Edr.Number);
        var landed = await _world.AddLineAsync(contoso, email, 3, 1.95m, 0.80m);
        var lost = await _world.AddLineAsync(contoso, edr, 2, 4.50m, 2.10m);
        var before = ConnectWise.MaxAdditionId();
        // An earlier pass journalled both as Posting and stopped; only the first POST had reached ConnectWise.
        await _world.SyncSelectedAsync(landed.Id);
        var adopted = Assert.Single(ConnectWise.AdditionsAfter(before));
        await using (var db = await _world.CreateDbContextAsync())
        {
            var row = await db.InvoiceLineSyncs.SingleAsync(s => s.InvoiceLineId == landed.Id);
            (row.State, row.AdditionPsaId) = (InvoiceLineSyncState.Posting, null);
            db.InvoiceLineSyncs.Add(new InvoiceLineSync
            {
                OrganizationId = _world.OrganizationId, IntegrationId = _world.IntegrationId, InvoiceLineId = lost.Id, State = InvoiceLineSyncState.Posting, AgreementPsaId = agreement,
                PsaProductId = Edr.Number, PostedStartDate = new DateOnly(2026, 12, 1), PostedEndDate = new DateOnly(2026, 12, 31), PostedChargeTypeName = "Cycle Fee",
                Attempts = 1, UpdatedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
        }

        await _world.SyncAllMappedAsync();

        var additions = ConnectWise.AdditionsAfter(before);
        Assert.Equal(2, additions.Count);
        Assert.Equal(2, _world.Calls("POST", "/additions"));
        var syncs = await _world.SyncsAsync();
        Assert.Equal((InvoiceLineSyncState.Posted, adopted.Id), (syncs[landed.Id].State, syncs[landed.Id].AdditionPsaId!.Value));
        Assert.Equal(InvoiceLineSyncState.Posted, syncs[lost.Id].State);
        var posted = additions.Single(a => a.Id == syncs[lost.Id].AdditionPsaId);
        Assert.Equal((agreement, (long)Edr.Number, 2m), (posted.AgreementId, posted.ProductId, posted.Quantity));
    }

    [Fact]
    public async Task Sync_ConnectWiseRefusesTheAddition_LinesFailWithItsWords_RetryAfterTheFixPostsOnce()
    {
        await ConfigureAllOnAsync();
        var (contoso, _, agreement) = await MappedTenantAsync("Contoso");
        // Mapped to a catalog item someone has since deleted in ConnectWise.
        var email = await _world.AddProductAsync(Email.Sku, Email.Description, Email.Price, Email.Cost, 999_999);
        var first = await _world.AddLineAsync(contoso, email, 3, 1.95m, 0.80m);
        var second = await _world.AddLineAsync(contoso, email, 1, 1.95m, 0.80m);
        var before = ConnectWise.MaxAdditionId();

        await _world.SyncAllMappedAsync();

        var failed = await _world.SyncsAsync();
        Assert.All(new[] { first, second }, line =>
        {
            Assert.Equal(InvoiceLineSyncState.Failed, failed[line.Id].State);
            Assert.Equal($"ConnectWise refused the new addition on agreement {agreement}: Product 999999 not found. (field product/id)", failed[line.Id].Message);
        });
        Assert.Empty(ConnectWise.AdditionsAfter(before));

        await _world.MapProductAsync(email, Email.Number);
        await _world.SyncSelectedAsync(first.Id, second.Id);

        var addition = Assert.Single(ConnectWise.AdditionsAfter(before));
        Assert.Equal((agreement, (long)Email.Number, 4m, 1.95m, 0.80m, new DateOnly(2026, 12, 1), December), addition.Key);
        var retried = await _world.SyncsAsync();
        Assert.All(new[] { first, second }, line => Assert.Equal((InvoiceLineSyncState.Posted, addition.Id, (string?)null),
            (retried[line.Id].State, retried[line.Id].AdditionPsaId!.Value, retried[line.Id].Message)));
        Assert.Equal(2, _world.Calls("POST", "/additions"));
    }

    [Fact]
    public async Task DailyJob_On_PostsOnlyFullyMappedLines_TheRestStaySkippedWithTheReason_Off_PostsNothing()
    {
        await ConfigureAllOnAsync(daily: true);
        var (mapped, company, agreement) = await MappedTenantAsync("Mapped Ltd");
        var unmapped = await _world.AddTenantAsync("Unmapped Inc");
        var noAgreement = await _world.AddTenantAsync("No Agreement Co");
        await _world.MapTenantAsync(noAgreement, company, null);
        var suggested = await _world.AddTenantAsync("Suggested Only LLC");
        await _world.MapTenantAsync(suggested, ConnectWise.CompaniesWithAgreements()[1], ConnectWise.Agreement(ConnectWise.CompaniesWithAgreements()[1]), MappingOrigin.Suggested);
        var email = await _world.AddProductAsync(Email.Sku, "Mailbox", Email.Price, Email.Cost, Email.Number);
        // In the ConnectWise catalog by its part number, but not mapped: not fully mapped, so never posted.
        var edr = await _world.AddProductAsync(Edr.Sku, "Endpoint", Edr.Price, Edr.Cost);
        var good = await _world.AddLineAsync(mapped, email, 3, 1.95m, 0.80m);
        var tenantLine = await _world.AddLineAsync(unmapped, email, 2, 1.95m, 0.80m);
        var agreementLine = await _world.AddLineAsync(noAgreement, email, 2, 1.95m, 0.80m);
        var suggestedLine = await _world.AddLineAsync(suggested, email, 2, 1.95m, 0.80m);
        var productLine = await _world.AddLineAsync(mapped, edr, 5, 4.50m, 2.10m);
        var before = ConnectWise.MaxAdditionId();

        // The stored trigger fires at midnight UTC; its job data run now through Quartz.
        var trigger = Assert.IsAssignableFrom<ICronTrigger>(await _world.StoredTriggerAsync(InvoiceScheduleTriggers.DailyLineSyncTrigger));
        Assert.Equal(("0 0 0 * * ?", TimeZoneInfo.Utc), (trigger.CronExpressionString, trigger.TimeZone));
        Assert.Equal(DateTime.UtcNow.Date.AddDays(1), trigger.NextFireTimeUtc!.Value.UtcDateTime);
        await _world.FireAsync(trigger.JobDataMap);

        var added = ConnectWise.AdditionsAfter(before);
        Assert.Equal([(agreement, (long)Email.Number, 3m, 1.95m, 0.80m, new DateOnly(2026, 12, 1), December)], added.Select(a => a.Key));
        var syncs = await _world.SyncsAsync();
        Assert.Equal(InvoiceLineSyncState.Posted, syncs[good.Id].State);
        Assert.Equal((InvoiceLineSyncState.Skipped, "Tenant \"Unmapped Inc\" is not mapped to a ConnectWise company (Mapping → Tenants)."), (syncs[tenantLine.Id].State, syncs[tenantLine.Id].Message));
        Assert.Equal((InvoiceLineSyncState.Skipped, "Tenant \"No Agreement Co\" has no ConnectWise agreement mapped (Mapping → Tenants)."), (syncs[agreementLine.Id].State, syncs[agreementLine.Id].Message));
        Assert.Equal((InvoiceLineSyncState.Skipped, "Tenant \"Suggested Only LLC\" is not mapped to a ConnectWise company (Mapping → Tenants)."), (syncs[suggestedLine.Id].State, syncs[suggestedLine.Id].Message));
        Assert.Equal((InvoiceLineSyncState.Skipped, "Product \"Endpoint\" is not mapped to a ConnectWise catalog product (Mapping → Products)."), (syncs[productLine.Id].State, syncs[productLine.Id].Message));

        // The Invoices tab says the same about each line.
        var page = await _world.Get<InvoiceLineQueries>().GetAsync(_world.Admin);
        Assert.Equal(syncs[productLine.Id].Message, page.Rows.Single(r => r.Id == productLine.Id).MappingReason);
        Assert.Equal(syncs[agreementLine.Id].Message, page.Rows.Single(r => r.Id == agreementLine.Id).MappingReason);
        Assert.Equal(syncs[suggestedLine.Id].Message, page.Rows.Single(r => r.Id == suggestedLine.Id).MappingReason);

        // Off: the trigger is gone and the job, were it to fire, posts nothing.
        var data = trigger.JobDataMap;
        await _world.ConfigureAsync(s => s.DailySyncEnabled = false);
        var later = await _world.AddLineAsync(mapped, email, 9, 1.95m, 0.80m);
        Assert.Null(await _world.StoredTriggerAsync(InvoiceScheduleTriggers.DailyLineSyncTrigger));
        await _world.FireAsync(data);

        Assert.Single(ConnectWise.AdditionsAfter(before));
        Assert.False((await _world.SyncsAsync()).ContainsKey(later.Id));
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, true)]
    [InlineData(false, true, false)]
    public async Task Sync_ExportSettings_QuantityPriceAndCostSentOnlyWhenOn(bool quantities, bool price, bool cost)
    {
        await _world.ConfigureAsync(s => (s.ExportQuantities, s.ExportRetailPrice, s.ExportCost) = (quantities, price, cost));
        var (contoso, _, agreement) = await MappedTenantAsync("Contoso");
        var email = await _world.AddProductAsync(Email.Sku, Email.Description, Email.Price, Email.Cost, Email.Number);
        await _world.AddLineAsync(contoso, email, 3, 2.40m, 1.10m);
        await _world.AddLineAsync(contoso, email, 4, 2.40m, 1.10m);
        var before = ConnectWise.MaxAdditionId();

        await _world.SyncAllMappedAsync();

        // What is not sent, ConnectWise fills in: quantity 1, the catalog item's price and cost.
        var addition = Assert.Single(ConnectWise.AdditionsAfter(before));
        Assert.Equal(
            (agreement, (long)Email.Number, quantities ? 7m : 1m, price ? 2.40m : Email.Price, cost ? 1.10m : Email.Cost, new DateOnly(2026, 12, 1), December),
            addition.Key);
        Assert.All((await _world.SyncsAsync()).Values, s => Assert.Equal((InvoiceLineSyncState.Posted, addition.Id), (s.State, s.AdditionPsaId!.Value)));
    }
}

public sealed class SqliteInvoicePostingTests : InvoicePostingScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlInvoicePostingTests(PostgreSqlFixture postgres) : InvoicePostingScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
