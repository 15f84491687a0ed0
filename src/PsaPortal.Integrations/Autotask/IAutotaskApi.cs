using PsaPortal.Integrations.Psa;

namespace PsaPortal.Integrations.Autotask;

/// <summary>The database's hourly request budget as ThresholdInformation reports it.</summary>
public sealed record AutotaskThreshold(int RequestThreshold, int TimeframeMinutes, int CurrentRequestCount);

/// <summary>What the API user may do with one entity (entityInformation): the entity's abilities and the user's access, None/All/Restricted.</summary>
public sealed record AutotaskEntityAccess(
    string Entity,
    bool CanQuery,
    bool CanCreate,
    bool CanUpdate,
    string QueryAccess,
    string CreateAccess,
    string UpdateAccess)
{
    public bool MayQuery => CanQuery && QueryAccess != "None";

    public bool MayCreate => CanCreate && CreateAccess != "None";

    public bool MayUpdate => CanUpdate && UpdateAccess != "None";
}

public sealed record AutotaskPicklistValue(string Value, string Label, bool IsDefault, bool IsActive);

/// <summary>One field of an entity (entityInformation/fields), with its picklist when it has one.</summary>
public sealed record AutotaskFieldInfo(string Name, string DataType, bool IsRequired, bool IsReadOnly, IReadOnlyList<AutotaskPicklistValue> Picklist);

/// <summary>
/// The Autotask PSA calls PsaPortal makes, for one linked integration. Queries stream page by page
/// (500 rows each); failures surface as <see cref="Errors.PsaException"/>.
/// </summary>
public interface IAutotaskApi : IPsaApi
{
    Task<AutotaskThreshold> GetThresholdInformationAsync(CancellationToken cancellationToken = default);

    /// <param name="entity">The URL name: Tickets, Contracts, ContractServices…</param>
    Task<AutotaskEntityAccess> GetEntityInformationAsync(string entity, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<AutotaskFieldInfo>> GetFieldsAsync(string entity, CancellationToken cancellationToken = default);

    /// <summary>How many records of <paramref name="entity"/> match (query/count).</summary>
    Task<long> CountAsync(string entity, AutotaskFilter? filter, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaCompany> QueryCompaniesAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default);

    Task<PsaTicket> GetTicketAsync(long ticketId, CancellationToken cancellationToken = default);

    /// <summary>The web address of the user's zone (zoneInformation webUrl, e.g. https://ww5.autotask.net/), for links people open; null when Autotask names none.</summary>
    Task<Uri?> GetWebUrlAsync(CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaTicket> QueryTicketsAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default);

    /// <summary>Sets the ticket's status picklist value (e.g. Complete to close it).</summary>
    Task<PsaTicket> SetTicketStatusAsync(long ticketId, int status, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaAgreement> QueryContractsAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaAgreementLine> QueryContractServicesAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaServiceUnits> QueryContractServiceUnitsAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default);

    /// <summary>Posts a units delta. Never sent twice: re-read the units when a previous attempt's outcome is unknown.</summary>
    Task<long> CreateContractServiceAdjustmentAsync(PsaUnitAdjustment adjustment, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaProduct> QueryServicesAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaResource> QueryResourcesAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default);
}
