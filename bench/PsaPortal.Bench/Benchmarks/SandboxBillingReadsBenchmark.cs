using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.ConnectWise;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Bench.Benchmarks;

/// <summary>
/// The sandbox's own cost of the reads a billing sync makes, at 10,000 companies and latency zero, over
/// plain HTTP (no client budget): ConnectWise additions per agreement, Autotask contract services by
/// contract (<c>eq</c> and a 500-value <c>in</c>) and contract service units by contract service
/// (500-value <c>in</c>). Prints the sandbox time per request from its request log, so a simulator that
/// scans every row per request shows up here rather than as a slow portal.
/// Options: --companies 10000 --requests 500.
/// </summary>
internal sealed class SandboxBillingReadsBenchmark : IBenchmark
{
    public string Name => "sandbox-billing-reads";

    public string Description => "The sandbox's time per billing read (additions per agreement, Autotask in-queries) at 10,000 companies";

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var companies = arguments.Int("companies", 10_000);
        var requests = arguments.Int("requests", 500);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddPsaSandbox(options =>
        {
            options.CompanyCount = companies;
            options.RequestLogCapacity = Math.Max(20_000, requests * 8);
        });
        await using var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.MapPsaSandbox();
        await app.StartAsync(cancellationToken);
        var sandbox = app.Services.GetRequiredService<PsaSandbox>();
        sandbox.Autotask.Configure(s => s with { ThresholdLatencyEnabled = false, HourlyThreshold = 0, ThreadLimitPerEndpoint = 0 });
        var root = app.Urls.First().TrimEnd('/');

        var member = ConnectWiseApiMember.Seeded[0];
        using var connectWise = new HttpClient { BaseAddress = new Uri($"{root}/sandbox/connectwise/v2025_1/apis/3.0/") };
        connectWise.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ConnectWiseSandbox.CompanyId}+{member.PublicKey}:{member.PrivateKey}")));
        connectWise.DefaultRequestHeaders.Add("clientId", ConnectWiseSandbox.SeededClientId);
        var user = AutotaskApiUser.Seeded[0];
        using var autotask = new HttpClient { BaseAddress = new Uri($"{root}/sandbox/autotask/webservices5/ATServicesRest/V1.0/") };
        autotask.DefaultRequestHeaders.Add("UserName", user.UserName);
        autotask.DefaultRequestHeaders.Add("Secret", user.Secret);
        autotask.DefaultRequestHeaders.Add("ApiIntegrationCode", AutotaskApiUser.SeededIntegrationCode);

        var agreements = sandbox.ConnectWise.Data.Agreements.All().Select(JsonRecords.GetId).ToList();
        var contracts = sandbox.Autotask.Data.Contracts.All().Select(JsonRecords.GetId).ToList();
        var services = sandbox.Autotask.Data.ContractServices.All().Select(JsonRecords.GetId).ToList();
        var additions = sandbox.ConnectWise.Data.Additions.Count;
        Console.WriteLine($"sandbox-billing-reads: {companies:N0} companies ({agreements.Count:N0} agreements, {additions:N0} additions; {contracts.Count:N0} contracts, "
            + $"{services.Count:N0} contract services, {sandbox.Autotask.Data.ContractServiceUnits.Count:N0} units rows), latency 0, {Environment.ProcessorCount} cores");

        // Warm-up: JIT and the JSON caches are one-off costs.
        (await connectWise.GetAsync($"finance/agreements/{agreements[0]}/additions?pageSize=1000", cancellationToken)).EnsureSuccessStatusCode();

        await MeasureAsync("ConnectWise additions per agreement", sandbox.ConnectWise.RequestLog, requests, async i =>
            await connectWise.GetAsync($"finance/agreements/{agreements[i * 7 % agreements.Count]}/additions?pageSize=1000&conditions={Uri.EscapeDataString("cancelledDate = null")}", cancellationToken));
        await MeasureAsync("Autotask services eq contractID", sandbox.Autotask.RequestLog, requests, async i =>
            await autotask.PostAsync("ContractServices/query", Query("contractID", "eq", JsonValue.Create(contracts[i * 7 % contracts.Count])), cancellationToken));
        var inRequests = Math.Max(1, requests / 10);
        await MeasureAsync("Autotask services in 500 contracts", sandbox.Autotask.RequestLog, inRequests, async i =>
            await autotask.PostAsync("ContractServices/query", Query("contractID", "in", Ids(contracts, i)), cancellationToken));
        await MeasureAsync("Autotask units in 500 services", sandbox.Autotask.RequestLog, inRequests, async i =>
            await autotask.PostAsync("ContractServiceUnits/query", Query("contractServiceID", "in", Ids(services, i)), cancellationToken));
        return 0;
    }

    private static JsonArray Ids(List<long> ids, int round) =>
        [.. ids.Skip(round * 500 % Math.Max(1, ids.Count - 500)).Take(500).Select(id => (JsonNode)JsonValue.Create(id))];

    private static StringContent Query(string field, string op, JsonNode value) =>
        new(new JsonObject { ["filter"] = new JsonArray(new JsonObject { ["op"] = op, ["field"] = field, ["value"] = value }) }.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task MeasureAsync(string label, RequestLog log, int requests, Func<int, Task<HttpResponseMessage>> send)
    {
        var after = log.TotalCount;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < requests; i++)
        {
            using var response = await send(i);
            response.EnsureSuccessStatusCode();
        }

        var elapsed = watch.Elapsed;
        var entries = log.Entries().Where(e => e.Sequence > after).Select(e => e.ElapsedMilliseconds).Order().ToList();
        Console.WriteLine($"  {label,-38} {requests,5} requests  {elapsed.TotalMilliseconds / requests,8:F2} ms each  sandbox p50 {entries[entries.Count / 2],7:F2} / mean {entries.Average(),7:F2} / p95 {entries[(int)(entries.Count * 0.95)],7:F2} ms");
    }
}
