using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PsaPortal.Integrations;
using PsaPortal.Testing;
using PsaPortal.Testing.BillingScenarios;
using PsaPortal.Testing.Processes;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.ClusterTests;

/// <summary>One portal node: its process, its name in the Quartz cluster and its address.</summary>
internal sealed record ClusterNode(string Name, PortalProcess Process)
{
    public string BaseUrl => Process.BaseUrl;

    public bool IsAlive => !Process.HasExited;
}

/// <summary>
/// The cluster every test of the class shares: a PostgreSQL server with one portal database, the standalone sandbox
/// (<see cref="CompanyCount"/> companies, 2–5 ms a call) and two portal processes on loopback ports with
/// <c>Database:Provider=PostgreSql</c>, <c>Scheduler:Clustered=true</c>, <c>Scheduler:CheckinInterval=00:00:01</c> and
/// <c>Events:Transport=PostgreSql</c>. An Admin is set up through node 1's first-run page; the ConnectWise scenario of
/// the crash tests (a tenant per company, every product mapped) is seeded into that organization. Before node 2
/// starts, <see cref="ScheduleCount"/> other organizations each get an hourly billing schedule due at
/// <see cref="FirstFiring"/> or a minute later; node 2 stores their triggers at start-up and either node may fire them.
/// Environment: <c>PSAPORTAL_CLUSTER_SEED</c> replays a run (the report's header names the seed).
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int CompanyCount = 300;
    public const int LatencyMilliseconds = 2;
    public const int JitterMilliseconds = 3;
    public const int ScheduleCount = 6;

    /// <summary>The Quartz job every billing run and schedule fires (BillingSyncJob.Key, internal to the portal).</summary>
    public const string BillingJobName = "billing-sync";
    public const string Password = "Cluster-Password-2026";
    public static readonly TimeSpan CheckinInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan NodeStartTimeout = TimeSpan.FromSeconds(240);

    private readonly List<string> _nodeFolders = [];
    private PostgreSqlServer? _server;
    private IPlaywright? _playwright;

    public int Seed { get; } = int.TryParse(Environment.GetEnvironmentVariable("PSAPORTAL_CLUSTER_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
        ? seed
        : Random.Shared.Next(1, 1_000_000);

    public string LogDirectory { get; } = Directory.CreateDirectory(Path.Combine(BuildOutput.ArtifactsDirectory, "cluster-logs")).FullName;

    internal ArtifactReport Report { get; private set; } = null!;

    internal PostgreSqlPortalStore Store { get; private set; } = null!;

    internal SandboxProcess Sandbox { get; private set; } = null!;

    internal ConnectWiseScenario Scenario { get; private set; } = null!;

    internal ClusterNode[] Nodes { get; private set; } = [];

    public IBrowser Browser { get; private set; } = null!;

    public string AdminEmail { get; } = "admin@cluster.example";

    /// <summary>The Admin's cookie, got by signing in on node 1; every node must accept it (the shared key ring).</summary>
    public string Cookie { get; private set; } = "";

    public DateTimeOffset FirstFiring { get; private set; }

    /// <summary>When both nodes answered ready: node 2 must have stored the schedules' triggers before <see cref="FirstFiring"/>.</summary>
    public DateTimeOffset NodesUpAt { get; private set; }

    /// <summary>The schedules' integrations and the time each must fire (exactly once).</summary>
    public IReadOnlyList<(Guid IntegrationId, long ScheduleId, DateTimeOffset FiresAt)> Schedules { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Report = new ArtifactReport(Path.Combine(BuildOutput.ArtifactsDirectory, "cluster-tests.txt"),
            string.Create(CultureInfo.InvariantCulture, $"# Cluster tests {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC: seed {Seed} (replay: PSAPORTAL_CLUSTER_SEED={Seed}), ")
            + string.Create(CultureInfo.InvariantCulture, $"{CompanyCount} companies, sandbox latency {LatencyMilliseconds}+{JitterMilliseconds} ms, 2 nodes, check-in {CheckinInterval.TotalSeconds:0} s, ")
            + $"{Environment.ProcessorCount} cores, load average {LoadAverage()}",
            append: true);
        _server = await PostgreSqlServer.StartAsync();
        Store = new PostgreSqlPortalStore(await _server.CreateDatabaseAsync());
        Sandbox = await SandboxProcess.StartAsync(Seed, CompanyCount, Path.Combine(LogDirectory, $"sandbox-{Seed}.log"));
        await Sandbox.SetLatencyAsync(PsaVendor.ConnectWise, LatencyMilliseconds, JitterMilliseconds);
        await Store.MigrateAsync();

        // One node after the other, as the deployment does (compose.yaml starts portal-2 once portal-1 is healthy): two
        // nodes starting together on a new database both seed the Identity roles, and one fails on RoleNameIndex.
        var first = await StartNodeAsync("node-1");
        Nodes = [first];

        // Due a little after node 2 is up. Node 2 stores their triggers at start-up (in the shared Quartz tables), so
        // either node may fire them; half due one minute after the other half.
        var now = DateTimeOffset.UtcNow;
        FirstFiring = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(1);
        if (FirstFiring - now < TimeSpan.FromSeconds(75))
        {
            FirstFiring = FirstFiring.AddMinutes(1);
        }

        Schedules = await SeedSchedulesAsync();
        Nodes = [first, await StartNodeAsync("node-2")];
        foreach (var node in Nodes)
        {
            await node.Process.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        }

        NodesUpAt = DateTimeOffset.UtcNow;
        Report.Write(NullOutput.Instance, $"    nodes up at {NodesUpAt:HH:mm:ss} UTC; schedules due at {FirstFiring:HH:mm:ss} and {FirstFiring.AddMinutes(1):HH:mm:ss} UTC");

        var organizationId = await SetUpAdminAsync(Nodes[0]);
        Scenario = new ConnectWiseScenario(Store, Sandbox);
        await Scenario.SeedAsync(organizationId);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = LivePortal.FindChromium(),
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        foreach (var node in Nodes)
        {
            if (node.IsAlive)
            {
                await node.Process.StopAsync();
            }

            node.Process.Dispose();
        }

        if (Sandbox is not null)
        {
            await Sandbox.DisposeAsync();
        }

        Store?.Dispose();
        Npgsql.NpgsqlConnection.ClearAllPools();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        foreach (var folder in _nodeFolders)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // A killed node may still be releasing a file; the temp folder is cleaned by the OS eventually.
            }
        }
    }

    /// <summary>The Admin signed in on <paramref name="node"/> in a fresh Chromium context, on the Billing page with its circuit up.</summary>
    internal async Task<IPage> OpenBillingPageAsync(ClusterNode node)
    {
        var (page, _) = await LivePortal.NewPageAsync(Browser, node.BaseUrl);
        await LivePortal.SignInAsync(page, AdminEmail, Password);
        await page.GotoAsync("/billing");
        await LivePortal.WaitForCircuitAsync(page);
        return page;
    }

    /// <summary>The Quartz instance (node name) executing the billing job right now, read from Quartz's own table; null when none is.</summary>
    public async Task<string?> BillingJobRunnerAsync() =>
        (await Store.QueryAsync<string>("SELECT instance_name FROM qrtz_fired_triggers WHERE job_name = @job AND state = 'EXECUTING'",
            ("job", BillingJobName))).FirstOrDefault();

    private async Task<ClusterNode> StartNodeAsync(string name)
    {
        var folder = Directory.CreateTempSubdirectory($"psaportal-{name}-").FullName;
        _nodeFolders.Add(folder);
        var log = Path.Combine(LogDirectory, $"{name}-{Seed}.log");
        var process = await PortalProcess.StartAsync(folder, log, NodeStartTimeout, new Dictionary<string, string>
        {
            ["Database:Provider"] = "PostgreSql",
            ["ConnectionStrings:Portal"] = Store.ConnectionString,
            ["Scheduler:Clustered"] = "true",
            ["Scheduler:CheckinInterval"] = CheckinInterval.ToString("c", CultureInfo.InvariantCulture),
            ["Scheduler:InstanceId"] = name,
            ["Events:Transport"] = "PostgreSql",
        },
        // A node runs from its build output; only Development serves the build's static web assets (Radzen's and the
        // portal's scripts) that the Billing page needs in Chromium. A published portal serves them from wwwroot.
        environment: "Development");
        return new ClusterNode(name, process);
    }

    /// <summary>First-run set-up and sign-in through node 1's own pages; returns the new organization's id.</summary>
    private async Task<Guid> SetUpAdminAsync(ClusterNode node)
    {
        var cookies = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies, UseCookies = true })
        {
            BaseAddress = new Uri(node.BaseUrl),
        };
        var browser = new PortalBrowser(http);
        var (setUp, _) = await browser.SetUpAsync("Cluster MSP", AdminEmail, Password);
        if ((int)setUp.StatusCode >= 400)
        {
            throw new InvalidOperationException($"First-run set-up on {node.Name} answered {(int)setUp.StatusCode}.");
        }

        var (signedIn, _) = await browser.SignInAsync(AdminEmail, Password);
        if (signedIn.StatusCode != HttpStatusCode.Redirect && signedIn.StatusCode != HttpStatusCode.Found)
        {
            throw new InvalidOperationException($"Sign-in on {node.Name} answered {(int)signedIn.StatusCode}, not a redirect.");
        }

        Cookie = cookies.GetCookieHeader(new Uri(node.BaseUrl));
        await using var db = Store.CreateDbContext();
        return await db.Organizations.Where(o => o.Name == "Cluster MSP").Select(o => o.Id).SingleAsync();
    }

    /// <summary>
    /// <see cref="ScheduleCount"/> organizations, each with a connected ConnectWise integration on the sandbox (no tenants
    /// mapped, so a run is short) and one enabled hourly schedule: half due at <see cref="FirstFiring"/>, half one minute later.
    /// </summary>
    private async Task<IReadOnlyList<(Guid IntegrationId, long ScheduleId, DateTimeOffset FiresAt)>> SeedSchedulesAsync()
    {
        var now = DateTimeOffset.UtcNow;
        await using var db = Store.CreateDbContext();
        var created = new List<(Integration Integration, BillingSchedule Schedule, DateTimeOffset FiresAt)>();
        for (var i = 0; i < ScheduleCount; i++)
        {
            var firesAt = FirstFiring.AddMinutes(i % 2);
            var organization = new Organization { Name = $"Scheduled MSP {i + 1}", CreatedAt = now };
            db.Organizations.Add(organization);
            var integration = new Integration
            {
                OrganizationId = organization.Id, Vendor = PsaVendor.ConnectWise, Status = IntegrationStatus.Connected, ConnectedAt = now,
                ReferenceSyncedAt = now, UpdatedAt = now, UpdatedBy = "cluster test",
                SiteUrl = Sandbox.ConnectWiseSiteUrl, CompanyId = "sandbox", PublicKey = ConnectWiseScenario.PublicKey,
                ProtectedPrivateKey = Store.Secrets.Protect(ConnectWiseScenario.PrivateKey), ApiVersion = "ConnectWise 2025.1",
            };
            db.Integrations.Add(integration);
            var schedule = new BillingSchedule
            {
                IntegrationId = integration.Id, Frequency = BillingFrequency.Hourly, TimeOfDay = new TimeOnly(0, firesAt.Minute), TimeZone = "UTC",
                Enabled = true, UpdatedAt = now, UpdatedBy = "cluster test",
            };
            db.BillingSchedules.Add(schedule);
            created.Add((integration, schedule, firesAt));
        }

        await db.SaveChangesAsync();
        return created.Select(c => (c.Integration.Id, c.Schedule.Id, c.FiresAt)).ToList();
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}

/// <summary>For report lines written outside a test (the fixture's own).</summary>
internal sealed class NullOutput : Xunit.Abstractions.ITestOutputHelper
{
    public static readonly NullOutput Instance = new();

    public void WriteLine(string message)
    {
    }

    public void WriteLine(string format, params object[] args)
    {
    }
}
