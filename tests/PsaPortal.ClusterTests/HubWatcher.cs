using System.Net.WebSockets;
using System.Text.Json;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Live;

namespace PsaPortal.ClusterTests;

/// <summary>One event as a node's status hub delivered it: when it arrived here, and what the publisher said.</summary>
internal sealed record HubEvent(string Node, DateTimeOffset ArrivedAt, string Kind, DateTimeOffset OccurredAt, JsonElement Data)
{
    public Guid? RunId => Data.TryGetProperty("runId", out var run) && run.ValueKind == JsonValueKind.String ? run.GetGuid() : null;

    public string? Status => Data.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String ? status.GetString() : null;

    public int? Done => Data.TryGetProperty("counts", out var counts) && counts.TryGetProperty("done", out var done) ? done.GetInt32() : null;

    /// <summary>Publish (<see cref="PortalEvent.OccurredAt"/>) to arrival on this node's hub: both clocks are this machine's.</summary>
    public TimeSpan Latency => ArrivedAt - OccurredAt;

    /// <summary>The same event seen on two nodes has the same identity: its kind, run, row, outcome and publish time.</summary>
    public string Identity =>
        $"{Kind}|{RunId}|{Field("itemId")}|{Field("outcome")}|{Field("attempts")}|{Status}|{OccurredAt.UtcTicks}";

    private string Field(string name) => Data.TryGetProperty(name, out var value) ? value.GetRawText() : "";
}

/// <summary>
/// An operator's view of one node: the status hub (<c>/hubs/status</c>, the relay of every event open pages get) with
/// a signed-in user's cookie, every event kept with its arrival time.
/// </summary>
internal sealed class HubWatcher : IAsyncDisposable
{
    private readonly SignalRJsonClient _client;
    private readonly Task _reading;
    private readonly List<HubEvent> _events = [];

    private HubWatcher(string node, SignalRJsonClient client)
    {
        Node = node;
        _client = client;
        _reading = ReadAsync();
    }

    public string Node { get; }

    public static async Task<HubWatcher> ConnectAsync(string node, string baseUrl, string cookie)
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Cookie", cookie);
        var client = await SignalRJsonClient.ConnectAsync(http, new Uri($"{baseUrl}{StatusHub.Path}"), async (uri, cancellationToken) =>
        {
            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Cookie", cookie);
            await socket.ConnectAsync(uri, cancellationToken);
            return socket;
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var first = await client.Invocations.ReadAsync(timeout.Token);
        if (first.Target != StatusHub.ReadyMethod)
        {
            throw new InvalidOperationException($"The status hub of {node} sent {first.Target} before ready.");
        }

        return new HubWatcher(node, client);
    }

    public IReadOnlyList<HubEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<HubEvent> EventsOf(Guid runId) => Events.Where(e => e.RunId == runId).ToList();

    /// <summary>Waits for an event that satisfies <paramref name="match"/> (already received or still to come).</summary>
    public async Task<HubEvent> WaitForAsync(Func<HubEvent, bool> match, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Events.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            if (_reading.IsCompleted)
            {
                throw new InvalidOperationException($"The status hub of {Node} closed before {what}.");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Node}'s status hub did not deliver {what} within {timeout.TotalSeconds:0} s ({Events.Count} events seen).");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _client.DisposeAsync();
            await _reading;
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // The node was killed under the socket.
        }
    }

    private async Task ReadAsync()
    {
        await foreach (var invocation in _client.Invocations.ReadAllAsync())
        {
            if (invocation.Target != StatusHub.EventMethod || invocation.Arguments.Length == 0)
            {
                continue;
            }

            var envelope = invocation.Arguments[0];
            var hubEvent = new HubEvent(Node, invocation.ReceivedAt, envelope.GetProperty("kind").GetString()!,
                envelope.GetProperty("occurredAt").GetDateTimeOffset(), envelope.GetProperty("data"));
            lock (_events)
            {
                _events.Add(hubEvent);
            }
        }
    }
}
