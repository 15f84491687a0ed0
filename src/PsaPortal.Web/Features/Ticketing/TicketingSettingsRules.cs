using PsaPortal.Integrations;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Web.Features.Ticketing;

/// <summary>How one ticketing setting is labelled, stored and listed.</summary>
/// <param name="Noun">What one value is called in a sentence ("board", "priority").</param>
public sealed record TicketingFieldSpec(
    TicketingField Field,
    string Label,
    string Noun,
    Func<TicketingSettings, long?> Id,
    Func<TicketingSettings, string?> Name,
    Action<TicketingSettings, long?, string?> Set);

/// <summary>What each PSA's ticketing needs, the settings' labels, and the messages about boards and stale choices (one place for each).</summary>
public static class TicketingSettingsRules
{
    /// <summary>What ConnectWise answers when a ticket is created on a board without a Default Team (as the sandbox words it).</summary>
    public const string ConnectWiseNoDefaultTeamError = "Cannot find default team for board specified";

    private static readonly IReadOnlyList<TicketingField> SeverityFields =
        [TicketingField.LowPriority, TicketingField.MediumPriority, TicketingField.HighPriority, TicketingField.CriticalPriority];

    private static readonly IReadOnlyList<TicketingField> ConnectWiseFields =
    [
        TicketingField.Board, TicketingField.ClosedStatus, TicketingField.DefaultCompany, TicketingField.DefaultPriority, TicketingField.Source, .. SeverityFields,
    ];

    private static readonly IReadOnlyList<TicketingField> AutotaskFields =
    [
        TicketingField.Queue, TicketingField.NewStatus, TicketingField.UpdatedStatus, TicketingField.AutotaskClosedStatus, TicketingField.DefaultCompany,
        TicketingField.DefaultPriority, .. SeverityFields,
    ];

    private static readonly Dictionary<TicketingField, TicketingFieldSpec> Specs = new TicketingFieldSpec[]
    {
        new(TicketingField.Board, "Service Board", "board", s => s.BoardId, s => s.BoardName, (s, id, name) => (s.BoardId, s.BoardName) = (id, name)),
        new(TicketingField.ClosedStatus, "Closed Status", "status", s => s.ClosedStatusId, s => s.ClosedStatusName, (s, id, name) => (s.ClosedStatusId, s.ClosedStatusName) = (id, name)),
        new(TicketingField.Source, "Source", "source", s => s.SourceId, s => s.SourceName, (s, id, name) => (s.SourceId, s.SourceName) = (id, name)),
        new(TicketingField.Queue, "Queue", "queue", s => s.QueueId, s => s.QueueName, (s, id, name) => (s.QueueId, s.QueueName) = (id, name)),
        new(TicketingField.NewStatus, "Status for new tickets", "status", s => s.NewStatusId, s => s.NewStatusName, (s, id, name) => (s.NewStatusId, s.NewStatusName) = (id, name)),
        new(TicketingField.UpdatedStatus, "Status for updates", "status", s => s.UpdatedStatusId, s => s.UpdatedStatusName,
            (s, id, name) => (s.UpdatedStatusId, s.UpdatedStatusName) = (id, name)),
        new(TicketingField.AutotaskClosedStatus, "Status for closed tickets", "status", s => s.AutotaskClosedStatusId, s => s.AutotaskClosedStatusName,
            (s, id, name) => (s.AutotaskClosedStatusId, s.AutotaskClosedStatusName) = (id, name)),
        new(TicketingField.DefaultCompany, "Default Company", "company", s => s.DefaultCompanyPsaId, s => s.DefaultCompanyName,
            (s, id, name) => (s.DefaultCompanyPsaId, s.DefaultCompanyName) = (id, name)),
        new(TicketingField.DefaultPriority, "Default Priority", "priority", s => s.DefaultPriorityId, s => s.DefaultPriorityName,
            (s, id, name) => (s.DefaultPriorityId, s.DefaultPriorityName) = (id, name)),
        new(TicketingField.LowPriority, "Priority for Low", "priority", s => s.LowPriorityId, s => s.LowPriorityName, (s, id, name) => (s.LowPriorityId, s.LowPriorityName) = (id, name)),
        new(TicketingField.MediumPriority, "Priority for Medium", "priority", s => s.MediumPriorityId, s => s.MediumPriorityName,
            (s, id, name) => (s.MediumPriorityId, s.MediumPriorityName) = (id, name)),
        new(TicketingField.HighPriority, "Priority for High", "priority", s => s.HighPriorityId, s => s.HighPriorityName, (s, id, name) => (s.HighPriorityId, s.HighPriorityName) = (id, name)),
        new(TicketingField.CriticalPriority, "Priority for Critical", "priority", s => s.CriticalPriorityId, s => s.CriticalPriorityName,
            (s, id, name) => (s.CriticalPriorityId, s.CriticalPriorityName) = (id, name)),
    }.ToDictionary(s => s.Field);

    public static TicketingFieldSpec Spec(TicketingField field) => Specs[field];

    /// <summary>The settings of one PSA, in the panel's order.</summary>
    public static IReadOnlyList<TicketingField> FieldsOf(PsaVendor vendor) => vendor == PsaVendor.ConnectWise ? ConnectWiseFields : AutotaskFields;

    /// <summary>The severity rows of the priority mapping table (Low, Medium, High, Critical), with the severity each stands for.</summary>
    public static IReadOnlyList<(string Severity, TicketingField Field)> SeverityRows { get; } =
        [("Low", TicketingField.LowPriority), ("Medium", TicketingField.MediumPriority), ("High", TicketingField.HighPriority), ("Critical", TicketingField.CriticalPriority)];

    /// <summary>Whether ticketing cannot run without the setting. The Default Company and Source are optional; a severity without its own priority gets the Default Priority.</summary>
    public static bool IsRequired(TicketingField field, PsaVendor vendor) => vendor == PsaVendor.ConnectWise
        ? field is TicketingField.Board or TicketingField.ClosedStatus or TicketingField.DefaultPriority
        : field is TicketingField.Queue or TicketingField.NewStatus or TicketingField.UpdatedStatus or TicketingField.AutotaskClosedStatus or TicketingField.DefaultPriority;

    /// <summary>The labels of the required settings not chosen yet, in the panel's order.</summary>
    public static IReadOnlyList<string> Missing(PsaVendor vendor, TicketingSettings settings) =>
        [.. FieldsOf(vendor).Where(f => IsRequired(f, vendor) && Spec(f).Id(settings) is null).Select(f => Spec(f).Label)];

    /// <summary>The cached reference kind a setting's values come from; null for the ConnectWise closed status, which is read from the board.</summary>
    public static PsaReferenceKind? ListKind(TicketingField field, PsaVendor vendor) => field switch
    {
        TicketingField.Board => PsaReferenceKind.Board,
        TicketingField.Source => PsaReferenceKind.Source,
        TicketingField.ClosedStatus => null,
        TicketingField.Queue => PsaReferenceKind.TicketQueue,
        TicketingField.NewStatus or TicketingField.UpdatedStatus or TicketingField.AutotaskClosedStatus => PsaReferenceKind.TicketStatus,
        TicketingField.DefaultCompany => PsaReferenceKind.Company,
        _ => vendor == PsaVendor.ConnectWise ? PsaReferenceKind.Priority : PsaReferenceKind.TicketPriority,
    };

    /// <summary>The reference kinds the panel's Refresh copies again (companies are refreshed with the rest of the PSA data).</summary>
    public static IReadOnlyList<PsaReferenceKind> ReferenceKinds(PsaVendor vendor) => vendor == PsaVendor.ConnectWise
        ? [PsaReferenceKind.Board, PsaReferenceKind.BoardTeam, PsaReferenceKind.Priority, PsaReferenceKind.Source]
        : [PsaReferenceKind.TicketQueue, PsaReferenceKind.TicketStatus, PsaReferenceKind.TicketPriority];

    /// <summary>The setting a reference kind's refresh error is shown beside.</summary>
    public static TicketingField? FieldOfKind(PsaReferenceKind kind) => kind switch
    {
        PsaReferenceKind.Board or PsaReferenceKind.BoardTeam => TicketingField.Board,
        PsaReferenceKind.Priority or PsaReferenceKind.TicketPriority => TicketingField.DefaultPriority,
        PsaReferenceKind.Source => TicketingField.Source,
        PsaReferenceKind.TicketQueue => TicketingField.Queue,
        PsaReferenceKind.TicketStatus => TicketingField.NewStatus,
        _ => null,
    };

    public static string KindName(PsaReferenceKind kind) => kind switch
    {
        PsaReferenceKind.Board => "boards",
        PsaReferenceKind.BoardTeam => "board teams",
        PsaReferenceKind.Priority or PsaReferenceKind.TicketPriority => "priorities",
        PsaReferenceKind.Source => "sources",
        PsaReferenceKind.TicketQueue => "queues",
        PsaReferenceKind.TicketStatus => "statuses",
        _ => kind.ToString(),
    };

    public static string NoDefaultTeam(string board) =>
        $"Service Board \"{board}\" has no Default Team, so ConnectWise refuses every ticket on it (\"{ConnectWiseNoDefaultTeamError}\"). "
        + $"In ConnectWise, open System → Setup Tables → Service Board → {board} → Teams, tick Default Team on one team, then choose the board again.";

    public static string NoClosedStatus(string board) =>
        $"Service Board \"{board}\" has no closed status, so PsaPortal could not close the tickets of resolved incidents. "
        + $"In ConnectWise, open System → Setup Tables → Service Board → {board} → Statuses, tick Closed on a status, then choose the board again.";

    public static string NoLongerInPsa(PsaVendor vendor, string label, string? name) =>
        $"{label} \"{name}\" is no longer in {vendor.DisplayName()} (as of the last refresh). Choose another one.";

    public static string CannotTurnOn(IReadOnlyList<string> missing) =>
        $"Ticketing cannot be turned on yet: choose {Join(missing)} first.";

    private static string Join(IReadOnlyList<string> items) =>
        items.Count <= 1 ? string.Concat(items) : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];
}
