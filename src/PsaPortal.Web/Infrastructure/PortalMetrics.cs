using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using System.Globalization;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Recording;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Ticketing;

namespace PsaPortal.Web.Infrastructure;

/// <summary>
/// The portal's one <see cref="Meter"/>, <c>PsaPortal</c> (docs/runbook.md#metrics lists every instrument). PSA calls,
/// retries and budget waits come from the PSA clients (<see cref="IPsaMetrics"/>); billing runs and rows, tickets and
/// invoice lines from the events their engines publish on this node (<see cref="EventPublished"/>: each event is counted
/// once, on the node that published it, however many nodes show it); live-event latency from the event stream.
/// </summary>
public sealed class PortalMetrics : IPsaMetrics
{
    public const string MeterName = "PsaPortal";

    private readonly Counter<long> _billingRunsStarted;
    private readonly Counter<long> _billingRunsFinished;
    private readonly Counter<long> _billingRows;
    private readonly Counter<long> _tickets;
    private readonly Counter<long> _invoiceLines;
    private readonly Counter<long> _psaCalls;
    private readonly Histogram<double> _psaCallDuration;
    private readonly Counter<long> _psaRetries;
    private readonly Counter<long> _budgetWaits;
    private readonly Histogram<double> _budgetWaitDuration;
    private readonly Histogram<double> _liveLatency;
    private readonly Counter<long> _liveNotifications;
    private readonly Counter<long> _liveDropped;
    private readonly Counter<long> _liveReconnects;

    public PortalMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _billingRunsStarted = meter.CreateCounter<long>("psaportal.billing.runs.started", "{run}", "Billing runs that began or resumed running on this node.");
        _billingRunsFinished = meter.CreateCounter<long>("psaportal.billing.runs.finished", "{run}", "Billing runs that ended, by final status.");
        _billingRows = meter.CreateCounter<long>("psaportal.billing.rows", "{row}", "Rows (one tenant's product) of finished billing runs, by outcome: synced, unchanged, failed.");
        _tickets = meter.CreateCounter<long>("psaportal.tickets.changes", "{change}", "Incident tickets reaching a state (open, failed, closed…).");
        _invoiceLines = meter.CreateCounter<long>("psaportal.invoices.lines", "{line}", "Invoice lines reaching a posting state (posted, failed, skipped…).");
        _psaCalls = meter.CreateCounter<long>("psaportal.psa.calls", "{call}", "HTTP attempts to a PSA, by vendor, method and status code (none: no response).");
        _psaCallDuration = meter.CreateHistogram<double>("psaportal.psa.call.duration", "ms", "Time of one HTTP attempt to a PSA.");
        _psaRetries = meter.CreateCounter<long>("psaportal.psa.retries", "{retry}", "Attempts the resilience pipeline sends again, by vendor and reason (status code or failure).");
        _budgetWaits = meter.CreateCounter<long>("psaportal.psa.budget.waits", "{wait}", "Attempts that waited for their connection's request budget (rate limiter).");
        _budgetWaitDuration = meter.CreateHistogram<double>("psaportal.psa.budget.wait.duration", "ms", "How long an attempt waited for its connection's request budget.");
        _liveLatency = meter.CreateHistogram<double>("psaportal.live.delivery.latency", "ms", "From an event's publication to its delivery to this node's subscribers; origin local or remote (another node, wall clock).");
        _liveNotifications = meter.CreateCounter<long>("psaportal.live.notifications.sent", "{notification}", "NOTIFY payloads sent to the other nodes (PostgreSql transport).");
        _liveDropped = meter.CreateCounter<long>("psaportal.live.events.dropped", "{event}", "Events not sent to the other nodes: the send queue overflowed during a database outage, or the event exceeded 1 MiB.");
        _liveReconnects = meter.CreateCounter<long>("psaportal.live.listener.reconnects", "{reconnect}", "Times the live-event listener got its PostgreSQL connection back after losing it.");
    }

    /// <summary>An event published on this node: the engines' own announcements of runs, rows, tickets and invoice lines.</summary>
    public void EventPublished(PortalEvent portalEvent)
    {
        switch (portalEvent)
        {
            case BillingRunStarted { Status: BillingRunStatus.Running } started:
                _billingRunsStarted.Add(1, Tag("vendor", started.Vendor), Tag("mode", started.Mode), Tag("trigger", started.Trigger));
                break;
            case BillingRunFinished finished:
                _billingRunsFinished.Add(1, Tag("vendor", finished.Vendor), Tag("mode", finished.Mode), Tag("status", finished.Status));
                AddRows(finished, "synced", finished.Counts.Synced);
                AddRows(finished, "unchanged", finished.Counts.Unchanged);
                AddRows(finished, "failed", finished.Counts.Failed);
                break;
            case TicketChanged ticket:
                _tickets.Add(1, Tag("vendor", ticket.Vendor), Tag("state", ticket.State));
                break;
            case InvoiceLineSynced line:
                _invoiceLines.Add(1, Tag("state", line.State));
                break;
        }
    }

    public void EventDelivered(bool remote, double milliseconds) =>
        _liveLatency.Record(milliseconds, new KeyValuePair<string, object?>("origin", remote ? "remote" : "local"));

    public void LiveNotificationsSent(int count) => _liveNotifications.Add(count);

    public void LiveEventDropped() => _liveDropped.Add(1);

    public void LiveListenerReconnected() => _liveReconnects.Add(1);

    public void CallCompleted(PsaVendor vendor, string method, int? statusCode, TimeSpan duration)
    {
        var status = statusCode?.ToString(CultureInfo.InvariantCulture) ?? "none";
        _psaCalls.Add(1, Tag("vendor", vendor), new("method", method), new("status", status));
        _psaCallDuration.Record(duration.TotalMilliseconds, Tag("vendor", vendor), new("status", status));
    }

    public void Retrying(PsaVendor vendor, string reason) => _psaRetries.Add(1, Tag("vendor", vendor), new("reason", reason));

    public void BudgetWaited(PsaVendor vendor, TimeSpan waited)
    {
        _budgetWaits.Add(1, Tag("vendor", vendor));
        _budgetWaitDuration.Record(waited.TotalMilliseconds, Tag("vendor", vendor));
    }

    private void AddRows(BillingRunFinished finished, string outcome, int count)
    {
        if (count > 0 && finished.Mode != BillingRunMode.Preview)
        {
            _billingRows.Add(count, Tag("vendor", finished.Vendor), new("outcome", outcome));
        }
    }

    private static KeyValuePair<string, object?> Tag<T>(string name, T value) where T : struct, Enum => new(name, value.ToString());
}

/// <summary>
/// Registers <see cref="PortalMetrics"/> (IMeterFactory-friendly) and, with <c>Metrics:Prometheus</c>, the OpenTelemetry
/// Prometheus exporter at <c>/metrics</c> (the portal's meter and the runtime's): anonymous, for the internal network only (docs/runbook.md#metrics).
/// Without it, <c>dotnet-counters monitor --counters PsaPortal -n PsaPortal.Web</c> reads the same meter.
/// </summary>
public static class PortalMetricsSetup
{
    public const string PrometheusKey = "Metrics:Prometheus";
    public const string PrometheusPath = "/metrics";

    /// <summary>The .NET runtime's built-in meter.</summary>
    public const string RuntimeMeterName = "System.Runtime";

    public static IHostApplicationBuilder AddPortalMetrics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<PortalMetrics>();
        if (builder.Configuration.GetValue<bool>(PrometheusKey))
        {
            // The runtime's own meter beside the portal's: working set, GC heap and committed memory, JIT code, thread
            // pool, so a node's memory can be watched against its cap (docs/runbook.md#scaling).
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(PortalMetrics.MeterName, RuntimeMeterName).AddPrometheusExporter());
        }

        return builder;
    }

    public static IEndpointRouteBuilder MapPortalMetrics(this IEndpointRouteBuilder endpoints)
    {
        if (endpoints.ServiceProvider.GetRequiredService<IConfiguration>().GetValue<bool>(PrometheusKey))
        {
            endpoints.MapPrometheusScrapingEndpoint(PrometheusPath).AllowAnonymous();
        }

        return endpoints;
    }
}
