using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using PsaPortal.Integrations;
using PsaPortal.Testing;

namespace PsaPortal.Testing.Processes;

/// <summary>One call the sandbox answered, as its control API lists it.</summary>
internal sealed record SandboxRequest(long Sequence, string Method, string Path, int Status)
{
    /// <summary>A call that changes the PSA (queries sent as POST are reads).</summary>
    public bool IsWrite =>
        Method is "POST" or "PATCH" or "PUT" or "DELETE"
        && !Path.EndsWith("/query", StringComparison.OrdinalIgnoreCase)
        && !Path.EndsWith("/query/next", StringComparison.OrdinalIgnoreCase)
        && !Path.EndsWith("/query/count", StringComparison.OrdinalIgnoreCase)
        && !Path.EndsWith("/search", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The standalone PSA sandbox (<c>src/PsaPortal.Sandbox</c>) as its own process, so the simulated ConnectWise and
/// Autotask keep their state while the portal is killed and restarted. Its control API (<c>_sandbox</c>) is how the
/// tests read the PSA's tables and request log and set latency.
/// </summary>
internal sealed class SandboxProcess : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ChildProcess _process;
    private readonly HttpClient _http;

    private SandboxProcess(ChildProcess process, string baseUrl, int seed, int companyCount)
    {
        _process = process;
        BaseUrl = baseUrl;
        Seed = seed;
        CompanyCount = companyCount;
        _http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string BaseUrl { get; }

    public int Seed { get; }

    public int CompanyCount { get; }

    public string ConnectWiseSiteUrl => $"{BaseUrl}/sandbox/connectwise";

    public string AutotaskZoneDiscoveryUrl => $"{BaseUrl}/sandbox/autotask/atservicesrest/";

    public static async Task<SandboxProcess> StartAsync(int seed, int companyCount, string logPath)
    {
        var port = LoopbackPort.Free();
        var baseUrl = $"http://127.0.0.1:{port}";
        var process = ChildProcess.Start(BuildOutput.SandboxDll,
            ["--urls", baseUrl, "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--companies", companyCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--Logging:LogLevel:Default=Warning"],
            logPath);
        var sandbox = new SandboxProcess(process, baseUrl, seed, companyCount);
        await sandbox.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(90));
        return sandbox;
    }

    /// <summary>Latency per call (with jitter), no injected failures, no throttling: the runs must be long enough to be killed mid-way, and quick.</summary>
    public async Task SetLatencyAsync(PsaVendor vendor, int latencyMilliseconds, int jitterMilliseconds)
    {
        var settings = await GetJsonAsync(vendor, "settings");
        settings["faults"] = new JsonObject { ["latencyMilliseconds"] = latencyMilliseconds, ["jitterMilliseconds"] = jitterMilliseconds };
        if (vendor == PsaVendor.ConnectWise)
        {
            settings["rateLimitPerMinute"] = 0;
        }
        else
        {
            // A crash test makes far more calls in an hour than one run; Autotask's rolling hour is not what it tests.
            settings["hourlyThreshold"] = 10_000_000;
            settings["thresholdLatencyEnabled"] = false;
        }

        using var response = await _http.PutAsJsonAsync(ControlPath(vendor, "settings"), settings);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The vendor's tables as the sandbox holds them now (<c>GET _sandbox/data</c>).</summary>
    public async Task<JsonObject> GetDataAsync(PsaVendor vendor) => await GetJsonAsync(vendor, "data");

    /// <summary>Calls answered after <paramref name="afterSequence"/>, oldest first.</summary>
    public async Task<IReadOnlyList<SandboxRequest>> RequestsAfterAsync(PsaVendor vendor, long afterSequence, CancellationToken cancellationToken = default) =>
        await _http.GetFromJsonAsync<List<SandboxRequest>>($"{ControlPath(vendor, "requests")}?after={afterSequence}", Json, cancellationToken)
        ?? [];

    /// <summary>The sequence number of the newest logged call (0 before any).</summary>
    public async Task<long> LastSequenceAsync(PsaVendor vendor)
    {
        var all = await RequestsAfterAsync(vendor, 0);
        return all.Count == 0 ? 0 : all.Max(r => r.Sequence);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _process.StopAsync(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }

    private static string ControlPath(PsaVendor vendor, string path) =>
        $"/sandbox/{(vendor == PsaVendor.ConnectWise ? "connectwise" : "autotask")}/_sandbox/{path}";

    private async Task<JsonObject> GetJsonAsync(PsaVendor vendor, string path)
    {
        using var response = await _http.GetAsync(ControlPath(vendor, path));
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStreamAsync()) as JsonObject
            ?? throw new InvalidOperationException($"GET {ControlPath(vendor, path)} did not answer a JSON object.");
    }

    private async Task WaitUntilAnsweringAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("The sandbox process exited during start-up; see its log.");
            }

            try
            {
                using var response = await _http.GetAsync(ControlPath(PsaVendor.ConnectWise, "settings"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The sandbox did not answer at {BaseUrl} within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(100);
        }
    }
}
