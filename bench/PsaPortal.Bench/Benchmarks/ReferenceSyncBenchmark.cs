using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Sandbox;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Bench.Benchmarks;

/// <summary>
/// The PSA reference sync of a large PSA: the portal on Kestrel with SQLite in a temporary folder and its built-in
/// sandbox seeded with --companies (10,000) companies per vendor. Links ConnectWise, then Autotask, and measures the
/// sync that linking starts (the real job path): wall time per kind, PSA calls from the sandbox's request log, rows
/// cached, managed heap and working set. Then syncs both again with nothing changed. Options: --companies 10000
/// --cw-requests-per-minute N (the ConnectWise budget, default the portal's own, which decides the additions' time),
/// --live-heap (sample the heap after a full collection once a second: live data rather than data plus garbage, at
/// some cost in time).
/// </summary>
internal sealed class ReferenceSyncBenchmark : IBenchmark
{
    public string Name => "reference-sync";

    public string Description => "PSA reference sync of 10,000 sandbox companies per PSA into SQLite: time per kind, PSA calls, rows, memory";

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var companies = arguments.Int("companies", 10_000);
        var requestsPerMinute = arguments.Int("cw-requests-per-minute", new PsaOptions().ConnectWiseRequestsPerMinute);
        var liveHeap = arguments.String("live-heap") is "true";
        // WebApplicationFactory finds the portal's content root through MvcTestingAppManifest.json in the working folder.
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        var port = LoopbackPort.Free();
        await using var portal = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?>
        {
            ["Sandbox:Enabled"] = "true",
            ["Sandbox:CompanyCount"] = companies.ToString(CultureInfo.InvariantCulture),
            ["Sandbox:SnapshotPath"] = "",
            ["Psa:ConnectWiseRequestsPerMinute"] = requestsPerMinute.ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        portal.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        portal.StartServer();
        var baseUrl = $"http://127.0.0.1:{port}";
        var services = portal.Services;
        var sandbox = services.GetRequiredService<PsaSandbox>();
        var organizationId = await portal.AddOrganizationAsync("Bench MSP");
        var admin = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, "bench"), new Claim(ClaimTypes.Name, "bench@msp.example"),
                new Claim(ClaimTypes.Role, PortalRoles.Admin), new Claim(PortalClaims.OrganizationId, organizationId.ToString()),
            ],
            "Bench"));

        Console.WriteLine($"reference-sync: {companies:N0} companies per PSA (ConnectWise {sandbox.ConnectWise.Data.Companies.Count:N0}, " +
            $"Autotask {sandbox.Autotask.Data.Companies.Count:N0}); ConnectWise budget {requestsPerMinute:N0} requests/minute; SQLite in {portal.DataDirectory}");
        using var process = Process.GetCurrentProcess();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        process.Refresh();
        var workingSetBefore = process.WorkingSet64;
        var peakBefore = process.PeakWorkingSet64;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        Console.WriteLine($"before: managed heap {Mb(heapBefore)}, working set {Mb(workingSetBefore)} (the sandbox's seeded data included), peak so far {Mb(peakBefore)}");

        using var sampler = new HeapSampler(liveHeap);
        var integrations = services.GetRequiredService<IntegrationService>();
        var connectWise = await MeasureFirstSyncAsync(portal, organizationId, PsaVendor.ConnectWise, sandbox.ConnectWise.RequestLog, async () =>
        {
            var linked = await integrations.SaveConnectWiseAsync(admin, new ConnectWiseLinkForm
            {
                SiteUrl = $"{baseUrl}/sandbox/connectwise", CompanyId = "sandbox", PublicKey = "SbxFullPublic01", PrivateKey = "SbxFullPrivate01",
            }, cancellationToken);
            return linked.Succeeded ? null : linked.Message;
        }, cancellationToken);
        var autotask = await MeasureFirstSyncAsync(portal, organizationId, PsaVendor.Autotask, sandbox.Autotask.RequestLog, async () =>
        {
            var linked = await integrations.SaveAutotaskAsync(admin, new AutotaskLinkForm
            {
                UserName = "full@psaportal-sandbox.example", Secret = "SbxFullSecret1!", IntegrationCode = "PSAPORTALSANDBOX0000000000", UseSandbox = true,
            }, new Uri(baseUrl + "/"), cancellationToken);
            return linked.Succeeded ? null : linked.Message;
        }, cancellationToken);
        if (connectWise is null || autotask is null)
        {
            return 1;
        }

        var firstSyncsPeakHeap = sampler.Peak;
        var allocatedFirst = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        process.Refresh();
        var peakAfterFirst = process.PeakWorkingSet64;

        Console.WriteLine();
        Console.WriteLine("again with nothing changed (rows only re-stamped):");
        var reference = services.GetRequiredService<PsaReferenceSync>();
        foreach (var (vendor, integrationId, calls) in new[]
        {
            (PsaVendor.ConnectWise, connectWise.Value, (Func<long>)(() => sandbox.ConnectWise.RequestLog.TotalCount)),
            (PsaVendor.Autotask, autotask.Value, () => sandbox.Autotask.RequestLog.TotalCount),
        })
        {
            var callsBefore = calls();
            var started = Stopwatch.GetTimestamp();
            var result = await reference.SyncAsync(integrationId, null, "bench", cancellationToken);
            Console.WriteLine($"  {vendor}: {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s, {calls() - callsBefore:N0} PSA calls, " +
                $"{result.Kinds.Sum(k => k.Count):N0} rows, {(result.Succeeded ? "all kinds succeeded" : "FAILED: " + string.Join("; ", result.Kinds.Where(k => k.Error is not null).Select(k => $"{k.Kind}: {k.Error}")))}");
            Console.WriteLine("    " + string.Join(", ", result.Kinds.Select(k => $"{k.Kind} {k.Elapsed.TotalSeconds:F1} s")));
        }

        process.Refresh();
        Console.WriteLine();
        Console.WriteLine($"memory ({(liveHeap ? "live heap, sampled after a full collection every second" : "managed heap incl. garbage not yet collected, sampled every 50 ms")}): before {Mb(heapBefore)}, peak during the first two syncs {Mb(firstSyncsPeakHeap)} (+{Mb(firstSyncsPeakHeap - heapBefore)}), " +
            $"peak overall {Mb(sampler.Peak)}; allocated by the first two syncs {Mb(allocatedFirst)}");
        Console.WriteLine($"working set: before {Mb(workingSetBefore)}, peak after the first two syncs {Mb(peakAfterFirst)}, peak at the end {Mb(process.PeakWorkingSet64)} (Process.PeakWorkingSet64, whole process incl. the sandbox)");
        return 0;
    }

    /// <summary>Links the PSA and times the sync that linking starts, kind by kind, from its live events.</summary>
    private static async Task<Guid?> MeasureFirstSyncAsync(PortalFactory portal, Guid organizationId, PsaVendor vendor, PsaPortal.Sandbox.Core.RequestLog requestLog,
        Func<Task<string?>> link, CancellationToken cancellationToken)
    {
        var psaCalls = () => requestLog.TotalCount;
        var clock = Stopwatch.StartNew();
        var marks = new List<(string What, TimeSpan At, long Calls, int Count, string? Error)>();
        var finished = new TaskCompletionSource<ReferenceSyncFinished>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = portal.Services.GetRequiredService<IPortalEventStream>().Subscribe(organizationId, e =>
        {
            // Publishing calls a synchronous handler inline, so the request count is read at the moment of the event.
            lock (marks)
            {
                switch (e)
                {
                    case ReferenceSyncStarted s when s.Vendor == vendor:
                        marks.Add(("start", clock.Elapsed, psaCalls(), 0, null));
                        break;
                    case ReferenceKindSynced k when k.Vendor == vendor:
                        marks.Add((k.ReferenceKind.ToString(), clock.Elapsed, psaCalls(), k.Count, k.Error));
                        break;
                    case ReferenceSyncFinished f when f.Vendor == vendor:
                        finished.TrySetResult(f);
                        break;
                }
            }

            return Task.CompletedTask;
        });

        if (await link() is { } failure)
        {
            Console.WriteLine($"{vendor}: linking failed: {failure}");
            return null;
        }

        var done = await finished.Task.WaitAsync(TimeSpan.FromHours(1), cancellationToken);
        var integrationId = done.IntegrationId;
        Console.WriteLine();
        Console.WriteLine($"{vendor} first sync (started by Save, run by SyncReferenceDataJob): {done.Synced} kinds refreshed, {done.Failed} failed");
        // How long the sandbox itself took to answer (its own measurement, from its request log), to tell the simulator's share from the portal's.
        var answered = requestLog.Entries();
        double InSandbox(long after, long upTo) => answered.Where(e => e.Sequence > after && e.Sequence <= upTo).Sum(e => e.ElapsedMilliseconds) / 1000;
        Console.WriteLine($"  {"kind",-16} {"wall time",10} {"PSA calls",10} {"in sandbox",11} {"rows",8}");
        for (var index = 1; index < marks.Count; index++)
        {
            var (what, at, calls, count, error) = marks[index];
            var previous = marks[index - 1];
            Console.WriteLine($"  {what,-16} {(at - previous.At).TotalSeconds,9:F1}s {calls - previous.Calls,10:N0} {InSandbox(previous.Calls, calls),10:F1}s {count,8:N0}" +
                (error is null ? "" : "  ERROR " + error));
        }

        await using var db = await portal.CreateDbContextAsync();
        var rows = await db.PsaReferenceItems.CountAsync(i => i.IntegrationId == integrationId, cancellationToken);
        Console.WriteLine($"  {"total",-16} {(marks[^1].At - marks[0].At).TotalSeconds,9:F1}s {marks[^1].Calls - marks[0].Calls,10:N0} " +
            $"{InSandbox(marks[0].Calls, marks[^1].Calls),10:F1}s {rows,8:N0}");
        return integrationId;
    }

    private static string Mb(long bytes) => $"{bytes / 1024.0 / 1024.0:F0} MiB";
}
