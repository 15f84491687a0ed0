using System.Diagnostics;
using PsaPortal.Web.Features.Mapping.Suggestions;

namespace PsaPortal.Bench.Benchmarks;

/// <summary>
/// Company-name suggestions: precision and recall on labelled sets built from the sandbox names (one per seed), a
/// precision/recall table over thresholds, recall per kind of name variation, and the time to match 10,000 tenants
/// against 10,000 companies. Options: --size 400 --seed 1 --seeds 5 --companies 10000 --tenants 10000 --show-errors.
/// </summary>
internal sealed class SuggestionQualityBenchmark : IBenchmark
{
    private static readonly double[] Thresholds = [0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95, 1.00];

    public string Name => "suggestion-quality";

    public string Description => "Company-name suggestions: precision/recall on labelled sandbox names, time for 10,000 x 10,000";

    public Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var size = arguments.Int("size", 400);
        var firstSeed = arguments.Int("seed", 1);
        var seedCount = Math.Max(1, arguments.Int("seeds", 5));
        var showErrors = arguments.String("show-errors") is not null;

        var runs = Enumerable.Range(firstSeed, seedCount).Select(seed =>
        {
            var set = SuggestionLabelledSet.Build(seed, size);
            return (Set: set, Best: set.BestCandidates(new CompanyMatcher(set.Companies)));
        }).ToList();

        var first = runs[0].Set;
        Console.WriteLine($"suggestion-quality: {seedCount} labelled sets (seeds {firstSeed}..{firstSeed + seedCount - 1}) of {size} tenants against {first.Companies.Count} PSA companies");
        Console.WriteLine($"  per set: {first.Tenants.Count(t => t.ExpectedCompanyId is not null)} with a counterpart, {first.Tenants.Count(t => t.Variation == TenantVariation.NewCustomer)} new customers, {first.Tenants.Count(t => t.Variation == TenantVariation.DuplicateInPsa)} of duplicate-name companies");
        Console.WriteLine($"threshold CompanyMatcher.SuggestionThreshold = {CompanyMatcher.SuggestionThreshold:F2}");
        Console.WriteLine();
        Console.WriteLine("seed   precision  recall  suggested  correct  with counterpart");
        foreach (var (set, best) in runs)
        {
            var quality = set.Measure(best, CompanyMatcher.SuggestionThreshold);
            Console.WriteLine($"{set.Seed,4}   {quality.Precision,9:F3}  {quality.Recall,6:F3}  {quality.Suggested,9}  {quality.Correct,7}  {quality.WithCounterpart,16}");
        }

        var pooledAtThreshold = Pooled(runs, CompanyMatcher.SuggestionThreshold);
        Console.WriteLine($" all   {pooledAtThreshold.Precision,9:F3}  {pooledAtThreshold.Recall,6:F3}  {pooledAtThreshold.Suggested,9}  {pooledAtThreshold.Correct,7}  {pooledAtThreshold.WithCounterpart,16}");
        Console.WriteLine($"  worst seed: precision {runs.Min(r => r.Set.Measure(r.Best, CompanyMatcher.SuggestionThreshold).Precision):F3}, recall {runs.Min(r => r.Set.Measure(r.Best, CompanyMatcher.SuggestionThreshold).Recall):F3}");

        Console.WriteLine();
        Console.WriteLine("all sets pooled, by threshold:");
        Console.WriteLine("threshold  precision  recall  suggested  wrong");
        foreach (var threshold in Thresholds)
        {
            var quality = Pooled(runs, threshold);
            Console.WriteLine($"{threshold,9:F2}  {quality.Precision,9:F3}  {quality.Recall,6:F3}  {quality.Suggested,9}  {quality.Suggested - quality.Correct,5}");
        }

        Console.WriteLine();
        Console.WriteLine($"by variation at {CompanyMatcher.SuggestionThreshold:F2} (all sets): tenants, suggested correctly, suggested wrongly");
        var outcomes = runs.SelectMany(r => r.Set.Tenants.Select((t, i) => (Tenant: t, Best: r.Best[i]))).ToList();
        foreach (var group in outcomes.GroupBy(o => o.Tenant.Variation).OrderBy(g => g.Key))
        {
            var suggested = group.Where(o => SuggestionLabelledSet.IsSuggested(o.Best, CompanyMatcher.SuggestionThreshold)).ToList();
            var correct = suggested.Count(o => o.Best!.CompanyId == o.Tenant.ExpectedCompanyId);
            Console.WriteLine($"  {group.Key,-20} {group.Count(),5}  {correct,5}  {suggested.Count - correct,5}");
        }

        if (showErrors)
        {
            Console.WriteLine();
            Console.WriteLine("wrong suggestions and misses at the threshold:");
            foreach (var (set, best) in runs)
            {
                var names = set.Companies.ToDictionary(c => c.Id, c => c.Name);
                for (var i = 0; i < set.Tenants.Count; i++)
                {
                    var tenant = set.Tenants[i];
                    var made = SuggestionLabelledSet.IsSuggested(best[i], CompanyMatcher.SuggestionThreshold);
                    if (made ? best[i]!.CompanyId != tenant.ExpectedCompanyId : tenant.ExpectedCompanyId is not null)
                    {
                        var expected = tenant.ExpectedCompanyId is { } id ? names[id] : "(none)";
                        var got = best[i] is { } b ? $"{b.CompanyName} {b.Score:F3} {b.Kind}{(b.IsAmbiguous ? " ambiguous" : string.Empty)}" : "(no candidate)";
                        Console.WriteLine($"  {(made ? "WRONG" : "miss "),-5} [{tenant.Variation}] '{tenant.Name}' {tenant.Domain} -> expected '{expected}', best '{got}'");
                    }
                }
            }
        }

        Console.WriteLine();
        MeasureScale(arguments.Int("companies", 10_000), arguments.Int("tenants", 10_000), firstSeed);
        return Task.FromResult(0);
    }

    /// <summary>
    /// Building the matcher and <see cref="CompanyMatcher.SuggestAll{TKey}"/> (parallel), then the same tenants one by
    /// one on one thread; three rounds after a warm-up, since the first round also pays for JIT compilation. CPU time is
    /// printed beside wall time: on a shared machine the wall time also counts waiting for a core.
    /// </summary>
    private static void MeasureScale(int companyCount, int tenantCount, int seed)
    {
        var workload = SuggestionLabelledSet.Workload(seed, companyCount, tenantCount);
        new CompanyMatcher(workload.Companies).SuggestAll(workload.Tenants.Take(1000));

        Console.WriteLine($"scale: {tenantCount:N0} tenants x {companyCount:N0} companies on {Environment.ProcessorCount} cores");
        var totals = new List<long>();
        for (var round = 1; round <= 3; round++)
        {
            var build = Stopwatch.StartNew();
            var matcher = new CompanyMatcher(workload.Companies);
            build.Stop();
            var matchCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var match = Stopwatch.StartNew();
            var suggestions = matcher.SuggestAll(workload.Tenants);
            match.Stop();
            var matchCpu = Process.GetCurrentProcess().TotalProcessorTime - matchCpuBefore;
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var oneThread = Stopwatch.StartNew();
            var oneThreadCount = workload.Tenants.Count(t => matcher.Suggest(t.Name, t.Domain) is not null);
            oneThread.Stop();
            var oneThreadCpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            totals.Add(build.ElapsedMilliseconds + match.ElapsedMilliseconds);
            Console.WriteLine($"  round {round}: build {build.ElapsedMilliseconds} ms + SuggestAll {match.ElapsedMilliseconds} ms ({matchCpu.TotalMilliseconds:F0} ms CPU) = {totals[^1]} ms ({suggestions.Count:N0} suggested); one thread {oneThread.ElapsedMilliseconds} ms wall, {oneThreadCpu.TotalMilliseconds:F0} ms CPU ({oneThreadCount:N0})");
        }

        Console.WriteLine($"  build + SuggestAll: best {totals.Min()} ms, worst {totals.Max()} ms");
    }

    private static SuggestionQuality Pooled(IEnumerable<(SuggestionLabelledSet Set, IReadOnlyList<CompanySuggestion?> Best)> runs, double threshold) =>
        runs.Select(r => r.Set.Measure(r.Best, threshold)).Aggregate((a, b) =>
            new SuggestionQuality(threshold, a.Tenants + b.Tenants, a.WithCounterpart + b.WithCounterpart, a.Suggested + b.Suggested, a.Correct + b.Correct));
}
