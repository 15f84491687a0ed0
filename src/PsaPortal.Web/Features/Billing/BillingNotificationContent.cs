using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using PsaPortal.Integrations;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// What a failure notification says, built once per run for both channels: the e-mail's subject, plain text and HTML,
/// and the webhook's JSON. Every name and message is the run row's own, so the reader sees exactly what the run page shows.
/// </summary>
public sealed class BillingNotificationContent
{
    /// <summary>Failed rows listed in an e-mail; the rest are counted ("…and N more").</summary>
    public const int MaxEmailRows = 200;

    /// <summary>Failed rows in a webhook body; the rest are counted in <c>failuresOmitted</c>.</summary>
    public const int MaxWebhookRows = 1000;

    public const string EventName = "billing.run.failed";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly BillingRun _run;
    private readonly IReadOnlyList<BillingRunItem> _failed;
    private readonly Uri? _runLink;
    private readonly bool _test;

    public BillingNotificationContent(BillingRun run, IReadOnlyList<BillingRunItem> failedItems, Uri? publicUrl, DateTimeOffset occurredAt, bool test = false)
    {
        _run = run;
        _failed = failedItems;
        _test = test;
        OccurredAt = run.FinishedAt ?? occurredAt;
        _runLink = publicUrl is null ? null : new Uri(new Uri(publicUrl.AbsoluteUri.TrimEnd('/') + "/"), $"billing/runs/{run.Id}");
        Subject = (test ? "[Test] " : "") + SubjectOf(run, failedItems.Count);
    }

    public DateTimeOffset OccurredAt { get; }

    public string Subject { get; }

    /// <summary>The e-mail's plain-text body.</summary>
    public string Text()
    {
        var text = new StringBuilder();
        if (_test)
        {
            text.AppendLine("This is a test notification sent from PsaPortal's billing notification settings; the run below is a sample, not a real run.").AppendLine();
        }

        text.AppendLine(Headline()).AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Integration: {_run.Vendor.DisplayName()}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Run: {_run.Id}");
        text.AppendLine(_runLink is null ? $"Link: {NoLink}" : $"Open the run: {_runLink.AbsoluteUri}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Requested by: {_run.RequestedBy}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Finished: {OccurredAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        text.AppendLine(CultureInfo.InvariantCulture, $"Rows: {Counts()}");
        if (!string.IsNullOrEmpty(_run.Error))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Why the run stopped: {_run.Error}");
        }

        if (_failed.Count > 0)
        {
            text.AppendLine().AppendLine("Failed tenants:");
            foreach (var item in _failed.Take(MaxEmailRows))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {item.TenantName} · {item.VendorProductName} ({Where(item)}): {item.Message}");
            }

            if (_failed.Count > MaxEmailRows)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"…and {_failed.Count - MaxEmailRows} more (the run page lists every row).");
            }
        }

        return text.ToString();
    }

    /// <summary>The e-mail's HTML body: the same as <see cref="Text"/>, with the failures as a table. Every value is encoded.</summary>
    public string Html()
    {
        static string E(string? value) => WebUtility.HtmlEncode(value ?? "");
        var html = new StringBuilder("<!DOCTYPE html><html><body style=\"font-family:sans-serif;font-size:14px\">");
        if (_test)
        {
            html.Append("<p><em>This is a test notification sent from PsaPortal's billing notification settings; the run below is a sample, not a real run.</em></p>");
        }

        html.Append(CultureInfo.InvariantCulture, $"<p><strong>{E(Headline())}</strong></p><table cellpadding=\"3\">");
        html.Append(CultureInfo.InvariantCulture, $"<tr><td>Integration</td><td>{E(_run.Vendor.DisplayName())}</td></tr>");
        html.Append(CultureInfo.InvariantCulture, $"<tr><td>Run</td><td>{E(_run.Id.ToString())}</td></tr>");
        html.Append(_runLink is null
            ? $"<tr><td>Link</td><td>{E(NoLink)}</td></tr>"
            : $"<tr><td>Link</td><td><a href=\"{E(_runLink.AbsoluteUri)}\">Open the run in PsaPortal</a></td></tr>");
        html.Append(CultureInfo.InvariantCulture, $"<tr><td>Requested by</td><td>{E(_run.RequestedBy)}</td></tr>");
        html.Append(CultureInfo.InvariantCulture, $"<tr><td>Finished</td><td>{OccurredAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC</td></tr>");
        html.Append(CultureInfo.InvariantCulture, $"<tr><td>Rows</td><td>{E(Counts())}</td></tr>");
        if (!string.IsNullOrEmpty(_run.Error))
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>Why the run stopped</td><td>{E(_run.Error)}</td></tr>");
        }

        html.Append("</table>");
        if (_failed.Count > 0)
        {
            html.Append("<p>Failed tenants:</p><table border=\"1\" cellpadding=\"4\" style=\"border-collapse:collapse\">")
                .Append("<tr><th>Tenant</th><th>Product</th><th>Company</th><th>Agreement / contract</th><th>Message</th></tr>");
            foreach (var item in _failed.Take(MaxEmailRows))
            {
                html.Append(CultureInfo.InvariantCulture,
                    $"<tr><td>{E(item.TenantName)}</td><td>{E(item.VendorProductName)}</td><td>{E(item.CompanyName)}</td><td>{E(item.AgreementName)}</td><td>{E(item.Message)}</td></tr>");
            }

            html.Append("</table>");
            if (_failed.Count > MaxEmailRows)
            {
                html.Append(CultureInfo.InvariantCulture, $"<p>…and {_failed.Count - MaxEmailRows} more (the run page lists every row).</p>");
            }
        }

        return html.Append("</body></html>").ToString();
    }

    /// <summary>The webhook's JSON body (camelCase).</summary>
    public string WebhookJson() => JsonSerializer.Serialize(new
    {
        @event = EventName,
        test = _test ? true : (bool?)null,
        runId = _run.Id,
        integrationId = _run.IntegrationId,
        vendor = _run.Vendor.ToString(),
        status = _run.Status.ToString(),
        counts = new { total = _run.Total, done = _run.Done, synced = _run.Synced, unchanged = _run.Unchanged, failed = _run.Failed },
        error = _run.Error,
        url = _runLink?.AbsoluteUri,
        failures = _failed.Take(MaxWebhookRows).Select(i => new
        {
            tenant = i.TenantName,
            product = i.VendorProductName,
            company = i.CompanyName,
            agreement = i.AgreementName,
            message = i.Message,
        }),
        failuresOmitted = _failed.Count > MaxWebhookRows ? _failed.Count - MaxWebhookRows : (int?)null,
        occurredAt = OccurredAt,
    }, Json);

    public const string NoLink = "not included: Portal:PublicUrl is not set in PsaPortal's configuration, so the portal does not know its own address.";

    public static string SubjectOf(BillingRun run, int failedRows) => run.Status == BillingRunStatus.Failed
        ? $"PsaPortal: billing sync for {run.Vendor.DisplayName()} failed"
        : $"PsaPortal: billing sync for {run.Vendor.DisplayName()} finished with {Failures(Math.Max(run.Failed, failedRows))}";

    private string Headline() => _run.Status == BillingRunStatus.Failed
        ? $"The billing sync for {_run.Vendor.DisplayName()} failed and did not reach every tenant."
        : $"The billing sync for {_run.Vendor.DisplayName()} finished with {Failures(Math.Max(_run.Failed, _failed.Count))}.";

    private string Counts() =>
        $"{_run.Total} in all: {_run.Synced} synced, {_run.Unchanged} unchanged, {_run.Failed} failed" +
        (_run.Total > _run.Done ? $", {_run.Total - _run.Done} not reached" : "");

    private string Where(BillingRunItem item)
    {
        var agreement = _run.Vendor == PsaVendor.Autotask ? "contract" : "agreement";
        return $"company {item.CompanyName ?? "not mapped"}, {(item.AgreementName is null ? "no " + agreement : agreement + " " + item.AgreementName)}";
    }

    private static string Failures(int count) => count == 1 ? "1 failure" : $"{count} failures";
}
