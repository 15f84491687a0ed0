using System.ComponentModel;

namespace PsaPortal.Web.Features.Platform;

// What the vendor platform sends, as it arrives (JSON from the ingest API, columns of a CSV file). Every field is
// optional at this level so that PlatformIngest can name every missing or bad field at once instead of the parser
// stopping at the first one. Dates are strings so that a date without a time zone is refused, not guessed.

/// <summary>A tenant (customer account) on the platform, keyed by its external id.</summary>
public sealed record TenantInput
{
    [Description("The platform's id of the tenant: 1-100 letters, digits or . _ - : @")]
    public string? ExternalId { get; init; }

    public string? Name { get; init; }

    [Description("Host name such as contoso.com; international names are stored as punycode, lower case.")]
    public string? Domain { get; init; }

    [Description("Active (default), Suspended or Deleted.")]
    public string? Status { get; init; }
}

/// <summary>A product (SKU), keyed by its part number.</summary>
public sealed record ProductInput
{
    [Description("1-100 letters, digits or . _ - : @")]
    public string? PartNumber { get; init; }

    public string? Name { get; init; }

    public string? Description { get; init; }

    [Description("0 to 1,000,000,000, at most 4 decimal places.")]
    public decimal? Cost { get; init; }

    [Description("0 to 1,000,000,000, at most 4 decimal places.")]
    public decimal? RetailPrice { get; init; }

    public bool? Recurring { get; init; }
}

/// <summary>A tenant's billable count of one product at a moment.</summary>
public sealed record UsageInput
{
    public string? TenantExternalId { get; init; }

    public string? PartNumber { get; init; }

    [Description("Whole number from 0 to 10,000,000.")]
    public long? Quantity { get; init; }

    [Description("ISO 8601 date and time with a time zone, e.g. 2026-01-31T12:00:00Z; defaults to now; at most 5 minutes in the future.")]
    public string? AsOf { get; init; }
}

/// <summary>A security incident on a tenant, keyed by its external id.</summary>
public sealed record IncidentInput
{
    public string? ExternalId { get; init; }

    public string? TenantExternalId { get; init; }

    public string? Title { get; init; }

    public string? Description { get; init; }

    [Description("Low, Medium, High or Critical.")]
    public string? Severity { get; init; }

    [Description("Open, Acknowledged, Resolved or Closed.")]
    public string? Status { get; init; }

    [Description("ISO 8601 date and time with a time zone.")]
    public string? DetectedAt { get; init; }

    [Description("ISO 8601 date and time with a time zone; defaults to detectedAt. An update older than the stored one is ignored.")]
    public string? UpdatedAt { get; init; }

    [Description("ISO 8601 date and time with a time zone.")]
    public string? ResolvedAt { get; init; }
}

/// <summary>A line of the vendor's invoice, keyed by its external id.</summary>
public sealed record InvoiceLineInput
{
    public string? ExternalId { get; init; }

    public string? TenantExternalId { get; init; }

    public string? PartNumber { get; init; }

    [Description("CycleFee, Correction, UsageFee, ItemFee, PurchaseFee or OneTimeFee.")]
    public string? ChargeType { get; init; }

    [Description("Monthly, Quarterly, Annual or OneTime.")]
    public string? BillingCycle { get; init; }

    [Description("yyyy-MM-dd")]
    public string? ChargeStartDate { get; init; }

    [Description("yyyy-MM-dd, not before chargeStartDate.")]
    public string? ChargeEndDate { get; init; }

    [Description("-10,000,000 to 10,000,000, at most 4 decimal places.")]
    public decimal? Quantity { get; init; }

    [Description("-1,000,000,000 to 1,000,000,000, at most 4 decimal places.")]
    public decimal? UnitPrice { get; init; }

    [Description("-1,000,000,000 to 1,000,000,000, at most 4 decimal places.")]
    public decimal? Cost { get; init; }

    [Description("yyyy-MM")]
    public string? InvoiceMonth { get; init; }
}

/// <summary>
/// Everything one ingest writes, in one transaction. Usage, incidents and invoice lines may refer to tenants and
/// products of the same batch.
/// </summary>
public sealed record PlatformBatch
{
    public IReadOnlyList<TenantInput?> Tenants { get; init; } = [];

    public IReadOnlyList<ProductInput?> Products { get; init; } = [];

    public IReadOnlyList<UsageInput?> Usage { get; init; } = [];

    public IReadOnlyList<IncidentInput?> Incidents { get; init; } = [];

    public IReadOnlyList<InvoiceLineInput?> InvoiceLines { get; init; } = [];

    public int Count => Tenants.Count + Products.Count + Usage.Count + Incidents.Count + InvoiceLines.Count;
}
