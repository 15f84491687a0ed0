using System.Globalization;
using PsaPortal.Testing;

namespace PsaPortal.Testing.Processes;

/// <summary>
/// The portal (<c>dotnet PsaPortal.Web.dll</c>) as a child process on a data folder of the test's: its SQLite file and
/// Data Protection key ring live there, so a restarted process finds the database and can decrypt the PSA secrets
/// the harness stored. The built-in sandbox is switched on only because the site policy allows plain http to a
/// loopback PSA only then; the integrations point at the standalone sandbox, never at this one.
/// </summary>
internal sealed class PortalProcess : IDisposable
{
    private readonly ChildProcess _process;
    private readonly HttpClient _http;

    private PortalProcess(ChildProcess process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
        _http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string BaseUrl { get; }

    public bool HasExited => _process.HasExited;

    public int ProcessId => _process.Id;

    /// <summary>
    /// Starts the portal; with a <paramref name="timeout"/>, returns once <c>/health/live</c> answers (the database is
    /// migrated and seeded by then), without one as soon as the process runs. <paramref name="settings"/> (e.g.
    /// <c>Database:Provider</c>, <c>Scheduler:Clustered</c>) are passed after the defaults below, so they override them.
    /// <paramref name="environment"/>: see <see cref="ChildProcess.Start"/> (Development serves the build's scripts to a browser).
    /// </summary>
    public static async Task<PortalProcess> StartAsync(
        string dataDirectory, string logPath, TimeSpan? timeout, IReadOnlyDictionary<string, string>? settings = null, string environment = "Production")
    {
        var port = LoopbackPort.Free();
        var baseUrl = $"http://127.0.0.1:{port}";
        var process = ChildProcess.Start(BuildOutput.PortalDll,
        [
            "--urls", baseUrl,
            $"--Storage:DataDirectory={dataDirectory}",
            "--Database:Provider=Sqlite",
            "--Sandbox:Enabled=true",
            $"--Sandbox:CompanyCount={PsaPortal.Sandbox.Seed.SandboxSeedData.MinimumCompanyCount.ToString(CultureInfo.InvariantCulture)}",
            "--Sandbox:SnapshotPath=",
            // The sandbox's throttling is off in these tests, so the client's budget need not pace the run.
            "--Psa:ConnectWiseRequestsPerMinute=100000",
            // More writes in flight at once than the default 4: more of them are cut off by a kill.
            "--Billing:MaxConcurrentCalls=8",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:PsaPortal=Information",
            .. (settings ?? new Dictionary<string, string>()).Select(s => $"--{s.Key}={s.Value}"),
        ], logPath, environment);
        var portal = new PortalProcess(process, baseUrl);
        if (timeout is { } wait)
        {
            try
            {
                await portal.WaitUntilLiveAsync(wait);
            }
            catch
            {
                // A portal that never came up must not outlive the test.
                portal.Dispose();
                throw;
            }
        }

        return portal;
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200 (the database answers and the node takes work).</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The portal at {BaseUrl} exited; see its log.");
            }

            try
            {
                using var response = await _http.GetAsync("/health/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // Not answering yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The portal at {BaseUrl} was not ready within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL, with its whole process tree.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM, as a deployment stops a node; killed after 20 s.</summary>
    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(20));

    public void Dispose()
    {
        _http.Dispose();
        _process.Dispose();
    }

    private async Task WaitUntilLiveAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("The portal process exited during start-up; see its log.");
            }

            try
            {
                using var response = await _http.GetAsync("/health/live");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The portal did not answer /health/live at {BaseUrl} within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(100);
        }
    }
}
