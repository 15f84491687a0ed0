namespace PsaPortal.Bench;

/// <summary>One named benchmark: <c>dotnet run -c Release --project bench/PsaPortal.Bench -- &lt;name&gt; [options]</c>.</summary>
internal interface IBenchmark
{
    string Name { get; }

    string Description { get; }

    /// <summary>Runs the benchmark and prints its figures; returns the process exit code.</summary>
    Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken);
}
