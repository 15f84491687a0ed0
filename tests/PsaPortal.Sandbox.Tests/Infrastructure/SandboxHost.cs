using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.ConnectWise;

namespace PsaPortal.Sandbox.Tests.Infrastructure;

/// <summary>
/// A real Kestrel host on a loopback port with the sandbox mounted the way the portal mounts it
/// (AddPsaSandbox + MapPsaSandbox under a prefix, next to routes of its own). One per test class.
/// </summary>
public class SandboxHost : IAsyncLifetime
{
    public const string Prefix = "/sandbox";
    private WebApplication? _app;

    protected virtual int CompanyCount => 40;

    protected virtual string PathPrefix => Prefix;

    public PsaSandbox Sandbox => _app!.Services.GetRequiredService<PsaSandbox>();

    public IServiceProvider Services => _app!.Services;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Fixed so that dates in assertions do not depend on the day the tests run.</summary>
    public static readonly DateOnly ReferenceDate = new(2026, 6, 15);

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel();
        builder.Services.AddPsaSandbox(options =>
        {
            options.Seed = 42;
            options.CompanyCount = CompanyCount;
            options.ReferenceDate = ReferenceDate;
        });
        _app = builder.Build();
        _app.Urls.Add("http://127.0.0.1:0");
        _app.MapGet("/host-route", () => "host");
        _app.MapPsaSandbox(PathPrefix);
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
        Prepare(Sandbox);
    }

    /// <summary>Lets a fixture replace seeded records with hand-made ones before its tests run.</summary>
    protected virtual void Prepare(PsaSandbox sandbox)
    {
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress };

    /// <summary>A client whose relative URLs start at <c>…/connectwise/v4_6_release/apis/3.0/</c>, authenticated as <paramref name="member"/>.</summary>
    public HttpClient ConnectWise(ConnectWiseApiMember? member = null, string codebase = "v4_6_release/")
    {
        member ??= ConnectWiseApiMember.Seeded[0];
        var client = new HttpClient { BaseAddress = new Uri(BaseAddress, $"{PathPrefix}/connectwise/{codebase}apis/3.0/") };
        client.DefaultRequestHeaders.Authorization = ConnectWiseAuthorization(member.PublicKey, member.PrivateKey);
        client.DefaultRequestHeaders.Add("clientId", ConnectWiseSandbox.SeededClientId);
        return client;
    }

    public static AuthenticationHeaderValue ConnectWiseAuthorization(string publicKey, string privateKey, string companyId = ConnectWiseSandbox.CompanyId) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{companyId}+{publicKey}:{privateKey}")));

    public Uri AutotaskZoneRoot(int zone = 5) => new(BaseAddress, $"{PathPrefix}/autotask/webservices{zone}/ATServicesRest/V1.0/");

    /// <summary>A client whose relative URLs start at the zone's <c>…/ATServicesRest/V1.0/</c>, authenticated as <paramref name="user"/>.</summary>
    public HttpClient Autotask(AutotaskApiUser? user = null, int zone = 5)
    {
        user ??= AutotaskApiUser.Seeded[0];
        var client = new HttpClient { BaseAddress = AutotaskZoneRoot(zone) };
        client.DefaultRequestHeaders.Add("ApiIntegrationCode", AutotaskApiUser.SeededIntegrationCode);
        client.DefaultRequestHeaders.Add("UserName", user.UserName);
        client.DefaultRequestHeaders.Add("Secret", user.Secret);
        return client;
    }
}
