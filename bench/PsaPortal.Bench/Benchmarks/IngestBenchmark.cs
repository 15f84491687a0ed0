using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Bench.Benchmarks;

/// <summary>
/// The ingest API end to end: 10,000 tenants, then their usage of two products (20,000 reports), pushed in batches
/// over real HTTP to the portal on a Kestrel loopback port, on SQLite in a temporary folder; then the same usage again
/// (everything unchanged). The portal runs in this process, so the peak memory is the portal's and the client's
/// together. Options: --tenants 10000 --batch 1000. With --concurrent-rps N it measures many small batches instead: after
/// the tenants are stored, N usage batches of --items items a second are sent for --seconds seconds without waiting for
/// each other (an open loop, as the platform's many agents send them), and it prints the requests/s achieved, p50/p95/p99
/// latency and the answers that were not 2xx.
/// </summary>
internal sealed class IngestBenchmark : IBenchmark
{
    private static readonly string[] PartNumbers = ["SEC-EDR-STD", "BKP-M365-USER"];

    public string Name => "ingest";

    public string Description => "Ingest API over HTTP: 10,000 tenants and 20,000 usage reports in batches, SQLite (time, items/s, peak memory)";

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var concurrentRate = arguments.Int("concurrent-rps", 0);
        var tenantCount = arguments.Int("tenants", concurrentRate > 0 ? 1000 : 10_000);
        var batchSize = arguments.Int("batch", 1000);
        // WebApplicationFactory finds the portal's content root through MvcTestingAppManifest.json in the working folder.
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        var port = LoopbackPort.Free();
        await using var factory = new PortalFactory(new PortalDatabase.Sqlite());
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        factory.StartServer();

        var organizationId = await factory.AddOrganizationAsync("Bench MSP");
        var admin = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, "bench"), new Claim(ClaimTypes.Role, PortalRoles.Admin), new Claim(PortalClaims.OrganizationId, organizationId.ToString())], "Bench"));
        var key = await factory.Services.GetRequiredService<ApiKeyService>().CreateAsync(admin, "Bench", cancellationToken);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Token);

        Console.WriteLine($"ingest: {tenantCount:N0} tenants x {PartNumbers.Length} products, batches of {batchSize:N0} items, SQLite, Kestrel on 127.0.0.1:{port}");
        await PostAsync(client, "/api/v1/products/batch", PartNumbers.Select(p => new { partNumber = p, name = p, cost = 1.5m, retailPrice = 3m, recurring = true }).ToArray(), cancellationToken);

        var asOf = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var tenants = Enumerable.Range(1, tenantCount)
            .Select(i => new { externalId = $"TEN-{i:D6}", name = $"Tenant {i} Holdings", domain = $"tenant{i}.example", status = "Active" }).ToArray();
        var usage = tenants.SelectMany((t, i) => PartNumbers.Select(p => new { tenantExternalId = t.externalId, partNumber = p, quantity = (i * 7 + p.Length) % 500, asOf }))
            .ToArray();

        if (concurrentRate > 0)
        {
            await MeasureAsync("tenants", client, "/api/v1/tenants/batch", tenants, batchSize, cancellationToken);
            return await MeasureConcurrentAsync(client, tenants.Select(t => t.externalId).ToArray(), concurrentRate, arguments.Int("items", 10),
                TimeSpan.FromSeconds(arguments.Int("seconds", 60)), cancellationToken);
        }

        var totalWatch = Stopwatch.StartNew();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        await MeasureAsync("tenants", client, "/api/v1/tenants/batch", tenants, batchSize, cancellationToken);
        await MeasureAsync("usage", client, "/api/v1/usage/batch", usage, batchSize, cancellationToken);
        var firstPass = totalWatch.Elapsed;
        await MeasureAsync("usage again (unchanged)", client, "/api/v1/usage/batch", usage, batchSize, cancellationToken);
        totalWatch.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        await using (var db = await factory.CreateDbContextAsync())
        {
            var (storedTenants, current, history) = (await db.Tenants.CountAsync(cancellationToken), await db.TenantUsage.CountAsync(cancellationToken),
                await db.TenantUsageHistory.CountAsync(cancellationToken));
            Console.WriteLine($"stored: {storedTenants:N0} tenants, {current:N0} current counts, {history:N0} history rows");
            if (storedTenants != tenantCount || current != usage.Length || history != usage.Length)
            {
                Console.Error.WriteLine("ingest: the stored rows do not match what was sent.");
                return 1;
            }
        }

        Console.WriteLine($"tenants + usage: {tenants.Length + usage.Length:N0} items in {firstPass.TotalSeconds:F1} s = {(tenants.Length + usage.Length) / firstPass.TotalSeconds:N0} items/s");
        Console.WriteLine($"all three passes: {totalWatch.Elapsed.TotalSeconds:F1} s");
        using var process = Process.GetCurrentProcess();
        Console.WriteLine($"peak working set {process.PeakWorkingSet64 / 1024.0 / 1024:N0} MB (portal and client in one process), " +
                          $"GC allocated {allocated / 1024.0 / 1024:N0} MB during the passes, GC heap now {GC.GetTotalMemory(false) / 1024.0 / 1024:N0} MB");
        return 0;
    }

    private static async Task MeasureAsync<T>(string what, HttpClient client, string url, T[] items, int batchSize, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var latencies = new List<double>();
        var (created, updated, unchanged) = (0, 0, 0);
        foreach (var batch in items.Chunk(batchSize))
        {
            var started = watch.Elapsed;
            var result = await PostAsync(client, url, batch, cancellationToken);
            latencies.Add((watch.Elapsed - started).TotalMilliseconds);
            created += result.GetProperty("created").GetInt32();
            updated += result.GetProperty("updated").GetInt32();
            unchanged += result.GetProperty("unchanged").GetInt32();
        }

        watch.Stop();
        latencies.Sort();
        Console.WriteLine($"{what,-24} {items.Length,7:N0} items in {watch.Elapsed.TotalSeconds,5:F1} s = {items.Length / watch.Elapsed.TotalSeconds,7:N0} items/s; " +
                          $"batch p50 {latencies[latencies.Count / 2]:F0} ms, max {latencies[^1]:F0} ms; created {created:N0}, updated {updated:N0}, unchanged {unchanged:N0}");
    }

    /// <summary>
    /// Starts a usage batch every 1/<paramref name="rate"/> s, whatever the earlier ones are doing; each batch reports
    /// <paramref name="items"/> different tenants' counts, so no batch repeats a key.
    /// </summary>
    private static async Task<int> MeasureConcurrentAsync(HttpClient client, string[] tenants, int rate, int items, TimeSpan duration, CancellationToken cancellationToken)
    {
        Console.WriteLine($"concurrent: {rate} batches/s of {items} usage items for {duration.TotalSeconds:0} s over {tenants.Length:N0} tenants");
        var requests = (int)(rate * duration.TotalSeconds);
        var watch = Stopwatch.StartNew();
        var sent = new List<Task<(int Status, double Milliseconds)>>(requests);
        for (var i = 0; i < requests; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate) - watch.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken);
            }

            var batch = Enumerable.Range(0, items).Select(k => new
            {
                tenantExternalId = tenants[(i * items + k) % tenants.Length], partNumber = PartNumbers[(i + k) % PartNumbers.Length], quantity = (i + k) % 500,
            }).ToArray();
            sent.Add(TimedPostAsync(client, batch, cancellationToken));
        }

        var answers = await Task.WhenAll(sent);
        watch.Stop();
        var latencies = answers.Select(a => a.Milliseconds).Order().ToArray();
        var failed = answers.Where(a => a.Status is < 200 or > 299).ToList();
        var byStatus = failed.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} x {(g.Key == 0 ? "no answer" : g.Key)}");
        Console.WriteLine($"{requests:N0} requests in {watch.Elapsed.TotalSeconds:F1} s = {requests / watch.Elapsed.TotalSeconds:F1} requests/s (asked {rate}/s); " +
                          $"latency p50 {Percentile(latencies, 0.50):F0} ms, p95 {Percentile(latencies, 0.95):F0} ms, p99 {Percentile(latencies, 0.99):F0} ms, max {latencies[^1]:F0} ms");
        Console.WriteLine($"non-2xx: {failed.Count}{(failed.Count > 0 ? $" ({string.Join(", ", byStatus)})" : "")}");
        return 0;

        static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
    }

    private static async Task<(int Status, double Milliseconds)> TimedPostAsync<T>(HttpClient client, T[] items, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.PostAsJsonAsync("/api/v1/usage/batch", new { items }, JsonSerializerOptions.Web, cancellationToken);
            await response.Content.ReadAsStringAsync(cancellationToken);
            return ((int)response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (HttpRequestException)
        {
            return (0, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private static async Task<JsonElement> PostAsync<T>(HttpClient client, string url, T[] items, CancellationToken cancellationToken)
    {
        using var response = await client.PostAsJsonAsync(url, new { items }, JsonSerializerOptions.Web, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {url} answered {(int)response.StatusCode}: {body}");
        }

        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
