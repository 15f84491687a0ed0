using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace PsaPortal.Testing;

/// <summary>
/// Just enough of the SignalR JSON hub protocol to watch a hub: negotiate, WebSocket, handshake, then invocation
/// messages as they arrive. The feed lacks Microsoft.AspNetCore.Http.Connections.Client, so the official .NET client
/// (Microsoft.AspNetCore.SignalR.Client) cannot restore here (docs/adr/0006-hub-tests-without-the-signalr-client.md).
/// </summary>
public sealed class SignalRJsonClient : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';
    private readonly WebSocket _socket;
    private readonly Channel<HubInvocation> _invocations = Channel.CreateUnbounded<HubInvocation>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;

    private SignalRJsonClient(WebSocket socket)
    {
        _socket = socket;
        _receiving = ReceiveAsync();
    }

    /// <summary>Invocations the server sent (<c>Clients.X.SendAsync(target, args)</c>), in order.</summary>
    public ChannelReader<HubInvocation> Invocations => _invocations.Reader;

    /// <summary>Negotiates with <paramref name="http"/> (which carries the caller's cookie) and opens the WebSocket.</summary>
    public static async Task<SignalRJsonClient> ConnectAsync(
        HttpClient http, Uri hubUrl, Func<Uri, CancellationToken, Task<WebSocket>> openWebSocket, CancellationToken cancellationToken = default)
    {
        using var negotiation = await http.PostAsync(new Uri(hubUrl + "/negotiate?negotiateVersion=1"), content: null, cancellationToken);
        if (negotiation.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"Negotiation with {hubUrl} answered {(int)negotiation.StatusCode}.", null, negotiation.StatusCode);
        }

        using var body = JsonDocument.Parse(await negotiation.Content.ReadAsStringAsync(cancellationToken));
        var token = body.RootElement.GetProperty("connectionToken").GetString();
        var socketUrl = new UriBuilder(hubUrl) { Scheme = hubUrl.Scheme == "https" ? "wss" : "ws", Query = $"id={token}" }.Uri;
        var socket = await openWebSocket(socketUrl, cancellationToken);
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}" + RecordSeparator),
            WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        var client = new SignalRJsonClient(socket);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _receiving;
        }
        catch (OperationCanceledException)
        {
        }

        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[16 * 1024];
        var pending = new StringBuilder();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                pending.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
                var text = pending.ToString();
                var last = text.LastIndexOf(RecordSeparator);
                if (last < 0)
                {
                    continue;
                }

                pending.Clear().Append(text[(last + 1)..]);
                foreach (var record in text[..last].Split(RecordSeparator))
                {
                    Dispatch(record);
                }
            }
        }
        finally
        {
            _invocations.Writer.TryComplete();
        }
    }

    private void Dispatch(string record)
    {
        using var message = JsonDocument.Parse(record);
        // The handshake answer has no type; 1 is an invocation, 6 a ping, 7 a close.
        if (message.RootElement.TryGetProperty("type", out var type) && type.GetInt32() == 1)
        {
            _invocations.Writer.TryWrite(new HubInvocation(
                message.RootElement.GetProperty("target").GetString()!,
                message.RootElement.GetProperty("arguments").EnumerateArray().Select(a => a.Clone()).ToArray()));
        }
    }
}

public sealed record HubInvocation(string Target, JsonElement[] Arguments)
{
    /// <summary>When the client parsed the message off the socket (UTC), for latency figures.</summary>
    public DateTimeOffset ReceivedAt { get; init; } = DateTimeOffset.UtcNow;
}
