using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.ConnectWise;

namespace PsaPortal.Bench.Benchmarks;

/// <summary>
/// ConnectWise GETs of 1,000-row company pages over a large seeded site on loopback, latency knob at
/// zero. Reports client throughput and the sandbox's own time per request (from its request log:
/// routing, checks, filtering, paging and writing the JSON, minus injected delay).
/// Options: --requests 1000 --companies 10000 --pageSize 1000 --concurrency 4 --warmup 50.
/// </summary>
internal sealed class ConnectWiseCompaniesBenchmark : IBenchmark
{
    public string Name => "connectwise-companies";

    public string Description => "1,000 GETs of 1,000-row ConnectWise company pages over 10,000 seeded companies (in-process sandbox on loopback)";

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var requests = arguments.Int("requests", 1000);
        var companies = arguments.Int("companies", 10_000);
        var pageSize = arguments.Int("pageSize", 1000);
        var concurrency = Math.Max(1, arguments.Int("concurrency", 4));
        var warmup = arguments.Int("warmup", 50);

        var seeding = Stopwatch.StartNew();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddPsaSandbox(options =>
        {
            options.CompanyCount = companies;
            options.RequestLogCapacity = requests + warmup + 10;
        });
        await using var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.MapPsaSandbox();
        await app.StartAsync(cancellationToken);
        var sandbox = app.Services.GetRequiredService<PsaSandbox>();
        Console.WriteLine($"Sandbox seeded and listening in {seeding.ElapsedMilliseconds} ms with {sandbox.ConnectWise.Data.Companies.Count:N0} companies; latency {sandbox.ConnectWise.Settings.Faults.LatencyMilliseconds} ms.");

        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency })
        {
            BaseAddress = new Uri(new Uri(app.Urls.First()), "/sandbox/connectwise/v4_6_release/apis/3.0/"),
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ConnectWiseSandbox.CompanyId}+{ConnectWiseApiMember.Seeded[0].PublicKey}:{ConnectWiseApiMember.Seeded[0].PrivateKey}")));
        client.DefaultRequestHeaders.Add("clientId", ConnectWiseSandbox.SeededClientId);

        var pages = Math.Max(1, (companies + pageSize - 1) / pageSize);
        await RunRequestsAsync(client, warmup, pages, pageSize, concurrency, cancellationToken);
        sandbox.ConnectWise.RequestLog.Clear();

        var (bytes, clientLatencies, elapsed) = await RunRequestsAsync(client, requests, pages, pageSize, concurrency, cancellationToken);
        var log = sandbox.ConnectWise.RequestLog.Entries();
        var failures = log.Count(e => e.Status != 200);
        var overhead = log.Select(e => e.ElapsedMilliseconds - e.InjectedDelayMilliseconds).Order().ToArray();
        var client95 = clientLatencies.Order().ToArray();

        Console.WriteLine();
        Console.WriteLine($"connectwise-companies: {requests:N0} GET company/companies?pageSize={pageSize}&page=1..{pages}, concurrency {concurrency}");
        Console.WriteLine($"  wall time            {elapsed.TotalSeconds:F2} s");
        Console.WriteLine($"  throughput           {requests / elapsed.TotalSeconds:F1} requests/s, {requests * pageSize / elapsed.TotalSeconds:N0} rows/s, {bytes / elapsed.TotalSeconds / 1024 / 1024:F1} MiB/s");
        Console.WriteLine($"  response size        {bytes / (double)requests / 1024:F0} KiB average");
        Console.WriteLine($"  client latency       p50 {Percentile(client95, 0.50):F2} ms, p95 {Percentile(client95, 0.95):F2} ms");
        Console.WriteLine($"  sandbox overhead     mean {overhead.Average():F2} ms, p50 {Percentile(overhead, 0.50):F2} ms, p95 {Percentile(overhead, 0.95):F2} ms per request (server time incl. JSON writing, injected delay excluded)");
        Console.WriteLine($"  non-200 responses    {failures}");
        Console.WriteLine($"  machine              {Environment.ProcessorCount} logical cores, .NET {Environment.Version}");
        return failures == 0 && log.Count == requests ? 0 : 1;
    }

    private static async Task<(long Bytes, List<double> Latencies, TimeSpan Elapsed)> RunRequestsAsync(
        HttpClient client, int count, int pages, int pageSize, int concurrency, CancellationToken cancellationToken)
    {
        var next = -1;
        long bytes = 0;
        var latencies = new List<double>(count);
        var gate = new Lock();
        var total = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            var buffer = new byte[81920];
            int index;
            while ((index = Interlocked.Increment(ref next)) < count)
            {
                var started = Stopwatch.GetTimestamp();
                var page = index % pages + 1;
                using var response = await client.GetAsync(
                    string.Create(CultureInfo.InvariantCulture, $"company/companies?pageSize={pageSize}&page={page}"),
                    HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                long read = 0;
                int chunk;
                while ((chunk = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    read += chunk;
                }

                var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Interlocked.Add(ref bytes, read);
                lock (gate)
                {
                    latencies.Add(latency);
                }
            }
        });
        await Task.WhenAll(workers);
        return (bytes, latencies, total.Elapsed);
    }

    private static double Percentile(double[] sorted, double fraction) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(fraction * sorted.Length) - 1)];
}
