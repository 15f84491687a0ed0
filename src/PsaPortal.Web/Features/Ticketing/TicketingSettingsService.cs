using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Errors;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Web.Features.Ticketing;

/// <summary>One setting of the Ticketing panel; each is saved on its own, the moment it changes.</summary>
public enum TicketingField
{
    // ConnectWise
    Board,
    Source,
    ClosedStatus,

    // Autotask
    Queue,
    NewStatus,
    UpdatedStatus,
    AutotaskClosedStatus,

    // Both
    DefaultCompany,
    DefaultPriority,
    LowPriority,
    MediumPriority,
    HighPriority,
    CriticalPriority,
}

/// <summary>A value the PSA offers for a setting (board, priority, queue, status…).</summary>
public sealed record TicketingChoice(long Id, string Name, bool IsDefault = false, bool IsInactive = false);

/// <summary>Something wrong with the settings or the PSA's lists, in words for the user; <paramref name="Field"/> names the setting it is about.</summary>
/// <param name="StaleChoice">The chosen value is no longer in the PSA's list: ticketing cannot be turned on until another is chosen.</param>
public sealed record TicketingProblem(TicketingField? Field, string Message, bool StaleChoice = false);

/// <summary>
/// A ConnectWise service board as ticketing needs it: its Default Team and its closed statuses, read from the PSA.
/// <see cref="Problem"/> says why tickets cannot go to it (no Default Team, no closed status); null when they can.
/// </summary>
public sealed record TicketingBoardCheck(long BoardId, string BoardName, string? DefaultTeam, IReadOnlyList<TicketingChoice> ClosedStatuses, string? Problem);

/// <summary>The Ticketing panel of one integration: the saved settings, the PSA's lists, what is missing and what is wrong.</summary>
public sealed record TicketingSettingsView(
    Guid IntegrationId,
    PsaVendor Vendor,
    bool Connected,
    bool CanEdit,
    TicketingSettings Settings,
    IReadOnlyDictionary<TicketingField, IReadOnlyList<TicketingChoice>> Choices,
    TicketingBoardCheck? Board,
    IReadOnlyList<string> Missing,
    IReadOnlyList<TicketingProblem> Problems,
    DateTimeOffset? ListsRefreshedAt)
{
    public IReadOnlyList<TicketingChoice> ChoicesFor(TicketingField field) => Choices.GetValueOrDefault(field) ?? [];
}

/// <summary>The outcome of a change or a refresh, in words for the user.</summary>
public sealed record TicketingSettingsResult(bool Succeeded, string Message)
{
    public static TicketingSettingsResult Failed(string message) => new(false, message);
}

/// <summary>
/// Loads, checks and saves an integration's ticketing settings (Integrations → the PSA → Ticketing) and gives the
/// engine the settings it works from, only when ticketing is on and complete. Lists come from the portal's copy of
/// the PSA's reference data (refreshed here for the kinds ticketing uses); a ConnectWise board's teams and statuses
/// are read from ConnectWise whenever a board is shown, chosen or ticketing is turned on, so a board fixed in the PSA
/// a minute ago is seen as fixed. Admins and Full Members change settings; Sales users read them; every change is audited.
/// </summary>
public sealed class TicketingSettingsService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IntegrationService integrations,
    PsaReferenceSync referenceSync,
    AuditLog audit,
    TimeProvider time,
    ILogger<TicketingSettingsService> logger) : ITicketingSettings
{
    public const string EditorsOnly = "Sales users cannot change ticketing settings.";
    public const string ConcurrentChange = "Someone changed the ticketing settings at the same moment; the panel shows the current state, try again.";
    public const int MaxCompanyChoices = 50;

    public async Task<TicketingSettings?> GetEnabledAsync(Guid integrationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var vendor = await db.Integrations.AsNoTracking().Where(i => i.Id == integrationId).Select(i => (PsaVendor?)i.Vendor).SingleOrDefaultAsync(cancellationToken);
        var settings = await db.TicketingSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integrationId, cancellationToken);
        return vendor is { } v && settings is { Enabled: true } && TicketingSettingsRules.Missing(v, settings).Count == 0 ? settings : null;
    }

    // ---------------------------------------------------------------- reads

    /// <summary>The panel of the organization's integration with <paramref name="vendor"/>; null when it is not linked.</summary>
    public async Task<TicketingSettingsView?> GetAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, user, vendor, cancellationToken);
        if (integration is null)
        {
            return null;
        }

        var settings = await db.TicketingSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integration.Id, cancellationToken)
            ?? new TicketingSettings { IntegrationId = integration.Id };
        var (choices, problems, states) = await CachedStateAsync(db, integration, settings, cancellationToken);

        TicketingBoardCheck? board = null;
        if (vendor == PsaVendor.ConnectWise && settings.BoardId is { } boardId && integration.Status == IntegrationStatus.Connected)
        {
            var (check, error) = await CheckBoardAsync(integration, boardId, settings.BoardName ?? $"Board {boardId}", cancellationToken);
            board = check;
            if (error is not null)
            {
                problems.Add(new TicketingProblem(TicketingField.Board, error));
            }
            else if (check!.Problem is not null)
            {
                problems.Add(new TicketingProblem(TicketingField.Board, check.Problem));
            }
            else if (settings.ClosedStatusId is { } closed && check.ClosedStatuses.All(s => s.Id != closed))
            {
                problems.Add(new TicketingProblem(TicketingField.ClosedStatus,
                    $"Closed Status \"{settings.ClosedStatusName}\" is no longer a closed status of Service Board \"{check.BoardName}\". Choose one of the board's closed statuses."));
            }

            choices[TicketingField.ClosedStatus] = check?.ClosedStatuses ?? [];
        }

        var kinds = TicketingSettingsRules.ReferenceKinds(vendor);
        var refreshedAt = states.Count == kinds.Count && states.All(s => s.LastSyncedAt is not null) ? states.Min(s => s.LastSyncedAt) : null;
        return new TicketingSettingsView(integration.Id, vendor, integration.Status == IntegrationStatus.Connected, user.IsEditor(), settings, choices, board,
            TicketingSettingsRules.Missing(vendor, settings), problems, refreshedAt);
    }

    /// <summary>The cached PSA companies whose name or identifier contains <paramref name="text"/>, by name (at most <see cref="MaxCompanyChoices"/>).</summary>
    public async Task<IReadOnlyList<TicketingChoice>> SearchCompaniesAsync(ClaimsPrincipal user, PsaVendor vendor, string? text, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, user, vendor, cancellationToken);
        if (integration is null)
        {
            return [];
        }

        var companies = db.PsaReferenceItems.AsNoTracking().Where(r => r.IntegrationId == integration.Id && r.Kind == PsaReferenceKind.Company && r.IsActive);
        if (!string.IsNullOrWhiteSpace(text))
        {
            var term = SearchTerms.Clean(text).ToLower(CultureInfo.InvariantCulture);
            companies = companies.Where(r => r.SearchText.Contains(term));
        }

        return await companies.OrderBy(r => r.Name).ThenBy(r => r.PsaId).Take(MaxCompanyChoices)
            .Select(r => new TicketingChoice(r.PsaId, r.Name, false, false))
            .ToListAsync(cancellationToken);
    }

    // ---------------------------------------------------------------- changes

    /// <summary>
    /// Saves one setting (null clears it). The value must be one the PSA offers: a cached board, priority, source,
    /// queue, status or company, or a closed status of the chosen board. A ConnectWise board is checked in ConnectWise
    /// for a Default Team and a closed status first and refused without either.
    /// </summary>
    public async Task<TicketingSettingsResult> SetAsync(ClaimsPrincipal user, PsaVendor vendor, TicketingField field, long? value, CancellationToken cancellationToken = default)
    {
        if (!user.IsEditor())
        {
            return TicketingSettingsResult.Failed(EditorsOnly);
        }

        var spec = TicketingSettingsRules.Spec(field);
        if (!TicketingSettingsRules.FieldsOf(vendor).Contains(field))
        {
            return TicketingSettingsResult.Failed($"{spec.Label} is not a {vendor.DisplayName()} ticketing setting.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, user, vendor, cancellationToken);
        if (integration is null)
        {
            return TicketingSettingsResult.Failed($"{vendor.DisplayName()} is not linked.");
        }

        var settings = await db.TicketingSettings.SingleOrDefaultAsync(s => s.IntegrationId == integration.Id, cancellationToken);
        var current = settings ?? new TicketingSettings { IntegrationId = integration.Id };
        if (spec.Id(current) == value)
        {
            return new TicketingSettingsResult(true, $"{spec.Label} unchanged.");
        }

        var before = spec.Name(current);
        var change = new List<string>();
        if (value is null)
        {
            if (current.Enabled && TicketingSettingsRules.IsRequired(field, vendor))
            {
                return TicketingSettingsResult.Failed($"Ticketing is on, and it needs a {spec.Label}. Choose another one, or turn ticketing off first.");
            }

            spec.Set(current, null, null);
            if (field == TicketingField.Board)
            {
                current.ClosedStatusId = null;
                current.ClosedStatusName = null;
            }
        }
        else if (field == TicketingField.ClosedStatus)
        {
            if (current.BoardId is not { } boardId)
            {
                return TicketingSettingsResult.Failed("Choose the Service Board first: closed statuses belong to a board.");
            }

            var (check, error) = await CheckBoardAsync(integration, boardId, current.BoardName ?? $"Board {boardId}", cancellationToken);
            if (error is not null)
            {
                return TicketingSettingsResult.Failed(error);
            }

            if (check!.ClosedStatuses.FirstOrDefault(s => s.Id == value) is not { } status)
            {
                return TicketingSettingsResult.Failed(
                    $"That status is not a closed status of Service Board \"{check.BoardName}\" in ConnectWise. Choose one of: {Names(check.ClosedStatuses)}.");
            }

            spec.Set(current, status.Id, status.Name);
        }
        else
        {
            var kind = TicketingSettingsRules.ListKind(field, vendor)!.Value;
            var item = await db.PsaReferenceItems.AsNoTracking()
                .SingleOrDefaultAsync(r => r.IntegrationId == integration.Id && r.Kind == kind && r.PsaId == value, cancellationToken);
            if (item is null)
            {
                return TicketingSettingsResult.Failed(
                    $"That {spec.Noun} is not in the {vendor.DisplayName()} list PsaPortal holds (it may have been removed in {vendor.DisplayName()}). Refresh the lists and choose again.");
            }

            if (field == TicketingField.Board)
            {
                var (check, error) = await CheckBoardAsync(integration, item.PsaId, item.Name, cancellationToken);
                if (error is not null)
                {
                    return TicketingSettingsResult.Failed(error);
                }

                if (check!.Problem is not null)
                {
                    return TicketingSettingsResult.Failed(check.Problem);
                }

                // Status ids belong to one board: the old board's closed status cannot stay. One closed status is the obvious choice.
                var closed = check.ClosedStatuses.Count == 1 ? check.ClosedStatuses[0] : null;
                if (current.ClosedStatusId != closed?.Id)
                {
                    change.Add(closed is null
                        ? "Closed Status cleared (choose one of the board's closed statuses)"
                        : $"Closed Status set to \"{closed.Name}\", the board's closed status");
                }

                current.ClosedStatusId = closed?.Id;
                current.ClosedStatusName = closed?.Name;
                if (current.Enabled && closed is null)
                {
                    return TicketingSettingsResult.Failed(
                        $"Service Board \"{item.Name}\" has several closed statuses and ticketing is on: turn ticketing off, choose the board, then its Closed Status.");
                }
            }

            spec.Set(current, item.PsaId, item.Name);
        }

        change.Insert(0, value is null ? $"{spec.Label} cleared" : $"{spec.Label} set to \"{spec.Name(current)}\"");
        current.UpdatedAt = time.GetUtcNow();
        current.UpdatedBy = Actor.From(user).Name;
        if (settings is null)
        {
            db.TicketingSettings.Add(current);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return TicketingSettingsResult.Failed(ConcurrentChange);
        }

        var message = string.Join("; ", change) + ".";
        await audit.RecordAsync(integration.OrganizationId, Actor.From(user), "Ticketing setting changed", $"{vendor.DisplayName()} ticketing",
            $"{string.Join("; ", change)} (was {(before is null ? "not set" : $"\"{before}\"")}).", cancellationToken);
        return new TicketingSettingsResult(true, message);
    }

    /// <summary>Turns ticketing on (only when every required setting is chosen and, for ConnectWise, the board can take tickets) or off.</summary>
    public async Task<TicketingSettingsResult> SetEnabledAsync(ClaimsPrincipal user, PsaVendor vendor, bool enabled, CancellationToken cancellationToken = default)
    {
        if (!user.IsEditor())
        {
            return TicketingSettingsResult.Failed(EditorsOnly);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, user, vendor, cancellationToken);
        if (integration is null)
        {
            return TicketingSettingsResult.Failed($"{vendor.DisplayName()} is not linked.");
        }

        var settings = await db.TicketingSettings.SingleOrDefaultAsync(s => s.IntegrationId == integration.Id, cancellationToken);
        if ((settings?.Enabled ?? false) == enabled)
        {
            return new TicketingSettingsResult(true, enabled ? "Ticketing is already on." : "Ticketing is already off.");
        }

        if (enabled)
        {
            var missing = TicketingSettingsRules.Missing(vendor, settings ?? new TicketingSettings());
            if (missing.Count > 0)
            {
                return TicketingSettingsResult.Failed(TicketingSettingsRules.CannotTurnOn(missing));
            }

            if (integration.Status != IntegrationStatus.Connected)
            {
                return TicketingSettingsResult.Failed($"{vendor.DisplayName()} is not connected. Link it again before turning ticketing on.");
            }

            var (_, cachedProblems, _) = await CachedStateAsync(db, integration, settings!, cancellationToken);
            if (cachedProblems.FirstOrDefault(p => p.StaleChoice) is { } stale)
            {
                return TicketingSettingsResult.Failed(stale.Message);
            }

            if (vendor == PsaVendor.ConnectWise)
            {
                var (check, error) = await CheckBoardAsync(integration, settings!.BoardId!.Value, settings.BoardName ?? $"Board {settings.BoardId}", cancellationToken);
                if ((error ?? check!.Problem) is { } problem)
                {
                    return TicketingSettingsResult.Failed(problem);
                }

                if (check!.ClosedStatuses.All(s => s.Id != settings.ClosedStatusId))
                {
                    return TicketingSettingsResult.Failed(
                        $"Closed Status \"{settings.ClosedStatusName}\" is no longer a closed status of Service Board \"{check.BoardName}\". Choose one of: {Names(check.ClosedStatuses)}.");
                }
            }
        }

        settings!.Enabled = enabled;
        settings.UpdatedAt = time.GetUtcNow();
        settings.UpdatedBy = Actor.From(user).Name;
        await db.SaveChangesAsync(cancellationToken);
        var message = enabled ? "Ticketing turned on: new incidents become tickets." : "Ticketing turned off: no new tickets are created.";
        await audit.RecordAsync(integration.OrganizationId, Actor.From(user), enabled ? "Ticketing turned on" : "Ticketing turned off", $"{vendor.DisplayName()} ticketing",
            message, cancellationToken);
        return new TicketingSettingsResult(true, message);
    }

    /// <summary>Copies the PSA's lists ticketing uses (boards, teams, priorities, sources; or the Tickets queue, status and priority picklists) again.</summary>
    public async Task<TicketingSettingsResult> RefreshAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default)
    {
        if (!user.IsEditor())
        {
            return TicketingSettingsResult.Failed("Sales users cannot refresh PSA data.");
        }

        Guid integrationId;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var integration = await FindIntegrationAsync(db, user, vendor, cancellationToken);
            if (integration is null)
            {
                return TicketingSettingsResult.Failed($"{vendor.DisplayName()} is not linked.");
            }

            integrationId = integration.Id;
        }

        var result = await referenceSync.SyncAsync(integrationId, TicketingSettingsRules.ReferenceKinds(vendor).ToHashSet(), Actor.From(user).Name, cancellationToken);
        if (result.Problem is not null)
        {
            return TicketingSettingsResult.Failed(result.Problem);
        }

        var failed = result.Kinds.Where(k => k.Error is not null).ToList();
        return failed.Count == 0
            ? new TicketingSettingsResult(true, "Refreshed from " + vendor.DisplayName() + ": " + string.Join(", ", result.Kinds.Select(k => $"{k.Count} {TicketingSettingsRules.KindName(k.Kind)}")) + ".")
            : TicketingSettingsResult.Failed(string.Join(" ", failed.Select(k => k.Error)));
    }

    // ---------------------------------------------------------------- the board, as ConnectWise has it now

    /// <summary>Reads the board's teams and statuses from ConnectWise; the error is the PSA's message when they could not be read.</summary>
    public async Task<(TicketingBoardCheck? Check, string? Error)> CheckBoardAsync(Integration integration, long boardId, string boardName, CancellationToken cancellationToken)
    {
        try
        {
            var api = integrations.ConnectWiseApiFor(integration);
            var teams = await api.ListBoardTeamsAsync(boardId, cancellationToken).ToListAsync(cancellationToken);
            var statuses = await api.ListBoardStatusesAsync(boardId, cancellationToken).ToListAsync(cancellationToken);
            var defaultTeam = teams.FirstOrDefault(t => t.IsDefault)?.Name;
            var closed = statuses.Where(s => s.IsClosed && !s.IsInactive).OrderBy(s => s.SortOrder).ThenBy(s => s.Name)
                .Select(s => new TicketingChoice(s.Id, s.Name, s.IsDefault)).ToList();
            var problem = defaultTeam is null ? TicketingSettingsRules.NoDefaultTeam(boardName)
                : closed.Count == 0 ? TicketingSettingsRules.NoClosedStatus(boardName)
                : null;
            return (new TicketingBoardCheck(boardId, boardName, defaultTeam, closed, problem), null);
        }
        catch (PsaException exception)
        {
            return (null, $"PsaPortal could not read Service Board \"{boardName}\" from ConnectWise: {exception.Message}");
        }
        catch (HttpRequestException exception)
        {
            logger.LogWarning(exception, "Reading board {BoardId} of integration {IntegrationId}: ConnectWise could not be reached", boardId, integration.Id);
            return (null, $"PsaPortal could not reach ConnectWise to check Service Board \"{boardName}\": {exception.Message}");
        }
        catch (CryptographicException)
        {
            return (null, PsaReferenceSync.CredentialsUnreadable);
        }
    }

    /// <summary>
    /// The cached lists of the integration's settings, the last refresh errors of their kinds, and every chosen value the
    /// lists no longer hold (only when its list was read without error, so an unreachable PSA does not mark everything stale).
    /// </summary>
    private static async Task<(Dictionary<TicketingField, IReadOnlyList<TicketingChoice>> Choices, List<TicketingProblem> Problems, List<PsaReferenceSyncState> States)>
        CachedStateAsync(PortalDbContext db, Integration integration, TicketingSettings settings, CancellationToken cancellationToken)
    {
        var vendor = integration.Vendor;
        var choices = new Dictionary<TicketingField, IReadOnlyList<TicketingChoice>>();
        foreach (var field in TicketingSettingsRules.FieldsOf(vendor).Where(f => TicketingSettingsRules.ListKind(f, vendor) is not null && f != TicketingField.DefaultCompany))
        {
            choices[field] = await ChoicesAsync(db, integration.Id, TicketingSettingsRules.ListKind(field, vendor)!.Value, cancellationToken);
        }

        var problems = new List<TicketingProblem>();
        var kinds = TicketingSettingsRules.ReferenceKinds(vendor);
        var states = await db.PsaReferenceSyncStates.AsNoTracking().Where(s => s.IntegrationId == integration.Id && kinds.Contains(s.Kind)).ToListAsync(cancellationToken);
        foreach (var state in states.Where(s => s.Error is not null).OrderBy(s => s.Kind))
        {
            problems.Add(new TicketingProblem(TicketingSettingsRules.FieldOfKind(state.Kind), state.Error!));
        }

        foreach (var (field, list) in choices)
        {
            var spec = TicketingSettingsRules.Spec(field);
            if (spec.Id(settings) is { } chosen && list.All(c => c.Id != chosen) && states.Any(s => s.Kind == TicketingSettingsRules.ListKind(field, vendor) && s.Error is null))
            {
                problems.Add(new TicketingProblem(field, TicketingSettingsRules.NoLongerInPsa(vendor, spec.Label, spec.Name(settings)), StaleChoice: true));
            }
        }

        if (settings.DefaultCompanyPsaId is { } companyId
            && !await db.PsaReferenceItems.AnyAsync(r => r.IntegrationId == integration.Id && r.Kind == PsaReferenceKind.Company && r.PsaId == companyId, cancellationToken)
            && await db.PsaReferenceItems.AnyAsync(r => r.IntegrationId == integration.Id && r.Kind == PsaReferenceKind.Company, cancellationToken))
        {
            problems.Add(new TicketingProblem(TicketingField.DefaultCompany, TicketingSettingsRules.NoLongerInPsa(vendor, "Default Company", settings.DefaultCompanyName), StaleChoice: true));
        }

        return (choices, problems, states);
    }

    private static async Task<IReadOnlyList<TicketingChoice>> ChoicesAsync(PortalDbContext db, Guid integrationId, PsaReferenceKind kind, CancellationToken cancellationToken) =>
        await db.PsaReferenceItems.AsNoTracking()
            .Where(r => r.IntegrationId == integrationId && r.Kind == kind)
            .OrderBy(r => r.Name).ThenBy(r => r.PsaId)
            .Select(r => new TicketingChoice(r.PsaId, r.Name, r.IsDefault, !r.IsActive))
            .ToListAsync(cancellationToken);

    private static Task<Integration?> FindIntegrationAsync(PortalDbContext db, ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken)
    {
        var organizationId = user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");
        return db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.OrganizationId == organizationId && i.Vendor == vendor, cancellationToken);
    }

    private static string Names(IReadOnlyList<TicketingChoice> choices) =>
        choices.Count == 0 ? "none (the board has no closed status)" : string.Join(", ", choices.Select(c => $"\"{c.Name}\""));
}
