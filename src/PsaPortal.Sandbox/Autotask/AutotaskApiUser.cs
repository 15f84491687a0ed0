namespace PsaPortal.Sandbox.Autotask;

/// <summary>Access an API user's security level grants on one entity: None, All or Restricted per action.</summary>
public sealed record AutotaskEntityRights(string Query, string Create, string Update, string Delete)
{
    public static readonly AutotaskEntityRights Full = new("All", "All", "All", "All");
    public static readonly AutotaskEntityRights None = new("None", "None", "None", "None");
    public static readonly AutotaskEntityRights ReadOnly = new("All", "None", "None", "None");
}

public enum AutotaskAction
{
    Query,
    Create,
    Update,
    Delete,
}

/// <summary>An API-only user (a Resource with the "API User" security level) and its per-entity rights.</summary>
public sealed record AutotaskApiUser(long ResourceId, string UserName, string Secret, string SecurityLevel, IReadOnlyDictionary<string, AutotaskEntityRights> Rights)
{
    public const string SeededIntegrationCode = "PSAPORTALSANDBOX0000000000";

    public static readonly IReadOnlyList<string> Entities =
    [
        "Companies", "Contacts", "Tickets", "Contracts", "ContractServices", "ContractServiceUnits", "ContractServiceAdjustments", "Services", "Resources",
    ];

    public AutotaskEntityRights RightsFor(string entity) => Rights.GetValueOrDefault(entity, AutotaskEntityRights.None);

    public bool Allows(string entity, AutotaskAction action)
    {
        var rights = RightsFor(entity);
        var level = action switch
        {
            AutotaskAction.Create => rights.Create,
            AutotaskAction.Update => rights.Update,
            AutotaskAction.Delete => rights.Delete,
            _ => rights.Query,
        };
        return level != "None";
    }

    public static IReadOnlyList<AutotaskApiUser> Seeded { get; } =
    [
        User(29682885, "full@psaportal-sandbox.example", "SbxFullSecret1!", "API User (full)", _ => AutotaskEntityRights.Full),
        User(29682886, "nocontracts@psaportal-sandbox.example", "SbxNoContracts1!", "API User (no contracts)",
            e => e.StartsWith("Contract", StringComparison.Ordinal) ? AutotaskEntityRights.None : AutotaskEntityRights.Full),
        User(29682887, "noadjust@psaportal-sandbox.example", "SbxNoAdjust1!", "API User (no service adjustments)",
            e => e == "ContractServiceAdjustments" ? AutotaskEntityRights.None : AutotaskEntityRights.Full),
        User(29682888, "readonly@psaportal-sandbox.example", "SbxReadOnly1!", "API User (read only)", _ => AutotaskEntityRights.ReadOnly),
        User(29682889, "noticket@psaportal-sandbox.example", "SbxNoTicket1!", "API User (no tickets)",
            e => e == "Tickets" ? AutotaskEntityRights.None : AutotaskEntityRights.Full),
    ];

    public static AutotaskApiUser User(long resourceId, string userName, string secret, string level, Func<string, AutotaskEntityRights> rights) =>
        new(resourceId, userName, secret, level, Entities.ToDictionary(e => e, rights, StringComparer.OrdinalIgnoreCase));
}
