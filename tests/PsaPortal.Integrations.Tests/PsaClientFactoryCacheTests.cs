using System.Net;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Tests.Infrastructure;
using RichardSzalay.MockHttp;

namespace PsaPortal.Integrations.Tests;

/// <summary>The factory keeps a client while it is used and releases clients left unused (changed or mistyped credentials).</summary>
public sealed class PsaClientFactoryCacheTests : IDisposable
{
    private const string ClientId = "5f0c3a8e-6d1b-4c2a-9e47-3b8f2d6a1c90";
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(30);

    private readonly ManualTimeProvider _time = new();
    private readonly MockHttpMessageHandler _vendor = new(BackendDefinitionBehavior.Always);
    private readonly TaskCompletionSource _slowRequestArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _slowAnswer = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PsaClientFactoryCacheTests()
    {
        foreach (var site in new[] { "na", "eu" })
        {
            _vendor.When($"https://api-{site}.myconnectwise.net/login/companyinfo/acme").Respond("application/json", """{"Codebase":"v2025_1/"}""");
        }

        _vendor.When("https://api-na.myconnectwise.net/v2025_1/apis/3.0/system/info").Respond("application/json", """{"version":"v2025.1.0","isCloud":true}""");
        _vendor.When("https://api-eu.myconnectwise.net/v2025_1/apis/3.0/system/info").Respond(async () =>
        {
            _slowRequestArrived.TrySetResult();
            await _slowAnswer.Task;
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"version":"v2025.1.0","isCloud":true}""", System.Text.Encoding.UTF8, "application/json") };
        });
    }

    public void Dispose() => _vendor.Dispose();

    [Fact]
    public void CreateConnectWise_SameCredentialsWithinTheIdleLifetime_SharesOneClientAndBreaker()
    {
        // Arrange
        using var factory = Factory();
        var first = factory.CreateConnectWise(ConnectWise("key"));

        // Act
        _time.Advance(Lifetime - TimeSpan.FromMinutes(1));
        var second = factory.CreateConnectWise(ConnectWise("key"));

        // Assert
        Assert.Same(first, second);
        Assert.Same(first.Health, second.Health);
        Assert.Equal(1, factory.CachedClientCount);
    }

    [Fact]
    public async Task CreateConnectWise_AnotherClientUnusedLongerThanTheLifetime_ReleasesItAndItRefusesFurtherCalls()
    {
        // Arrange
        using var factory = Factory();
        var mistyped = factory.CreateConnectWise(ConnectWise("mistyped"));
        await mistyped.GetSystemInfoAsync();

        // Act
        _time.Advance(Lifetime + TimeSpan.FromMinutes(1));
        factory.CreateConnectWise(ConnectWise("corrected"));
        var countAfterSweep = factory.CachedClientCount;
        var stale = await Record.ExceptionAsync(() => mistyped.GetSystemInfoAsync());
        var rebuilt = factory.CreateConnectWise(ConnectWise("mistyped"));

        // Assert
        Assert.Equal(1, countAfterSweep);
        var refused = Assert.IsType<ObjectDisposedException>(stale);
        Assert.Contains("ask IPsaClientFactory for the client again", refused.Message, StringComparison.Ordinal);
        Assert.NotSame(mistyped, rebuilt);
        Assert.Equal("v2025.1.0", (await rebuilt.GetSystemInfoAsync()).Version);
    }

    [Fact]
    public async Task Sweep_ClientUsedWithinTheLifetime_IsKeptThoughCreatedLongBefore()
    {
        // Arrange
        using var factory = Factory();
        var client = factory.CreateConnectWise(ConnectWise("key"));
        _time.Advance(Lifetime - TimeSpan.FromMinutes(5));
        await client.GetSystemInfoAsync();

        // Act
        _time.Advance(TimeSpan.FromMinutes(10));
        factory.CreateConnectWise(ConnectWise("other"));

        // Assert
        Assert.Same(client, factory.CreateConnectWise(ConnectWise("key")));
    }

    [Fact]
    public async Task Sweep_ClientWithARequestRunning_IsKeptAndStillSharedWhateverItsIdleTime()
    {
        // Arrange
        using var factory = Factory();
        var slow = factory.CreateConnectWise(ConnectWise("key", site: "eu.myconnectwise.net"));
        var pending = slow.GetSystemInfoAsync();
        await _slowRequestArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Act
        _time.Advance(Lifetime * 3);
        factory.CreateConnectWise(ConnectWise("other"));
        var again = factory.CreateConnectWise(ConnectWise("key", site: "eu.myconnectwise.net"));
        _slowAnswer.SetResult();

        // Assert
        Assert.Same(slow, again);
        Assert.Equal("v2025.1.0", (await pending).Version);
    }

    [Fact]
    public async Task Create_BeyondMaxClients_ReleasesTheLeastRecentlyUsedFirst()
    {
        // Arrange
        using var factory = Factory(maxClients: 2);
        var first = factory.CreateConnectWise(ConnectWise("first"));
        _time.Advance(TimeSpan.FromMinutes(1));
        var second = factory.CreateAutotask(Autotask("second"));
        _time.Advance(TimeSpan.FromMinutes(1));
        factory.CreateConnectWise(ConnectWise("first"));
        _time.Advance(TimeSpan.FromMinutes(1));

        // Act
        factory.CreateConnectWise(ConnectWise("third"));

        // Assert
        Assert.Equal(2, factory.CachedClientCount);
        Assert.Same(first, factory.CreateConnectWise(ConnectWise("first")));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => second.GetThresholdInformationAsync());
    }

    [Fact]
    public async Task Dispose_Factory_ReleasesEveryClient()
    {
        // Arrange
        var factory = Factory();
        var client = factory.CreateConnectWise(ConnectWise("key"));
        await client.GetSystemInfoAsync();

        // Act
        factory.Dispose();

        // Assert
        Assert.Equal(0, factory.CachedClientCount);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.GetSystemInfoAsync());
    }

    [Fact]
    public async Task Dispose_ConnectWiseBudget_StopsItsLimiter()
    {
        // Arrange
        var budget = new ConnectWiseRequestBudget(10);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api-na.myconnectwise.net/v2025_1/apis/3.0/system/info");

        // Act
        budget.Dispose();

        // Assert
        await Assert.ThrowsAsync<ObjectDisposedException>(() => budget.AcquireAsync(request, CancellationToken.None).AsTask());
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(30, 0)]
    public void Constructor_NonPositiveLifetimeOrCap_IsRefused(int lifetimeMinutes, int maxClients)
    {
        var options = new PsaClientFactoryOptions { IdleClientLifetime = TimeSpan.FromMinutes(lifetimeMinutes), MaxClients = maxClients };

        Assert.Throws<ArgumentOutOfRangeException>(() => new PsaClientFactory(new ListCallRecorder(), options));
    }

    private PsaClientFactory Factory(int maxClients = 1_000) => new(new ListCallRecorder(), new PsaClientFactoryOptions
    {
        PrimaryHandler = _vendor,
        TimeProvider = _time,
        IdleClientLifetime = Lifetime,
        MaxClients = maxClients,
    });

    private static ConnectWiseConnection ConnectWise(string privateKey, string site = "na.myconnectwise.net") =>
        new("Acme", site, "acme", "pub", privateKey, ClientId);

    private static AutotaskConnection Autotask(string secret) => new("Acme", "api@acme.example", secret, "IntegrationCode1");
}
