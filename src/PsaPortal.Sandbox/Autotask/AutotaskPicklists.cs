namespace PsaPortal.Sandbox.Autotask;

/// <summary>The Tickets picklists this sandbox database uses (values differ per real instance; clients must read entityInformation/fields).</summary>
public static class AutotaskPicklists
{
    public const int CompleteStatus = 5;
    public const int MonitoringAlertQueue = 29683481;

    public static readonly IReadOnlyList<(int Value, string Label, bool IsDefault)> Queues =
    [
        (5, "Client Portal", false), (8, "Help Desk", true), (29683481, "Monitoring Alert", false), (29683482, "Security Operations", false),
    ];

    public static readonly IReadOnlyList<(int Value, string Label, bool IsDefault)> Statuses =
    [
        (1, "New", true), (8, "In Progress", false), (7, "Waiting Customer", false), (CompleteStatus, "Complete", false),
    ];

    public static readonly IReadOnlyList<(int Value, string Label, bool IsDefault)> Priorities =
    [
        (4, "Critical", false), (1, "High", false), (2, "Medium", true), (3, "Low", false),
    ];

    public static IReadOnlyList<(int Value, string Label, bool IsDefault)>? For(string field) => field.ToLowerInvariant() switch
    {
        "queueid" => Queues,
        "status" => Statuses,
        "priority" => Priorities,
        _ => null,
    };
}
