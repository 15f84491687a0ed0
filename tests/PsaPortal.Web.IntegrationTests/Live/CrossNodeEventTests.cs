using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Infrastructure;
using Xunit.Abstractions;

namespace PsaPortal.Web.IntegrationTests.Live;

/// <summary>
/// Two portal hosts on one PostgreSQL database with <c>Events:Transport=PostgreSql</c>: what one node publishes reaches
/// the other node's subscribers of that organization, each node's own subscribers exactly once, big events whole, and
/// the listener comes back by itself after PostgreSQL restarts. The server is this class's own, so the restart
/// disturbs no other test.
/// </summary>
public sealed class CrossNodeEventTests(PostgreSqlFixture postgres, ITestOutputHelper output) : IClassFixture<PostgreSqlFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(15);

    private PortalFactory _a = null!;
    private PortalFactory _b = null!;
    private readonly List<MeterListener> _listeners = [];

    public async Task InitializeAsync()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?> { ["Events:Transport"] = "PostgreSql" };
        _a = new PortalFactory(new PortalDatabase.PostgreSql(connectionString), settings);
        _b = new PortalFactory(new PortalDatabase.PostgreSql(connectionString), settings);
        // One after the other, so the second node finds the database migrated.
        _ = _a.Services;
        _ = _b.Services;
        await Stream(_a).Listening.WaitAsync(Arrival);
        await Stream(_b).Listening.WaitAsync(Arrival);
    }

    public async Task DisposeAsync()
    {
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }

        await _b.DisposeAsync();
        await _a.DisposeAsync();
    }

    [Fact]
    public async Task PublishedOnA_ReachesBAndAOnceEach_OtherOrganizationNothing()
    {
        var organization = Guid.NewGuid();
        var onA = Collect(_a, organization);
        var onB = Collect(_b, organization);
        var otherOnB = Collect(_b, Guid.NewGuid());
        var remoteLatencies = RecordLatencies(_b, "remote");
        var audit = new AuditRecorded(organization, DateTimeOffset.UtcNow, "Linked ConnectWise", "admin@msp.example", "Über € 😀");
        var item = new BillingRunItemChanged(organization, DateTimeOffset.UtcNow, Guid.NewGuid(), Guid.NewGuid(), 42, 7, BillingAction.UpdateQuantity, BillingOutcome.Synced,
            3m, 4.5m, null, 1, new BillingRunCounts(10, 5, 3, 1, 1)) { EstimatedSecondsLeft = 12 };

        Events(_a).Publish(audit);
        Events(_a).Publish(item);

        await WaitForAsync(() => onB.Count >= 2);
        await Task.Delay(1000); // anything doubled or misdirected would have arrived by now
        Assert.Equal(new PortalEvent[] { audit, item }, onA.ToArray());
        Assert.Equal(new PortalEvent[] { audit, item }, onB.ToArray());
        Assert.Empty(otherOnB);
        Assert.Equal(2, remoteLatencies.Count);

        // And the other way round.
        var fromB = audit with { Action = "From B" };
        Events(_b).Publish(fromB);
        await WaitForAsync(() => onA.Count >= 3);
        await Task.Delay(500);
        Assert.Equal(new PortalEvent[] { audit, item, fromB }, onA.ToArray());
        Assert.Equal(new PortalEvent[] { audit, item, fromB }, onB.ToArray());
    }

    [Fact]
    public async Task BigEvent_ArrivesWhole_TooBigEvent_StaysOnItsNode()
    {
        var organization = Guid.NewGuid();
        var onA = Collect(_a, organization);
        var onB = Collect(_b, organization);
        // 120,000 characters, most of them escaped in JSON: some 60 NOTIFY chunks.
        var subject = string.Concat(Enumerable.Repeat("Ünïcødé ✓ 😀 \"quoted\" \\ line\n", 4_000));
        var big = new AuditRecorded(organization, DateTimeOffset.UtcNow, "Big", "portal", subject);
        var tooBig = new AuditRecorded(organization, DateTimeOffset.UtcNow, "Too big", "portal", new string('x', PostgreSqlPortalEventStream.MaxMessageBytes + 1));
        var after = new AuditRecorded(organization, DateTimeOffset.UtcNow, "After", "portal", null);

        Events(_a).Publish(big);
        Events(_a).Publish(tooBig);
        Events(_a).Publish(after);

        await WaitForAsync(() => onB.Count >= 2);
        await Task.Delay(1000);
        Assert.Equal(new PortalEvent[] { big, after }, onB.ToArray());
        Assert.Equal(subject, ((AuditRecorded)onB.First()).Subject);
        Assert.Equal(new PortalEvent[] { big, tooBig, after }, onA.ToArray());
        Assert.Contains(_a.LogLines, l => l.Contains("larger than", StringComparison.Ordinal) && l.Contains("shown on this node only", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PostgreSqlRestarts_ListenerComesBack_LaterEventsArrive()
    {
        var organization = Guid.NewGuid();
        var onB = Collect(_b, organization);
        var before = new AuditRecorded(organization, DateTimeOffset.UtcNow, "Before", "portal", null);
        Events(_a).Publish(before);
        await WaitForAsync(() => onB.Count == 1);

        await postgres.Server.RestartAsync(TimeSpan.FromSeconds(3));
        var restarted = DateTimeOffset.UtcNow;
        // Probe until B hears A again: both the sender and the listener have to find the server back.
        var probes = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!onB.Any(e => e is AuditRecorded { Action: "Probe" }))
        {
            Assert.True(DateTime.UtcNow < deadline, "B did not receive A's events within 60 s of the restart.");
            Events(_a).Publish(new AuditRecorded(organization, DateTimeOffset.UtcNow, "Probe", "portal", probes++.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            await Task.Delay(250);
        }

        output.WriteLine($"B heard A again {(DateTimeOffset.UtcNow - restarted).TotalSeconds:0.0} s after the server was back ({probes} probes).");
        var later = new AuditRecorded(organization, DateTimeOffset.UtcNow, "Later", "portal", null);
        Events(_a).Publish(later);
        await WaitForAsync(() => onB.Contains(later));
        await Task.Delay(500);
        Assert.Single(onB, e => e.Equals(later));
        Assert.Contains(_b.LogLines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("lost its PostgreSQL connection", StringComparison.Ordinal));
        Assert.Contains(_b.LogLines, l => l.Contains("Listening for live events from other nodes again after", StringComparison.Ordinal));
    }

    /// <summary>Not a timed test (nothing is asserted about time): prints the cross-node latency for the report.</summary>
    [Fact]
    public async Task ManyEvents_AllArriveInOrder_LatencyPrinted()
    {
        var organization = Guid.NewGuid();
        var onB = Collect(_b, organization);
        var latencies = RecordLatencies(_b, "remote");
        var published = new List<PortalEvent>();
        for (var i = 0; i < 500; i++)
        {
            var e = new AuditRecorded(organization, DateTimeOffset.UtcNow, "Many", "portal", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            published.Add(e);
            Events(_a).Publish(e);
            if (i % 10 == 9)
            {
                await Task.Delay(20);
            }
        }

        await WaitForAsync(() => onB.Count >= published.Count);
        Assert.Equal(published, onB.ToArray());
        var sorted = latencies.OrderBy(x => x).ToArray();
        output.WriteLine($"cross-node latency over {sorted.Length} events: p50 {sorted[sorted.Length / 2]:0.0} ms, p95 {sorted[(int)(sorted.Length * 0.95)]:0.0} ms, max {sorted[^1]:0.0} ms");
    }

    private static PostgreSqlPortalEventStream Stream(PortalFactory node) => node.Services.GetRequiredService<PostgreSqlPortalEventStream>();

    private static IPortalEventStream Events(PortalFactory node) => node.Services.GetRequiredService<IPortalEventStream>();

    private static ConcurrentQueue<PortalEvent> Collect(PortalFactory node, Guid organization)
    {
        var received = new ConcurrentQueue<PortalEvent>();
        Events(node).Subscribe(organization, e =>
        {
            received.Enqueue(e);
            return Task.CompletedTask;
        });
        return received;
    }

    /// <summary>The node's own <c>psaportal.live.delivery.latency</c> measurements of one origin (its meter, not the other node's).</summary>
    private ConcurrentQueue<double> RecordLatencies(PortalFactory node, string origin)
    {
        var scope = node.Services.GetRequiredService<IMeterFactory>();
        var values = new ConcurrentQueue<double>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == scope && instrument.Meter.Name == PortalMetrics.MeterName && instrument.Name == "psaportal.live.delivery.latency")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "origin" && Equals(tag.Value, origin))
                {
                    values.Enqueue(value);
                }
            }
        });
        listener.Start();
        _listeners.Add(listener);
        return values;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Arrival;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The event did not arrive in time.");
            await Task.Delay(20);
        }
    }
}

/// <summary>The transport's configuration check, its payload split, and the one serializer's table of event kinds.</summary>
public sealed class PostgreSqlEventTransportRulesTests
{
    [Fact]
    public void PostgreSqlTransport_OnSqlite_RefusesToStartWithTheReason()
    {
        using var factory = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?> { ["Events:Transport"] = "PostgreSql" });

        var failure = Assert.ThrowsAny<Exception>(() => factory.Services);

        Assert.Contains("Events:Transport is PostgreSql but Database:Provider is not", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Payloads_SmallIsOne_BigIsChunksUnder8000Bytes_NeverSplittingASurrogatePair()
    {
        Assert.Equal(["{\"a\":1}"], PostgreSqlPortalEventStream.Payloads("{\"a\":1}", Guid.NewGuid())!);
        var text = string.Concat(Enumerable.Repeat("a😀é€", 10_000));

        var chunks = PostgreSqlPortalEventStream.Payloads(text, Guid.NewGuid())!;

        Assert.True(chunks.Length > 1);
        Assert.All(chunks, c => Assert.True(System.Text.Encoding.UTF8.GetByteCount(c) < 8000, $"{System.Text.Encoding.UTF8.GetByteCount(c)} bytes"));
        Assert.Equal(text, string.Concat(chunks.Select(c => c.Split(':', 4)[3])));
        Assert.All(chunks, c => Assert.False(char.IsHighSurrogate(c[^1])));
        Assert.Null(PostgreSqlPortalEventStream.Payloads(new string('x', PostgreSqlPortalEventStream.MaxMessageBytes + 1), Guid.NewGuid()));
    }

    [Fact]
    public void EveryEventKind_IsKnownOnce_AndRoundTripsThroughTheEnvelope()
    {
        Assert.Contains("billing.item", PortalEventJson.Kinds.Keys);
        Assert.Contains("ticket.changed", PortalEventJson.Kinds.Keys);
        Assert.True(PortalEventJson.Kinds.Count >= 16, string.Join(", ", PortalEventJson.Kinds.Keys));
        var finished = new BillingRunFinished(Guid.NewGuid(), DateTimeOffset.UtcNow, Guid.NewGuid(), Guid.NewGuid(), Integrations.PsaVendor.Autotask, BillingRunMode.Apply,
            BillingRunStatus.CompletedWithFailures, new BillingRunCounts(3, 3, 1, 1, 1), "why");

        var envelope = System.Text.Json.JsonSerializer.Deserialize<PortalEventEnvelope>(System.Text.Json.JsonSerializer.Serialize(finished.ToEnvelope(), System.Text.Json.JsonSerializerOptions.Web), System.Text.Json.JsonSerializerOptions.Web)!;

        Assert.Equal(finished, PortalEventJson.FromEnvelope(envelope));
        Assert.Null(PortalEventJson.FromEnvelope(envelope with { Kind = "from.a.newer.node" }));
    }
}
