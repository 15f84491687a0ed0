using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Ticketing;

namespace PsaPortal.Bench.Benchmarks;

/// <summary>
/// Ticketing under a burst: --incidents (1,000) new incidents pushed through the ingest API (<c>POST /api/v1/incidents/batch</c>
/// with an API key, --batch (1) incidents a request) spread evenly over --seconds (60) s, into one organization per PSA
/// with ticketing on; the portal on Kestrel with SQLite and its built-in sandbox, latency --latency (50) ms; ConnectWise
/// throttled at --cw-limit (1,000) requests a minute with the portal's budget the same, Autotask at 10,000 requests an
/// hour and 3 concurrent requests per endpoint. Prints the time from the first push to the last ticket existing in the
/// PSA (and to the last push, and to the last row Open in the portal), PSA calls by route against the minimum, the
/// busiest rolling 60 s window against the PSA's budget, the highest concurrency per endpoint seen in the sandbox's
/// request log, 429 answers, duplicates (more than one ticket carrying an incident's reference) and incidents without
/// a ticket. Exit code 1 when there is a duplicate or a missing ticket.
/// Options: --psa both|connectwise|autotask --incidents 1000 --seconds 60 --batch 1 --latency 50 --cw-limit 1000.
/// </summary>
internal sealed class TicketSyncBenchmark : IBenchmark
{
    private const int Tenants = 40;

    public string Name => "ticket-sync";

    public string Description => "1,000 incidents through the ingest API in 60 s become PSA tickets, latency 50 ms: time, calls vs minimum, rate budget, duplicates";

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var incidents = arguments.Int("incidents", 1_000);
        var seconds = arguments.Int("seconds", 60);
        var batch = Math.Max(1, arguments.Int("batch", 1));
        var latency = arguments.Int("latency", 50);
        var cwLimit = arguments.Int("cw-limit", 1_000);
        var which = (arguments.String("psa") ?? "both").ToLowerInvariant();
        if (which is not ("both" or "connectwise" or "autotask"))
        {
            Console.Error.WriteLine("--psa must be connectwise, autotask or both.");
            return 2;
        }

        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        var port = LoopbackPort.Free();
        await using var portal = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?>
        {
            ["Sandbox:Enabled"] = "true",
            ["Sandbox:SnapshotPath"] = "",
            ["Sandbox:RequestLogCapacity"] = "200000",
            ["Psa:ConnectWiseRequestsPerMinute"] = cwLimit.ToString(CultureInfo.InvariantCulture),
            ["Portal:PublicUrl"] = "https://portal.bench.example",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        portal.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        portal.StartServer();
        var baseUrl = $"http://127.0.0.1:{port}";
        var sandbox = portal.Services.GetRequiredService<PsaSandbox>();
        sandbox.ConnectWise.Configure(s => s with { RateLimitPerMinute = cwLimit, Faults = new FaultSettings { LatencyMilliseconds = latency } });
        sandbox.Autotask.Configure(s => s with { HourlyThreshold = 10_000, ThreadLimitPerEndpoint = 3, Faults = new FaultSettings { LatencyMilliseconds = latency } });
        Console.WriteLine($"ticket-sync: {incidents:N0} new incidents per PSA through POST /api/v1/incidents/batch ({batch} a request), spread evenly over {seconds} s, " +
            $"sandbox latency {latency} ms, ConnectWise {cwLimit:N0}/min (portal budget {cwLimit:N0}/min), Autotask 10,000/hour and 3 per endpoint; " +
            $"SQLite in {portal.DataDirectory}; {Environment.ProcessorCount} cores, load average {LoadAverage()}");

        var exit = 0;
        if (which is "both" or "connectwise")
        {
            exit |= await RunOneAsync(portal, new ConnectWiseSide(sandbox, $"{baseUrl}/sandbox/connectwise"), baseUrl, incidents, seconds, batch, cwLimit, cancellationToken);
        }

        if (which is "both" or "autotask")
        {
            exit |= await RunOneAsync(portal, new AutotaskSide(sandbox, $"{baseUrl}/sandbox/autotask/atservicesrest/"), baseUrl, incidents, seconds, batch, cwLimit, cancellationToken);
        }

        Console.WriteLine();
        Console.WriteLine($"load average at the end: {LoadAverage()} (the machine is shared with other engineers' builds and tests)");
        return exit;
    }

    private static async Task<int> RunOneAsync(PortalFactory portal, PsaSide psa, string baseUrl, int incidents, int seconds, int batch, int cwLimit, CancellationToken cancellationToken)
    {
        var (organizationId, integrationId, tenants) = await SeedAsync(portal, psa, cancellationToken);
        var admin = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, "bench"), new Claim(ClaimTypes.Name, "bench@msp.example"),
                new Claim(ClaimTypes.Role, PortalRoles.Admin), new Claim(PortalClaims.OrganizationId, organizationId.ToString()),
            ],
            "Bench"));
        var key = await portal.Services.GetRequiredService<ApiKeyService>().CreateAsync(admin, "Bench", cancellationToken);
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Token);
        Console.WriteLine();
        Console.WriteLine($"{psa.Vendor}: {tenants.Count} tenants mapped by a person to {psa.Vendor.DisplayName()} companies; ticketing on; load average {LoadAverage()}");

        // Every row that reaches Open (the ticket exists and the portal stored its id and link), by the clock below.
        var watch = new Stopwatch();
        var open = new ConcurrentDictionary<long, TimeSpan>();
        var failed = new ConcurrentDictionary<long, string?>();
        var allOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = portal.Services.GetRequiredService<IPortalEventStream>().Subscribe(organizationId, e =>
        {
            if (e is TicketChanged changed && changed.IntegrationId == integrationId)
            {
                if (changed.State == TicketState.Open)
                {
                    open.TryAdd(changed.IncidentTicketId, watch.Elapsed);
                    failed.TryRemove(changed.IncidentTicketId, out _);
                }
                else if (changed.State == TicketState.Failed)
                {
                    failed[changed.IncidentTicketId] = changed.Error;
                }

                if (open.Count >= incidents)
                {
                    allOpen.TrySetResult();
                }
            }

            return Task.CompletedTask;
        });

        var log = psa.Log;
        var sequenceBefore = log.Entries().LastOrDefault()?.Sequence ?? 0;
        var callsBefore = log.TotalCount;
        var runId = Guid.NewGuid().ToString("N")[..6];
        var ids = Enumerable.Range(1, incidents).Select(i => $"bench-{runId}-{i:D5}").ToList();
        var requests = ids.Chunk(batch).ToList();
        var interval = TimeSpan.FromSeconds(seconds) / requests.Count;
        var pushes = new List<Task<TimeSpan>>();
        var pushErrors = new ConcurrentBag<string>();
        var firstPushAt = DateTimeOffset.UtcNow;
        watch.Start();
        for (var index = 0; index < requests.Count; index++)
        {
            var due = interval * index;
            if (due > watch.Elapsed)
            {
                await Task.Delay(due - watch.Elapsed, cancellationToken);
            }

            var items = requests[index].Select((id, n) => Incident(id, tenants[(index * batch + n) % tenants.Count], index * batch + n)).ToArray();
            pushes.Add(PushAsync(client, items, watch, pushErrors, cancellationToken));
        }

        var pushDone = await Task.WhenAll(pushes);
        var lastPush = pushDone.Max();
        var pushTimes = pushDone.ToList();
        var deadline = TimeSpan.FromSeconds(seconds) + TimeSpan.FromMinutes(10);
        var settled = await Task.WhenAny(allOpen.Task, Task.Delay(deadline - watch.Elapsed, cancellationToken)) == allOpen.Task;
        var lastOpen = open.IsEmpty ? TimeSpan.Zero : open.Values.Max();
        if (!settled)
        {
            Console.WriteLine($"  gave up waiting after {watch.Elapsed.TotalSeconds:F0} s: {open.Count:N0} of {incidents:N0} rows Open, {failed.Count:N0} Failed");
        }

        // Let any call still in flight (a retry, a late lookup) reach the log before it is read.
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var entries = log.Entries().Where(e => e.Sequence > sequenceBefore).OrderBy(e => e.StartedAt).ToList();
        var calls = log.TotalCount - callsBefore;
        var creates = entries.Where(psa.IsCreate).ToList();
        var lastCreated = creates.Count == 0 ? TimeSpan.Zero : creates.Max(e => e.StartedAt + TimeSpan.FromMilliseconds(e.ElapsedMilliseconds)) - firstPushAt;

        Console.WriteLine($"  pushes: {requests.Count:N0} requests, first at 0 s, last answered at {lastPush.TotalSeconds:F1} s{(pushErrors.IsEmpty ? "" : $"; {pushErrors.Count} refused: {pushErrors.First()}")}");
        Console.WriteLine($"  time from the first push to the last ticket existing in {psa.Vendor.DisplayName()}: {lastCreated.TotalSeconds:F1} s (to the last push {lastPush.TotalSeconds:F1} s; " +
            $"to the last row Open in the portal {lastOpen.TotalSeconds:F1} s); the last ticket came {(lastCreated - lastPush).TotalSeconds:F1} s after the last push");
        var buckets = Enumerable.Range(0, (int)Math.Ceiling(Math.Max(lastCreated.TotalSeconds, lastPush.TotalSeconds) / 10) + 1).Select(b =>
        {
            var inBucket = creates.Where(e => (int)((e.StartedAt - firstPushAt).TotalSeconds / 10) == b).ToList();
            return $"{b * 10}–{b * 10 + 10} s: {pushTimes.Count(t => (int)(t.TotalSeconds / 10) == b)} pushed, {inBucket.Count} created" +
                (inBucket.Count > 0 ? $" ({inBucket.Average(e => e.ElapsedMilliseconds):F0} ms each in the sandbox)" : "");
        });
        Console.WriteLine($"  timeline: {string.Join("; ", buckets)}");
        var byRoute = entries.GroupBy(e => $"{e.Method} {psa.Route(e)}").OrderByDescending(g => g.Count());
        Console.WriteLine($"  PSA calls by route: {string.Join(", ", byRoute.Select(g => $"{g.Key} {g.Count():N0}"))}" +
            (entries.Count < calls ? $" (log holds {entries.Count:N0} of {calls:N0})" : ""));
        var minimum = psa.MinimumCalls(incidents, out var minimumHow);
        Console.WriteLine($"  PSA calls {calls:N0} vs minimum {minimum:N0}: ratio {calls / (double)minimum:F3}");
        Console.WriteLine($"    minimum = {minimumHow}");
        var (peak, peakAt) = PeakWindow(entries, TimeSpan.FromSeconds(60));
        Console.WriteLine($"  busiest rolling 60 s window: {peak:N0} requests (starting {(peakAt - firstPushAt).TotalSeconds:F1} s after the first push) vs budget {psa.Budget(cwLimit)}");
        var concurrency = entries.GroupBy(psa.Endpoint).Select(g => (Endpoint: g.Key, Max: MaxConcurrency(g))).OrderBy(c => c.Endpoint, StringComparer.Ordinal).ToList();
        Console.WriteLine($"  highest concurrency per endpoint (request log start + elapsed, latency included): {string.Join(", ", concurrency.Select(c => $"{c.Endpoint} {c.Max}"))}" +
            (psa.Vendor == PsaVendor.Autotask ? " (limit 3 per endpoint)" : ""));
        Console.WriteLine($"  429 answers: {entries.Count(e => e.Status == 429):N0}; other non-2xx: {entries.Count(e => e.Status is < 200 or >= 300 && e.Status != 429):N0}");

        var references = ids.ToDictionary(TicketContent.ExternalReference, id => id);
        var tickets = psa.TicketReferences().Where(references.ContainsKey).GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        var duplicates = tickets.Where(t => t.Value > 1).ToList();
        var missing = references.Keys.Where(r => !tickets.ContainsKey(r)).ToList();
        int rowsOpen;
        List<string?> rowErrors;
        await using (var db = await portal.CreateDbContextAsync())
        {
            rowsOpen = await db.IncidentTickets.CountAsync(t => t.IntegrationId == integrationId && t.State == TicketState.Open && t.TicketPsaId != null, cancellationToken);
            rowErrors = await db.IncidentTickets.Where(t => t.IntegrationId == integrationId && t.State != TicketState.Open).Select(t => t.Error).ToListAsync(cancellationToken);
        }

        Console.WriteLine($"  duplicates (tickets in {psa.Vendor.DisplayName()} per reference > 1): {duplicates.Count}{(duplicates.Count > 0 ? ": " + string.Join(", ", duplicates.Take(5).Select(d => $"{d.Key} × {d.Value}")) : "")}; " +
            $"incidents without a ticket: {missing.Count}{(missing.Count > 0 ? ": " + string.Join(", ", missing.Take(5)) : "")}; " +
            $"portal rows Open with the ticket id: {rowsOpen:N0} of {incidents:N0}" +
            (rowErrors.Count > 0 ? $"; not Open: {string.Join("; ", rowErrors.GroupBy(e => e ?? "(no error)").Select(g => $"{g.Count()} × {g.Key}").Take(3))}" : ""));
        return duplicates.Count == 0 && missing.Count == 0 && pushErrors.IsEmpty ? 0 : 1;
    }

    private static object Incident(string id, string tenant, int number)
    {
        var now = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        string[] severities = ["Low", "Medium", "High", "Critical"];
        return new
        {
            externalId = id, tenantExternalId = tenant, title = $"Suspicious PowerShell execution on WS-{number:D4}", severity = severities[number % severities.Length],
            status = "Open", description = "EDR flagged an encoded PowerShell command launched by an Office process.", detectedAt = now, updatedAt = now,
        };
    }

    private static async Task<TimeSpan> PushAsync(HttpClient client, object[] items, Stopwatch watch, ConcurrentBag<string> errors, CancellationToken cancellationToken)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/incidents/batch", new { items }, JsonSerializerOptions.Web, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            errors.Add($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        return watch.Elapsed;
    }

    /// <summary>Organization, connected integration, enabled ticketing settings, tenants mapped by a person to active companies.</summary>
    private static async Task<(Guid OrganizationId, Guid IntegrationId, List<string> Tenants)> SeedAsync(PortalFactory portal, PsaSide psa, CancellationToken cancellationToken)
    {
        var organizationId = await portal.AddOrganizationAsync($"Bench MSP {psa.Vendor}");
        var secrets = portal.Services.GetRequiredService<IntegrationSecrets>();
        var now = DateTimeOffset.UtcNow;
        await using var db = await portal.CreateDbContextAsync();
        var integration = new Integration
        {
            OrganizationId = organizationId, Vendor = psa.Vendor, Status = IntegrationStatus.Connected, ConnectedAt = now,
            // A fresh reference sync is not due for hours, so none competes with ticketing for the PSA.
            ReferenceSyncedAt = now, UpdatedAt = now, UpdatedBy = "bench",
        };
        psa.DescribeConnection(integration, secrets);
        db.Integrations.Add(integration);
        await db.SaveChangesAsync(cancellationToken);
        var settings = psa.Settings();
        settings.IntegrationId = integration.Id;
        settings.Enabled = true;
        settings.UpdatedAt = now;
        db.TicketingSettings.Add(settings);
        var tenants = Enumerable.Range(1, Tenants).Select(n => new Tenant
        {
            OrganizationId = organizationId, ExternalId = $"bench-tenant-{n:D2}", Name = $"Bench Tenant {n}", Status = TenantStatus.Active, CreatedAt = now, UpdatedAt = now,
        }).ToList();
        db.Tenants.AddRange(tenants);
        await db.SaveChangesAsync(cancellationToken);
        var companies = psa.ActiveCompanies().Take(Tenants).ToList();
        db.TenantMappings.AddRange(tenants.Select((t, n) => new TenantMapping
        {
            IntegrationId = integration.Id, TenantId = t.Id, CompanyPsaId = companies[n % companies.Count].Id, CompanyName = companies[n % companies.Count].Name,
            Origin = MappingOrigin.Person, UpdatedAt = now, UpdatedBy = "bench",
        }));
        await db.SaveChangesAsync(cancellationToken);
        return (organizationId, integration.Id, tenants.Select(t => t.ExternalId).ToList());
    }

    /// <summary>The most requests started within any window of <paramref name="window"/>, and when that window starts.</summary>
    private static (int Count, DateTimeOffset Start) PeakWindow(List<RequestLogEntry> entries, TimeSpan window)
    {
        var (best, bestStart, first) = (0, DateTimeOffset.MinValue, 0);
        for (var last = 0; last < entries.Count; last++)
        {
            while (entries[last].StartedAt - entries[first].StartedAt >= window)
            {
                first++;
            }

            if (last - first + 1 > best)
            {
                (best, bestStart) = (last - first + 1, entries[first].StartedAt);
            }
        }

        return (best, bestStart);
    }

    /// <summary>The most requests in flight at once, each from its start for its elapsed time.</summary>
    private static int MaxConcurrency(IEnumerable<RequestLogEntry> entries)
    {
        var events = entries.SelectMany(e => new[] { (At: e.StartedAt, Delta: 1), (At: e.StartedAt + TimeSpan.FromMilliseconds(e.ElapsedMilliseconds), Delta: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Delta); // an end before a start at the same instant
        var (current, max) = (0, 0);
        foreach (var (_, delta) in events)
        {
            current += delta;
            max = Math.Max(max, current);
        }

        return max;
    }

    private static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{parts[0]} / {parts[1]} / {parts[2]} (1/5/15 min)";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static long Long(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var value) ? (long)value : 0;

    /// <summary>One PSA's side: its connection, settings, companies, tickets in the sandbox, minimum and budget.</summary>
    private abstract class PsaSide(PsaSandbox sandbox)
    {
        protected PsaSandbox Sandbox => sandbox;

        public abstract PsaVendor Vendor { get; }

        public abstract RequestLog Log { get; }

        public abstract void DescribeConnection(Integration integration, IntegrationSecrets secrets);

        public abstract TicketingSettings Settings();

        public abstract IEnumerable<(long Id, string Name)> ActiveCompanies();

        /// <summary>The external reference of every ticket in the sandbox (one entry per ticket).</summary>
        public abstract IEnumerable<string> TicketReferences();

        public abstract bool IsCreate(RequestLogEntry entry);

        public abstract string Route(RequestLogEntry entry);

        public abstract string Endpoint(RequestLogEntry entry);

        public abstract long MinimumCalls(int incidents, out string how);

        public abstract string Budget(int cwLimit);

        protected static string AfterApiRoot(string route)
        {
            var index = route.IndexOf("apis/3.0/", StringComparison.Ordinal);
            if (index >= 0)
            {
                return route[(index + "apis/3.0/".Length)..];
            }

            index = route.IndexOf("v1.0/", StringComparison.OrdinalIgnoreCase);
            return index >= 0 ? route[(index + "v1.0/".Length)..] : route;
        }
    }

    private sealed class ConnectWiseSide(PsaSandbox sandbox, string siteUrl) : PsaSide(sandbox)
    {
        public override PsaVendor Vendor => PsaVendor.ConnectWise;

        public override RequestLog Log => Sandbox.ConnectWise.RequestLog;

        public override void DescribeConnection(Integration integration, IntegrationSecrets secrets)
        {
            integration.SiteUrl = siteUrl;
            integration.CompanyId = "sandbox";
            integration.PublicKey = "SbxFullPublic01";
            integration.ProtectedPrivateKey = secrets.Protect("SbxFullPrivate01");
            integration.ApiVersion = "ConnectWise 2025.1";
        }

        public override TicketingSettings Settings()
        {
            var data = Sandbox.ConnectWise.Data;
            var board = data.Boards.All().Single(b => JsonRecords.GetString(b["name"]) == "Help Desk");
            var boardId = JsonRecords.GetId(board);
            var closed = data.BoardStatuses.All().First(s => Long(s["board"]?["id"]) == boardId && JsonRecords.GetBoolean(s["closedStatus"]) == true);
            var priorities = data.Priorities.All().OrderBy(JsonRecords.GetId).Select(JsonRecords.GetId).ToList();
            var source = data.Sources.All().First();
            var company = ActiveCompanies().First();
            return new TicketingSettings
            {
                BoardId = boardId, BoardName = "Help Desk", DefaultCompanyPsaId = company.Id, DefaultCompanyName = company.Name,
                ClosedStatusId = JsonRecords.GetId(closed), ClosedStatusName = JsonRecords.GetString(closed["name"]),
                SourceId = JsonRecords.GetId(source), SourceName = JsonRecords.GetString(source["name"]),
                DefaultPriorityId = priorities[0], LowPriorityId = priorities[1 % priorities.Count], MediumPriorityId = priorities[2 % priorities.Count],
                HighPriorityId = priorities[3 % priorities.Count], CriticalPriorityId = priorities[4 % priorities.Count],
            };
        }

        public override IEnumerable<(long Id, string Name)> ActiveCompanies() =>
            Sandbox.ConnectWise.Data.Companies.All().Where(c => JsonRecords.GetString(c["status"]?["name"]) != "Inactive" && JsonRecords.GetBoolean(c["deletedFlag"]) != true)
                .Select(c => (JsonRecords.GetId(c), JsonRecords.GetString(c["name"]) ?? ""));

        public override IEnumerable<string> TicketReferences() =>
            Sandbox.ConnectWise.Data.Tickets.All().Select(t => JsonRecords.GetString(t["externalXRef"])).OfType<string>();

        public override bool IsCreate(RequestLogEntry entry) => entry.Method == "POST" && entry.Status is >= 200 and < 300 && Route(entry) == "service/tickets";

        public override string Route(RequestLogEntry entry) => AfterApiRoot(entry.Route);

        /// <summary>service/tickets, login/companyinfo …: the first two segments of the API route.</summary>
        public override string Endpoint(RequestLogEntry entry)
        {
            var route = Route(entry);
            var login = route.IndexOf("login/", StringComparison.Ordinal);
            return string.Join('/', (login >= 0 ? route[login..] : route).Split('/').Take(2));
        }

        public override long MinimumCalls(int incidents, out string how)
        {
            how = $"1 codebase discovery (login/companyinfo) + {incidents:N0} × POST service/tickets (the answer is the whole ticket with its id, so nothing is read back; " +
                "the reference is written on the ticket, so a lookup is needed only after an unknown outcome)";
            return 1 + incidents;
        }

        public override string Budget(int cwLimit) => $"{cwLimit:N0} per minute (sandbox throttle; the portal's budget is the same)";
    }

    private sealed class AutotaskSide(PsaSandbox sandbox, string zoneDiscoveryUrl) : PsaSide(sandbox)
    {
        public override PsaVendor Vendor => PsaVendor.Autotask;

        public override RequestLog Log => Sandbox.Autotask.RequestLog;

        public override void DescribeConnection(Integration integration, IntegrationSecrets secrets)
        {
            integration.UserName = "full@psaportal-sandbox.example";
            integration.ProtectedSecret = secrets.Protect("SbxFullSecret1!");
            integration.ProtectedIntegrationCode = secrets.Protect("PSAPORTALSANDBOX0000000000");
            integration.ZoneDiscoveryUrl = zoneDiscoveryUrl;
            integration.ApiVersion = "Autotask REST v1.0";
        }

        public override TicketingSettings Settings()
        {
            var company = ActiveCompanies().First();
            return new TicketingSettings
            {
                QueueId = 29683482, QueueName = "Security Operations", NewStatusId = 1, NewStatusName = "New", UpdatedStatusId = 8, UpdatedStatusName = "In Progress",
                AutotaskClosedStatusId = 5, AutotaskClosedStatusName = "Complete", DefaultPriorityId = 2, DefaultPriorityName = "Medium",
                LowPriorityId = 3, MediumPriorityId = 2, HighPriorityId = 1, CriticalPriorityId = 4, DefaultCompanyPsaId = company.Id, DefaultCompanyName = company.Name,
            };
        }

        public override IEnumerable<(long Id, string Name)> ActiveCompanies() =>
            Sandbox.Autotask.Data.Companies.All().Where(c => JsonRecords.GetBoolean(c["isActive"]) != false)
                .Select(c => (JsonRecords.GetId(c), JsonRecords.GetString(c["companyName"]) ?? ""));

        public override IEnumerable<string> TicketReferences() =>
            Sandbox.Autotask.Data.Tickets.All().Select(t => JsonRecords.GetString(t["externalID"])).OfType<string>();

        public override bool IsCreate(RequestLogEntry entry) => entry.Method == "POST" && entry.Status is >= 200 and < 300 && Route(entry) == "Tickets";

        public override string Route(RequestLogEntry entry) => AfterApiRoot(entry.Route);

        /// <summary>Autotask limits threads per entity: Tickets, ThresholdInformation, zoneInformation.</summary>
        public override string Endpoint(RequestLogEntry entry) => Route(entry).Split('/')[0];

        public override long MinimumCalls(int incidents, out string how)
        {
            how = $"1 zone discovery (zoneInformation, also the web address for links) + 1 threshold reading (the client's hourly budget) + {incidents:N0} × POST Tickets " +
                $"+ {incidents:N0} × GET Tickets/{{id}} read-back by the client (POST answers only {{\"itemId\":n}}; the ticket number people see, T…, is only on the read-back; the engine stores it with the link)";
            return 2 + 2L * incidents;
        }

        public override string Budget(int cwLimit) => "10,000 per hour (≈ 167 per minute on average; no per-minute limit) and 3 concurrent per endpoint";
    }
}
