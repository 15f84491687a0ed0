using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PsaPortal.Testing;

namespace PsaPortal.Bench.Load;

/// <summary>
/// One signed-in operator with a live Blazor Server circuit, driven over the protocol instead of a browser: sign in
/// with the sign-in form (cookie), GET a page (prerendered HTML with its <c>&lt;!--Blazor:{…}--&gt;</c> markers), open
/// <c>/_blazor</c> with blazorpack and start the circuit the way blazor.web.js does (<c>StartCircuit</c> with no
/// components, then <c>UpdateRootComponents</c> adding each server marker), acknowledge every render batch with
/// <c>OnRenderCompleted</c> and answer every JS interop call with success, so Radzen's calls never hang. Render
/// batches are handed to <see cref="BatchReceived"/> with the moment they arrived; circuit errors and disconnects
/// are counted.
/// </summary>
internal sealed partial class BlazorSession(string baseUrl, string name) : IAsyncDisposable
{
    private readonly CookieContainer _cookies = new();
    private HttpClient? _http;
    private HubConnection? _hub;
    private string? _circuitId;
    private bool _closing;
    private TaskCompletionSource<bool>? _ready;
    private Func<RenderBatchReader, bool>? _readyWhen;

    public string Name { get; } = name;

    /// <summary>Called for each render batch: the Stopwatch timestamp it arrived at, and its strings and attributes.</summary>
    public Action<BlazorSession, long, RenderBatchReader>? BatchReceived { get; set; }

    public int Batches { get; private set; }

    public long BatchBytes { get; private set; }

    public int InteropCalls { get; private set; }

    /// <summary>Circuit errors (<c>JS.Error</c>), unexpected disconnects and failed acknowledgements, in words.</summary>
    public List<string> Errors { get; } = [];

    public async Task SignInAsync(string email, string password)
    {
        _http = new HttpClient(new HttpClientHandler { CookieContainer = _cookies, AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(2) };
        var (response, document) = await new PortalBrowser(_http).SignInAsync(email, password);
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString.Contains("/account/login", StringComparison.Ordinal) == true)
        {
            throw new InvalidOperationException($"Sign-in as {email} answered {(int)response.StatusCode}: {document.QuerySelector("[data-testid=login-error]")?.TextContent ?? "no redirect"}");
        }
    }

    /// <summary>
    /// GETs <paramref name="path"/>, starts its circuit and waits for the first render batch that
    /// <paramref name="ready"/> accepts (the page showing its content, not a loading spinner). Returns the time from the
    /// GET to the first render batch, and to that ready one.
    /// </summary>
    public async Task<(TimeSpan FirstBatch, TimeSpan Ready)> OpenAsync(string path, Func<RenderBatchReader, bool> ready, CancellationToken cancellationToken)
    {
        if (_http is null)
        {
            throw new InvalidOperationException("Sign in first.");
        }

        var started = Stopwatch.GetTimestamp();
        long? firstBatch = null;
        using var page = await _http.GetAsync(path, cancellationToken);
        var html = await page.Content.ReadAsStringAsync(cancellationToken);
        if (page.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {path} answered {(int)page.StatusCode}.");
        }

        var markers = Markers().Matches(html).Select(m => JsonNode.Parse(m.Groups[1].Value)!.AsObject()).Where(m => (string?)m["type"] == "server").ToList();
        if (markers.Count == 0)
        {
            throw new InvalidOperationException($"GET {path} holds no interactive server component marker.");
        }

        var state = ServerState().Match(html) is { Success: true } found ? found.Groups[1].Value : "";

        _ready = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _readyWhen = ready;
        _closing = false;
        var builder = new HubConnectionBuilder()
            .WithUrl(new Uri(new Uri(baseUrl), "/_blazor"), options =>
            {
                options.Cookies = _cookies;
                options.Transports = HttpTransportType.WebSockets;
            });
        builder.Services.AddSingleton<IHubProtocol>(new BlazorPackHubProtocol());
        // The client's own warnings (an invocation it could not bind, a handler that threw) are errors of this session.
        builder.Services.AddLogging(logging => logging.AddProvider(new ErrorLogger(this)));
        var hub = builder.Build();
        hub.ServerTimeout = TimeSpan.FromMinutes(2);
        _hub = hub;
        hub.On<long, byte[]>("JS.RenderBatch", async (batchId, bytes) =>
        {
            var arrived = Stopwatch.GetTimestamp();
            firstBatch ??= arrived;
            Batches++;
            BatchBytes += bytes.Length;
            try
            {
                var batch = RenderBatchReader.Read(bytes);
                BatchReceived?.Invoke(this, arrived, batch);
                if (_readyWhen is { } when && when(batch))
                {
                    _readyWhen = null;
                    _ready.TrySetResult(true);
                }
            }
            catch (Exception exception) when (exception is FormatException or ArgumentException or IndexOutOfRangeException)
            {
                Fail($"render batch {batchId} could not be read: {exception.Message}");
            }

            await hub.SendAsync("OnRenderCompleted", batchId, null);
        });
        // .NET 10 sends a sixth argument, the call type (function call, new, get or set), which blazor.web.js 9 ignores.
        hub.On<long, string, string, int, long, int>("JS.BeginInvokeJS", async (asyncHandle, identifier, argsJson, resultType, targetInstanceId, callType) =>
        {
            InteropCalls++;
            if (asyncHandle != 0)
            {
                // What blazor.web.js sends on success: [handle, true, result], with what a desktop browser in UTC answers.
                await hub.SendAsync("EndInvokeJSFromDotNet", asyncHandle, true, $"[{asyncHandle},true,{BrowserAnswer(identifier)}]");
            }
        });
        // Root components of a Blazor Web App are attached by the client itself; nothing to do for either message.
        hub.On<int, string>("JS.AttachComponent", (componentId, selector) => { });
        hub.On<long>("JS.EndUpdateRootComponents", batchId => { });
        hub.On<string>("JS.Error", message =>
        {
            Fail($"circuit error: {message}");
            _ready.TrySetException(new InvalidOperationException($"The circuit failed: {message}"));
        });
        hub.Closed += exception =>
        {
            if (!_closing)
            {
                Fail($"disconnected{(exception is null ? "" : ": " + exception.Message)}");
                _ready.TrySetException(new InvalidOperationException("The circuit's connection closed.", exception));
            }

            return Task.CompletedTask;
        };

        await hub.StartAsync(cancellationToken);
        var pageUri = new Uri(new Uri(baseUrl), path).ToString();
        _circuitId = await hub.InvokeAsync<string?>("StartCircuit", new Uri(new Uri(baseUrl), "/").ToString(), pageUri, "[]", state, cancellationToken)
            ?? throw new InvalidOperationException($"StartCircuit for {path} answered no circuit id.");
        var operations = new JsonObject
        {
            ["batchId"] = 1,
            ["operations"] = new JsonArray(markers.Select((marker, index) => (JsonNode)new JsonObject
            {
                ["type"] = "add",
                ["ssrComponentId"] = index + 1,
                ["marker"] = marker.DeepClone(),
            }).ToArray()),
        };
        await hub.SendAsync("UpdateRootComponents", operations.ToJsonString(), state, cancellationToken);
        await _ready.Task.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
        var readyAt = Stopwatch.GetTimestamp();
        return (Stopwatch.GetElapsedTime(started, firstBatch ?? readyAt), Stopwatch.GetElapsedTime(started, readyAt));
    }

    /// <summary>Closes the circuit as a closing tab does: the connection stops and the disconnect beacon disposes the circuit at once.</summary>
    public async Task CloseAsync()
    {
        _closing = true;
        if (_hub is { } hub)
        {
            _hub = null;
            await hub.DisposeAsync();
        }

        if (_circuitId is { } circuitId && _http is not null)
        {
            _circuitId = null;
            using var response = await _http.PostAsync("/_blazor/disconnect", new FormUrlEncodedContent([new("circuitId", circuitId)]));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _http?.Dispose();
    }

    /// <summary>
    /// The JSON a browser's function returns, for the calls whose caller reads the result (the portal's time zone,
    /// Radzen's media queries and cookies); null for the rest, which return nothing or nothing the server reads.
    /// </summary>
    private static string BrowserAnswer(string identifier) => identifier switch
    {
        "psaPortal.timeZone" => "\"UTC\"",
        "Radzen.mediaQuery" => "false",
        "Radzen.getCookies" => "\"\"",
        _ => "null",
    };

    private void Fail(string message)
    {
        // What a connection says while this session closes it is not an error of the portal's.
        if (_closing)
        {
            return;
        }

        lock (Errors)
        {
            Errors.Add($"{Name} at {DateTime.UtcNow:HH:mm:ss.fff}: {message}");
        }
    }

    private sealed class ErrorLogger(BlazorSession session) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                session.Fail($"client {logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
            }
        }
    }

    [GeneratedRegex("<!--Blazor:(\\{.*?\\})-->", RegexOptions.Singleline)]
    private static partial Regex Markers();

    [GeneratedRegex("<!--Blazor-Server-Component-State:([A-Za-z0-9+/=]+)-->")]
    private static partial Regex ServerState();
}
