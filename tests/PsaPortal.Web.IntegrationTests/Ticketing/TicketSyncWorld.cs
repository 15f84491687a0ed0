using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Recording;
using PsaPortal.Integrations.Resilience;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Ticketing;

namespace PsaPortal.Web.IntegrationTests.Ticketing;

/// <summary>
/// The portal on Kestrel with its built-in sandbox, one PSA linked as its full-rights user, ticketing settings written
/// to the database and two tenants: one mapped by a person to company <see cref="MappedCompany"/>, one without a
/// mapping. The PSA clients give up on an attempt after <see cref="AttemptTimeout"/> (production: 30 s) so a slow
/// answer costs seconds; everything else is as in production. Incidents arrive through <see cref="PlatformIngest"/>, the
/// path the ingest API takes.
/// </summary>
internal sealed class TicketSyncWorld : IAsyncDisposable
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);
    public const int MappedCompany = 7;
    public const int DefaultCompany = 9;
    public const string MappedTenant = "tn-mapped";
    public const string UnmappedTenant = "tn-unmapped";

    private readonly WebApplicationFactory<Program> _host;
    private readonly PortalFactory _portal;

    private TicketSyncWorld(PortalFactory portal, WebApplicationFactory<Program> host, string baseUrl, Guid organizationId, PsaVendor vendor)
    {
        _portal = portal;
        _host = host;
        BaseUrl = baseUrl;
        OrganizationId = organizationId;
        Vendor = vendor;
    }

    public string BaseUrl { get; }

    public Guid OrganizationId { get; }

    public PsaVendor Vendor { get; }

    public Guid IntegrationId { get; private set; }

    public TicketingSettings Settings { get; private set; } = null!;

    public PsaSandbox Sandbox => Get<PsaSandbox>();

    public long MappedCompanyPsaId => Vendor == PsaVendor.ConnectWise ? MappedCompany : 1000 + MappedCompany;

    public long DefaultCompanyPsaId => Vendor == PsaVendor.ConnectWise ? DefaultCompany : 1000 + DefaultCompany;

    public ClaimsPrincipal UserIn(string role) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, $"ticket-{role}"),
            new Claim(ClaimTypes.Name, $"{role.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()}@tickets.example"),
            new Claim(ClaimTypes.Role, role),
            new Claim(PortalClaims.OrganizationId, OrganizationId.ToString()),
        ],
        "Test"));

    /// <param name="dataDirectory">A shared <c>Storage:DataDirectory</c>, to start a new portal over the same database.</param>
    /// <param name="port">The loopback port; a restarted portal takes its predecessor's, which the integration's PSA addresses name.</param>
    /// <param name="sandboxSnapshot">A <c>Sandbox:SnapshotPath</c>: the sandbox's state is written there at shutdown and loaded at start.</param>
    public static async Task<TicketSyncWorld> StartAsync(PsaVendor vendor, PortalDatabase? database = null, string? dataDirectory = null, int? port = null,
        string? sandboxSnapshot = null)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Sandbox:Enabled"] = "true",
            ["Sandbox:SnapshotPath"] = sandboxSnapshot ?? "",
            ["Sandbox:CompanyCount"] = "20",
            ["Portal:PublicUrl"] = "https://portal.tickets.example",
            ["Ticketing:UnknownOutcomeWait"] = "00:00:01",
        };
        if (dataDirectory is not null)
        {
            configuration["Storage:DataDirectory"] = dataDirectory;
        }

        var portal = new PortalFactory(database ?? new PortalDatabase.Sqlite(), configuration);
        var host = portal.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddSingleton<IPsaClientFactory>(sp =>
            {
                var resilience = new PsaResilienceOptions { AttemptTimeout = AttemptTimeout };
                return new PsaClientFactory(sp.GetRequiredService<IPsaCallRecorder>(), new PsaClientFactoryOptions
                {
                    ConnectWise = new ConnectWiseOptions { Resilience = resilience },
                    Autotask = new AutotaskOptions { Resilience = resilience },
                    TimeProvider = sp.GetRequiredService<TimeProvider>(),
                    PrimaryHandler = new SocketsHttpHandler { ConnectCallback = sp.GetRequiredService<SiteAddressPolicy>().ConnectAsync },
                });
            })));
        var listenOn = port ?? LoopbackPort.Free();
        host.UseKestrel(options => options.Listen(IPAddress.Loopback, listenOn));
        host.StartServer();
        Guid organizationId;
        await using (var db = await host.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            organizationId = await db.Organizations.Where(o => o.Name == "Ticket Desk MSP").Select(o => (Guid?)o.Id).SingleOrDefaultAsync() ?? Guid.Empty;
            if (organizationId == Guid.Empty)
            {
                var organization = new Organization { Name = "Ticket Desk MSP", CreatedAt = DateTimeOffset.UtcNow };
                db.Organizations.Add(organization);
                await db.SaveChangesAsync();
                organizationId = organization.Id;
            }
        }

        return new TicketSyncWorld(portal, host, $"http://127.0.0.1:{listenOn}", organizationId, vendor);
    }

    public int Port => new Uri(BaseUrl).Port;

    /// <summary>A restarted portal: the integration and ticketing settings an earlier <see cref="SetUpAsync"/> wrote to the same database.</summary>
    public async Task AttachAsync()
    {
        await using var db = await CreateDbContextAsync();
        IntegrationId = await db.Integrations.Where(i => i.OrganizationId == OrganizationId && i.Vendor == Vendor).Select(i => i.Id).SingleAsync();
        Settings = await db.TicketingSettings.AsNoTracking().SingleAsync(s => s.IntegrationId == IntegrationId);
    }

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    public Task<PortalDbContext> CreateDbContextAsync() => Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();

    /// <summary>Links the PSA, writes enabled ticketing settings and the two tenants (one mapped).</summary>
    public async Task SetUpAsync(Action<TicketingSettings>? change = null)
    {
        var admin = UserIn(PortalRoles.Admin);
        var integrations = Get<IntegrationService>();
        var linked = Vendor == PsaVendor.ConnectWise
            ? await integrations.SaveConnectWiseAsync(admin, new ConnectWiseLinkForm
            {
                SiteUrl = $"{BaseUrl}/sandbox/connectwise", CompanyId = "sandbox", PublicKey = "SbxFullPublic01", PrivateKey = "SbxFullPrivate01",
            })
            : await integrations.SaveAutotaskAsync(admin, new AutotaskLinkForm
            {
                UserName = "full@psaportal-sandbox.example", Secret = "SbxFullSecret1!", IntegrationCode = "PSAPORTALSANDBOX0000000000", UseSandbox = true,
            }, new Uri(BaseUrl + "/"));
        Assert.True(linked.Succeeded, linked.Message);
        IntegrationId = (await integrations.FindAsync(OrganizationId, Vendor))!.Id;

        var now = DateTimeOffset.UtcNow;
        Settings = Vendor == PsaVendor.ConnectWise ? ConnectWiseSettings() : AutotaskSettings();
        Settings.IntegrationId = IntegrationId;
        Settings.Enabled = true;
        Settings.UpdatedAt = now;
        change?.Invoke(Settings);
        await using var db = await CreateDbContextAsync();
        db.TicketingSettings.Add(Settings);
        var mapped = new Tenant { OrganizationId = OrganizationId, ExternalId = MappedTenant, Name = "Mapped Tenant Ltd", Status = TenantStatus.Active, CreatedAt = now, UpdatedAt = now };
        var unmapped = new Tenant { OrganizationId = OrganizationId, ExternalId = UnmappedTenant, Name = "Unmapped Tenant Inc", Status = TenantStatus.Active, CreatedAt = now, UpdatedAt = now };
        db.Tenants.AddRange(mapped, unmapped);
        await db.SaveChangesAsync();
        db.TenantMappings.Add(new TenantMapping
        {
            IntegrationId = IntegrationId, TenantId = mapped.Id, CompanyPsaId = MappedCompanyPsaId, CompanyName = "Mapped", Origin = MappingOrigin.Person, UpdatedAt = now,
        });
        await db.SaveChangesAsync();
    }

    private TicketingSettings ConnectWiseSettings()
    {
        var data = Sandbox.ConnectWise.Data;
        var board = data.Boards.All().Single(b => JsonRecords.GetString(b["name"]) == "Help Desk");
        var boardId = JsonRecords.GetId(board);
        var closed = data.BoardStatuses.All().First(s => JsonRecords.GetId((JsonObject)s["board"]!) == boardId && JsonRecords.GetBoolean(s["closedStatus"]) == true);
        var priorities = data.Priorities.All().OrderBy(JsonRecords.GetId).ToList();
        long Priority(int index) => JsonRecords.GetId(priorities[index % priorities.Count]);
        var source = data.Sources.All().First();
        return new TicketingSettings
        {
            BoardId = boardId, BoardName = "Help Desk", DefaultCompanyPsaId = DefaultCompany, DefaultCompanyName = "Default",
            ClosedStatusId = JsonRecords.GetId(closed), ClosedStatusName = JsonRecords.GetString(closed["name"]), SourceId = JsonRecords.GetId(source), SourceName = JsonRecords.GetString(source["name"]),
            DefaultPriorityId = Priority(0), LowPriorityId = Priority(1), MediumPriorityId = Priority(2), HighPriorityId = Priority(3), CriticalPriorityId = Priority(4),
        };
    }

    private static TicketingSettings AutotaskSettings() => new()
    {
        QueueId = 29683482, QueueName = "Security Operations", NewStatusId = 1, NewStatusName = "New", UpdatedStatusId = 8, UpdatedStatusName = "In Progress",
        AutotaskClosedStatusId = 5, AutotaskClosedStatusName = "Complete", DefaultPriorityId = 2, DefaultPriorityName = "Medium",
        LowPriorityId = 3, MediumPriorityId = 2, HighPriorityId = 1, CriticalPriorityId = 4, DefaultCompanyPsaId = 1000 + DefaultCompany,
    };

    /// <summary>Pushes one incident through the ingest path (as the API does).</summary>
    public async Task PushAsync(string externalId, string tenant = MappedTenant, string title = "Ransomware behaviour blocked on FILESRV01", string severity = "High",
        string status = "Open", DateTimeOffset? updatedAt = null, string? description = "EDR blocked encryption attempts by an unsigned process.")
    {
        var detected = DateTimeOffset.UtcNow.AddMinutes(-5);
        var result = await Get<PlatformIngest>().IngestAsync(OrganizationId, new PlatformBatch
        {
            Incidents =
            [
                new IncidentInput
                {
                    ExternalId = externalId, TenantExternalId = tenant, Title = title, Description = description, Severity = severity, Status = status,
                    DetectedAt = detected.ToString("O", CultureInfo.InvariantCulture), UpdatedAt = (updatedAt ?? DateTimeOffset.UtcNow).ToString("O", CultureInfo.InvariantCulture),
                    ResolvedAt = status is "Resolved" or "Closed" ? DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture) : null,
                },
            ],
        }, "test");
        Assert.True(result.Errors.Count == 0, string.Join("; ", result.Errors.Select(e => e.Message)));
    }

    public async Task<IncidentTicket> TicketOfAsync(string incidentExternalId)
    {
        await using var db = await CreateDbContextAsync();
        return await (from t in db.IncidentTickets
                      join i in db.Incidents on t.IncidentId equals i.Id
                      where i.ExternalId == incidentExternalId && t.IntegrationId == IntegrationId
                      select t).AsNoTracking().SingleAsync();
    }

    /// <summary>Waits (polling with a deadline) until the incident's ticket row is in <paramref name="state"/>.</summary>
    public async Task<IncidentTicket> WaitForAsync(string incidentExternalId, TicketState state, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(45));
        IncidentTicket? row = null;
        while (DateTime.UtcNow < deadline)
        {
            await using (var db = await CreateDbContextAsync())
            {
                row = await (from t in db.IncidentTickets
                             join i in db.Incidents on t.IncidentId equals i.Id
                             where i.ExternalId == incidentExternalId && t.IntegrationId == IntegrationId
                             select t).AsNoTracking().SingleOrDefaultAsync();
            }

            if (row?.State == state)
            {
                return row;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"Ticket of {incidentExternalId} is {row?.State.ToString() ?? "missing"} ({row?.Error}), not {state}.");
        return row!;
    }

    /// <summary>The sandbox's tickets carrying the external reference.</summary>
    public List<JsonObject> PsaTicketsWith(string reference) => Vendor == PsaVendor.ConnectWise
        ? [.. Sandbox.ConnectWise.Data.Tickets.All().Where(t => JsonRecords.GetString(t["externalXRef"]) == reference)]
        : [.. Sandbox.Autotask.Data.Tickets.All().Where(t => JsonRecords.GetString(t["externalID"]) == reference)];

    public JsonObject PsaTicket(long id) => (Vendor == PsaVendor.ConnectWise ? Sandbox.ConnectWise.Data.Tickets : Sandbox.Autotask.Data.Tickets).Find(id)!;

    public static long Long(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var number) ? (long)number : throw new InvalidOperationException($"Not a number: {node}");

    public static string Id(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8].ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _portal.DisposeAsync();
    }
}
