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
