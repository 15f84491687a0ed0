using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.SystemLogs;

namespace PsaPortal.Web.Features.Invoices;

/// <summary>
/// Tells the integration's export notification contacts (<see cref="InvoiceSettings.NotificationContacts"/>) that an
/// export failed or finished with failures: one e-mail through the portal's SMTP server (<see cref="SmtpMailSender"/>,
/// shared with billing), naming the integration and the export, listing what failed in the PSA's own words, and linking
/// to the detailed log when <c>Portal:PublicUrl</c> is set. Whatever happens to the e-mail is written to the export's
/// log, System Logs and the audit trail; a delivery problem never changes the export's outcome and never throws.
/// </summary>
public sealed class InvoiceExportNotifier(
    IDbContextFactory<PortalDbContext> dbFactory,
    SmtpMailSender mail,
    IOptions<BillingNotificationOptions> notificationOptions,
    IPortalEventStream events,
    IJobLog jobLog,
    AuditLog audit,
    TimeProvider time,
    ILogger<InvoiceExportNotifier> logger)
{
    public const string JobName = "Invoice export notification";
    public const string LogSubject = "Notification";

    /// <summary>Sends the failure e-mail for <paramref name="export"/> when it failed (wholly or in part) and contacts are set.</summary>
    public async Task NotifyAsync(Integration integration, InvoiceExport export, CancellationToken cancellationToken = default)
    {
        if (export.Status is not (InvoiceExportStatus.Failed or InvoiceExportStatus.CompletedWithFailures))
        {
            return;
        }

        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var contacts = await db.InvoiceSettings.AsNoTracking().Where(s => s.IntegrationId == integration.Id).Select(s => s.NotificationContacts).SingleOrDefaultAsync(cancellationToken);
            var recipients = (contacts ?? "").Split([',', ';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (recipients.Count == 0)
            {
                Log(db, export, InvoiceExportLogLevel.Info, "No notification contacts are set, so no one was e-mailed about this export's failures.");
                await db.SaveChangesAsync(cancellationToken);
                Publish(export);
                return;
            }

            var failures = await db.InvoiceExportLog.AsNoTracking().Where(e => e.ExportId == export.Id && e.Level == InvoiceExportLogLevel.Error)
                .OrderBy(e => e.Id).Take(InvoiceExportNotificationContent.MaxFailures + 1).ToListAsync(cancellationToken);
            var content = new InvoiceExportNotificationContent(integration, export, failures, notificationOptions.Value.PublicUrl);
            var sent = await mail.SendAsync(recipients, content.Subject, content.Text(), content.Html(), cancellationToken);
            logger.Log(sent.Delivered ? LogLevel.Information : LogLevel.Warning, "Invoice export {Export} notification: {Outcome}", export.Id, sent.Message);
            jobLog.Write(integration.OrganizationId, integration.Vendor, JobName, sent.Delivered ? LogLevelName.Information : LogLevelName.Warning, $"Export {export.Id}: {sent.Message}");
            Log(db, export, sent.Delivered ? InvoiceExportLogLevel.Info : InvoiceExportLogLevel.Warning, sent.Message);
            await db.SaveChangesAsync(CancellationToken.None);
            Publish(export);
            await audit.RecordAsync(integration.OrganizationId, Actor.Portal, sent.Delivered ? "Invoice export failure notification sent" : "Invoice export failure notification not sent",
                $"ConnectWise export {export.Id}", sent.Message, CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(exception, "The failure notification of invoice export {Export} could not be sent", export.Id);
            jobLog.Write(integration.OrganizationId, integration.Vendor, JobName, LogLevelName.Error, $"Failure notification for export {export.Id} could not be sent: {exception.Message}");
        }
    }

    private void Log(PortalDbContext db, InvoiceExport export, InvoiceExportLogLevel level, string message) =>
        db.InvoiceExportLog.Add(new InvoiceExportLogEntry
        {
            ExportId = export.Id, At = time.GetUtcNow(), Level = level, Subject = LogSubject,
            Message = message.Length <= InvoiceExportLogEntry.MessageMaxLength ? message : message[..InvoiceExportLogEntry.MessageMaxLength],
        });

    // Open log pages reload on the event, so the notification's line appears there too.
    private void Publish(InvoiceExport export) => events.Publish(new InvoiceExportChanged(export.OrganizationId, time.GetUtcNow(), export.IntegrationId, export.Id, export.Status,
        export.ProductsCreated, export.ProductsUpdated, export.ProductsUnchanged, export.ProductsFailed, export.Error));
}

/// <summary>The failure e-mail of one export: subject, plain text and HTML, with the log's error lines as the PSA worded them.</summary>
public sealed class InvoiceExportNotificationContent
{
    /// <summary>Failed log lines listed in an e-mail; more are counted and left to the log page.</summary>
    public const int MaxFailures = 200;

    private readonly Integration _integration;
    private readonly InvoiceExport _export;
    private readonly IReadOnlyList<InvoiceExportLogEntry> _failures;
    private readonly Uri? _logLink;

    public InvoiceExportNotificationContent(Integration integration, InvoiceExport export, IReadOnlyList<InvoiceExportLogEntry> failures, Uri? publicUrl)
    {
        _integration = integration;
        _export = export;
        _failures = failures;
        _logLink = publicUrl is null ? null : LogLink(publicUrl, export.Id);
        Subject = export.Status == InvoiceExportStatus.Failed
            ? "PsaPortal: ConnectWise product catalog export failed"
            : $"PsaPortal: ConnectWise product catalog export finished with {Plural(export.ProductsFailed + export.DocumentsFailed, "failure")}";
    }

    public string Subject { get; }

    /// <summary>The detailed log page of an export under the portal's public address.</summary>
    public static Uri LogLink(Uri publicUrl, Guid exportId) => new(new Uri(publicUrl.AbsoluteUri.TrimEnd('/') + "/"), $"invoices/export/{exportId}");

    /// <summary>"ConnectWise (company acme at https://na.myconnectwise.net)".</summary>
    public static string IntegrationName(Integration integration) =>
        integration.CompanyId is null ? integration.Vendor.DisplayName() : $"{integration.Vendor.DisplayName()} (company {integration.CompanyId} at {integration.SiteUrl})";

    public string Text()
    {
        var text = new StringBuilder();
        text.AppendLine(Headline()).AppendLine();
        foreach (var (label, value) in Facts())
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{label}: {value}");
        }

        text.AppendLine(_logLink is null ? $"Detailed log: {BillingNotificationContent.NoLink}" : $"Open the detailed log: {_logLink.AbsoluteUri}");
        if (_failures.Count > 0)
        {
            text.AppendLine().AppendLine("What failed, in ConnectWise's words:");
            foreach (var failure in _failures.Take(MaxFailures))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {failure.Subject}: {failure.Message}");
            }

            if (_failures.Count > MaxFailures)
            {
                text.AppendLine("…and more: the detailed log lists every one.");
            }
        }

        return text.ToString();
    }

    /// <summary>The same as <see cref="Text"/> with the failures as a table; every value is encoded.</summary>
    public string Html()
    {
        static string E(string? value) => WebUtility.HtmlEncode(value ?? "");
        var html = new StringBuilder("<!DOCTYPE html><html><body style=\"font-family:sans-serif;font-size:14px\">");
        html.Append(CultureInfo.InvariantCulture, $"<p><strong>{E(Headline())}</strong></p><table cellpadding=\"3\">");
        foreach (var (label, value) in Facts())
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(label)}</td><td>{E(value)}</td></tr>");
        }

        html.Append(_logLink is null
            ? $"<tr><td>Detailed log</td><td>{E(BillingNotificationContent.NoLink)}</td></tr>"
            : $"<tr><td>Detailed log</td><td><a href=\"{E(_logLink.AbsoluteUri)}\">Open the export's detailed log in PsaPortal</a></td></tr>");
        html.Append("</table>");
        if (_failures.Count > 0)
        {
            html.Append("<p>What failed, in ConnectWise's words:</p><table border=\"1\" cellpadding=\"4\" style=\"border-collapse:collapse\"><tr><th>Item</th><th>Message</th></tr>");
            foreach (var failure in _failures.Take(MaxFailures))
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(failure.Subject)}</td><td>{E(failure.Message)}</td></tr>");
            }

            html.Append("</table>");
            if (_failures.Count > MaxFailures)
            {
                html.Append("<p>…and more: the detailed log lists every one.</p>");
            }
        }

        return html.Append("</body></html>").ToString();
    }

    private string Headline() => _export.Status == InvoiceExportStatus.Failed
        ? $"The product catalog export to ConnectWise failed: {_export.Error}"
        : $"The product catalog export to ConnectWise finished with {Plural(_export.ProductsFailed + _export.DocumentsFailed, "failure")}.";

    private IEnumerable<(string Label, string Value)> Facts()
    {
        yield return ("Integration", IntegrationName(_integration));
        yield return ("Export", _export.Id.ToString());
        yield return ("Started by", _export.Trigger == InvoiceRunTrigger.Scheduled ? $"{_export.RequestedBy} (automatic export)" : _export.RequestedBy);
        if (_export.StartedAt is { } started)
        {
            yield return ("Started", string.Create(CultureInfo.InvariantCulture, $"{started.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC"));
        }

        if (_export.FinishedAt is { } finished)
        {
            yield return ("Finished", string.Create(CultureInfo.InvariantCulture, $"{finished.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC"));
        }

        yield return ("Products", $"{_export.ProductsCreated} created, {_export.ProductsUpdated} updated, {_export.ProductsUnchanged} unchanged, {_export.ProductsFailed} failed");
        yield return ("Users lists", $"{_export.DocumentsUploaded} attached, {_export.DocumentsFailed} failed");
    }

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";
}
