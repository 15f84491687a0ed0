using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;
using PsaPortal.Testing;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>What a webhook receiver got, and whether the signature checked out by the receiver's own HMAC code.</summary>
internal sealed record ReceivedWebhook(string Path, string Body, string? Timestamp, string? Signature, string? Delivery, string? Event, bool Verified);

/// <summary>
/// A webhook receiver on a real Kestrel port (127.0.0.1, port chosen by the OS), written the way a customer would write
/// one: it recomputes HMAC-SHA256 over "{timestamp}.{body}" with its own copy of the secret, compares in constant time,
/// refuses a timestamp outside a five-minute window, and answers 401 when either check fails. Tests queue the status
/// codes it answers with (200 once the queue is empty) and read what it received.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    public static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(5);

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Func<HttpContext, Task<IResult>>> _answers = new();
    private readonly Channel<ReceivedWebhook> _arrivals = Channel.CreateUnbounded<ReceivedWebhook>();

    private WebhookReceiver(WebApplication app, string secret)
    {
        _app = app;
        Secret = secret;
    }

    public string Secret { get; }

    public string BaseUrl { get; private set; } = "";

    public string Url => BaseUrl + "/hook";

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public static async Task<WebhookReceiver> StartAsync(string secret)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, secret);
        app.MapPost("/{**path}", (Func<HttpContext, Task<IResult>>)receiver.ReceiveAsync);
        await app.StartAsync();
        receiver.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        return receiver;
    }

    /// <summary>The next requests are answered with these status codes, in order.</summary>
    public void AnswerWith(params int[] statusCodes)
    {
        foreach (var code in statusCodes)
        {
            _answers.Enqueue(_ => Task.FromResult(Results.StatusCode(code)));
        }
    }

    /// <summary>The next request is answered 200 only after <paramref name="delay"/> (or when the sender gives up).</summary>
    public void AnswerAfter(TimeSpan delay) =>
        _answers.Enqueue(async context =>
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }

            return Results.Ok();
        });

    public void RedirectTo(int statusCode, string location) =>
        _answers.Enqueue(context =>
        {
            context.Response.Headers.Location = location;
            return Task.FromResult(Results.StatusCode(statusCode));
        });

    /// <summary>The next arrival, or a clear failure when none comes within the deadline.</summary>
    public async Task<ReceivedWebhook> NextAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        return await _arrivals.Reader.ReadAsync(deadline.Token);
    }

    /// <summary>The receiver's own check, independent of the portal's code.</summary>
    public static bool Verify(string secret, string? timestamp, string body, string? signature, DateTimeOffset now)
    {
        if (timestamp is null || signature is null || !signature.StartsWith("sha256=", StringComparison.Ordinal)
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > ReplayWindow)
        {
            return false;
        }

        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(secret));
        var expected = hmac.ComputeHash(Encoding.UTF8.GetBytes(timestamp + "." + body));
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature["sha256=".Length..]);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private async Task<IResult> ReceiveAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var headers = context.Request.Headers;
        var timestamp = headers["X-PsaPortal-Timestamp"].FirstOrDefault();
        var signature = headers["X-PsaPortal-Signature"].FirstOrDefault();
        var verified = Verify(Secret, timestamp, body, signature, DateTimeOffset.UtcNow);
        var arrival = new ReceivedWebhook(context.Request.Path, body, timestamp, signature, headers["X-PsaPortal-Delivery"].FirstOrDefault(),
            headers["X-PsaPortal-Event"].FirstOrDefault(), verified);
        Received.Enqueue(arrival);
        _arrivals.Writer.TryWrite(arrival);
        if (!verified)
        {
            return Results.Unauthorized();
        }

        return _answers.TryDequeue(out var answer) ? await answer(context) : Results.Ok();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A message the test SMTP server accepted: the envelope's recipients and the parsed MIME message.</summary>
internal sealed record ReceivedMail(IReadOnlyList<string> EnvelopeTo, MimeMessage Message)
{
    public string Text => Message.TextBody ?? "";

    public string Html => Message.HtmlBody ?? "";
}

/// <summary>
/// A real SMTP server (the SmtpServer package) on a free 127.0.0.1 port, speaking to the portal's System.Net.Mail
/// client over TCP. What it receives is parsed with MimeKit. <see cref="RefuseWith"/> makes it answer DATA with an error.
/// </summary>
internal sealed class SmtpReceiver : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SmtpServer.SmtpServer _server;
    private readonly Task _running;
    private readonly Store _store = new();

    private SmtpReceiver(int port)
    {
        Port = port;
        var options = new SmtpServerOptionsBuilder()
            .ServerName("smtp.test")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(_store);
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
    }

    public int Port { get; }

    public static async Task<SmtpReceiver> StartAsync()
    {
        var receiver = new SmtpReceiver(LoopbackPort.Free());
        await receiver.WaitUntilListeningAsync();
        return receiver;
    }

    /// <summary>From now on the server refuses each message with this reply (e.g. 554 and its text).</summary>
    public void RefuseWith(SmtpReplyCode code, string text) => _store.Refusal = new SmtpResponse(code, text);

    public async Task<ReceivedMail> NextAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        return await _store.Arrivals.Reader.ReadAsync(deadline.Token);
    }

    public int Count => _store.Count;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _server.Shutdown();
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_running.IsCompleted)
            {
                await Task.Delay(50);
            }
        }
    }

    private sealed class Store : MessageStore
    {
        private int _count;

        public Channel<ReceivedMail> Arrivals { get; } = Channel.CreateUnbounded<ReceivedMail>();

        public SmtpResponse? Refusal { get; set; }

        public int Count => Volatile.Read(ref _count);

        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            if (Refusal is { } refusal)
            {
                return Task.FromResult(refusal);
            }

            using var stream = new MemoryStream(buffer.ToArray());
            var message = MimeMessage.Load(stream, cancellationToken);
            Interlocked.Increment(ref _count);
            Arrivals.Writer.TryWrite(new ReceivedMail(transaction.To.Select(m => $"{m.User}@{m.Host}").ToList(), message));
            return Task.FromResult(SmtpResponse.Ok);
        }
    }
}
