using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.Autotask;

/// <summary>Every Autotask entity table the sandbox serves, keyed by the entity's URL name.</summary>
public sealed class AutotaskData
{
    public AutotaskData()
    {
        Tables = [.. AutotaskApiUser.Entities.Select(name => new RecordTable(name))];

        // The parent ids billing and child routes look rows up by; queries with eq/in on them use the index.
        Contacts.AddIndex("companyID");
        Tickets.AddIndex("companyID");
        Contracts.AddIndex("companyID");
        ContractServices.AddIndex("contractID");
        ContractServiceUnits.AddIndex("contractID");
        ContractServiceUnits.AddIndex("contractServiceID");
        ContractServiceAdjustments.AddIndex("contractServiceID");
    }

    public IReadOnlyList<RecordTable> Tables { get; }

    public RecordTable Companies => this["Companies"];

    public RecordTable Contacts => this["Contacts"];

    public RecordTable Tickets => this["Tickets"];

    public RecordTable Contracts => this["Contracts"];

    public RecordTable ContractServices => this["ContractServices"];

    public RecordTable ContractServiceUnits => this["ContractServiceUnits"];

    public RecordTable ContractServiceAdjustments => this["ContractServiceAdjustments"];

    public RecordTable Services => this["Services"];

    public RecordTable Resources => this["Resources"];

    public RecordTable this[string entity] => Tables.First(t => string.Equals(t.Name, entity, StringComparison.OrdinalIgnoreCase));
}
