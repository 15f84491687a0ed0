using PsaPortal.Integrations;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Web.Features.Mapping;

/// <summary>What a tenant's mapping row says at a glance (docs/mapping.md, "States").</summary>
public enum MappingState
{
    Unmapped,
    Suggested,
    Mapped,
    Incomplete,
}

/// <summary>The Organizations tab's filter; Incomplete is the "errors" view.</summary>
public enum MappingFilter
{
    All,
    Unmapped,
    Suggested,
    Mapped,
    Incomplete,
}

public enum MappingSort
{
    Tenant,
    Domain,
    Company,
    Agreement,
    State,
    Score,
    Export,
}

/// <summary>One page of the Organizations grid: filter, text search (tenant name, domain, external id, company), sort, paging.</summary>
public sealed record MappingQuery(
    MappingFilter Filter = MappingFilter.All,
    string? Search = null,
    MappingSort Sort = MappingSort.Tenant,
    bool Descending = false,
    int Skip = 0,
    int Take = 25);

/// <summary>A tenant and its mapping in one PSA; a tenant without a mapping row reads as Unmapped.</summary>
public sealed record TenantMappingRow(
    long TenantId,
    string ExternalId,
    string TenantName,
    string? TenantDomain,
    long? CompanyPsaId,
    string? CompanyName,
    MappingOrigin Origin,
    double? SuggestionScore,
    string? SuggestionKind,
    long? AgreementPsaId,
    string? AgreementName,
    bool ExportEnabled,
    DateTimeOffset? LastBilledAt,
    MappingState State,
    string? Problem);

public sealed record TenantMappingPage(IReadOnlyList<TenantMappingRow> Items, int TotalCount);

/// <summary>
/// The outcome of a change. A change that needs the person's confirmation (a remap after billing) is not applied: it
/// comes back with <see cref="NeedsConfirmation"/> and the warning to show, and is applied when sent again confirmed.
/// </summary>
public sealed record MappingResult(bool Succeeded, string Message, bool NeedsConfirmation = false)
{
    public static MappingResult Done(string message) => new(true, message);

    public static MappingResult Refused(string message) => new(false, message);

    public static MappingResult Confirm(string warning) => new(false, warning, NeedsConfirmation: true);
}

/// <summary>A cached PSA record offered in a picker (company, agreement or contract, product or service).</summary>
public sealed record PsaPick(long PsaId, string Name, string? Detail);

public sealed record PsaPickPage(IReadOnlyList<PsaPick> Items, int TotalCount);

public sealed record ProductMappingRow(
    long VendorProductId,
    string PartNumber,
    string Name,
    long? PsaProductPsaId,
    string? PsaProductName,
    bool PsaProductMissing,
    PsaPick? Suggestion);

/// <summary>A linked PSA as the Mapping page sees it: which one, and how fresh its cached reference data is.</summary>
public sealed record MappingIntegration(Guid Id, PsaVendor Vendor, IntegrationStatus Status, DateTimeOffset? ReferenceSyncedAt, int CachedCompanies);

/// <summary>Each PSA's words for the billing target, and which cached kinds hold it.</summary>
public sealed record MappingTerms(
    string Agreement,
    string Agreements,
    string Product,
    string Addition,
    PsaReferenceKind AgreementKind,
    PsaReferenceKind ProductKind)
{
    public static readonly MappingTerms ConnectWise = new("agreement", "agreements", "product", "addition", PsaReferenceKind.Agreement, PsaReferenceKind.CatalogProduct);

    public static readonly MappingTerms Autotask = new("contract", "contracts", "service", "contract service", PsaReferenceKind.Contract, PsaReferenceKind.Service);

    public static MappingTerms For(PsaVendor vendor) => vendor == PsaVendor.Autotask ? Autotask : ConnectWise;

    public string AgreementTitle => char.ToUpperInvariant(Agreement[0]) + Agreement[1..];
}
