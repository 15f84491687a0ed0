using System.Security.Claims;
using System.Text.Json.Serialization;
using PsaPortal.Web.Features.Live;

namespace PsaPortal.Web.Features.Invoices;

// The seams between the invoice configuration and Invoices tab (InvoiceSettingsService, ChargeDateRules,
// InvoicesPage) and the posting engine (line sync, product catalog export). The engine implements IInvoiceLineSync
// and publishes InvoiceLineSynced for every line it settles, after its commit, so the Invoices tab updates live.

/// <summary>What a request came to: accepted, or why not, in words for the user.</summary>
public sealed record InvoiceRequestResult(bool Accepted, string Message)
{
    public static InvoiceRequestResult Refused(string message) => new(false, message);
}

/// <summary>Posting invoice lines to the mapped agreements as additions. Admins and Full Members only; Sales users are refused.</summary>
public interface IInvoiceLineSync
{
    /// <summary>
    /// Posts the given lines of the integration (lines not fully mapped are Skipped with the reason). Returns once the
    /// request is accepted; each line's result arrives as an <see cref="InvoiceLineSynced"/> event.
    /// </summary>
    Task<InvoiceRequestResult> SyncSelectedAsync(ClaimsPrincipal user, Guid integrationId, IReadOnlyCollection<long> invoiceLineIds, CancellationToken cancellationToken = default);

    /// <summary>Posts every fully mapped line of the integration that is not posted yet.</summary>
    Task<InvoiceRequestResult> SyncAllMappedAsync(ClaimsPrincipal user, Guid integrationId, CancellationToken cancellationToken = default);
}

/// <summary>One invoice line's state in one integration changed (posting, posted, failed, skipped), after its commit.</summary>
public sealed record InvoiceLineSynced(
    Guid OrganizationId,
    DateTimeOffset OccurredAt,
    Guid IntegrationId,
    long InvoiceLineId,
    [property: JsonConverter(typeof(JsonStringEnumConverter<InvoiceLineSyncState>))] InvoiceLineSyncState State,
    long? AgreementPsaId,
    long? AdditionPsaId,
    string? Message)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "invoice.line-synced";
}

/// <summary>A person changed an invoice line's dates (User Updated), after its commit: other open Invoices tabs refresh the row.</summary>
public sealed record InvoiceLineOverridden(
    Guid OrganizationId,
    DateTimeOffset OccurredAt,
    Guid IntegrationId,
    long InvoiceLineId,
    DateOnly? StartDateOverride,
    DateOnly? EndDateOverride,
    string? OverriddenBy)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "invoice.line-overridden";
}

/// <summary>A product catalog export started, progressed or finished, after its commit.</summary>
public sealed record InvoiceExportChanged(
    Guid OrganizationId,
    DateTimeOffset OccurredAt,
    Guid IntegrationId,
    Guid ExportId,
    [property: JsonConverter(typeof(JsonStringEnumConverter<InvoiceExportStatus>))] InvoiceExportStatus Status,
    int ProductsCreated,
    int ProductsUpdated,
    int ProductsUnchanged,
    int ProductsFailed,
    string? Error)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "invoice.export-changed";
}

/// <summary>How far an invoice line is mapped in one integration; only <see cref="FullyMapped"/> lines are posted.</summary>
public enum InvoiceMappingState
{
    /// <summary>Tenant → company and agreement, and vendor product → catalog product, are mapped.</summary>
    FullyMapped,

    /// <summary>The tenant has no ConnectWise company.</summary>
    TenantNotMapped,

    /// <summary>The vendor product has no ConnectWise catalog product.</summary>
    ProductNotMapped,

    /// <summary>The tenant has a company but no mapped agreement.</summary>
    NoAgreement,
}

/// <summary>The one rule for "fully mapped", shared by the Invoices tab and the posting engine.</summary>
public static class InvoiceMapping
{
    public static InvoiceMappingState StateOf(long? companyPsaId, long? agreementPsaId, long? psaProductId) =>
        companyPsaId is null ? InvoiceMappingState.TenantNotMapped
        : agreementPsaId is null ? InvoiceMappingState.NoAgreement
        : psaProductId is null ? InvoiceMappingState.ProductNotMapped
        : InvoiceMappingState.FullyMapped;

    /// <summary>Why a line is not posted, in words for the user (null when it is fully mapped).</summary>
    public static string? Reason(InvoiceMappingState state, string tenantName, string productName) => state switch
    {
        InvoiceMappingState.TenantNotMapped => $"Tenant \"{tenantName}\" is not mapped to a ConnectWise company (Mapping → Tenants).",
        InvoiceMappingState.ProductNotMapped => $"Product \"{productName}\" is not mapped to a ConnectWise catalog product (Mapping → Products).",
        InvoiceMappingState.NoAgreement => $"Tenant \"{tenantName}\" has no ConnectWise agreement mapped (Mapping → Tenants).",
        _ => null,
    };
}
