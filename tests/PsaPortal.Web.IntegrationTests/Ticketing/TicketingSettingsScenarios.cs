using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Reference;
using PsaPortal.Web.Features.Ticketing;
using PsaPortal.Web.IntegrationTests.Reference;

namespace PsaPortal.Web.IntegrationTests.Ticketing;

/// <summary>
/// The ticketing settings of both PSAs against the sandbox over real HTTP, on each database provider
/// (<see cref="SqliteTicketingSettingsScenarios"/>, <see cref="PostgreSqlTicketingSettingsScenarios"/>). Boards, teams,
/// statuses and picklists are taken from the sandbox's own tables, never from numbers written here.
/// </summary>
public abstract class TicketingSettingsScenarios : IAsyncLifetime
{
    private const string NoPriorityMessage = "ConnectWise API user does not have permission to access Service > Priority.";

    private SandboxPortal _portal = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _portal = await SandboxPortal.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    private TicketingSettingsService Service => _portal.Get<TicketingSettingsService>();

    [Fact]
    public async Task GetAsync_ConnectWiseLinked_ListsTheSandboxBoardsPrioritiesAndSources()
    {
        await LinkAndWaitAsync(PsaVendor.ConnectWise);
        var data = _portal.Sandbox.ConnectWise.Data;

        var view = await Service.GetAsync(_portal.Admin, PsaVendor.ConnectWise);

        Assert.NotNull(view);
        Assert.True(view.CanEdit);
        Assert.Equal(Names(data.Boards.All()), view.ChoicesFor(TicketingField.Board).Select(c => c.Name).Order());
        Assert.Equal(Names(data.Priorities.All()), view.ChoicesFor(TicketingField.DefaultPriority).Select(c => c.Name).Order());
        Assert.Equal(Names(data.Priorities.All()), view.ChoicesFor(TicketingField.CriticalPriority).Select(c => c.Name).Order());
        Assert.Equal(Names(data.Sources.All()), view.ChoicesFor(TicketingField.Source).Select(c => c.Name).Order());
        Assert.Empty(view.Problems);
        Assert.Equal(["Service Board", "Closed Status", "Default Priority"], view.Missing);
        Assert.NotNull(view.ListsRefreshedAt);
        Assert.False(view.Settings.Enabled);
    }

    [Fact]
    public async Task SetAsync_EachConnectWiseSetting_SavesItWithThePsaNameAndAuditsIt()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);
        var (board, closedStatus) = BoardWithDefaultTeam();
        var priorities = _portal.Sandbox.ConnectWise.Data.Priorities.All();
        var source = _portal.Sandbox.ConnectWise.Data.Sources.All()[^1];
        var company = await CachedAsync(integrationId, PsaReferenceKind.Company);

        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.Board, Id(board));
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.DefaultCompany, company.PsaId);
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.DefaultPriority, Id(priorities[2]));
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.Source, Id(source));
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.LowPriority, Id(priorities[3]));
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.MediumPriority, Id(priorities[2]));
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.HighPriority, Id(priorities[1]));
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.CriticalPriority, Id(priorities[0]));

        var saved = await SettingsAsync(integrationId);
        Assert.Equal((Id(board), Name(board)), (saved.BoardId!.Value, saved.BoardName));
        // The board has one closed status: choosing the board chose it too.
        Assert.Equal((Id(closedStatus), Name(closedStatus)), (saved.ClosedStatusId!.Value, saved.ClosedStatusName));
        Assert.Equal((company.PsaId, company.Name), (saved.DefaultCompanyPsaId!.Value, saved.DefaultCompanyName));
        Assert.Equal((Id(source), Name(source)), (saved.SourceId!.Value, saved.SourceName));
        Assert.Equal((Id(priorities[0]), Name(priorities[0])), (saved.CriticalPriorityId!.Value, saved.CriticalPriorityName));
        Assert.Equal((Id(priorities[3]), Name(priorities[3])), (saved.LowPriorityId!.Value, saved.LowPriorityName));
        Assert.Equal("admin@northwind.example", saved.UpdatedBy);
        var audits = await AuditsAsync("Ticketing setting changed");
        Assert.Equal(8, audits.Count);
        Assert.Contains(audits, a => a.Details!.StartsWith($"Service Board set to \"{Name(board)}\"; Closed Status set to \"{Name(closedStatus)}\"", StringComparison.Ordinal));
        Assert.Contains(audits, a => a.Details == $"Priority for Critical set to \"{Name(priorities[0])}\" (was not set).");
        Assert.All(audits, a => Assert.Equal("ConnectWise ticketing", a.Subject));

        var view = await Service.GetAsync(_portal.Admin, PsaVendor.ConnectWise);
        Assert.Empty(view!.Missing);
        Assert.Empty(view.Problems);
        Assert.NotNull(view.Board!.DefaultTeam);
    }

    [Fact]
    public async Task SetAsync_BoardWithoutDefaultTeam_IsRefusedWithThePsaWordsAndHowToFixIt()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);
        var (board, _) = BoardWithDefaultTeam();
        var withoutTeam = BoardWithoutDefaultTeam();
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.Board, Id(board));

        var refused = await Service.SetAsync(_portal.Admin, PsaVendor.ConnectWise, TicketingField.Board, Id(withoutTeam));

        Assert.False(refused.Succeeded);
        Assert.Equal(TicketingSettingsRules.NoDefaultTeam(Name(withoutTeam)), refused.Message);
        Assert.Contains("Cannot find default team for board specified", refused.Message, StringComparison.Ordinal);
        Assert.Contains("System → Setup Tables → Service Board", refused.Message, StringComparison.Ordinal);
        Assert.Equal(Id(board), (await SettingsAsync(integrationId)).BoardId);
        Assert.Single(await AuditsAsync("Ticketing setting changed"));
    }

    [Fact]
    public async Task SetAsync_BoardWithoutClosedStatus_IsRefusedWithHowToFixIt()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);
        var board = AddBoardWithoutClosedStatus();
        Assert.True((await Service.RefreshAsync(_portal.Admin, PsaVendor.ConnectWise)).Succeeded);

        var refused = await Service.SetAsync(_portal.Admin, PsaVendor.ConnectWise, TicketingField.Board, board);

        Assert.False(refused.Succeeded);
        Assert.Equal(TicketingSettingsRules.NoClosedStatus("Monitoring"), refused.Message);
        Assert.Null((await SettingsAsync(integrationId)).BoardId);
    }

    [Fact]
    public async Task GetAsync_SavedBoardLostItsDefaultTeamInConnectWise_FlagsItAndRefusesToTurnOn()
    {
        await LinkAndWaitAsync(PsaVendor.ConnectWise);
        var (board, _) = BoardWithDefaultTeam();
        await CompleteConnectWiseAsync(board);
        var team = _portal.Sandbox.ConnectWise.Data.BoardTeams.All().Single(t => Long(t["boardId"]) == Id(board) && JsonRecords.GetBoolean(t["defaultFlag"]) == true);
        var withoutDefault = (JsonObject)team.DeepClone();
        withoutDefault["defaultFlag"] = false;
        _portal.Sandbox.ConnectWise.Data.BoardTeams.Replace(withoutDefault);

        var view = await Service.GetAsync(_portal.Admin, PsaVendor.ConnectWise);
        var enabled = await Service.SetEnabledAsync(_portal.Admin, PsaVendor.ConnectWise, true);

        Assert.Contains(view!.Problems, p => p.Field == TicketingField.Board && p.Message == TicketingSettingsRules.NoDefaultTeam(Name(board)));
        Assert.Null(view.Board!.DefaultTeam);
        Assert.False(enabled.Succeeded);
        Assert.Equal(TicketingSettingsRules.NoDefaultTeam(Name(board)), enabled.Message);
    }

    [Fact]
    public async Task RefreshAsync_ApiMemberWithoutPriorityPermission_GivesTheExactPermissionMessage()
    {
        await LinkAndWaitAsync(PsaVendor.ConnectWise, "SbxNoPriorityPublic", "SbxNoPriorityPrivate");

        var refreshed = await Service.RefreshAsync(_portal.Admin, PsaVendor.ConnectWise);
        var view = await Service.GetAsync(_portal.Admin, PsaVendor.ConnectWise);

        Assert.False(refreshed.Succeeded);
        Assert.Equal(NoPriorityMessage, refreshed.Message);
        Assert.Contains(view!.Problems, p => p.Field == TicketingField.DefaultPriority && p.Message == NoPriorityMessage);
        Assert.Empty(view.ChoicesFor(TicketingField.DefaultPriority));
        Assert.NotEmpty(view.ChoicesFor(TicketingField.Board));
    }

    [Fact]
    public async Task SetEnabledAsync_WhileIncomplete_IsRefusedNamingWhatIsMissing()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.Source, Id(_portal.Sandbox.ConnectWise.Data.Sources.All()[0]));

        var refused = await Service.SetEnabledAsync(_portal.Admin, PsaVendor.ConnectWise, true);

        Assert.False(refused.Succeeded);
        Assert.Equal("Ticketing cannot be turned on yet: choose Service Board, Closed Status and Default Priority first.", refused.Message);
        Assert.False((await SettingsAsync(integrationId)).Enabled);
        Assert.Null(await Service.GetEnabledAsync(integrationId));
    }

    [Fact]
    public async Task SetEnabledAsync_ConnectWiseComplete_TurnsOnForTheEngineAndKeepsRequiredSettings()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);
        var (board, _) = BoardWithDefaultTeam();
        await CompleteConnectWiseAsync(board);

        var enabled = await Service.SetEnabledAsync(_portal.Admin, PsaVendor.ConnectWise, true);
        var clearing = await Service.SetAsync(_portal.Admin, PsaVendor.ConnectWise, TicketingField.DefaultPriority, null);

        Assert.True(enabled.Succeeded, enabled.Message);
        var forEngine = await Service.GetEnabledAsync(integrationId);
        Assert.NotNull(forEngine);
        Assert.Equal(Id(board), forEngine.BoardId);
        Assert.False(clearing.Succeeded);
        Assert.Equal("Ticketing is on, and it needs a Default Priority. Choose another one, or turn ticketing off first.", clearing.Message);
        Assert.NotNull((await SettingsAsync(integrationId)).DefaultPriorityId);
        Assert.Single(await AuditsAsync("Ticketing turned on"));

        Assert.True((await Service.SetEnabledAsync(_portal.Admin, PsaVendor.ConnectWise, false)).Succeeded);
        Assert.Null(await Service.GetEnabledAsync(integrationId));
        Assert.Single(await AuditsAsync("Ticketing turned off"));
    }

    [Fact]
    public async Task SetAsync_IdNotInThePsaList_IsRefusedAndNothingIsLost()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);
        var priority = _portal.Sandbox.ConnectWise.Data.Priorities.All()[0];
        var otherBoardsStatus = ClosedStatusesOf(Id(BoardWithoutDefaultTeam()))[0];
        var (board, _) = BoardWithDefaultTeam();
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.DefaultPriority, Id(priority));
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.Board, Id(board));

        var unknownPriority = await Service.SetAsync(_portal.Admin, PsaVendor.ConnectWise, TicketingField.DefaultPriority, 987_654);
        var foreignStatus = await Service.SetAsync(_portal.Admin, PsaVendor.ConnectWise, TicketingField.ClosedStatus, Id(otherBoardsStatus));
        var autotaskOnly = await Service.SetAsync(_portal.Admin, PsaVendor.ConnectWise, TicketingField.Queue, 8);

        Assert.False(unknownPriority.Succeeded);
        Assert.Equal("That priority is not in the ConnectWise list PsaPortal holds (it may have been removed in ConnectWise). Refresh the lists and choose again.",
            unknownPriority.Message);
        Assert.False(foreignStatus.Succeeded);
        Assert.StartsWith($"That status is not a closed status of Service Board \"{Name(board)}\" in ConnectWise. Choose one of:", foreignStatus.Message, StringComparison.Ordinal);
        Assert.False(autotaskOnly.Succeeded);
        Assert.Equal("Queue is not a ConnectWise ticketing setting.", autotaskOnly.Message);
        var saved = await SettingsAsync(integrationId);
        Assert.Equal(Id(priority), saved.DefaultPriorityId);
        Assert.Equal(Id(board), saved.BoardId);
        Assert.NotNull(saved.ClosedStatusId);
    }

    [Fact]
    public async Task GetAsync_ChosenPriorityRemovedInThePsa_FlagsTheStaleChoiceAndRefusesToTurnOn()
    {
        await LinkAndWaitAsync(PsaVendor.ConnectWise);
        var (board, _) = BoardWithDefaultTeam();
        await CompleteConnectWiseAsync(board);
        var priority = (await SettingsAsync(await _portal.IntegrationIdAsync(PsaVendor.ConnectWise))).DefaultPriorityId!.Value;
        Assert.True(_portal.Sandbox.ConnectWise.Data.Priorities.Remove(priority));
        Assert.True((await Service.RefreshAsync(_portal.Admin, PsaVendor.ConnectWise)).Succeeded);

        var view = await Service.GetAsync(_portal.Admin, PsaVendor.ConnectWise);
        var enabled = await Service.SetEnabledAsync(_portal.Admin, PsaVendor.ConnectWise, true);

        var stale = Assert.Single(view!.Problems);
        Assert.Equal(TicketingField.DefaultPriority, stale.Field);
        Assert.True(stale.StaleChoice);
        Assert.Equal($"Default Priority \"{view.Settings.DefaultPriorityName}\" is no longer in ConnectWise (as of the last refresh). Choose another one.", stale.Message);
        Assert.False(enabled.Succeeded);
        Assert.Equal(stale.Message, enabled.Message);
    }

    [Fact]
    public async Task AutotaskSettings_PicklistsFromEntityInformation_SaveEachAndTurnOn()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.Autotask);

        var view = await Service.GetAsync(_portal.Admin, PsaVendor.Autotask);
        Assert.Equal(AutotaskPicklists.Queues.Select(q => q.Label).Order(), view!.ChoicesFor(TicketingField.Queue).Select(c => c.Name).Order());
        Assert.Equal(AutotaskPicklists.Statuses.Select(q => q.Label).Order(), view.ChoicesFor(TicketingField.NewStatus).Select(c => c.Name).Order());
        Assert.Equal(AutotaskPicklists.Statuses.Select(q => q.Label).Order(), view.ChoicesFor(TicketingField.AutotaskClosedStatus).Select(c => c.Name).Order());
        Assert.Equal(AutotaskPicklists.Priorities.Select(q => q.Label).Order(), view.ChoicesFor(TicketingField.HighPriority).Select(c => c.Name).Order());
        Assert.Equal(["Queue", "Status for new tickets", "Status for updates", "Status for closed tickets", "Default Priority"], view.Missing);
        Assert.Equal(
            "Ticketing cannot be turned on yet: choose Queue, Status for new tickets, Status for updates, Status for closed tickets and Default Priority first.",
            (await Service.SetEnabledAsync(_portal.Admin, PsaVendor.Autotask, true)).Message);

        var queue = AutotaskPicklists.Queues.Single(q => q.Value == AutotaskPicklists.MonitoringAlertQueue);
        var statuses = AutotaskPicklists.Statuses;
        await ExpectSavedAsync(PsaVendor.Autotask, TicketingField.Queue, queue.Value);
        await ExpectSavedAsync(PsaVendor.Autotask, TicketingField.NewStatus, statuses[0].Value);
        await ExpectSavedAsync(PsaVendor.Autotask, TicketingField.UpdatedStatus, statuses[1].Value);
        await ExpectSavedAsync(PsaVendor.Autotask, TicketingField.AutotaskClosedStatus, AutotaskPicklists.CompleteStatus);
        foreach (var (severity, field) in TicketingSettingsRules.SeverityRows)
        {
            await ExpectSavedAsync(PsaVendor.Autotask, field, AutotaskPicklists.Priorities.Single(p => p.Label == severity).Value);
        }

        await ExpectSavedAsync(PsaVendor.Autotask, TicketingField.DefaultPriority, AutotaskPicklists.Priorities.Single(p => p.IsDefault).Value);
        var enabled = await Service.SetEnabledAsync(_portal.Admin, PsaVendor.Autotask, true);

        Assert.True(enabled.Succeeded, enabled.Message);
        var saved = await Service.GetEnabledAsync(integrationId);
        Assert.NotNull(saved);
        Assert.Equal((queue.Value, queue.Label), ((int)saved.QueueId!.Value, saved.QueueName));
        Assert.Equal((AutotaskPicklists.CompleteStatus, "Complete"), ((int)saved.AutotaskClosedStatusId!.Value, saved.AutotaskClosedStatusName));
        Assert.Equal("Critical", saved.CriticalPriorityName);
        Assert.Equal(9, (await AuditsAsync("Ticketing setting changed")).Count);
        var refused = await Service.SetAsync(_portal.Admin, PsaVendor.Autotask, TicketingField.NewStatus, 424_242);
        Assert.Equal("That status is not in the Autotask list PsaPortal holds (it may have been removed in Autotask). Refresh the lists and choose again.", refused.Message);
        Assert.True((await Service.RefreshAsync(_portal.Admin, PsaVendor.Autotask)).Succeeded);
    }

    [Fact]
    public async Task Changes_BySales_AreRefusedAndNothingIsStored()
    {
        var integrationId = await LinkAndWaitAsync(PsaVendor.ConnectWise);
        var sales = _portal.UserIn(PortalRoles.Sales);
        var (board, _) = BoardWithDefaultTeam();

        var view = await Service.GetAsync(sales, PsaVendor.ConnectWise);
        var set = await Service.SetAsync(sales, PsaVendor.ConnectWise, TicketingField.Board, Id(board));
        var enabled = await Service.SetEnabledAsync(sales, PsaVendor.ConnectWise, true);
        var refreshed = await Service.RefreshAsync(sales, PsaVendor.ConnectWise);

        Assert.False(view!.CanEdit);
        Assert.NotEmpty(view.ChoicesFor(TicketingField.Board));
        Assert.Equal((false, TicketingSettingsService.EditorsOnly), (set.Succeeded, set.Message));
        Assert.Equal((false, TicketingSettingsService.EditorsOnly), (enabled.Succeeded, enabled.Message));
        Assert.False(refreshed.Succeeded);
        await using var db = await _portal.Factory.CreateDbContextAsync();
        Assert.False(await db.TicketingSettings.AnyAsync(s => s.IntegrationId == integrationId));
        Assert.Empty(await AuditsAsync("Ticketing setting changed"));

        var fullMember = await Service.SetAsync(_portal.UserIn(PortalRoles.FullMember), PsaVendor.ConnectWise, TicketingField.Board, Id(board));
        Assert.True(fullMember.Succeeded, fullMember.Message);
    }

    // ---------------------------------------------------------------- helpers

    private async Task<Guid> LinkAndWaitAsync(PsaVendor vendor, string? key = null, string? secret = null)
    {
        var integrationId = vendor == PsaVendor.ConnectWise
            ? await _portal.LinkConnectWiseAsync(key ?? SandboxPortal.ConnectWiseFullPublic, secret ?? SandboxPortal.ConnectWiseFullPrivate)
            : await _portal.LinkAutotaskAsync(key ?? SandboxPortal.AutotaskFullUser, secret ?? SandboxPortal.AutotaskFullSecret);
        var finished = await _portal.NextSyncFinishedAsync();
        Assert.Equal(integrationId, finished.IntegrationId);
        await _portal.WaitForReferenceSyncIdleAsync(integrationId);
        return integrationId;
    }

    private async Task ExpectSavedAsync(PsaVendor vendor, TicketingField field, long value)
    {
        var result = await Service.SetAsync(_portal.Admin, vendor, field, value);
        Assert.True(result.Succeeded, $"{field}: {result.Message}");
    }

    private async Task CompleteConnectWiseAsync(JsonObject board)
    {
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.Board, Id(board));
        await ExpectSavedAsync(PsaVendor.ConnectWise, TicketingField.DefaultPriority, Id(_portal.Sandbox.ConnectWise.Data.Priorities.All()[2]));
    }

    /// <summary>A non-project board with a default team and exactly one closed status, and that status.</summary>
    private (JsonObject Board, JsonObject ClosedStatus) BoardWithDefaultTeam()
    {
        var data = _portal.Sandbox.ConnectWise.Data;
        var board = data.Boards.All().First(b => JsonRecords.GetBoolean(b["projectFlag"]) != true
            && data.BoardTeams.All().Any(t => Long(t["boardId"]) == Id(b) && JsonRecords.GetBoolean(t["defaultFlag"]) == true)
            && ClosedStatusesOf(Id(b)).Count == 1);
        return (board, ClosedStatusesOf(Id(board))[0]);
    }

    private JsonObject BoardWithoutDefaultTeam()
    {
        var data = _portal.Sandbox.ConnectWise.Data;
        return data.Boards.All().Single(b => !data.BoardTeams.All().Any(t => Long(t["boardId"]) == Id(b) && JsonRecords.GetBoolean(t["defaultFlag"]) == true));
    }

    private List<JsonObject> ClosedStatusesOf(long boardId) =>
        [.. _portal.Sandbox.ConnectWise.Data.BoardStatuses.All().Where(s => Long(s["board"]!["id"]) == boardId && JsonRecords.GetBoolean(s["closedStatus"]) == true)];

    /// <summary>Adds a board "Monitoring" with a default team and only an open status, as an MSP might set one up.</summary>
    private long AddBoardWithoutClosedStatus()
    {
        var data = _portal.Sandbox.ConnectWise.Data;
        var id = data.Boards.All().Max(Id) + 1;
        var board = (JsonObject)data.Boards.All()[0].DeepClone();
        board["id"] = id;
        board["name"] = "Monitoring";
        data.Boards.Insert(board);
        var team = (JsonObject)data.BoardTeams.All().First(t => JsonRecords.GetBoolean(t["defaultFlag"]) == true).DeepClone();
        team["id"] = data.BoardTeams.All().Max(Id) + 1;
        team["boardId"] = id;
        data.BoardTeams.Insert(team);
        var status = (JsonObject)data.BoardStatuses.All().First(s => JsonRecords.GetBoolean(s["closedStatus"]) != true).DeepClone();
        status["id"] = data.BoardStatuses.All().Max(Id) + 1;
        status["board"] = new JsonObject { ["id"] = id, ["name"] = "Monitoring" };
        data.BoardStatuses.Insert(status);
        return id;
    }

    private async Task<TicketingSettings> SettingsAsync(Guid integrationId)
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        return await db.TicketingSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integrationId) ?? new TicketingSettings { IntegrationId = integrationId };
    }

    private async Task<PsaReferenceItem> CachedAsync(Guid integrationId, PsaReferenceKind kind)
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        return await db.PsaReferenceItems.AsNoTracking().Where(i => i.IntegrationId == integrationId && i.Kind == kind && i.IsActive).OrderBy(i => i.Name).FirstAsync();
    }

    private async Task<List<Features.Audit.AuditEntry>> AuditsAsync(string action)
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        return await db.AuditEntries.AsNoTracking().Where(e => e.OrganizationId == _portal.OrganizationId && e.Action == action).ToListAsync();
    }

    private static IEnumerable<string> Names(IEnumerable<JsonObject> records) => records.Select(Name).Order();

    private static string Name(JsonObject record) => record["name"]!.GetValue<string>();

    private static long Id(JsonObject record) => JsonRecords.GetId(record);

    private static long Long(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var number) ? (long)number : throw new InvalidOperationException($"Not a number: {node}");
}

public sealed class SqliteTicketingSettingsScenarios : TicketingSettingsScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlTicketingSettingsScenarios(PostgreSqlFixture postgres) : TicketingSettingsScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
