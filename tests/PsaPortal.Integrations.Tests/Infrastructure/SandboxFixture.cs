using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.ConnectWise;

namespace PsaPortal.Integrations.Tests.Infrastructure;

/// <summary>The sandbox on real Kestrel at 127.0.0.1 on a free port, mounted under /sandbox as the portal mounts it. One per test class.</summary>
public class SandboxFixture : IAsyncLifetime
{
    private WebApplication? _app;

    protected virtual int CompanyCount => 40;

    public PsaSandbox Sandbox => _app!.Services.GetRequiredService<PsaSandbox>();

    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel();
        builder.Services.AddPsaSandbox(options =>
        {
            options.Seed = 42;
            options.CompanyCount = CompanyCount;
            options.ReferenceDate = new DateOnly(2026, 6, 15);
        });
        _app = builder.Build();
        _app.Urls.Add("http://127.0.0.1:0");
        _app.MapPsaSandbox("/sandbox");
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First().TrimEnd('/') + "/");
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    /// <summary>A plain client on the sandbox's ConnectWise API root, to read what a client call left behind the way the vendor serves it.</summary>
    public HttpClient ConnectWiseHttp(ConnectWiseApiMember? member = null)
    {
        member ??= ConnectWiseApiMember.Seeded[0];
        var client = new HttpClient { BaseAddress = new Uri(BaseAddress, "sandbox/connectwise/v4_6_release/apis/3.0/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ConnectWiseSandbox.CompanyId}+{member.PublicKey}:{member.PrivateKey}")));
        client.DefaultRequestHeaders.Add("clientId", ConnectWiseSandbox.SeededClientId);
        return client;
    }

    /// <summary>Puts the simulators back to their defaults (tests in a class share one host).</summary>
    public void ResetSettings()
    {
        Sandbox.ConnectWise.Configure(_ => new());
        Sandbox.Autotask.Configure(_ => new());
        Sandbox.Autotask.ResetThreshold();
    }
}
