using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using PsaPortal.Web.Data;
using PsaPortal.Web.Infrastructure;

namespace PsaPortal.Web.Features.Live;

/// <summary>How events reach open pages: <c>InProcess</c> (one node, the default) or <c>PostgreSql</c> (every node).</summary>
public enum EventTransport
{
    InProcess,
    PostgreSql,
}

/// <summary>The <c>Events</c> configuration section.</summary>
public sealed class LiveEventsOptions
{
    public const string SectionName = "Events";

    public EventTransport Transport { get; set; } = EventTransport.InProcess;
}

/// <summary>What one NOTIFY carries (whole, or in chunks): who published, when (wall clock), and the status hub's envelope.</summary>
internal sealed record PortalEventMessage(Guid Node, DateTimeOffset PublishedAt, PortalEventEnvelope Event);

/// <summary>
/// Live events across portal nodes through PostgreSQL LISTEN/NOTIFY on the portal's own database
/// (<c>Events:Transport</c> = <c>PostgreSql</c>).
/// <para>
/// Publish hands the event to this node's subscribers at once, through the in-process stream (the one place that
/// delivers), and queues it for NOTIFY on <see cref="Channel"/>; a background loop sends the queue in batches. Every node
/// LISTENs on one dedicated connection and hands what other nodes published to its in-process stream; its own
/// notifications, recognised by its node id, are skipped. Delivering locally first keeps a node's own pages exactly as
/// fast as the in-process default and keeps them live while the database is unreachable.
/// </para>
/// <para>
/// A NOTIFY payload must be shorter than 8000 bytes. A message that is longer is split into numbered chunks sent in the
/// same statement (one transaction, so they arrive together and in order) and put together again by the receivers.
/// </para>
/// <para>
/// When the listening connection drops (a PostgreSQL restart), the listener reconnects by itself with backoff
/// (0.25 s doubling to 5 s) and logs the loss and the return. NOTIFY keeps nothing for a session that is not listening,
/// so events other nodes publish while this node is not listening never reach its pages; what they show is re-read
/// from the database on the next event that concerns them, or when the page is opened again. Events this node
/// publishes while the database is down wait in its queue (at most <see cref="QueueCapacity"/>, the oldest dropped
/// beyond that) and are sent once it is back.
/// </para>
/// </summary>
public sealed class PostgreSqlPortalEventStream : IPortalEventStream, IAsyncDisposable
{
    public const string Channel = "psaportal_events";

    /// <summary>PostgreSQL's limit is "shorter than 8000 bytes"; a margin for the chunk header.</summary>
    internal const int MaxPayloadBytes = 7_900;

    internal const int ChunkBytes = 7_800;

    /// <summary>Events bigger than this are delivered on this node only, and a warning says so.</summary>
    internal const int MaxMessageBytes = 1024 * 1024;

    internal const int QueueCapacity = 10_000;

    private const int MaxPayloadsPerBatch = 500;
    private const string ChunkPrefix = "~";
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PartialLifetime = TimeSpan.FromMinutes(1);

    private readonly InProcessPortalEventStream _local;
    private readonly PortalMetrics _metrics;
    private readonly ILogger<PostgreSqlPortalEventStream> _logger;
    private readonly NpgsqlDataSource _dataSource;
    private readonly System.Threading.Channels.Channel<string[]> _outbox;
    private readonly Dictionary<Guid, Partial> _partials = [];
    private readonly Lock _partialsGate = new();
    private TaskCompletionSource _listening = NewSignal();
    private readonly CancellationTokenSource _stopListening = new();
    private readonly CancellationTokenSource _stopSending = new();
    private Task _loops = Task.CompletedTask;
    private Task? _stopping;
    private volatile bool _started;

    internal PostgreSqlPortalEventStream(InProcessPortalEventStream local, PortalMetrics metrics, ILogger<PostgreSqlPortalEventStream> logger, string connectionString)
    {
        _local = local;
        _metrics = metrics;
        _logger = logger;
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "psaportal-events" };
        if (builder.KeepAlive == 0)
        {
            // A half-open connection (a vanished server or network) would otherwise wait silently forever.
            builder.KeepAlive = 15;
        }

        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        _outbox = System.Threading.Channels.Channel.CreateBounded<string[]>(
            new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => _metrics.LiveEventDropped());
    }

    /// <summary>This process's id in every message it publishes.</summary>
    public Guid NodeId { get; } = Guid.NewGuid();

    /// <summary>Completes when the listener is LISTENing (again, after a lost connection).</summary>
    public Task Listening => Volatile.Read(ref _listening).Task;

    public void Publish(PortalEvent portalEvent)
    {
        _local.Publish(portalEvent);
        var json = JsonSerializer.Serialize(new PortalEventMessage(NodeId, DateTimeOffset.UtcNow, portalEvent.ToEnvelope()), JsonSerializerOptions.Web);
        var payloads = Payloads(json, Guid.NewGuid());
        if (payloads is null)
        {
            _logger.LogWarning("A {Kind} event of {Bytes} bytes is larger than {Limit} bytes: it was shown on this node only", portalEvent.Kind, Encoding.UTF8.GetByteCount(json), MaxMessageBytes);
            _metrics.LiveEventDropped();
            return;
        }

        _outbox.Writer.TryWrite(payloads);
    }

    public IDisposable Subscribe(Guid organizationId, Func<PortalEvent, Task> handler) => _local.Subscribe(organizationId, handler);

    public IDisposable SubscribeAll(Func<PortalEvent, Task> handler) => _local.SubscribeAll(handler);

    internal void Start()
    {
        _started = true;
        _loops = Task.WhenAll(Task.Run(() => ListenAsync(_stopListening.Token)), Task.Run(() => SendAsync(_stopSending.Token)));
    }

    /// <summary>Stops both loops; every caller (the hosted service, the container's disposal) waits for the same stop.</summary>
    internal Task StopAsync()
    {
        lock (_partialsGate)
        {
            return _stopping ??= StopOnceAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _dataSource.DisposeAsync();
    }

    private async Task StopOnceAsync()
    {
        if (!_started)
        {
            return;
        }

        _outbox.Writer.TryComplete();
        await _stopListening.CancelAsync();
        // The sender flushes what is queued (a run's last event) for a moment before it is cut off.
        _stopSending.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await _loops;
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The NOTIFY payloads of one message: itself when it fits, else numbered chunks; null when it is too big to send.</summary>
    internal static string[]? Payloads(string json, Guid messageId)
    {
        var bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes < MaxPayloadBytes)
        {
            return [json];
        }

        if (bytes > MaxMessageBytes)
        {
            return null;
        }

        var pieces = Split(json, ChunkBytes);
        return [.. pieces.Select((piece, index) => $"{ChunkPrefix}{messageId:N}:{index}:{pieces.Count}:{piece}")];
    }

    /// <summary>Cuts text into pieces of at most <paramref name="maxBytes"/> UTF-8 bytes, never inside a surrogate pair.</summary>
    internal static List<string> Split(string text, int maxBytes)
    {
        var pieces = new List<string>();
        int start = 0, bytes = 0;
        for (var i = 0; i < text.Length;)
        {
            var pair = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            var size = pair ? 4 : text[i] < 0x80 ? 1 : text[i] < 0x800 ? 2 : 3;
            if (bytes + size > maxBytes)
            {
                pieces.Add(text[start..i]);
                start = i;
                bytes = 0;
            }

            bytes += size;
            i += pair ? 2 : 1;
        }

        pieces.Add(text[start..]);
        return pieces;
    }

    private async Task SendAsync(CancellationToken stop)
    {
        var batch = new List<string>();
        var failures = 0;
        try
        {
            while (batch.Count > 0 || await _outbox.Reader.WaitToReadAsync(stop))
            {
                while (batch.Count < MaxPayloadsPerBatch && _outbox.Reader.TryRead(out var payloads))
                {
                    batch.AddRange(payloads);
                }

                try
                {
                    await using var connection = await _dataSource.OpenConnectionAsync(stop);
                    // One statement is one transaction: a message's chunks are queued together, in order.
                    await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, p) FROM unnest(@payloads) WITH ORDINALITY AS t(p, n) ORDER BY n", connection);
                    command.Parameters.AddWithValue("channel", Channel);
                    command.Parameters.AddWithValue("payloads", batch.ToArray());
                    await command.ExecuteNonQueryAsync(stop);
                    if (failures > 0)
                    {
                        _logger.LogInformation("Live events are sent to the other nodes again after {Failures} failed attempts", failures);
                    }

                    _metrics.LiveNotificationsSent(batch.Count);
                    failures = 0;
                    batch.Clear();
                }
                catch (Exception exception) when (!stop.IsCancellationRequested)
                {
                    failures++;
                    if (failures == 1)
                    {
                        _logger.LogWarning(exception, "Could not send live events to the other nodes; retrying with backoff (up to {Capacity} events are kept)", QueueCapacity);
                    }

                    await Task.Delay(Backoff(failures), stop);
                }
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Stopping: what is still queued is not sent.
        }
    }

    private async Task ListenAsync(CancellationToken stop)
    {
        DateTimeOffset? lostAt = null;
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(stop);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stop);
                }

                if (lostAt is { } since)
                {
                    _logger.LogInformation("Listening for live events from other nodes again after {Seconds:0.0} s ({Attempts} attempts); events they published meanwhile were not received",
                        (DateTimeOffset.UtcNow - since).TotalSeconds, failures);
                    _metrics.LiveListenerReconnected();
                }
                else
                {
                    _logger.LogInformation("Listening for live events from other nodes on PostgreSQL channel {Channel} as node {Node}", Channel, NodeId);
                }

                lostAt = null;
                failures = 0;
                Volatile.Read(ref _listening).TrySetResult();
                while (true)
                {
                    await connection.WaitAsync(stop);
                }
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                failures++;
                if (lostAt is null)
                {
                    lostAt = DateTimeOffset.UtcNow;
                    if (Volatile.Read(ref _listening).Task.IsCompleted)
                    {
                        Volatile.Write(ref _listening, NewSignal());
                    }
                    _logger.LogWarning(exception, "The live-event listener lost its PostgreSQL connection; reconnecting with backoff. Until then this node's pages miss other nodes' events");
                }
                else
                {
                    _logger.LogDebug(exception, "The live-event listener could not reconnect (attempt {Attempt})", failures);
                }

                lock (_partialsGate)
                {
                    _partials.Clear();
                }

                try
                {
                    await Task.Delay(Backoff(failures), stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs args)
    {
        try
        {
            var json = args.Payload.StartsWith(ChunkPrefix, StringComparison.Ordinal) ? Reassemble(args.Payload) : args.Payload;
            if (json is null)
            {
                return;
            }

            var message = JsonSerializer.Deserialize<PortalEventMessage>(json, JsonSerializerOptions.Web)
                ?? throw new JsonException("The notification was null.");
            if (message.Node == NodeId)
            {
                return; // Delivered here when it was published.
            }

            if (PortalEventJson.FromEnvelope(message.Event) is not { } portalEvent)
            {
                _logger.LogDebug("A live event of kind {Kind} is unknown to this node's version; skipped", message.Event.Kind);
                return;
            }

            _local.DeliverRemote(portalEvent, Math.Max(0, (DateTimeOffset.UtcNow - message.PublishedAt).TotalMilliseconds));
        }
        catch (Exception exception) when (exception is JsonException or FormatException or NotSupportedException)
        {
            _logger.LogWarning(exception, "A notification on {Channel} was not a readable live event; skipped", Channel);
        }
    }

    /// <summary>Adds one chunk; returns the whole message when this was its last missing chunk.</summary>
    private string? Reassemble(string payload)
    {
        var parts = payload[ChunkPrefix.Length..].Split(':', 4);
        if (parts.Length != 4 || !Guid.TryParseExact(parts[0], "N", out var id) || !int.TryParse(parts[1], out var index) || !int.TryParse(parts[2], out var count)
            || count < 2 || index < 0 || index >= count || count > MaxMessageBytes / ChunkBytes + 1)
        {
            throw new FormatException("A chunk header was malformed.");
        }

        lock (_partialsGate)
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var stale in _partials.Where(p => now - p.Value.FirstSeen > PartialLifetime).Select(p => p.Key).ToList())
            {
                _partials.Remove(stale);
            }

            if (!_partials.TryGetValue(id, out var partial))
            {
                _partials[id] = partial = new Partial(new string?[count], now);
            }

            if (partial.Pieces.Length != count || partial.Pieces[index] is not null)
            {
                throw new FormatException("A chunk did not match its message.");
            }

            partial.Pieces[index] = parts[3];
            if (partial.Pieces.Any(p => p is null))
            {
                return null;
            }

            _partials.Remove(id);
            return string.Concat(partial.Pieces);
        }
    }

    private static TimeSpan Backoff(int failures) =>
        TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 250 * Math.Pow(2, Math.Min(failures - 1, 10))) * (0.8 + Random.Shared.NextDouble() * 0.4));

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record Partial(string?[] Pieces, DateTimeOffset FirstSeen);
}

/// <summary>Starts and stops the PostgreSQL transport's loops when it is the configured one; nothing otherwise.</summary>
internal sealed class LiveEventTransportService(IOptions<LiveEventsOptions> options, IServiceProvider services) : IHostedService
{
    // Kept from the start: at stop the container may already be disposed (a test host torn down after a PostgreSQL
    // restart asked it for the stream and got ObjectDisposedException), and the stream's stop is shared with its disposal.
    private PostgreSqlPortalEventStream? _stream;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Transport == EventTransport.PostgreSql)
        {
            _stream = services.GetRequiredService<PostgreSqlPortalEventStream>();
            _stream.Start();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _stream?.StopAsync() ?? Task.CompletedTask;
}
