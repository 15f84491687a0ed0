using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Recording;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.ConnectWise;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Bench.Benchmarks;

/// <summary>
/// Reads billing lines through the PSA clients (PsaPortal.Integrations, with auth, resilience, request
/// budgets and call recording) from the sandbox with latency on: N ConnectWise additions spread over
/// agreements (ConnectWise serves additions per agreement) and N Autotask contract services (one
/// <c>in</c> query, 500 a page via nextPageUrl). Prints the calls made and the time next to the minimum:
/// the pages the data needs times the latency.
/// Options: --lines 10000 --latency 50 --agreements 40 --contracts 40.
/// </summary>
internal sealed class PsaClientReadsBenchmark : IBenchmark
{
    public string Name => "psa-client-reads";

    public string Description => "10,000 ConnectWise additions and 10,000 Autotask contract services read through the PSA clients, sandbox latency on";

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var lines = arguments.Int("lines", 10_000);
        var latency = arguments.Int("latency", 50);
        var agreementCount = arguments.Int("agreements", 40);
        var contractCount = arguments.Int("contracts", 40);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddPsaSandbox(options => options.CompanyCount = Math.Max(agreementCount, contractCount) + 10);
        await using var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.MapPsaSandbox();
        await app.StartAsync(cancellationToken);
        var sandbox = app.Services.GetRequiredService<PsaSandbox>();
        var root = new Uri(app.Urls.First().TrimEnd('/') + "/");

        var agreementIds = SpreadAdditions(sandbox.ConnectWise.Data, lines, agreementCount);
        var contractIds = SpreadContractServices(sandbox.Autotask.Data, lines, contractCount);
        sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { LatencyMilliseconds = latency } });
        sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { LatencyMilliseconds = latency }, ThresholdLatencyEnabled = false });

        using var factory = new PsaClientFactory(NullPsaCallRecorder.Instance);
        var cwMember = ConnectWiseApiMember.Seeded[0];
        var connectWise = factory.CreateConnectWise(new ConnectWiseConnection("bench", new Uri(root, "sandbox/connectwise").AbsoluteUri, ConnectWiseSandbox.CompanyId,
            cwMember.PublicKey, cwMember.PrivateKey, ConnectWiseSandbox.SeededClientId) { AllowInsecureHttp = true });
        var atUser = AutotaskApiUser.Seeded[0];
        var autotask = factory.CreateAutotask(new AutotaskConnection("bench", atUser.UserName, atUser.Secret, AutotaskApiUser.SeededIntegrationCode)
        {
            ZoneDiscoveryUrl = new Uri(root, "sandbox/autotask/atservicesrest/"),
            AllowInsecureHttp = true,
        });

        // Discovery, the first threshold reading and JIT are one-off costs of a connection, not of reading lines.
        await connectWise.ListAdditionsAsync([agreementIds[0].Id], null, cancellationToken).CountAsync(cancellationToken);
        await autotask.QueryContractServicesAsync(PsaPortal.Integrations.Autotask.AutotaskFilter.Where("contractID").Equal(contractIds[0]), cancellationToken).CountAsync(cancellationToken);

        const int connectWisePageSize = 1000;
        var cwPages = agreementIds.Sum(a => Math.Max(1, (a.Count + connectWisePageSize - 1) / connectWisePageSize));
        var parallel = new ConnectWiseOptions().ParallelReads;
        var cw = await MeasureAsync(sandbox.ConnectWise.RequestLog,
            async () => await connectWise.ListAdditionsAsync(agreementIds.Select(a => a.Id), null, cancellationToken).CountAsync(cancellationToken));
        var atPages = (lines + 499) / 500;
        var at = await MeasureAsync(sandbox.Autotask.RequestLog,
            async () => await autotask.QueryContractServicesAsync(PsaPortal.Integrations.Autotask.AutotaskFilter.Where("contractID").In(contractIds), cancellationToken).CountAsync(cancellationToken));

        Console.WriteLine($"psa-client-reads: {lines:N0} lines per PSA through PsaPortal.Integrations, sandbox latency {latency} ms per request, {Environment.ProcessorCount} cores");
        Print("ConnectWise additions", cw, cwPages, latency, $"{agreementIds.Count} agreements, 1,000 per page, {parallel} agreements read in parallel: minimum {Math.Ceiling(cwPages / (double)parallel) * latency:N0} ms at that parallelism");
        Print("Autotask services", at, atPages, latency, "one in-query over all contracts, 500 per page, pages follow nextPageUrl one after another");
        return cw.Rows == lines && at.Rows == lines ? 0 : 1;
    }

    private static void Print(string label, Measurement measurement, int pages, int latency, string note)
    {
        var minimum = pages * latency;
        Console.WriteLine($"  {label,-22} {measurement.Rows,6:N0} rows  {measurement.Calls,4} calls ({pages} data pages)  {measurement.Elapsed.TotalMilliseconds,7:N0} ms  minimum {minimum,6:N0} ms (pages x latency)  ratio {measurement.Elapsed.TotalMilliseconds / minimum:F2}");
        Console.WriteLine($"  {string.Empty,-22} {note}");
    }

    private sealed record Measurement(int Rows, long Calls, TimeSpan Elapsed);

    private static async Task<Measurement> MeasureAsync(RequestLog log, Func<Task<int>> read)
    {
        var before = log.TotalCount;
        var watch = Stopwatch.StartNew();
        var rows = await read();
        return new Measurement(rows, log.TotalCount - before, watch.Elapsed);
    }

    /// <summary>Adds <paramref name="lines"/> additions evenly over the first agreements; returns each agreement with its addition count.</summary>
    private static List<(long Id, int Count)> SpreadAdditions(ConnectWiseData data, int lines, int agreementCount)
    {
        var agreements = data.Agreements.All().Take(agreementCount).Select(a => a["id"]!.GetValue<long>()).ToList();
        data.Additions.Clear();
        var counts = new int[agreements.Count];
        for (var i = 0; i < lines; i++)
        {
            var slot = i % agreements.Count;
            counts[slot]++;
            data.Additions.Insert(new JsonObject
            {
                ["product"] = new JsonObject { ["id"] = 1 + i % 9, ["identifier"] = $"SKU-{1 + i % 9}" },
                ["quantity"] = 1m + i % 50,
                ["unitPrice"] = 3.5m,
                ["unitCost"] = 1.25m,
                ["billCustomer"] = "Billable",
                ["effectiveDate"] = "2026-01-01T00:00:00Z",
                ["agreementId"] = (int)agreements[slot],
                ["description"] = "Benchmark addition",
                ["agreementStatus"] = "Active",
            });
        }

        return [.. agreements.Select((id, index) => (id, counts[index]))];
    }

    private static List<long> SpreadContractServices(AutotaskData data, int lines, int contractCount)
    {
        var contracts = data.Contracts.All().Take(contractCount).Select(c => c["id"]!.GetValue<long>()).ToList();
        data.ContractServices.Clear();
        for (var i = 0; i < lines; i++)
        {
            data.ContractServices.Insert(new JsonObject
            {
                ["contractID"] = (int)contracts[i % contracts.Count],
                ["serviceID"] = 1 + i % 9,
                ["unitPrice"] = 3.5m,
                ["unitCost"] = 1.25m,
                ["invoiceDescription"] = "Benchmark service",
            });
        }

        return contracts;
    }
}
