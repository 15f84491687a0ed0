using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Playwright;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Permissions;

namespace PsaPortal.Bench.Benchmarks;

/// <summary>
/// Event to screen: the time from a Verify Permissions check being published by the job to its row changing in two
/// open Chromium pages (the portal on Kestrel with the built-in ConnectWise sandbox; same machine, same clock).
/// Options: --runs 20.
/// </summary>
internal sealed class LivePermissionsBenchmark : IBenchmark
{
    // Records, per row, when its outcome attribute last changed, in the browser's epoch milliseconds.
    private const string ObserveRows = """
        () => {
          window.__seen = {};
          const rows = [...document.querySelectorAll('[data-testid=permission-row]')];
          const note = () => rows.forEach((row, i) => {
            const outcome = row.dataset.outcome;
            if (outcome !== 'Pending' && outcome !== 'None' && window.__seen[i + 1] === undefined) window.__seen[i + 1] = Date.now();
          });
          new MutationObserver(() => {
            document.querySelectorAll('[data-testid=permission-row]').forEach((row, i) => rows[i] = row);
            note();
          }).observe(document.querySelector('[data-testid=verify-permissions]'), { subtree: true, attributes: true, childList: true });
        }
        """;

    public string Name => "live-permissions";

    public string Description => "Verify Permissions: check published by the job -> row updated in two open Chromium pages (p50/p95/p99)";

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var runs = arguments.Int("runs", 20);
        // WebApplicationFactory finds the portal's content root through MvcTestingAppManifest.json in the working folder.
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        var portal = new LivePortal();
        await portal.InitializeAsync();
        try
        {
            return await MeasureAsync(portal, runs, cancellationToken);
        }
        finally
        {
            await portal.DisposeAsync();
        }
    }

    private static async Task<int> MeasureAsync(LivePortal portal, int runs, CancellationToken cancellationToken)
    {
        var organization = await portal.CreateOrganizationAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxFullPublic01", "SbxFullPrivate01");

        var published = new ConcurrentDictionary<(Guid Run, int Order), long>();
        using var subscription = portal.GetService<IPortalEventStream>().Subscribe(organization.Id, e =>
        {
            if (e is PermissionCheckCompleted check)
            {
                published[(check.RunId, check.Order)] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            }

            return Task.CompletedTask;
        });

        var pages = new List<IPage>();
        foreach (var email in new[] { organization.Admin, organization.Operator })
        {
            var (page, _) = await portal.NewPageAsync();
            await LivePortal.SignInAsync(page, email);
            pages.Add(page);
        }

        var latencies = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            foreach (var page in pages)
            {
                await page.GotoAsync("/integrations/connectwise");
                await LivePortal.WaitForCircuitAsync(page);
                await page.EvaluateAsync(ObserveRows);
            }

            var started = await portal.GetService<PermissionVerification>().StartAsync(LivePortal.AdminOf(organization), PsaPortal.Integrations.PsaVendor.ConnectWise, cancellationToken);
            foreach (var page in pages)
            {
                await page.Locator("[data-testid=verify-summary]").Filter(new() { HasText = "permissions are granted" })
                    .WaitForAsync(new() { Timeout = 30_000 });
                using var seen = JsonDocument.Parse(await page.EvaluateAsync<string>("() => JSON.stringify(window.__seen)"));
                foreach (var property in seen.RootElement.EnumerateObject())
                {
                    if (published.TryGetValue((started.RunId!.Value, int.Parse(property.Name, System.Globalization.CultureInfo.InvariantCulture)), out var at))
                    {
                        latencies.Add(property.Value.GetDouble() - at);
                    }
                }
            }
        }

        latencies.Sort();
        Console.WriteLine($"live-permissions: {runs} runs, {latencies.Count} row updates observed in {pages.Count} pages");
        Console.WriteLine($"event -> screen latency ms: p50 {Percentile(latencies, 0.50):F0}, p95 {Percentile(latencies, 0.95):F0}, p99 {Percentile(latencies, 0.99):F0}, max {latencies[^1]:F0}");
        return 0;
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
