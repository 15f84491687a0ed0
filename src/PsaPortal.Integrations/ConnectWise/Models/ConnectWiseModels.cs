using System.Text.Json.Serialization;

namespace PsaPortal.Integrations.ConnectWise.Models;

// ConnectWise's own shapes (docs/psa/connectwise-api-notes.md §4), only the fields PsaPortal reads or
// writes. Unset values are left out of request bodies so that POST defaults and PATCH stay sparse.

internal sealed record CwReference
{
    public long? Id { get; init; }

    public string? Name { get; init; }

    public string? Identifier { get; init; }

    public static CwReference? ById(long? id) => id is { } value ? new CwReference { Id = value } : null;
}

internal sealed record CwCompanyInfo(
    [property: JsonPropertyName("CompanyName")] string? CompanyName,
    [property: JsonPropertyName("Codebase")] string? Codebase,
    [property: JsonPropertyName("VersionCode")] string? VersionCode,
    [property: JsonPropertyName("CompanyID")] string? CompanyId,
    [property: JsonPropertyName("IsCloud")] string? IsCloud);

internal sealed record CwSystemInfo(string? Version, bool? IsCloud, string? CloudRegion);

internal sealed record CwSecuritySetting(
    long Id,
    string? ModuleIdentifier,
    string? ModuleName,
    string? ModuleFunctionIdentifier,
    string? ModuleFunctionName,
    string? AddLevel,
    string? EditLevel,
    string? DeleteLevel,
    string? InquireLevel);

internal sealed record CwCompany(long Id, string? Identifier, string? Name, CwReference? Status, bool? DeletedFlag, string? Website = null);

internal sealed record CwCompanyStatus(long Id, string? Name, bool? DefaultFlag, bool? InactiveFlag);

internal sealed record CwContact(long Id, string? FirstName, string? LastName, CwReference? Company, bool? InactiveFlag);

internal sealed record CwBoard(long Id, string? Name, bool? InactiveFlag, bool? ProjectFlag);

internal sealed record CwBoardTeam(long Id, string? Name, bool? DefaultFlag, long? BoardId);

internal sealed record CwBoardStatus(long Id, string? Name, CwReference? Board, int? SortOrder, bool? Inactive, bool? ClosedStatus, bool? DefaultFlag);

internal sealed record CwPriority(long Id, string? Name, int? SortOrder, bool? DefaultFlag);

internal sealed record CwSource(long Id, string? Name, bool? DefaultFlag);

internal sealed record CwTicket
{
    public long? Id { get; init; }

    public string? Summary { get; init; }

    public CwReference? Company { get; init; }

    public CwReference? Board { get; init; }

    public CwReference? Status { get; init; }

    public CwReference? Priority { get; init; }

    public CwReference? Source { get; init; }

    public CwReference? Contact { get; init; }

    public bool? ClosedFlag { get; init; }

    /// <summary>A reference of the integration's own (≤ 100 characters), kept on the ticket and searchable by conditions.</summary>
    public string? ExternalXRef { get; init; }

    /// <summary>POST only: becomes the ticket's first note; ConnectWise never returns it.</summary>
    public string? InitialDescription { get; init; }
}

internal sealed record CwServiceNote
{
    public long? Id { get; init; }

    public string? Text { get; init; }

    public bool? DetailDescriptionFlag { get; init; }

    public bool? InternalAnalysisFlag { get; init; }

    public bool? ResolutionFlag { get; init; }
}

internal sealed record CwAgreement(
    long Id,
    string? Name,
    CwReference? Type,
    CwReference? Company,
    DateTimeOffset? StartDate,
    DateTimeOffset? EndDate,
    bool? CancelledFlag,
    string? AgreementStatus);

internal sealed record CwAgreementType(long Id, string? Name, bool? DefaultFlag, bool? InactiveFlag);

internal sealed record CwAddition
{
    public long? Id { get; init; }

    public CwReference? Product { get; init; }

    public decimal? Quantity { get; init; }

    public decimal? UnitPrice { get; init; }

    public decimal? UnitCost { get; init; }

    public string? BillCustomer { get; init; }

    public DateTimeOffset? EffectiveDate { get; init; }

    public DateTimeOffset? CancelledDate { get; init; }

    public string? InvoiceDescription { get; init; }

    public long? AgreementId { get; init; }

    public string? Description { get; init; }
}

internal sealed record CwCatalogItem
{
    public long? Id { get; init; }

    public string? Identifier { get; init; }

    public string? Description { get; init; }

    public string? CustomerDescription { get; init; }

    public CwReference? Subcategory { get; init; }

    public CwReference? Type { get; init; }

    public string? ProductClass { get; init; }

    public decimal? Price { get; init; }

    public decimal? Cost { get; init; }

    public bool? InactiveFlag { get; init; }
}

internal sealed record CwDocumentInfo(long Id, string? Title, string? FileName);

/// <summary>ConnectWise PATCH is a list of operations on bare, case-sensitive top-level paths.</summary>
internal sealed record CwPatchOperation(string Op, string Path, object? Value);

internal sealed record CwError(string? Code, string? Message, string? Resource, string? Field);

/// <summary>Error body: <c>{code, message, errors[]}</c>; the 429 body uses <c>error</c> instead of <c>code</c>.</summary>
internal sealed record CwErrorBody(string? Code, string? Error, string? Message, List<CwError>? Errors);
