using PsaPortal.Bench;
using PsaPortal.Bench.Benchmarks;
using PsaPortal.Bench.Load;

IBenchmark[] benchmarks =
[
    new ConnectWiseCompaniesBenchmark(),
    new PsaClientReadsBenchmark(),
    new LivePermissionsBenchmark(),
    new IngestBenchmark(),
    new ReferenceSyncBenchmark(),
    new SuggestionQualityBenchmark(),
    new MappingBenchmark(),
    new SandboxBillingReadsBenchmark(),
    new BillingSyncBenchmark(),
    new TicketSyncBenchmark(),
    new LoadBenchmark(),
    new LoadPortalHost(),
];

var selected = args.Length > 0 ? benchmarks.FirstOrDefault(b => string.Equals(b.Name, args[0], StringComparison.OrdinalIgnoreCase)) : null;
if (selected is null)
{
    Console.WriteLine("Usage: dotnet run -c Release --project bench/PsaPortal.Bench -- <benchmark> [options]");
    Console.WriteLine();
    foreach (var benchmark in benchmarks)
    {
        Console.WriteLine($"  {benchmark.Name,-24} {benchmark.Description}");
    }

    return args.Length == 0 ? 0 : 1;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
return await selected.RunAsync(new BenchmarkArguments(args.Skip(1)), cancellation.Token);
