namespace PsaPortal.Sandbox.ConnectWise;

/// <summary>A ConnectWise security-role function (module › function), as <c>system/mySecurity</c> lists them.</summary>
public sealed record ConnectWiseFunction(string ModuleIdentifier, string ModuleName, string FunctionIdentifier, string FunctionName)
{
    public static readonly ConnectWiseFunction CompanyMaintenance = new("Company", "Companies", "Company_Maintenance", "Company Maintenance");
    public static readonly ConnectWiseFunction Contacts = new("Company", "Companies", "Contacts", "Contacts");
    public static readonly ConnectWiseFunction ServiceTickets = new("Service", "Service Desk", "Service_Tickets", "Service Tickets");
    public static readonly ConnectWiseFunction ServiceBoards = new("Service", "Service Desk", "Service_Boards", "Service Boards");
    public static readonly ConnectWiseFunction Priority = new("Service", "Service Desk", "Priority", "Priority");
    public static readonly ConnectWiseFunction Sources = new("Service", "Service Desk", "Sources", "Sources");
    public static readonly ConnectWiseFunction Agreements = new("Finance", "Finance", "Agreements", "Agreements");
    public static readonly ConnectWiseFunction ProductCatalog = new("Procurement", "Procurement", "Product_Catalog", "Product Catalog");
    public static readonly ConnectWiseFunction Documents = new("System", "System", "Documents", "Documents");

    public static readonly IReadOnlyList<ConnectWiseFunction> All =
        [CompanyMaintenance, Contacts, ServiceTickets, ServiceBoards, Priority, Sources, Agreements, ProductCatalog, Documents];

    public string DisplayName => $"{ModuleName} > {FunctionName}";
}

/// <summary>ConnectWise security levels: None, My or All per add / edit / delete / inquire.</summary>
public sealed record ConnectWiseLevels(string Add, string Edit, string Delete, string Inquire)
{
    public static readonly ConnectWiseLevels Full = new("All", "All", "All", "All");
    public static readonly ConnectWiseLevels None = new("None", "None", "None", "None");
    public static readonly ConnectWiseLevels InquireOnly = new("None", "None", "None", "All");

    public string For(ConnectWiseAction action) => action switch
    {
        ConnectWiseAction.Add => Add,
        ConnectWiseAction.Edit => Edit,
        ConnectWiseAction.Delete => Delete,
        _ => Inquire,
    };
}

public enum ConnectWiseAction
{
    Inquire,
    Add,
    Edit,
    Delete,
}

/// <summary>
/// An API member (license class A) with its keys and security role. The seeded members are listed in
/// docs/sandbox.md; tests add their own through <see cref="ConnectWiseSandbox.AddApiMember"/>.
/// </summary>
public sealed record ConnectWiseApiMember(
    int Id,
    string Identifier,
    string PublicKey,
    string PrivateKey,
    string SecurityRole,
    IReadOnlyDictionary<ConnectWiseFunction, ConnectWiseLevels> Levels)
{
    public ConnectWiseLevels LevelsFor(ConnectWiseFunction function) => Levels.GetValueOrDefault(function, ConnectWiseLevels.None);

    public bool Allows(ConnectWiseFunction function, ConnectWiseAction action) => LevelsFor(function).For(action) != "None";

    public static IReadOnlyList<ConnectWiseApiMember> Seeded { get; } =
    [
        Member(1, "PsaPortalFull", "SbxFullPublic01", "SbxFullPrivate01", "PsaPortal Full", _ => ConnectWiseLevels.Full),
        Member(2, "PsaPortalNoPrio", "SbxNoPriorityPublic", "SbxNoPriorityPrivate", "PsaPortal No Priority",
            f => f == ConnectWiseFunction.Priority ? ConnectWiseLevels.None : ConnectWiseLevels.Full),
        Member(3, "PsaPortalNoAgrEd", "SbxNoAgreementEditPublic", "SbxNoAgreementEditPrivate", "PsaPortal No Agreement Edit",
            f => f == ConnectWiseFunction.Agreements ? ConnectWiseLevels.InquireOnly : ConnectWiseLevels.Full),
        Member(4, "PsaPortalReadOnly", "SbxReadOnlyPublic", "SbxReadOnlyPrivate", "PsaPortal Read Only", _ => ConnectWiseLevels.InquireOnly),
        Member(5, "PsaPortalTicketing", "SbxTicketingPublic", "SbxTicketingPrivate", "PsaPortal Ticketing Only",
            f => f.ModuleIdentifier is "Finance" or "Procurement" ? ConnectWiseLevels.None : ConnectWiseLevels.Full),
    ];

    public static ConnectWiseApiMember Member(int id, string identifier, string publicKey, string privateKey, string role, Func<ConnectWiseFunction, ConnectWiseLevels> levels) =>
        new(id, identifier, publicKey, privateKey, role, ConnectWiseFunction.All.ToDictionary(f => f, levels));
}
