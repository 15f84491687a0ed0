using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Resilience;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.ConnectWise;
using PsaPortal.Testing.Specs;

namespace PsaPortal.Integrations.Tests.Infrastructure;

/// <summary>
/// A client factory wired to the sandbox: the vendor-spec recorder innermost, a call recorder, and a
/// clock 50 times faster than real time (so a 1 s backoff costs 20 ms). Dispose it after the test.
/// </summary>
public sealed class TestClients : IDisposable
{
    public const double Speed = 50;

    /// <summary>Timeouts are long in test time: on the accelerated clock 5 minutes are 6 real seconds, enough for a cold first request.</summary>
    public static readonly PsaResilienceOptions FastResilience = new()
    {
        AttemptTimeout = TimeSpan.FromMinutes(5),
        OverallTimeout = TimeSpan.FromMinutes(30),
        MaxRetryAttempts = 3,
        BreakerMinimumThroughput = 50,
    };

    private readonly SandboxFixture _sandbox;

    public TestClients(SandboxFixture sandbox, Func<PsaClientFactoryOptions, PsaClientFactoryOptions>? configure = null, HttpMessageHandler? primary = null)
    {
        _sandbox = sandbox;
        Traffic = new RecordingHandler(primary ?? new SocketsHttpHandler());
        var options = new PsaClientFactoryOptions
        {
            TimeProvider = Time,
            PrimaryHandler = Traffic,
            ConnectWise = new ConnectWiseOptions { Resilience = FastResilience },
            Autotask = new AutotaskOptions { Resilience = FastResilience },
        };
        Factory = new PsaClientFactory(Calls, configure is null ? options : configure(options));
    }

    public AcceleratedTimeProvider Time { get; } = new(Speed);

    public ListCallRecorder Calls { get; } = new();

    /// <summary>Every exchange on the wire, for spec conformance.</summary>
    public RecordingHandler Traffic { get; }

    public PsaClientFactory Factory { get; }

    public ConnectWiseConnection ConnectWiseConnection(ConnectWiseApiMember? member = null, string companyId = ConnectWiseSandbox.CompanyId)
    {
        member ??= ConnectWiseApiMember.Seeded[0];
        return new ConnectWiseConnection($"cw-{member.Identifier}", new Uri(_sandbox.BaseAddress, "sandbox/connectwise").AbsoluteUri, companyId, member.PublicKey, member.PrivateKey,
            ConnectWiseSandbox.SeededClientId) { AllowInsecureHttp = true };
    }

    public IConnectWiseApi ConnectWise(ConnectWiseApiMember? member = null) => Factory.CreateConnectWise(ConnectWiseConnection(member));

    public AutotaskConnection AutotaskConnection(AutotaskApiUser? user = null, string? secret = null, string? integrationCode = null)
    {
        user ??= AutotaskApiUser.Seeded[0];
        return new AutotaskConnection($"at-{user.UserName}", user.UserName, secret ?? user.Secret, integrationCode ?? AutotaskApiUser.SeededIntegrationCode)
        {
            ZoneDiscoveryUrl = new Uri(_sandbox.BaseAddress, "sandbox/autotask/atservicesrest/"),
            AllowInsecureHttp = true,
        };
    }

    public IAutotaskApi Autotask(AutotaskApiUser? user = null) => Factory.CreateAutotask(AutotaskConnection(user));

    public static ConnectWiseApiMember CwMember(string identifier) => ConnectWiseApiMember.Seeded.Single(m => m.Identifier == identifier);

    public static AutotaskApiUser AtUser(string prefix) => AutotaskApiUser.Seeded.Single(u => u.UserName.StartsWith(prefix + "@", StringComparison.Ordinal));

    public void Dispose()
    {
        Factory.Dispose();
        Traffic.Dispose();
    }
}
