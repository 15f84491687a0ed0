using System.Net;
using System.Security.Claims;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Sandbox;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Web.IntegrationTests.Reference;

/// <summary>
/// The portal on a real Kestrel port with its built-in sandbox, so the PSA clients make real HTTP calls (through the
/// site policy's connect callback) to the simulated ConnectWise and Autotask. No browser.
/// </summary>
internal sealed class SandboxPortal : IAsyncDisposable
{
    public const string ConnectWiseFullPublic = "SbxFullPublic01";
    public const string ConnectWiseFullPrivate = "SbxFullPrivate01";
    public const string AutotaskFullUser = "full@psaportal-sandbox.example";
    public const string AutotaskFullSecret = "SbxFullSecret1!";
    public const string AutotaskTrackingIdentifier = "PSAPORTALSANDBOX0000000000";

    private readonly Channel<ReferenceSyncFinished> _finished = Channel.CreateUnbounded<ReferenceSyncFinished>();
    private readonly IDisposable _subscription;

    private SandboxPortal(PortalFactory factory, string baseUrl, Guid organizationId)
    {
        Factory = factory;
        BaseUrl = baseUrl;
        OrganizationId = organizationId;
        _subscription = Get<IPortalEventStream>().Subscribe(organizationId, e =>
        {
            if (e is ReferenceSyncFinished finished)
            {
                _finished.Writer.TryWrite(finished);
            }

            return Task.CompletedTask;
        });
    }

    public PortalFactory Factory { get; }

    public string BaseUrl { get; }

    public Guid OrganizationId { get; }

    public PsaSandbox Sandbox => Get<PsaSandbox>();

    public ClaimsPrincipal Admin => UserIn(PortalRoles.Admin);

    /// <param name="settings">Extra configuration, e.g. a shared <c>Storage:DataDirectory</c> to restart on the same database.</param>
    public static async Task<SandboxPortal> StartAsync(PortalDatabase database, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var port = LoopbackPort.Free();
        var configuration = new Dictionary<string, string?>
        {
            ["Sandbox:Enabled"] = "true",
            ["Sandbox:SnapshotPath"] = "",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        var factory = new PortalFactory(database, configuration);
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        factory.StartServer();
        await using var db = await factory.CreateDbContextAsync();
        var organizationId = await db.Organizations.Where(o => o.Name == "Northwind MSP").Select(o => (Guid?)o.Id).SingleOrDefaultAsync()
            ?? await factory.AddOrganizationAsync("Northwind MSP");
        return new SandboxPortal(factory, $"http://127.0.0.1:{port}", organizationId);
    }

    public T Get<T>() where T : notnull => Factory.Services.GetRequiredService<T>();

    public ClaimsPrincipal UserIn(string role) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, $"test-{role}"),
            new Claim(ClaimTypes.Name, $"{role.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()}@northwind.example"),
            new Claim(ClaimTypes.Role, role),
            new Claim(PortalClaims.OrganizationId, OrganizationId.ToString()),
        ],
        "Test"));

    /// <summary>Links ConnectWise to the sandbox as the given API member; returns the integration's id.</summary>
    public async Task<Guid> LinkConnectWiseAsync(string publicKey = ConnectWiseFullPublic, string privateKey = ConnectWiseFullPrivate)
    {
        var linked = await Get<IntegrationService>().SaveConnectWiseAsync(Admin, new ConnectWiseLinkForm
        {
            SiteUrl = $"{BaseUrl}/sandbox/connectwise", CompanyId = "sandbox", PublicKey = publicKey, PrivateKey = privateKey,
        });
        Assert.True(linked.Succeeded, linked.Message);
        return await IntegrationIdAsync(PsaVendor.ConnectWise);
    }

    /// <summary>Links Autotask to the sandbox as the given API user; returns the integration's id.</summary>
    public async Task<Guid> LinkAutotaskAsync(string userName = AutotaskFullUser, string secret = AutotaskFullSecret)
    {
        var linked = await Get<IntegrationService>().SaveAutotaskAsync(Admin, new AutotaskLinkForm
        {
            UserName = userName, Secret = secret, IntegrationCode = AutotaskTrackingIdentifier, UseSandbox = true,
        }, new Uri(BaseUrl + "/"));
        Assert.True(linked.Succeeded, linked.Message);
        return await IntegrationIdAsync(PsaVendor.Autotask);
    }

    public async Task<Guid> IntegrationIdAsync(PsaVendor vendor) =>
        (await Get<IntegrationService>().FindAsync(OrganizationId, vendor))?.Id ?? throw new InvalidOperationException($"{vendor} is not linked.");

    /// <summary>The next reference sync of the organization to finish (the one a Save or a refresh starts in the background).</summary>
    public async Task<ReferenceSyncFinished> NextSyncFinishedAsync(TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        return await _finished.Reader.ReadAsync(cancellation.Token);
    }

    /// <summary>
    /// Waits until no reference sync of the integration runs or is being fired by Quartz. The Finished event is published
    /// from inside the job, so a refresh asked for right after it could still find the job's trigger firing.
    /// </summary>
    public async Task WaitForReferenceSyncIdleAsync(Guid integrationId)
    {
        var jobs = Get<ReferenceSyncJobs>();
        var schedules = Get<IntegrationSchedules>();
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (jobs.IsRunning(integrationId) || await schedules.IsReferenceSyncFiringAsync(integrationId))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the reference sync was still running after 30 s");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _subscription.Dispose();
        await Factory.DisposeAsync();
    }
}
