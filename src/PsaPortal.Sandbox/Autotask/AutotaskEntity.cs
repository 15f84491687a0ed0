using PsaPortal.Sandbox.Specs;

namespace PsaPortal.Sandbox.Autotask;

/// <summary>What the sandbox serves for one Autotask entity, mirroring the operations the vendor's swagger lists for it.</summary>
internal sealed record AutotaskEntity(
    string Name,
    string SingularName,
    bool CanQuery,
    bool CanCreate,
    bool CanUpdate,
    IReadOnlyList<string> RequiredOnCreate)
{
    public static readonly IReadOnlyList<AutotaskEntity> All =
    [
        new("Companies", "Company", CanQuery: true, CanCreate: true, CanUpdate: true, ["companyName", "companyType", "phone", "ownerResourceID"]),
        new("Contacts", "Contact", CanQuery: true, CanCreate: true, CanUpdate: true, ["companyID", "firstName", "lastName", "isActive"]),
        new("Tickets", "Ticket", CanQuery: true, CanCreate: true, CanUpdate: true, ["companyID", "title", "status", "priority"]),
        new("Contracts", "Contract", CanQuery: true, CanCreate: true, CanUpdate: true, ["companyID", "contractName", "contractType", "startDate", "endDate", "status"]),
        new("ContractServices", "ContractService", CanQuery: true, CanCreate: true, CanUpdate: true, ["contractID", "serviceID"]),
        new("ContractServiceUnits", "ContractServiceUnit", CanQuery: true, CanCreate: false, CanUpdate: false, []),
        new("ContractServiceAdjustments", "ContractServiceAdjustment", CanQuery: false, CanCreate: true, CanUpdate: false, ["effectiveDate"]),
        new("Services", "Service", CanQuery: true, CanCreate: true, CanUpdate: true, ["name", "unitPrice", "periodType", "billingCodeID"]),
        new("Resources", "Resource", CanQuery: true, CanCreate: false, CanUpdate: false, []),
    ];

    private HashSet<string>? _fields;

    public (string Name, string Type)[] Fields => SpecFieldCatalog.Autotask[Name];

    public bool IsKnownField(string field)
    {
        _fields ??= new HashSet<string>(Fields.Select(f => f.Name), StringComparer.OrdinalIgnoreCase);
        return _fields.Contains(field);
    }

    /// <summary>The model's own spelling of a field, whatever casing the client used.</summary>
    public string? CanonicalField(string field) => Fields.Select(f => f.Name).FirstOrDefault(name => string.Equals(name, field, StringComparison.OrdinalIgnoreCase));

    public static AutotaskEntity Get(string name) => All.First(e => e.Name == name);
}
