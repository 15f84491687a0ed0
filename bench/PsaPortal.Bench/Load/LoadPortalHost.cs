using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Testing;
using PsaPortal.Testing.Processes;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Live;

namespace PsaPortal.Bench.Load;

/// <summary>
/// The load benchmark's portal process (<c>PsaPortal.Bench.dll load-portal</c>, started by <c>load</c> through
/// <see cref="LoadPortalProcess"/>, not by hand): the real portal (its own Program through <see cref="PortalFactory"/>)
/// on Kestrel and the SQLite data folder the harness seeded, and nothing else of the benchmark, so the working set and
/// CPU of this process are the portal's own. Its built-in sandbox is on only because the site policy allows a plain-http
/// loopback PSA only then (as for the crash tests' portal); it holds the minimum of companies and nobody calls it — the
/// PSA is the sandbox in the harness. The process reports on its standard output, one line each, prefixed
/// <see cref="Prefix"/>: <c>ready</c>; <c>stamp</c> runId done total timestamp for every published done count (its
/// <see cref="Stopwatch.GetTimestamp"/> taken first thing in the first subscriber of Publish, as the in-process
/// benchmark did); <c>finished</c> and the run's BillingRunFinished envelope; and the answers to the commands it reads on
/// its standard input: <c>sync</c> vendor (Sync now as the organization's Admin: <c>started</c> runId or <c>refused</c>
/// message), <c>runtime</c> (the largest managed heap, thread count and work-item queue it saw) and <c>stop</c>. Its
/// standard input closing — the harness ended, however it ended — stops it too.
/// </summary>
internal sealed class LoadPortalHost : IBenchmark
{
    public const string Prefix = "@load ";

    public string Name => "load-portal";

    public string Description => "the portal process of load (started by load, not by hand)";

    /// <summary>
    /// The portal as the load benchmark runs it, on <paramref name="dataDirectory"/>: the harness seeds through this host
    /// (in memory, then disposed) and the portal process serves through the same settings.
    /// </summary>
    public static PortalFactory CreatePortal(string dataDirectory, int sessions, int cwLimit, string? circuitLog) =>
        new(new PortalDatabase.Sqlite(), new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = dataDirectory,
            ["Sandbox:Enabled"] = "true",
            ["Sandbox:CompanyCount"] = SandboxSeedData.MinimumCompanyCount.ToString(CultureInfo.InvariantCulture),
            ["Sandbox:SnapshotPath"] = "",
            ["Psa:ConnectWiseRequestsPerMinute"] = cwLimit.ToString(CultureInfo.InvariantCulture),
            // Every session signs in from 127.0.0.1; real operators come from their own addresses.
            ["RateLimiting:SignInPerAddress"] = Math.Max(30, sessions * 4).ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.Components.Server"] = circuitLog ?? "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.SignalR"] = circuitLog ?? "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.Http.Connections"] = circuitLog ?? "Warning",
        });

    /// <summary>The organization's Admin, as the harness's Sync now and API key act.</summary>
    public static ClaimsPrincipal Admin(Guid organizationId) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, "load"), new Claim(ClaimTypes.Name, "load@msp.example"),
            new Claim(ClaimTypes.Role, PortalRoles.Admin), new Claim(PortalClaims.OrganizationId, organizationId.ToString()),
        ],
        "Bench"));

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var dataDirectory = arguments.String("data") ?? throw new ArgumentException("--data <the seeded data folder> is required.");
        var organizationId = Guid.Parse(arguments.String("organization") ?? throw new ArgumentException("--organization <id> is required."));
        var port = arguments.Int("port", 0);
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        await using var portal = CreatePortal(dataDirectory, arguments.Int("sessions", 50), arguments.Int("cw-limit", 1_000), arguments.String("circuit-log"));
        portal.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        portal.StartServer();

        // Lines go out in the order they were stamped, written by one task so a publisher never waits on the pipe.
        var lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        var writing = WriteLinesAsync(lines.Reader);
        void Report(string line) => lines.Writer.TryWrite(Prefix + line);
        using var subscription = portal.Services.GetRequiredService<IPortalEventStream>().Subscribe(organizationId, e =>
        {
            switch (e)
            {
                case BillingRunItemChanged item:
                    Report(string.Create(CultureInfo.InvariantCulture, $"stamp {item.RunId} {item.Counts.Done} {item.Counts.Total} {Stopwatch.GetTimestamp()}"));
                    break;
                case BillingRunFinished finished:
                    Report($"finished {JsonSerializer.Serialize(finished.ToEnvelope(), JsonSerializerOptions.Web)}");
                    break;
            }

            return Task.CompletedTask;
        });

        using var runtime = new RuntimeSampler();
        var runs = portal.Services.GetRequiredService<IBillingRuns>();
        Report(string.Create(CultureInfo.InvariantCulture, $"ready {Stopwatch.Frequency}"));
        while (await Console.In.ReadLineAsync(cancellationToken) is { } command && command != "stop")
        {
            var words = command.Split(' ', 2);
            switch (words[0])
            {
                case "sync":
                    var started = await runs.SyncNowAsync(Admin(organizationId), Enum.Parse<PsaVendor>(words[1]), cancellationToken);
                    Report(started is { Accepted: true, RunId: { } runId } ? $"started {runId}" : $"refused {started.Message}");
                    break;
                case "runtime":
                    Report(string.Create(CultureInfo.InvariantCulture, $"runtime {runtime.HeapMax} {runtime.ThreadsMax} {runtime.QueuedMax} {runtime.CommittedMax} {SQLitePCL.raw.sqlite3_memory_highwater(0)}"));
                    break;
                default:
                    Report($"refused unknown command {command}");
                    break;
            }
        }

        lines.Writer.Complete();
        await writing;
        return 0;
    }

    private static async Task WriteLinesAsync(ChannelReader<string> lines)
    {
        await foreach (var line in lines.ReadAllAsync())
        {
            await Console.Out.WriteLineAsync(line);
        }
    }

    /// <summary>
    /// This process's largest managed heap (allocated, and committed by the GC), thread-pool size and queue of waiting
    /// work items, every second: a starved pool shows here first.
    /// </summary>
    private sealed class RuntimeSampler : IDisposable
    {
        private readonly Timer _timer;

        public RuntimeSampler() => _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));

        public long HeapMax { get; private set; }

        public int ThreadsMax { get; private set; }

        public long QueuedMax { get; private set; }

        public long CommittedMax { get; private set; }

        public void Dispose() => _timer.Dispose();

        private void Sample()
        {
            HeapMax = Math.Max(HeapMax, GC.GetTotalMemory(forceFullCollection: false));
            CommittedMax = Math.Max(CommittedMax, GC.GetGCMemoryInfo().TotalCommittedBytes);
            ThreadsMax = Math.Max(ThreadsMax, ThreadPool.ThreadCount);
            QueuedMax = Math.Max(QueuedMax, ThreadPool.PendingWorkItemCount);
        }
    }
}

/// <summary>
/// The harness's side of <see cref="LoadPortalHost"/>: starts it as a child process (<see cref="ChildProcess"/>, this
/// same build of the benchmark, so a Release harness runs a Release portal), hands its stamps and finished runs to the
/// callbacks, and sends it commands. Disposing kills it; if the harness dies first, the child's standard input closes
/// and it stops by itself.
/// </summary>
internal sealed class LoadPortalProcess : IDisposable
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromMinutes(2);

    private readonly Channel<string> _answers = Channel.CreateUnbounded<string>();
    private readonly SemaphoreSlim _oneCommand = new(1, 1);
    private readonly Action<Guid, int, int, long> _published;
    private readonly Action<BillingRunFinished> _finished;
    private ChildProcess _process = null!;

    private LoadPortalProcess(string baseUrl, Action<Guid, int, int, long> published, Action<BillingRunFinished> finished)
    {
        BaseUrl = baseUrl;
        _published = published;
        _finished = finished;
    }

    public string BaseUrl { get; }

    public int ProcessId => _process.Id;

    /// <summary>
    /// Starts the portal on the seeded <paramref name="dataDirectory"/> and returns once it serves; <paramref name="published"/>
    /// receives each stamp (run, done, total, Stopwatch timestamp) and <paramref name="finished"/> each finished run.
    /// </summary>
    public static async Task<LoadPortalProcess> StartAsync(
        string dataDirectory, Guid organizationId, int sessions, int cwLimit, string? circuitLog, string logPath,
        Action<Guid, int, int, long> published, Action<BillingRunFinished> finished, int? heapLimitMegabytes = null, int mallocArenas = 0)
    {
        // The portal's environment as its deployment sets it; the harness's own stays as it is.
        var variables = new Dictionary<string, string>();
        if (heapLimitMegabytes is { } limit)
        {
            variables["DOTNET_GCHeapHardLimit"] = ((long)limit * 1024 * 1024).ToString("X", CultureInfo.InvariantCulture);
        }

        if (mallocArenas > 0)
        {
            variables["MALLOC_ARENA_MAX"] = mallocArenas.ToString(CultureInfo.InvariantCulture);
        }

        var port = LoopbackPort.Free();
        var portal = new LoadPortalProcess($"http://127.0.0.1:{port}", published, finished);
        portal._process = ChildProcess.Start(typeof(LoadPortalHost).Assembly.Location,
        [
            "load-portal", "--data", dataDirectory, "--organization", organizationId.ToString(), "--port", port.ToString(CultureInfo.InvariantCulture),
            "--sessions", sessions.ToString(CultureInfo.InvariantCulture), "--cw-limit", cwLimit.ToString(CultureInfo.InvariantCulture),
            .. circuitLog is null ? Array.Empty<string>() : new[] { "--circuit-log", circuitLog },
        ], logPath, standardOutput: portal.Read,
            variables: variables);
        try
        {
            var ready = await portal.AnswerAsync(TimeSpan.FromMinutes(5));
            if (ready != string.Create(CultureInfo.InvariantCulture, $"ready {Stopwatch.Frequency}"))
            {
                throw new InvalidOperationException($"The portal process answered '{ready}' instead of ready with this process's Stopwatch frequency {Stopwatch.Frequency}.");
            }
        }
        catch
        {
            portal.Dispose();
            throw;
        }

        return portal;
    }

    /// <summary>Sync now as the organization's Admin; the new run's id.</summary>
    public async Task<Guid> SyncNowAsync(PsaVendor vendor)
    {
        var answer = await CommandAsync($"sync {vendor}");
        return answer.StartsWith("started ", StringComparison.Ordinal)
            ? Guid.Parse(answer["started ".Length..])
            : throw new InvalidOperationException($"Sync now: {answer}");
    }

    /// <summary>
    /// The portal process's largest managed heap and GC-committed memory (bytes), thread-pool size and work-item queue so
    /// far, and the most native memory SQLite held at once (its page caches and statements; bytes).
    /// </summary>
    public async Task<(long HeapMax, int ThreadsMax, long QueuedMax, long CommittedMax, long SqliteMax)> RuntimeAsync()
    {
        var words = (await CommandAsync("runtime")).Split(' ');
        return (long.Parse(words[1], CultureInfo.InvariantCulture), int.Parse(words[2], CultureInfo.InvariantCulture), long.Parse(words[3], CultureInfo.InvariantCulture),
            long.Parse(words[4], CultureInfo.InvariantCulture), long.Parse(words[5], CultureInfo.InvariantCulture));
    }

    /// <summary>Asks it to stop (the portal shuts down as a host does) and waits up to 20 s; <see cref="Dispose"/> kills it if it is still there.</summary>
    public async Task StopAsync()
    {
        _process.WriteLine("stop");
        var waited = Stopwatch.StartNew();
        while (!_process.HasExited && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        _oneCommand.Dispose();
    }

    private void Read(string line)
    {
        if (!line.StartsWith(LoadPortalHost.Prefix, StringComparison.Ordinal))
        {
            return;
        }

        var report = line[LoadPortalHost.Prefix.Length..];
        if (report.StartsWith("stamp ", StringComparison.Ordinal))
        {
            var words = report.Split(' ');
            _published(Guid.Parse(words[1]), int.Parse(words[2], CultureInfo.InvariantCulture), int.Parse(words[3], CultureInfo.InvariantCulture),
                long.Parse(words[4], CultureInfo.InvariantCulture));
        }
        else if (report.StartsWith("finished ", StringComparison.Ordinal))
        {
            var envelope = JsonSerializer.Deserialize<PortalEventEnvelope>(report["finished ".Length..], JsonSerializerOptions.Web)!;
            _finished((BillingRunFinished)PortalEventJson.FromEnvelope(envelope)!);
        }
        else
        {
            _answers.Writer.TryWrite(report);
        }
    }

    private async Task<string> CommandAsync(string command)
    {
        await _oneCommand.WaitAsync();
        try
        {
            _process.WriteLine(command);
            return await AnswerAsync(AnswerTimeout);
        }
        finally
        {
            _oneCommand.Release();
        }
    }

    private async Task<string> AnswerAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        while (!wait.IsCancellationRequested)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("The portal process exited; see its log.");
            }

            using var poll = CancellationTokenSource.CreateLinkedTokenSource(wait.Token);
            poll.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                return await _answers.Reader.ReadAsync(poll.Token);
            }
            catch (OperationCanceledException) when (!wait.IsCancellationRequested)
            {
                // Still waiting: look again whether the process is alive.
            }
        }

        throw new TimeoutException($"The portal process did not answer within {timeout.TotalSeconds:0} s.");
    }
}
