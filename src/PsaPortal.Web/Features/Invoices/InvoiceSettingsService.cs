using System.Net.Mail;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Errors;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Invoices;

/// <summary>An agreement type as ConnectWise lists it.</summary>
public sealed record AgreementTypeChoice(long Id, string Name, bool IsDefault, bool IsInactive);

public sealed record EndDateRuleInput(ChargeType ChargeType, ChargeEndDateRuleKind Rule);

public sealed record StartDateRuleInput(BillingCycle BillingCycle, ChargeStartDateRuleKind Rule);

/// <summary>Everything the Configuration panel saves at once with "Save Configuration".</summary>
public sealed record InvoiceSettingsInput(
    long? AgreementTypeId,
    bool DailySyncEnabled,
    bool ExportProducts,
    bool ExportQuantities,
    bool ExportCost,
    bool ExportRetailPrice,
    bool ExportUsersList,
    string? NotificationContacts,
    InvoiceExportFrequency ExportFrequency,
    int ExportDayOfMonth,
    TimeOnly ExportTimeOfDay,
    IReadOnlyList<EndDateRuleInput> EndRules,
    IReadOnlyList<StartDateRuleInput> StartRules,
    IReadOnlyDictionary<ChargeType, string?> CustomNames);

/// <summary>The Configuration panel of the organization's ConnectWise integration.</summary>
/// <param name="AgreementTypesError">Why ConnectWise's agreement types could not be read (the list is then empty).</param>
public sealed record InvoiceSettingsView(
    Guid IntegrationId,
    bool Connected,
    bool CanEdit,
    InvoiceSettings Settings,
    IReadOnlyList<EndDateRuleInput> EndRules,
    IReadOnlyList<StartDateRuleInput> StartRules,
    IReadOnlyDictionary<ChargeType, string> CustomNames,
    IReadOnlyList<AgreementTypeChoice> AgreementTypes,
    string? AgreementTypesError)
{
    public InvoiceSettingsInput ToInput() => new(
        Settings.AgreementTypeId, Settings.DailySyncEnabled, Settings.ExportProducts, Settings.ExportQuantities, Settings.ExportCost,
        Settings.ExportRetailPrice, Settings.ExportUsersList, Settings.NotificationContacts, Settings.ExportFrequency, Settings.ExportDayOfMonth,
        Settings.ExportTimeOfDay, EndRules, StartRules, CustomNames.ToDictionary(p => p.Key, p => (string?)p.Value));
}

/// <summary>The outcome of a save or an override, in words for the user.</summary>
public sealed record InvoiceSettingsResult(bool Succeeded, string Message)
{
    public static InvoiceSettingsResult Failed(string message) => new(false, message);
}

/// <summary>
/// Loads, validates and saves the invoice-line configuration of the organization's ConnectWise integration
/// (Integrations → ConnectWise → Settings → Configuration) and a person's inline date overrides on the Invoices tab.
/// Agreement types are read from ConnectWise (finance/agreements/types) each time the panel opens or a save changes the
/// type. Admins and Full Members change things; Sales users read; every change is audited. Saving applies to future
/// syncs only: lines already posted keep the values they were posted with.
/// </summary>
public sealed class InvoiceSettingsService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IntegrationService integrations,
    AuditLog audit,
    IPortalEventStream events,
    InvoiceScheduleTriggers triggers,
    TimeProvider time,
    ILogger<InvoiceSettingsService> logger)
{
    public const string EditorsOnly = "Sales users cannot change the invoice configuration.";
    public const string EditorsOnlyOverride = "Sales users cannot change invoice line dates.";
    public const string AgreementTypeRequired = "Choose an Agreement Type: invoice lines cannot be posted to ConnectWise until one is chosen.";
    public const string NotLinked = "ConnectWise is not linked.";
    public const string Subject = "ConnectWise invoice configuration";

    // ---------------------------------------------------------------- reads

    /// <summary>The panel; null when ConnectWise is not linked. Agreement types are read from ConnectWise now.</summary>
    public async Task<InvoiceSettingsView?> GetAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, user, cancellationToken);
        if (integration is null)
        {
            return null;
        }

        var settings = await db.InvoiceSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integration.Id, cancellationToken)
            ?? new InvoiceSettings { IntegrationId = integration.Id };
        var rules = await LoadRulesAsync(db, integration.Id, cancellationToken);
        var (types, error) = integration.Status == IntegrationStatus.Connected
            ? await ListAgreementTypesAsync(integration, cancellationToken)
            : ([], "ConnectWise is not connected: agreement types cannot be read. Link it again on this page.");
        return new InvoiceSettingsView(integration.Id, integration.Status == IntegrationStatus.Connected, user.IsEditor(), settings,
            rules.EndRules.Select(r => new EndDateRuleInput(r.Key, r.Value)).OrderBy(r => r.ChargeType).ToList(),
            rules.StartRules.Select(r => new StartDateRuleInput(r.Key, r.Value)).OrderBy(r => r.BillingCycle).ToList(),
            rules.CustomNames, types, error);
    }

    /// <summary>The integration's rules as the date computation needs them.</summary>
    public async Task<ChargeRuleSet> GetRulesAsync(Guid integrationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await LoadRulesAsync(db, integrationId, cancellationToken);
    }

    internal static async Task<ChargeRuleSet> LoadRulesAsync(PortalDbContext db, Guid integrationId, CancellationToken cancellationToken) => ChargeRuleSet.From(
        await db.ChargeEndDateRules.AsNoTracking().Where(r => r.IntegrationId == integrationId).ToListAsync(cancellationToken),
        await db.ChargeStartDateRules.AsNoTracking().Where(r => r.IntegrationId == integrationId).ToListAsync(cancellationToken),
        await db.ChargeTypeNames.AsNoTracking().Where(r => r.IntegrationId == integrationId).ToListAsync(cancellationToken));

    // ---------------------------------------------------------------- validation

    /// <summary>Every problem of <paramref name="input"/> that does not need ConnectWise, in words for the user (empty when none).</summary>
    public static IReadOnlyList<string> Validate(InvoiceSettingsInput input)
    {
        var problems = new List<string>();
        if (input.AgreementTypeId is null)
        {
            problems.Add(AgreementTypeRequired);
        }

        foreach (var duplicate in input.EndRules.GroupBy(r => r.ChargeType).Where(g => g.Count() > 1))
        {
            problems.Add($"{ChargeDateRules.PlatformName(duplicate.Key)} has {duplicate.Count()} Charge End Date rules; a charge type has one rule. Delete the extra ones.");
        }

        foreach (var duplicate in input.StartRules.GroupBy(r => r.BillingCycle).Where(g => g.Count() > 1))
        {
            problems.Add($"Billing cycle {ChargeDateRules.CycleName(duplicate.Key)} has {duplicate.Count()} Charge Start Date rules; a billing cycle has one rule. Delete the extra ones.");
        }

        foreach (var rule in input.EndRules.Where(r => !Enum.IsDefined(r.ChargeType) || !Enum.IsDefined(r.Rule)))
        {
            problems.Add($"A Charge End Date rule ({rule.ChargeType} → {rule.Rule}) is not one PsaPortal knows.");
        }

        foreach (var rule in input.StartRules.Where(r => !Enum.IsDefined(r.BillingCycle) || !Enum.IsDefined(r.Rule)))
        {
            problems.Add($"A Charge Start Date rule ({rule.BillingCycle} → {rule.Rule}) is not one PsaPortal knows.");
        }

        foreach (var (type, name) in input.CustomNames)
        {
            if (name?.Trim() is { Length: > ChargeTypeName.NameMaxLength })
            {
                problems.Add($"The custom name of {ChargeDateRules.PlatformName(type)} is {name.Trim().Length} characters; at most {ChargeTypeName.NameMaxLength} are sent to ConnectWise.");
            }
            else if (name is not null && (PlatformRules.HasForbiddenCharacters(name, allowLineBreaks: false) || name.AsSpan().IndexOfAny('<', '>') >= 0))
            {
                // The name is sent to ConnectWise and shown on its invoices: nothing invisible, no markup.
                problems.Add($"The custom name of {ChargeDateRules.PlatformName(type)} cannot contain control or invisible characters, < or >.");
            }
        }

        foreach (var address in SplitContacts(input.NotificationContacts))
        {
            // One plain address: visible ASCII only (no bidi override or zero-width character hiding another address),
            // at most 254 characters, a host name rather than an address literal such as [127.0.0.1].
            if (!MailAddress.TryCreate(address, out var parsed) || !string.Equals(parsed.Address, address, StringComparison.OrdinalIgnoreCase) || !address.Contains('.', StringComparison.Ordinal)
                || address.Length > 254 || !address.All(c => c is > ' ' and <= '~') || parsed.Host.StartsWith('['))
            {
                problems.Add($"\"{address}\" is not an e-mail address. Notification contacts are e-mail addresses separated by commas.");
            }
        }

        if (string.Join(", ", SplitContacts(input.NotificationContacts)).Length > InvoiceSettings.ContactsMaxLength)
        {
            problems.Add($"Notification contacts are longer than {InvoiceSettings.ContactsMaxLength} characters.");
        }

        if (!Enum.IsDefined(input.ExportFrequency))
        {
            problems.Add("Choose an export frequency: None, Daily or Monthly.");
        }
        else if (input.ExportFrequency == InvoiceExportFrequency.Monthly && input.ExportDayOfMonth is < 1 or > 28)
        {
            problems.Add($"The monthly export runs on a day from 1 to 28 (every month has it); {input.ExportDayOfMonth} is not one.");
        }

        return problems;
    }

    private static List<string> SplitContacts(string? contacts) =>
        (contacts ?? "").Split([',', ';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    // ---------------------------------------------------------------- changes

    /// <summary>
    /// Saves the whole configuration at once (Save Configuration). Refused, with every problem and nothing saved, when
    /// the input is invalid or the agreement type is not one ConnectWise lists (an unchanged type is not read again).
    /// </summary>
    public async Task<InvoiceSettingsResult> SaveAsync(ClaimsPrincipal user, InvoiceSettingsInput input, CancellationToken cancellationToken = default)
    {
        if (!user.IsEditor())
        {
            return InvoiceSettingsResult.Failed(EditorsOnly);
        }

        var problems = Validate(input);
        if (problems.Count > 0)
        {
            return InvoiceSettingsResult.Failed(string.Join(" ", problems));
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, user, cancellationToken);
        if (integration is null)
        {
            return InvoiceSettingsResult.Failed(NotLinked);
        }

        var settings = await db.InvoiceSettings.SingleOrDefaultAsync(s => s.IntegrationId == integration.Id, cancellationToken);
        var current = settings ?? new InvoiceSettings { IntegrationId = integration.Id };
        var changes = new List<string>();

        if (current.AgreementTypeId != input.AgreementTypeId)
        {
            if (integration.Status != IntegrationStatus.Connected)
            {
                return InvoiceSettingsResult.Failed("ConnectWise is not connected, so the Agreement Type cannot be checked. Link it again, then save.");
            }

            var (types, error) = await ListAgreementTypesAsync(integration, cancellationToken);
            if (error is not null)
            {
                return InvoiceSettingsResult.Failed(error);
            }

            if (types.FirstOrDefault(t => t.Id == input.AgreementTypeId) is not { } type)
            {
                return InvoiceSettingsResult.Failed("That Agreement Type is not in ConnectWise (it may have been removed there). Choose one of: "
                    + string.Join(", ", types.Where(t => !t.IsInactive).Select(t => $"\"{t.Name}\"")) + ".");
            }

            if (type.IsInactive)
            {
                return InvoiceSettingsResult.Failed($"Agreement Type \"{type.Name}\" is inactive in ConnectWise. Choose an active one.");
            }

            changes.Add($"Agreement Type set to \"{type.Name}\" (was {Quoted(current.AgreementTypeName)})");
            current.AgreementTypeId = type.Id;
            current.AgreementTypeName = type.Name;
        }

        Track(changes, "Automated Daily Invoice Line Sync", current.DailySyncEnabled, input.DailySyncEnabled, v => current.DailySyncEnabled = v);
        Track(changes, "Export products", current.ExportProducts, input.ExportProducts, v => current.ExportProducts = v);
        Track(changes, "Export quantities", current.ExportQuantities, input.ExportQuantities, v => current.ExportQuantities = v);
        Track(changes, "Export cost", current.ExportCost, input.ExportCost, v => current.ExportCost = v);
        Track(changes, "Export retail price", current.ExportRetailPrice, input.ExportRetailPrice, v => current.ExportRetailPrice = v);
        Track(changes, "Export list of users", current.ExportUsersList, input.ExportUsersList, v => current.ExportUsersList = v);

        var contacts = SplitContacts(input.NotificationContacts) is { Count: > 0 } list ? string.Join(", ", list) : null;
        if (contacts != current.NotificationContacts)
        {
            changes.Add($"Notification contacts set to {Quoted(contacts)} (was {Quoted(current.NotificationContacts)})");
            current.NotificationContacts = contacts;
        }

        var day = input.ExportFrequency == InvoiceExportFrequency.Monthly ? input.ExportDayOfMonth : current.ExportDayOfMonth;
        var timeOfDay = new TimeOnly(input.ExportTimeOfDay.Hour, input.ExportTimeOfDay.Minute);
        if (current.ExportFrequency != input.ExportFrequency || current.ExportDayOfMonth != day || current.ExportTimeOfDay != timeOfDay)
        {
            changes.Add($"Automatic export set to {ScheduleText(input.ExportFrequency, day, timeOfDay)} (was {ScheduleText(current.ExportFrequency, current.ExportDayOfMonth, current.ExportTimeOfDay)})");
            current.ExportFrequency = input.ExportFrequency;
            current.ExportDayOfMonth = day;
            current.ExportTimeOfDay = timeOfDay;
        }

        await ReplaceRulesAsync(db, integration.Id, input, changes, cancellationToken);

        if (changes.Count == 0)
        {
            return new InvoiceSettingsResult(true, "Nothing changed.");
        }

        current.UpdatedAt = time.GetUtcNow();
        current.UpdatedBy = Actor.From(user).Name;
        if (settings is null)
        {
            db.InvoiceSettings.Add(current);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception)
        {
            logger.LogWarning(exception, "Saving the invoice configuration of integration {IntegrationId}", integration.Id);
            return InvoiceSettingsResult.Failed("Someone changed the invoice configuration at the same moment; nothing was saved. The panel shows the current state, try again.");
        }

        // The automatic export and the daily line sync fire from Quartz: their triggers follow the saved settings at once.
        await triggers.ApplyAsync(current, cancellationToken);

        // The audit trail keeps 500 characters of details: a large save is recorded as several entries, none cut short.
        foreach (var details in AuditChunks(changes))
        {
            await audit.RecordAsync(integration.OrganizationId, Actor.From(user), "Invoice configuration changed", Subject, details, cancellationToken);
        }

        return new InvoiceSettingsResult(true, "Configuration saved; it applies to future syncs only. " + string.Join("; ", changes) + ".");
    }

    private static async Task ReplaceRulesAsync(PortalDbContext db, Guid integrationId, InvoiceSettingsInput input, List<string> changes, CancellationToken cancellationToken)
    {
        var endRules = await db.ChargeEndDateRules.Where(r => r.IntegrationId == integrationId).ToListAsync(cancellationToken);
        foreach (var type in Enum.GetValues<ChargeType>())
        {
            var existing = endRules.FirstOrDefault(r => r.ChargeType == type);
            var wanted = input.EndRules.FirstOrDefault(r => r.ChargeType == type);
            var name = ChargeDateRules.PlatformName(type);
            if (existing is not null && wanted is null)
            {
                db.ChargeEndDateRules.Remove(existing);
                changes.Add($"Charge End Date rule for {name} deleted (was \"{ChargeDateRules.RuleName(existing.Rule)}\")");
            }
            else if (existing is null && wanted is not null)
            {
                db.ChargeEndDateRules.Add(new ChargeEndDateRule { IntegrationId = integrationId, ChargeType = type, Rule = wanted.Rule });
                changes.Add($"Charge End Date rule added: {name} → \"{ChargeDateRules.RuleName(wanted.Rule)}\"");
            }
            else if (existing is not null && wanted is not null && existing.Rule != wanted.Rule)
            {
                changes.Add($"Charge End Date rule for {name} set to \"{ChargeDateRules.RuleName(wanted.Rule)}\" (was \"{ChargeDateRules.RuleName(existing.Rule)}\")");
                existing.Rule = wanted.Rule;
            }
        }

        var startRules = await db.ChargeStartDateRules.Where(r => r.IntegrationId == integrationId).ToListAsync(cancellationToken);
        foreach (var cycle in Enum.GetValues<BillingCycle>())
        {
            var existing = startRules.FirstOrDefault(r => r.BillingCycle == cycle);
            var wanted = input.StartRules.FirstOrDefault(r => r.BillingCycle == cycle);
            var name = ChargeDateRules.CycleName(cycle);
            if (existing is not null && wanted is null)
            {
                db.ChargeStartDateRules.Remove(existing);
                changes.Add($"Charge Start Date rule for {name} deleted");
            }
            else if (existing is null && wanted is not null)
            {
                db.ChargeStartDateRules.Add(new ChargeStartDateRule { IntegrationId = integrationId, BillingCycle = cycle, Rule = wanted.Rule });
                changes.Add($"Charge Start Date rule added: {name} → \"{ChargeDateRules.RuleName(wanted.Rule)}\"");
            }
            else if (existing is not null && wanted is not null && existing.Rule != wanted.Rule)
            {
                existing.Rule = wanted.Rule;
                changes.Add($"Charge Start Date rule for {name} set to \"{ChargeDateRules.RuleName(wanted.Rule)}\"");
            }
        }

        var names = await db.ChargeTypeNames.Where(n => n.IntegrationId == integrationId).ToListAsync(cancellationToken);
        foreach (var type in Enum.GetValues<ChargeType>())
        {
            var existing = names.FirstOrDefault(n => n.ChargeType == type);
            var platform = ChargeDateRules.PlatformName(type);
            var wanted = input.CustomNames.GetValueOrDefault(type)?.Trim() is { Length: > 0 } w && w != platform ? w : null;
            if (existing is not null && wanted is null)
            {
                db.ChargeTypeNames.Remove(existing);
                changes.Add($"Custom name of {platform} removed (was \"{existing.Name}\"; \"{platform}\" is sent)");
            }
            else if (existing is null && wanted is not null)
            {
                db.ChargeTypeNames.Add(new ChargeTypeName { IntegrationId = integrationId, ChargeType = type, Name = wanted });
                changes.Add($"{platform} is sent to ConnectWise as \"{wanted}\"");
            }
            else if (existing is not null && wanted is not null && existing.Name != wanted)
            {
                changes.Add($"{platform} is sent to ConnectWise as \"{wanted}\" (was \"{existing.Name}\")");
                existing.Name = wanted;
            }
        }
    }

    /// <summary>
    /// Sets (or, with nulls, clears) a person's charge start and end dates of one invoice line (User Updated). Refused
    /// for a line already posted or being posted, and when the start would fall after the end.
    /// </summary>
    public async Task<InvoiceSettingsResult> OverrideDatesAsync(ClaimsPrincipal user, long invoiceLineId, DateOnly? start, DateOnly? end, CancellationToken cancellationToken = default)
    {
        if (!user.IsEditor())
        {
            return InvoiceSettingsResult.Failed(EditorsOnlyOverride);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, user, cancellationToken);
        if (integration is null)
        {
            return InvoiceSettingsResult.Failed(NotLinked);
        }

        var line = await db.InvoiceLines.AsNoTracking().SingleOrDefaultAsync(l => l.Id == invoiceLineId && l.OrganizationId == integration.OrganizationId, cancellationToken);
        if (line is null)
        {
            return InvoiceSettingsResult.Failed("That invoice line no longer exists.");
        }

        var sync = await db.InvoiceLineSyncs.SingleOrDefaultAsync(s => s.IntegrationId == integration.Id && s.InvoiceLineId == line.Id, cancellationToken);
        if (sync is { State: InvoiceLineSyncState.Posted or InvoiceLineSyncState.Posting })
        {
            return InvoiceSettingsResult.Failed($"Line {line.ExternalId} is already {(sync.State == InvoiceLineSyncState.Posted ? "posted" : "being posted")} to ConnectWise; its dates there would not change.");
        }

        var rules = await LoadRulesAsync(db, integration.Id, cancellationToken);
        var computed = ChargeDateRules.Compute(line, rules, start, end);
        if (computed.StartDate > computed.EndDate)
        {
            return InvoiceSettingsResult.Failed($"The charge start date {computed.StartDate:yyyy-MM-dd} is after the end date {computed.EndDate:yyyy-MM-dd}. Nothing was changed.");
        }

        var before = sync is null ? "none" : $"start {Date(sync.StartDateOverride)}, end {Date(sync.EndDateOverride)}";
        if (sync?.StartDateOverride == start && sync?.EndDateOverride == end)
        {
            return new InvoiceSettingsResult(true, "Dates unchanged.");
        }

        var now = time.GetUtcNow();
        var actor = Actor.From(user);
        if (sync is null)
        {
            sync = new InvoiceLineSync { OrganizationId = integration.OrganizationId, IntegrationId = integration.Id, InvoiceLineId = line.Id, State = InvoiceLineSyncState.Pending };
            db.InvoiceLineSyncs.Add(sync);
        }

        sync.StartDateOverride = start;
        sync.EndDateOverride = end;
        sync.OverriddenBy = start is null && end is null ? null : actor.Name;
        sync.OverriddenAt = start is null && end is null ? null : now;
        sync.UpdatedAt = now;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception)
        {
            logger.LogWarning(exception, "Overriding the dates of invoice line {LineId}", line.Id);
            return InvoiceSettingsResult.Failed("The line changed at the same moment; nothing was saved. Try again.");
        }

        var details = start is null && end is null
            ? $"Line {line.ExternalId}: date overrides removed (was {before}); the rules decide again."
            : $"Line {line.ExternalId}: charge start {Date(start)}, end {Date(end)} (was {before}).";
        await audit.RecordAsync(integration.OrganizationId, actor, "Invoice line dates changed", $"Invoice line {line.ExternalId}", details, cancellationToken);
        events.Publish(new InvoiceLineOverridden(integration.OrganizationId, now, integration.Id, line.Id, start, end, sync.OverriddenBy));
        return new InvoiceSettingsResult(true, details);
    }

    // ---------------------------------------------------------------- ConnectWise

    /// <summary>ConnectWise's agreement types, by name; the error is the PSA's words when they could not be read.</summary>
    public async Task<(IReadOnlyList<AgreementTypeChoice> Types, string? Error)> ListAgreementTypesAsync(Integration integration, CancellationToken cancellationToken)
    {
        if (!integration.HasCredentials)
        {
            // Between a Disconnect (which forgets the keys) and the next link there is nothing to read with.
            return ([], "ConnectWise has no stored credentials: agreement types cannot be read. Link it again on this page.");
        }

        try
        {
            var api = integrations.ConnectWiseApiFor(integration);
            var types = await api.ListAgreementTypesAsync(cancellationToken)
                .Select(t => new AgreementTypeChoice(t.Id, t.Name, t.IsDefault, t.IsInactive))
                .ToListAsync(cancellationToken);
            return (types.OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase).ThenBy(t => t.Id).ToList(), null);
        }
        catch (PsaException exception)
        {
            return ([], $"PsaPortal could not read the agreement types from ConnectWise: {exception.Message}");
        }
        catch (HttpRequestException exception)
        {
            logger.LogWarning(exception, "Reading agreement types of integration {IntegrationId}: ConnectWise could not be reached", integration.Id);
            return ([], $"PsaPortal could not reach ConnectWise to read the agreement types: {exception.Message}");
        }
        catch (CryptographicException)
        {
            return ([], "PsaPortal cannot read the stored ConnectWise credentials (the key that protected them is gone). Link ConnectWise again.");
        }
    }

    private static Task<Integration?> FindIntegrationAsync(PortalDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var organizationId = user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");
        return db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.OrganizationId == organizationId && i.Vendor == PsaVendor.ConnectWise, cancellationToken);
    }

    internal static IEnumerable<string> AuditChunks(IReadOnlyList<string> changes)
    {
        var chunk = new List<string>();
        foreach (var change in changes)
        {
            var text = change.Length > AuditEntry.TextMaxLength - 1 ? change[..(AuditEntry.TextMaxLength - 2)] + "…" : change;
            if (chunk.Count > 0 && string.Join("; ", chunk.Append(text)).Length + 1 > AuditEntry.TextMaxLength)
            {
                yield return string.Join("; ", chunk) + ".";
                chunk.Clear();
            }

            chunk.Add(text);
        }

        if (chunk.Count > 0)
        {
            yield return string.Join("; ", chunk) + ".";
        }
    }

    private static void Track(List<string> changes, string label, bool before, bool after, Action<bool> set)
    {
        if (before != after)
        {
            changes.Add($"{label} turned {(after ? "on" : "off")}");
            set(after);
        }
    }

    public static string ScheduleText(InvoiceExportFrequency frequency, int day, TimeOnly timeOfDay) => frequency switch
    {
        InvoiceExportFrequency.Daily => $"daily at {timeOfDay:HH\\:mm} UTC",
        InvoiceExportFrequency.Monthly => $"monthly on day {day} at {timeOfDay:HH\\:mm} UTC",
        _ => "manual only",
    };

    private static string Quoted(string? value) => value is null ? "not set" : $"\"{value}\"";

    private static string Date(DateOnly? date) => date is { } d ? d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : "from the rules";
}
