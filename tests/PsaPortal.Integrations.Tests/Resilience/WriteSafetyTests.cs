using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Integrations.Tests.Resilience;

/// <summary>
/// Writes that must not be applied twice (ConnectWise addition POST, Autotask adjustment POST) are sent again only
/// when the PSA certainly did not process them (429, connection refused); when they may have arrived they fail
/// with <see cref="PsaErrorKind.OutcomeUnknown"/> after exactly one request. Idempotent writes (PATCH) are retried.
/// </summary>
public sealed class WriteSafetyTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    private const long ProductId = 9;

    public void Dispose() => host.ResetSettings();

    [Fact]
    public async Task CreateAddition_Timeout_IsSentOnceAndOutcomeUnknown_ThenTheReReadDecidesAndOneAdditionExists()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.ConnectWise();
        var agreementId = await FreshAgreementAsync(api);
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { TimeoutRate = 1, TimeoutMilliseconds = 300 } });
        var posts = Posts(agreementId);

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.CreateAdditionAsync(agreementId, new PsaAdditionDraft(ProductId, 5, new DateOnly(2026, 1, 1))));
        host.ResetSettings();
        var found = await api.ListAdditionsAsync([agreementId], ConnectWiseCondition.Field("product/id").EqualTo(ProductId)).ToListAsync();
        if (found.Count == 0)
        {
            await api.CreateAdditionAsync(agreementId, new PsaAdditionDraft(ProductId, 5, new DateOnly(2026, 1, 1)));
        }

        // Assert
        Assert.Equal(PsaErrorKind.OutcomeUnknown, failure.Kind);
        Assert.StartsWith("ConnectWise may or may not have applied POST ", failure.Message, StringComparison.Ordinal);
        Assert.Contains("PsaPortal did not send it again; read the current state in ConnectWise before writing again.", failure.Message, StringComparison.Ordinal);
        Assert.Equal(2, Posts(agreementId) - posts);
        Assert.Single(SandboxAdditions(agreementId), a => ProductOf(a) == ProductId);
    }

    [Fact]
    public async Task CreateAddition_AppliedButResponseLost_IsNotResentAndExactlyOneAdditionExists()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.ConnectWise();
        var agreementId = await FreshAgreementAsync(api);
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ResponseLostRate = 1 } });
        var posts = Posts(agreementId);

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.CreateAdditionAsync(agreementId, new PsaAdditionDraft(ProductId, 5, new DateOnly(2026, 1, 1))));

        // Assert
        Assert.Equal(PsaErrorKind.OutcomeUnknown, failure.Kind);
        Assert.Null(failure.StatusCode);
        Assert.Equal(1, Posts(agreementId) - posts);
        Assert.Single(SandboxAdditions(agreementId), a => ProductOf(a) == ProductId);
    }

    [Fact]
    public async Task CreateAddition_ServerError_IsSentOnceAndOutcomeUnknownWithTheStatus()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.ConnectWise();
        var agreementId = await FreshAgreementAsync(api);
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ServerErrorRate = 1 } });
        var posts = Posts(agreementId);

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.CreateAdditionAsync(agreementId, new PsaAdditionDraft(ProductId, 5, new DateOnly(2026, 1, 1))));

        // Assert
        Assert.Equal(PsaErrorKind.OutcomeUnknown, failure.Kind);
        Assert.Equal(HttpStatusCode.InternalServerError, failure.StatusCode);
        Assert.Contains("ConnectWise answered with a server error (500: ", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, Posts(agreementId) - posts);
    }

    [Fact]
    public async Task CreateAddition_ThrottledBeforeProcessing_IsResentAfterRetryAfterAndCreatedOnce()
    {
        // Arrange: one request fills the window, then the sandbox clock moves to one second before it closes.
        using var clients = new TestClients(host, o => o with { TimeProvider = TimeProvider.System });
        var api = clients.ConnectWise();
        var agreementId = await FreshAgreementAsync(api);
        host.Sandbox.ConnectWise.Configure(s => s with { RateLimitPerMinute = 1 });
        await api.GetSystemInfoAsync();
        host.Sandbox.Clock.Advance(TimeSpan.FromSeconds(59));
        var posts = Posts(agreementId);

        // Act
        var created = await api.CreateAdditionAsync(agreementId, new PsaAdditionDraft(ProductId, 5, new DateOnly(2026, 1, 1)));

        // Assert
        // Throttled once (or, on a loaded machine whose resend lands a moment before the window closes, again), then
        // created: a 429 means nothing was processed, so resending is safe, and it is resent until it is created once.
        var attempts = host.Sandbox.ConnectWise.RequestLog.Entries().Where(e => e.Method == "POST" && e.Path.EndsWith($"/finance/agreements/{agreementId}/additions", StringComparison.Ordinal))
            .Skip((int)posts).Select(a => a.Status).ToList();
        Assert.True(attempts.Count >= 2 && attempts[^1] == 201 && attempts[..^1].All(s => s == 429), $"attempts: {string.Join(", ", attempts)}");
        Assert.Equal(5m, created.Quantity);
        Assert.Single(SandboxAdditions(agreementId), a => ProductOf(a) == ProductId);
    }

    [Fact]
    public async Task CreateAddition_ConnectionRefused_IsRetriedBecauseNothingWasSentAndCreatedOnce()
    {
        // Arrange: the first POST cannot open a connection (as when the PSA's address refuses it); everything else goes to the sandbox.
        using var refusing = new RefuseFirstPost(new SocketsHttpHandler());
        using var clients = new TestClients(host, primary: refusing);
        var api = clients.ConnectWise();
        var agreementId = await FreshAgreementAsync(api);
        var posts = Posts(agreementId);

        // Act
        var created = await api.CreateAdditionAsync(agreementId, new PsaAdditionDraft(ProductId, 5, new DateOnly(2026, 1, 1)));

        // Assert
        var attempts = clients.Calls.Records.Where(r => r.Operation == "CreateAddition").ToList();
        Assert.Equal([1, 2], attempts.Select(a => a.Attempt));
        Assert.NotNull(attempts[0].Failure);
        Assert.Equal(1, Posts(agreementId) - posts);
        Assert.Equal(created.Id, Assert.Single(SandboxAdditions(agreementId), a => ProductOf(a) == ProductId)["id"]!.GetValue<long>());
    }

    /// <summary>Fails the first POST as a refused connection does (nothing sent), then passes everything through.</summary>
    private sealed class RefuseFirstPost(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private int _refused;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.Method == HttpMethod.Post && Interlocked.Exchange(ref _refused, 1) == 0
                ? throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:443)", new SocketException((int)SocketError.ConnectionRefused))
                : base.SendAsync(request, cancellationToken);
    }

    [Fact]
    public async Task SetAdditionQuantity_ServerErrors_IsRetriedBecausePatchSetsAValue()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.ConnectWise();
        var agreementId = await FreshAgreementAsync(api);
        var addition = await api.CreateAdditionAsync(agreementId, new PsaAdditionDraft(ProductId, 5, new DateOnly(2026, 1, 1)));
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { ServerErrorRate = 1 } });

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.SetAdditionQuantityAsync(agreementId, addition.Id, 7));

        // Assert
        Assert.Equal(PsaErrorKind.Unavailable, failure.Kind);
        var patches = host.Sandbox.ConnectWise.RequestLog.Entries().Count(e => e.Method == "PATCH" && e.Path.EndsWith($"/additions/{addition.Id}", StringComparison.Ordinal));
        Assert.Equal(1 + TestClients.FastResilience.MaxRetryAttempts, patches);
    }

    [Fact]
    public async Task CreateAdjustment_AppliedButResponseLost_IsSentOnceAndTheUnitsChangedOnce()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.Autotask();
        var (contractId, lineId, period, units) = await CurrentUnitsAsync(api);
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { ResponseLostRate = 1 } });
        var posts = AdjustmentPosts();

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.CreateContractServiceAdjustmentAsync(new PsaUnitAdjustment(contractId, lineId, period, 2)));
        host.ResetSettings();
        var after = await api.QueryContractServiceUnitsAsync(AutotaskFilter.Where("contractServiceID").Equal(lineId)).SingleAsync(u => u.StartDate == period);

        // Assert
        Assert.Equal(PsaErrorKind.OutcomeUnknown, failure.Kind);
        Assert.StartsWith("Autotask may or may not have applied POST ", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, AdjustmentPosts() - posts);
        Assert.Equal(units + 2, after.Units);
    }

    [Fact]
    public async Task CreateAdjustment_Timeout_IsSentOnceAndOutcomeUnknown()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.Autotask();
        var (contractId, lineId, period, units) = await CurrentUnitsAsync(api);
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { TimeoutRate = 1, TimeoutMilliseconds = 300 } });
        var posts = AdjustmentPosts();

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.CreateContractServiceAdjustmentAsync(new PsaUnitAdjustment(contractId, lineId, period, 2)));
        host.ResetSettings();
        var after = await api.QueryContractServiceUnitsAsync(AutotaskFilter.Where("contractServiceID").Equal(lineId)).SingleAsync(u => u.StartDate == period);

        // Assert
        Assert.Equal(PsaErrorKind.OutcomeUnknown, failure.Kind);
        Assert.Equal(1, AdjustmentPosts() - posts);
        Assert.Equal(units, after.Units);
    }

    [Fact]
    public async Task CreateAdjustment_ThreadThresholdThrottling_IsResentBecauseNothingWasProcessed()
    {
        // Arrange
        using var clients = new TestClients(host);
        var api = clients.Autotask();
        var (contractId, lineId, period, units) = await CurrentUnitsAsync(api);
        await api.GetThresholdInformationAsync();
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { ThrottleRate = 1 } });
        var posts = AdjustmentPosts();

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.CreateContractServiceAdjustmentAsync(new PsaUnitAdjustment(contractId, lineId, period, 2)));
        host.ResetSettings();
        var after = await api.QueryContractServiceUnitsAsync(AutotaskFilter.Where("contractServiceID").Equal(lineId)).SingleAsync(u => u.StartDate == period);

        // Assert
        Assert.Equal(PsaErrorKind.RateLimited, failure.Kind);
        Assert.Equal(1 + TestClients.FastResilience.MaxRetryAttempts, AdjustmentPosts() - posts);
        Assert.Equal(units, after.Units);
    }

    /// <summary>An agreement of an ordinary company that has no addition of <see cref="ProductId"/> yet (each test takes its own).</summary>
    private async Task<long> FreshAgreementAsync(IConnectWiseApi api)
    {
        await api.GetSystemInfoAsync();
        lock (host)
        {
            foreach (var agreement in host.Sandbox.ConnectWise.Data.Agreements.All().Reverse())
            {
                var id = JsonRecords.GetId(agreement);
                if (id > 10 && SandboxAdditions(id).All(a => ProductOf(a) != ProductId) && Claimed.Add(id))
                {
                    return id;
                }
            }
        }

        throw new InvalidOperationException("No agreement left without the product.");
    }

    private static readonly HashSet<long> Claimed = [];

    private static long ProductOf(JsonObject addition) => JsonRecords.TryGetDecimal(addition["product"]?["id"], out var id) ? (long)id : 0;

    private IReadOnlyList<JsonObject> SandboxAdditions(long agreementId) => host.Sandbox.ConnectWise.Data.Additions.FindBy("agreementId", [agreementId])!;

    private long Posts(long agreementId) =>
        host.Sandbox.ConnectWise.RequestLog.Entries().Count(e => e.Method == "POST" && e.Path.EndsWith($"/finance/agreements/{agreementId}/additions", StringComparison.Ordinal));

    private long AdjustmentPosts() =>
        host.Sandbox.Autotask.RequestLog.Entries().Count(e => e.Method == "POST" && e.Path.EndsWith("/ContractServiceAdjustments", StringComparison.Ordinal));

    /// <summary>A contract service of an active Recurring Service contract with its units row for the seed's reference period.</summary>
    private async Task<(long ContractId, long LineId, DateOnly Period, decimal Units)> CurrentUnitsAsync(IAutotaskApi api)
    {
        var today = host.Sandbox.SeedData.ReferenceDate;
        var contracts = await api.QueryContractsAsync(AutotaskFilter.Where("contractType").Equal(7)).Where(c => c.StartDate <= today && !(c.EndDate < today)).ToListAsync();
        var units = await api.QueryContractServiceUnitsAsync(AutotaskFilter.Where("contractID").In([.. contracts.Select(c => c.Id)])).Where(u => u.StartDate <= today && today <= u.EndDate).ToListAsync();
        lock (host)
        {
            var row = units.First(u => ClaimedUnits.Add(u.ContractServiceId));
            return (row.ContractId, row.ContractServiceId, row.StartDate, row.Units);
        }
    }

    private static readonly HashSet<long> ClaimedUnits = [];
}
