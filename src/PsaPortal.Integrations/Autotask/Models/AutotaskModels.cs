using System.Text.Json.Nodes;

namespace PsaPortal.Integrations.Autotask.Models;

// Autotask's own shapes (docs/psa/autotask-api-notes.md §2–4), only the fields PsaPortal reads or
// writes. Dates travel in UTC without an offset; unset values are left out of request bodies.

internal sealed record AtZoneInformation(string? ZoneName, string? Url, string? WebUrl, int? Ci);

internal sealed record AtThresholdInformation(int ExternalRequestThreshold, int RequestThresholdTimeframe, int CurrentTimeframeRequestCount);

internal sealed record AtEntityInformation(AtEntityInfo? Info);

internal sealed record AtEntityInfo(
    string? Name,
    bool CanCreate,
    bool CanDelete,
    bool CanQuery,
    bool CanUpdate,
    string? UserAccessForCreate,
    string? UserAccessForDelete,
    string? UserAccessForQuery,
    string? UserAccessForUpdate);

internal sealed record AtFieldInformation(List<AtField>? Fields);

internal sealed record AtField(string Name, string? DataType, bool IsRequired, bool IsReadOnly, bool IsPickList, List<AtPicklistValue>? PicklistValues);

internal sealed record AtPicklistValue(string Value, string? Label, bool IsDefaultValue, bool IsActive, int SortOrder);

/// <summary>One filter node: a comparison (<c>field</c>, <c>value</c>) or an <c>and</c>/<c>or</c> group (<c>items</c>).</summary>
internal sealed record AtFilter
{
    public required string Op { get; init; }

    public string? Field { get; init; }

    public bool? Udf { get; init; }

    public JsonNode? Value { get; init; }

    public List<AtFilter>? Items { get; init; }
}

internal sealed record AtQuery
{
    public required List<AtFilter> Filter { get; init; }

    public List<string>? IncludeFields { get; init; }

    public int? MaxRecords { get; init; }
}

internal sealed record AtPageDetails(int Count, int RequestCount, string? PrevPageUrl, string? NextPageUrl);

internal sealed record AtQueryResult<T>(List<T>? Items, AtPageDetails? PageDetails);

internal sealed record AtItemResult<T>(T? Item);

internal sealed record AtCountResult(long QueryCount);

internal sealed record AtCreateResult(long ItemId);

internal sealed record AtErrorBody(List<string>? Errors);

internal sealed record AtCompany(long Id, string? CompanyName, string? CompanyNumber, bool? IsActive, string? WebAddress = null);

internal sealed record AtTicket
{
    public long? Id { get; init; }

    public long? CompanyID { get; init; }

    public string? Title { get; init; }

    public string? Description { get; init; }

    public long? QueueID { get; init; }

    public int? Status { get; init; }

    public int? Priority { get; init; }

    public long? ContactID { get; init; }

    public int? Source { get; init; }

    public string? TicketNumber { get; init; }

    /// <summary>A reference of the integration's own, kept on the ticket and queryable.</summary>
    public string? ExternalID { get; init; }

    /// <summary>Set by Autotask when the ticket reaches a complete status; status ids themselves differ per instance.</summary>
    public DateTime? CompletedDate { get; init; }
}

internal sealed record AtContract(long Id, long? CompanyID, string? ContractName, int? ContractType, DateTime? StartDate, DateTime? EndDate, int? Status);

internal sealed record AtContractService(long Id, long? ContractID, long? ServiceID, decimal? UnitPrice, decimal? UnitCost, string? InvoiceDescription);

internal sealed record AtContractServiceUnit(long Id, long? ContractID, long? ContractServiceID, long? ServiceID, DateTime? StartDate, DateTime? EndDate, decimal? Units);

internal sealed record AtContractServiceAdjustment(long ContractID, long ContractServiceID, DateTime EffectiveDate, int UnitChange);

internal sealed record AtService(long Id, string? Name, string? Description, decimal? UnitPrice, decimal? UnitCost, bool? IsActive);

internal sealed record AtResource(long Id, string? UserName, string? Email, string? FirstName, string? LastName, bool? IsActive);
