using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Errors;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Reference;
using Quartz;

namespace PsaPortal.Web.IntegrationTests.Reference;

/// <summary>
/// The reference sync against the sandbox over real HTTP, on each database provider (<see cref="SqliteReferenceSyncScenarios"/>,
/// <see cref="PostgreSqlReferenceSyncScenarios"/>). Expected rows come from the sandbox's own tables, never from numbers
/// written here.
/// </summary>
public abstract class ReferenceSyncScenarios : IAsyncLifetime
{
    private SandboxPortal _portal = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _portal = await SandboxPortal.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task SyncAsync_ConnectWise_CachesEveryKindAsTheSandboxHasIt()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);
        var data = _portal.Sandbox.ConnectWise.Data;
        var activeAgreements = data.Agreements.All().Where(a => JsonRecords.GetBoolean(a["cancelledFlag"]) != true).Select(Id).ToHashSet();

        var result = await Sync().SyncAsync(integrationId, null, CancellationToken.None);

        Assert.True(result.Succeeded, string.Join("; ", result.Kinds.Select(k => $"{k.Kind}: {k.Error}")));
        Assert.Equal(PsaReferenceSync.KindsOf(PsaVendor.ConnectWise), result.Kinds.Select(k => k.Kind));
        await AssertCachedAsync(integrationId, PsaReferenceKind.Company, data.Companies.All().Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.Agreement, data.Agreements.All().Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.Addition,
            data.Additions.All().Where(a => activeAgreements.Contains(Long(a["agreementId"]))).Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.AgreementType, data.AgreementTypes.All().Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.CatalogProduct, data.Catalog.All().Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.Board, data.Boards.All().Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.BoardTeam, data.BoardTeams.All().Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.Priority, data.Priorities.All().Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.Source, data.Sources.All().Select(Id));

        var company = data.Companies.All()[0];
        var agreement = data.Agreements.All()[0];
        var addition = data.Additions.All()[0];
        var teams = data.BoardTeams.All();
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var items = db.PsaReferenceItems.AsNoTracking().Where(i => i.IntegrationId == integrationId);
        var cachedCompany = await items.SingleAsync(i => i.Kind == PsaReferenceKind.Company && i.PsaId == Id(company));
        Assert.Equal(company["name"]!.GetValue<string>(), cachedCompany.Name);
        Assert.Equal(company["identifier"]!.GetValue<string>(), cachedCompany.Code);
        Assert.Equal(company["website"]!.GetValue<string>().ToLowerInvariant().Replace("www.", "", StringComparison.Ordinal), cachedCompany.Domain);
        Assert.Equal($"{cachedCompany.Name} {cachedCompany.Code}".ToLowerInvariant(), cachedCompany.SearchText);
        var cachedAgreement = await items.SingleAsync(i => i.Kind == PsaReferenceKind.Agreement && i.PsaId == Id(agreement));
        Assert.Equal(Long(agreement["company"]!["id"]), cachedAgreement.ParentPsaId);
        Assert.Equal(agreement["type"]!["name"]!.GetValue<string>(), cachedAgreement.Type);
        Assert.Equal(DateOnly.Parse(agreement["startDate"]!.GetValue<string>()[..10], System.Globalization.CultureInfo.InvariantCulture), cachedAgreement.StartDate);
        Assert.True(cachedAgreement.IsActive);
        var cachedAddition = await items.SingleAsync(i => i.Kind == PsaReferenceKind.Addition && i.PsaId == Id(addition));
        Assert.Equal(Long(addition["agreementId"]), cachedAddition.ParentPsaId);
        Assert.Equal(Long(addition["product"]!["id"]), cachedAddition.ProductPsaId);
        var cachedTeams = await items.Where(i => i.Kind == PsaReferenceKind.BoardTeam).ToListAsync();
        Assert.All(teams, team => Assert.Contains(cachedTeams, t => t.PsaId == Id(team) && t.ParentPsaId == Long(team["boardId"])
            && t.IsDefault == (JsonRecords.GetBoolean(team["defaultFlag"]) == true)));
        var integration = await db.Integrations.SingleAsync(i => i.Id == integrationId);
        Assert.NotNull(integration.ReferenceSyncedAt);
        var states = await db.PsaReferenceSyncStates.Where(s => s.IntegrationId == integrationId).ToListAsync();
        Assert.Equal(PsaReferenceSync.KindsOf(PsaVendor.ConnectWise).Count, states.Count);
        Assert.All(states, s => Assert.Null(s.Error));
        Assert.All(states, s => Assert.Equal(result.Kinds.Single(k => k.Kind == s.Kind).Count, s.Count));
    }

    [Fact]
    public async Task SyncAsync_Autotask_CachesEveryKindAsTheSandboxHasIt()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.Autotask);
        var data = _portal.Sandbox.Autotask.Data;

        var result = await Sync().SyncAsync(integrationId, null, CancellationToken.None);

        Assert.True(result.Succeeded, string.Join("; ", result.Kinds.Select(k => $"{k.Kind}: {k.Error}")));
        await AssertCachedAsync(integrationId, PsaReferenceKind.Company, data.Companies.All().Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.Contract, data.Contracts.All().Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.ContractService, data.ContractServices.All().Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.Service, data.Services.All().Select(Id));
        await AssertCachedAsync(integrationId, PsaReferenceKind.TicketQueue, AutotaskPicklists.Queues.Select(q => (long)q.Value));
        await AssertCachedAsync(integrationId, PsaReferenceKind.TicketStatus, AutotaskPicklists.Statuses.Select(q => (long)q.Value));
        await AssertCachedAsync(integrationId, PsaReferenceKind.TicketPriority, AutotaskPicklists.Priorities.Select(q => (long)q.Value));

        var company = data.Companies.All()[0];
        var contract = data.Contracts.All()[0];
        var line = data.ContractServices.All()[0];
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var items = db.PsaReferenceItems.AsNoTracking().Where(i => i.IntegrationId == integrationId);
        var cachedCompany = await items.SingleAsync(i => i.Kind == PsaReferenceKind.Company && i.PsaId == Id(company));
        Assert.Equal(company["companyName"]!.GetValue<string>(), cachedCompany.Name);
        Assert.Equal(company["webAddress"]!.GetValue<string>().ToLowerInvariant().Replace("www.", "", StringComparison.Ordinal), cachedCompany.Domain);
        var cachedContract = await items.SingleAsync(i => i.Kind == PsaReferenceKind.Contract && i.PsaId == Id(contract));
        Assert.Equal(Long(contract["companyID"]), cachedContract.ParentPsaId);
        Assert.Equal("Recurring Service", cachedContract.Type);
        var cachedLine = await items.SingleAsync(i => i.Kind == PsaReferenceKind.ContractService && i.PsaId == Id(line));
        Assert.Equal(Long(line["contractID"]), cachedLine.ParentPsaId);
        Assert.Equal(Long(line["serviceID"]), cachedLine.ProductPsaId);
        var (defaultQueue, defaultLabel) = AutotaskPicklists.Queues.Where(q => q.IsDefault).Select(q => ((long)q.Value, q.Label)).Single();
        var queue = await items.SingleAsync(i => i.Kind == PsaReferenceKind.TicketQueue && i.IsDefault);
        Assert.Equal((defaultQueue, defaultLabel), (queue.PsaId, queue.Name));
    }

    [Fact]
    public async Task SyncAsync_SecondTimeWithNothingChanged_KeepsEveryRowWithItsId()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);
        await Sync().SyncAsync(integrationId, null, CancellationToken.None);
        var before = await RowsAsync(integrationId);

        var second = await Sync().SyncAsync(integrationId, null, CancellationToken.None);

        Assert.True(second.Succeeded);
        var after = await RowsAsync(integrationId);
        Assert.Equal(before.Count, after.Count);
        Assert.Equal(before.Select(r => (r.Id, r.Kind, r.PsaId, r.Name, r.ParentPsaId, r.Domain)), after.Select(r => (r.Id, r.Kind, r.PsaId, r.Name, r.ParentPsaId, r.Domain)));
        Assert.True(after.All(r => r.SyncGeneration == before.First(b => b.Id == r.Id).SyncGeneration + 1), "every row is stamped with the new generation");
    }

    [Fact]
    public async Task SyncAsync_CompanyRenamedAndAnotherRemovedInThePsa_RenamedAndRemovedInTheCache()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);
        var companies = _portal.Sandbox.ConnectWise.Data.Companies;
        var (renamed, removed) = (companies.All()[0], companies.All()[1]);
        var rowIdBefore = await CompanyRowIdAsync(integrationId, Id(renamed));
        var renamedCopy = (JsonObject)renamed.DeepClone();
        renamedCopy["name"] = "Renamed Holdings GmbH";
        companies.Replace(renamedCopy);
        companies.Remove(Id(removed));

        var result = await Sync().SyncAsync(integrationId, new HashSet<PsaReferenceKind> { PsaReferenceKind.Company }, CancellationToken.None);

        Assert.Equal([PsaReferenceKind.Company], result.Kinds.Select(k => k.Kind));
        Assert.Equal(companies.Count, result.Kinds[0].Count);
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var cached = await db.PsaReferenceItems.Where(i => i.IntegrationId == integrationId && i.Kind == PsaReferenceKind.Company).ToListAsync();
        var row = Assert.Single(cached, c => c.PsaId == Id(renamed));
        Assert.Equal(("Renamed Holdings GmbH", rowIdBefore), (row.Name, row.Id));
        Assert.StartsWith("renamed holdings gmbh", row.SearchText, StringComparison.Ordinal);
        Assert.DoesNotContain(cached, c => c.PsaId == Id(removed));
        Assert.Equal(companies.Count, cached.Count);
    }

    [Fact]
    public async Task SyncAsync_ConnectWiseMemberWithoutPriorityAccess_RecordsThePsasExactErrorAndSyncsTheOtherKinds()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise, "SbxNoPriorityPublic", "SbxNoPriorityPrivate");
        var expected = await ExpectFailureAsync(async () =>
        {
            var api = _portal.Get<IntegrationService>().ConnectWiseApiFor((await _portal.Get<IntegrationService>().FindAsync(_portal.OrganizationId, PsaVendor.ConnectWise))!);
            await api.ListPrioritiesAsync().ToListAsync();
        });

        var result = await Sync().SyncAsync(integrationId, null, CancellationToken.None);

        Assert.False(result.Succeeded);
        var failed = Assert.Single(result.Kinds, k => k.Error is not null);
        Assert.Equal((PsaReferenceKind.Priority, expected), (failed.Kind, failed.Error));
        Assert.Contains("Priority", expected, StringComparison.Ordinal);
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var states = await db.PsaReferenceSyncStates.AsNoTracking().Where(s => s.IntegrationId == integrationId).ToListAsync();
        var priority = states.Single(s => s.Kind == PsaReferenceKind.Priority);
        Assert.Equal(expected, priority.Error);
        Assert.Null(priority.LastSyncedAt);
        Assert.NotNull(priority.LastAttemptAt);
        Assert.All(states.Where(s => s.Kind != PsaReferenceKind.Priority), s => Assert.Null(s.Error));
        Assert.Equal(_portal.Sandbox.ConnectWise.Data.Companies.Count,
            await db.PsaReferenceItems.CountAsync(i => i.IntegrationId == integrationId && i.Kind == PsaReferenceKind.Company));
        Assert.Null((await db.Integrations.SingleAsync(i => i.Id == integrationId)).ReferenceSyncedAt);
    }

    [Fact]
    public async Task SyncAsync_AutotaskUserWithoutContractAccess_RecordsThePsasExactErrorsAndSyncsTheOtherKinds()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.Autotask, "nocontracts@psaportal-sandbox.example", "SbxNoContracts1!");
        var api = _portal.Get<IntegrationService>().AutotaskApiFor((await _portal.Get<IntegrationService>().FindAsync(_portal.OrganizationId, PsaVendor.Autotask))!);
        var contracts = await ExpectFailureAsync(() => api.QueryContractsAsync(null).ToListAsync().AsTask());
        var services = await ExpectFailureAsync(() => api.QueryContractServicesAsync(null).ToListAsync().AsTask());

        var result = await Sync().SyncAsync(integrationId, null, CancellationToken.None);

        Assert.Equal(
            [(PsaReferenceKind.Contract, contracts), (PsaReferenceKind.ContractService, services)],
            result.Kinds.Where(k => k.Error is not null).Select(k => (k.Kind, k.Error!)));
        Assert.All(result.Kinds.Where(k => k.Kind is not (PsaReferenceKind.Contract or PsaReferenceKind.ContractService)), k => Assert.True(k.Count > 0, $"{k.Kind} cached"));
    }

    [Fact]
    public async Task SyncAsync_KindOfTheOtherPsa_RefusedWithTheKindsItHas()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);

        var refused = await Assert.ThrowsAsync<ArgumentException>(() =>
            Sync().SyncAsync(integrationId, new HashSet<PsaReferenceKind> { PsaReferenceKind.Company, PsaReferenceKind.TicketQueue }, CancellationToken.None));

        Assert.StartsWith("TicketQueue is not a kind of ConnectWise reference data; it has Company, Agreement, Addition,", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteAsync_LinkedAndSynced_RemovesCachedRowsSyncStatesAndTriggers()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);
        await Sync().SyncAsync(integrationId, null, CancellationToken.None);
        var scheduler = await _portal.Get<ISchedulerFactory>().GetScheduler();
        Assert.Equal(TriggerState.Normal, await scheduler.GetTriggerState(IntegrationSchedules.ReferenceSyncKey(integrationId)));

        var deleted = await _portal.Get<IntegrationService>().DeleteAsync(_portal.Admin, PsaVendor.ConnectWise);

        Assert.True(deleted.Succeeded, deleted.Message);
        await using var db = await _portal.Factory.CreateDbContextAsync();
        Assert.False(await db.PsaReferenceItems.AnyAsync(i => i.IntegrationId == integrationId));
        Assert.False(await db.PsaReferenceSyncStates.AnyAsync(s => s.IntegrationId == integrationId));
        Assert.Equal(TriggerState.None, await scheduler.GetTriggerState(IntegrationSchedules.ReferenceSyncKey(integrationId)));
        Assert.DoesNotContain(IntegrationSchedules.GroupOf(integrationId), await scheduler.GetTriggerGroupNames());
    }

    private PsaReferenceSync Sync() => _portal.Get<PsaReferenceSync>();

    /// <summary>Links the PSA and waits for the sync that linking starts, so the test's own syncs run on a settled cache.</summary>
    private async Task<Guid> LinkAndWaitAsync(PsaVendor vendor, string? key = null, string? secret = null)
    {
        var integrationId = vendor == PsaVendor.ConnectWise
            ? await _portal.LinkConnectWiseAsync(key ?? SandboxPortal.ConnectWiseFullPublic, secret ?? SandboxPortal.ConnectWiseFullPrivate)
            : await _portal.LinkAutotaskAsync(key ?? SandboxPortal.AutotaskFullUser, secret ?? SandboxPortal.AutotaskFullSecret);
        var finished = await _portal.NextSyncFinishedAsync();
        Assert.Equal(integrationId, finished.IntegrationId);
        return integrationId;
    }

    private async Task AssertCachedAsync(Guid integrationId, PsaReferenceKind kind, IEnumerable<long> expectedIds)
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var cached = await db.PsaReferenceItems.Where(i => i.IntegrationId == integrationId && i.Kind == kind).Select(i => i.PsaId).OrderBy(id => id).ToListAsync();
        var expected = expectedIds.Order().ToList();
        Assert.True(expected.Count > 0, $"the sandbox has {kind} records");
        Assert.True(expected.SequenceEqual(cached), $"{kind}: expected {expected.Count} ids, cached {cached.Count}");
    }

    private async Task<List<PsaReferenceItem>> RowsAsync(Guid integrationId)
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        return await db.PsaReferenceItems.AsNoTracking().Where(i => i.IntegrationId == integrationId).OrderBy(i => i.Id).ToListAsync();
    }

    private async Task<long> CompanyRowIdAsync(Guid integrationId, long psaId)
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        return await db.PsaReferenceItems.Where(i => i.IntegrationId == integrationId && i.Kind == PsaReferenceKind.Company && i.PsaId == psaId).Select(i => i.Id).SingleAsync();
    }

    /// <summary>What the PSA client itself says when it is refused: the message the cache must record word for word.</summary>
    private static async Task<string> ExpectFailureAsync(Func<Task> call) => (await Assert.ThrowsAsync<PsaException>(call)).Message;

    private static long Id(JsonObject record) => JsonRecords.GetId(record);

    private static long Long(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var number) ? (long)number : throw new InvalidOperationException($"Not a number: {node}");
}

public sealed class SqliteReferenceSyncScenarios : ReferenceSyncScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlReferenceSyncScenarios(PostgreSqlFixture postgres) : ReferenceSyncScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
