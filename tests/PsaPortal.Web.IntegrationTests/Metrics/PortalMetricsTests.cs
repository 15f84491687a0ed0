using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Infrastructure;
using PsaPortal.Web.IntegrationTests.Billing;
using PsaPortal.Web.IntegrationTests.Reference;

namespace PsaPortal.Web.IntegrationTests.Metrics;

/// <summary>
/// The <c>PsaPortal</c> meter against the sandbox over real HTTP: a billing run's start, end, rows, PSA calls by status
/// (compared with the sandbox's own request log), retries and request-budget waits, read with a MeterListener on this
/// portal's meter only.
/// </summary>
public sealed class PortalMetricsTests : IAsyncLifetime
{
    private SandboxPortal _portal = null!;
    private MeasurementLog _measurements = null!;

    public async Task InitializeAsync()
    {
        // More calls at once than Autotask's three threads per endpoint, so some wait for the connection's budget.
        _portal = await SandboxPortal.StartAsync(new PortalDatabase.Sqlite(), new Dictionary<string, string?> { ["Billing:MaxConcurrentCalls"] = "12" });
        _measurements = new MeasurementLog(_portal.Get<IMeterFactory>());
    }

    public async Task DisposeAsync()
    {
        _measurements.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task BillingRun_Autotask_RecordsRunRowsCallsByStatusRetriesAndBudgetWaits()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.Autotask);
        // Twenty changed counts: twenty writes to one endpoint at once, more than its three threads.
        foreach (var company in world.Seed.Companies.Where(c => c.DuplicateOfNumber is null && world.Seed.SubscriptionsOf(c.Number).Any()).Take(20))
        {
            var line = world.Seed.SubscriptionsOf(company.Number).First();
            await world.SetUsageAsync(company.Number, line.Sku, line.Quantity + 3);
        }

        // 30 %: with about 22 calls, a run that meets no 429 at all (which this test needs to see) is 1 in 2,500; at 20 % it
        // was 1 in 140, and CI met it.
        _portal.Sandbox.Autotask.Configure(s => s with { Faults = new() { ThrottleRate = 0.3 } });
        var before = world.LastRequest;
        _measurements.Clear();

        var started = await _portal.Get<IBillingRuns>().SyncNowAsync(_portal.Admin, PsaVendor.Autotask);
        Assert.True(started.Accepted, started.Message);
        var run = await world.WaitForEndAsync(started.RunId!.Value);
        await Task.Delay(200); // the finished event is published right after the run's row is stored

        Assert.Equal(1, _measurements.Sum("psaportal.billing.runs.started", ("vendor", "Autotask"), ("mode", "Apply"), ("trigger", "Manual")));
        Assert.Equal(1, _measurements.Sum("psaportal.billing.runs.finished", ("vendor", "Autotask"), ("status", run.Status.ToString())));
        Assert.True(run.Synced >= 1, $"the changed row was not synced: {run.Status} {run.Error}");
        Assert.Equal(run.Synced, _measurements.Sum("psaportal.billing.rows", ("outcome", "synced")));
        Assert.Equal(run.Unchanged, _measurements.Sum("psaportal.billing.rows", ("outcome", "unchanged")));
        Assert.Equal(run.Failed, _measurements.Sum("psaportal.billing.rows", ("outcome", "failed")));

        // Every request the sandbox answered during the run, by status, is one call in the meter.
        var answered = _portal.Sandbox.Autotask.RequestLog.Entries().Where(e => e.Sequence > before).GroupBy(e => e.Status).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(answered.GetValueOrDefault(200) > 0 && answered.GetValueOrDefault(429) > 0, string.Join(", ", answered.Select(a => $"{a.Key}: {a.Value}")));
        // An attempt the client gave up on (its 2 s attempt timeout, on a loaded machine) is logged by the sandbox with
        // the status it sent too late, and counted by the portal as status "none".
        var noResponse = _measurements.Sum("psaportal.psa.calls", ("vendor", "Autotask"), ("status", "none"));
        foreach (var (status, count) in answered)
        {
            Assert.InRange(_measurements.Sum("psaportal.psa.calls", ("vendor", "Autotask"), ("status", status.ToString(System.Globalization.CultureInfo.InvariantCulture))), count - noResponse, count);
        }

        Assert.Equal(answered.Values.Sum(), _measurements.Sum("psaportal.psa.calls", ("vendor", "Autotask")));
        Assert.Equal(answered.Values.Sum(), _measurements.Count("psaportal.psa.call.duration"));
        // A throttled attempt is sent again unless it was the last one the pipeline allows.
        var retried429 = _measurements.Sum("psaportal.psa.retries", ("vendor", "Autotask"), ("reason", "429"));
        Assert.InRange(retried429, 1, answered[429]);
        Assert.True(_measurements.Sum("psaportal.psa.budget.waits", ("vendor", "Autotask")) > 0, "no attempt waited for the Autotask thread budget");
        Assert.Equal(_measurements.Sum("psaportal.psa.budget.waits"), _measurements.Count("psaportal.psa.budget.wait.duration"));
        Assert.Contains(_measurements.Values("psaportal.live.delivery.latency"), m => m.Tags["origin"] == "local");
    }

    /// <summary>Every measurement of this portal's <c>PsaPortal</c> meter (another host's meter in the same process is ignored).</summary>
    private sealed class MeasurementLog : IDisposable
    {
        private readonly MeterListener _listener;
        private ConcurrentQueue<Measurement> _all = new();

        public MeasurementLog(IMeterFactory scope)
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Scope == scope && instrument.Meter.Name == PortalMetrics.MeterName)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.Start();
        }

        public void Clear() => _all = new ConcurrentQueue<Measurement>();

        public IEnumerable<Measurement> Values(string instrument) => _all.Where(m => m.Instrument == instrument);

        public long Sum(string instrument, params (string Key, string Value)[] tags) =>
            (long)Values(instrument).Where(m => tags.All(t => m.Tags.GetValueOrDefault(t.Key) == t.Value)).Sum(m => m.Value);

        public int Count(string instrument) => Values(instrument).Count();

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var map = new Dictionary<string, string>();
            foreach (var tag in tags)
            {
                map[tag.Key] = tag.Value?.ToString() ?? "";
            }

            _all.Enqueue(new Measurement(instrument.Name, value, map));
        }
    }

    private sealed record Measurement(string Instrument, double Value, Dictionary<string, string> Tags);
}

/// <summary><c>Metrics:Prometheus</c> serves the meter at <c>/metrics</c>; without it there is no such endpoint.</summary>
public sealed class PrometheusEndpointTests
{
    [Fact]
    public async Task PrometheusOn_MetricsEndpointServesTheMeter_Off_NoEndpoint()
    {
        await using (var on = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?> { ["Metrics:Prometheus"] = "true" }))
        {
            on.Services.GetRequiredService<PsaPortal.Web.Features.Live.IPortalEventStream>().Publish(new BillingRunFinished(Guid.NewGuid(), DateTimeOffset.UtcNow, Guid.NewGuid(), Guid.NewGuid(),
                PsaVendor.ConnectWise, BillingRunMode.Apply, BillingRunStatus.Succeeded, new BillingRunCounts(2, 2, 1, 1, 0), null));

            var response = await on.CreateClient().GetAsync(new Uri("/metrics", UriKind.Relative));
            var text = await response.Content.ReadAsStringAsync();

            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("psaportal_billing_runs_finished", text, StringComparison.Ordinal);
            Assert.Contains("status=\"Succeeded\"", text, StringComparison.Ordinal);
            // The runtime's meter: what a node's memory is watched by.
            Assert.Contains("dotnet_process_memory_working_set_bytes", text, StringComparison.Ordinal);
            Assert.Contains("dotnet_gc_last_collection_heap_size_bytes", text, StringComparison.Ordinal);
        }

        await using var off = new PortalFactory(new PortalDatabase.Sqlite());
        var offResponse = await off.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.NotEqual(System.Net.HttpStatusCode.OK, offResponse.StatusCode);
        Assert.DoesNotContain("psaportal_", await offResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
