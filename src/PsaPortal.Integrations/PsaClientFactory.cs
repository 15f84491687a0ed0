using System.Security.Cryptography;
using System.Text;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Recording;
using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations;

/// <summary>Creates the client of one linked integration from its credentials.</summary>
public interface IPsaClientFactory
{
    /// <summary>The client for this connection; the same credentials give the same client, so its budget and breaker are shared.</summary>
    IConnectWiseApi CreateConnectWise(ConnectWiseConnection connection);

    /// <inheritdoc cref="CreateConnectWise"/>
    IAutotaskApi CreateAutotask(AutotaskConnection connection);
}

public sealed record PsaClientFactoryOptions
{
    public ConnectWiseOptions ConnectWise { get; init; } = new();

    public AutotaskOptions Autotask { get; init; } = new();

    /// <summary>Drives retry delays, timeouts and the breaker; tests pass a faster clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The innermost handler that really sends; null for a pooled <see cref="SocketsHttpHandler"/>. Tests put a recorder or a stub here.</summary>
    public HttpMessageHandler? PrimaryHandler { get; init; }

    /// <summary>
    /// A client without a request or a lookup for this long is released (its request budget disposed)
    /// once the factory is next asked for a client; asking again with the same credentials builds a new one.
    /// </summary>
    public TimeSpan IdleClientLifetime { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>At most this many clients are kept; beyond it the least recently used ones without a running request are released early.</summary>
    public int MaxClients { get; init; } = 1_000;

    /// <summary>Receives call, retry and budget-wait counts (the portal's metrics); none by default.</summary>
    public IPsaMetrics Metrics { get; init; } = NullPsaMetrics.Instance;
}

/// <summary>
/// Builds, per connection, an <see cref="HttpClient"/> whose handlers are, from the outside in: usage
/// tracking, resilience (timeouts, retries, breaker, the vendor's request budget), the vendor's
/// authentication, and call recording (so records show every attempt with its redacted headers).
/// Clients are cached while they are used (see <see cref="PsaClientFactoryOptions.IdleClientLifetime"/>);
/// ask for the client per operation rather than keeping one across long pauses. Register it as a singleton.
/// </summary>
public sealed class PsaClientFactory : IPsaClientFactory, IDisposable
{
    private readonly IPsaCallRecorder _recorder;
    private readonly PsaClientFactoryOptions _options;
    private readonly HttpMessageHandler _primary;
    private readonly bool _ownsPrimary;
    private readonly PsaClientCache _clients;

    public PsaClientFactory(IPsaCallRecorder recorder, PsaClientFactoryOptions? options = null)
    {
        _recorder = recorder;
        _options = options ?? new PsaClientFactoryOptions();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.IdleClientLifetime, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxClients, 1, nameof(options));
        _ownsPrimary = _options.PrimaryHandler is null;
        _primary = _options.PrimaryHandler ?? new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = System.Net.DecompressionMethods.All,
        };
        _clients = new PsaClientCache(_options.TimeProvider, _options.IdleClientLifetime, _options.MaxClients);
    }

    /// <summary>How many clients are cached right now.</summary>
    internal int CachedClientCount => _clients.Count;

    public IConnectWiseApi CreateConnectWise(ConnectWiseConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var key = Key("cw", connection.Name, connection.SiteUrl, connection.CompanyId, connection.PublicKey, connection.PrivateKey, connection.ClientId, connection.AllowInsecureHttp.ToString());
        return _clients.GetOrCreate<IConnectWiseApi>(PsaVendor.ConnectWise, key, usage =>
        {
            var options = _options.ConnectWise;
            var budget = new ConnectWiseRequestBudget(options.RequestsPerMinute, time: _options.TimeProvider);
            var resilience = new ResilienceHandler(PsaVendor.ConnectWise, options.Resilience, budget, ConnectWiseErrors.IsTransientAsync, ConnectWiseErrors.IsUnprocessedAsync, _options.TimeProvider, _options.Metrics);
            var http = Chain(usage, resilience, new ConnectWiseAuthHandler(connection, options.ApiVersion), PsaVendor.ConnectWise, connection.Name);
            return (new ConnectWiseApi(http, connection, options, resilience.Health), budget);
        });
    }

    public IAutotaskApi CreateAutotask(AutotaskConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var key = Key("at", connection.Name, connection.UserName, connection.Secret, connection.IntegrationCode, connection.ZoneDiscoveryUrl.AbsoluteUri, connection.AllowInsecureHttp.ToString());
        return _clients.GetOrCreate<IAutotaskApi>(PsaVendor.Autotask, key, usage =>
        {
            var options = _options.Autotask;
            var budget = new AutotaskRequestBudget(options.ConcurrentRequestsPerEndpoint, options.ThresholdReserve, _options.TimeProvider);
            var resilience = new ResilienceHandler(PsaVendor.Autotask, options.Resilience, budget, AutotaskErrors.IsTransientAsync, AutotaskErrors.IsUnprocessedAsync, _options.TimeProvider, _options.Metrics);
            var http = Chain(usage, resilience, new AutotaskAuthHandler(connection), PsaVendor.Autotask, connection.Name);
            return (new AutotaskApi(http, connection, options, budget, _options.TimeProvider, resilience.Health), budget);
        });
    }

    public void Dispose()
    {
        _clients.Dispose();
        if (_ownsPrimary)
        {
            _primary.Dispose();
        }
    }

    private HttpClient Chain(PsaClientUsage usage, ResilienceHandler resilience, DelegatingHandler auth, PsaVendor vendor, string connectionName)
    {
        auth.InnerHandler = new CallRecordingHandler(vendor, connectionName, _recorder, _options.TimeProvider, _options.Metrics) { InnerHandler = _primary };
        resilience.InnerHandler = auth;

        // The pipeline owns timeouts; HttpClient's own 100 s limit would cut retries and budget waits short.
        // The handlers are never disposed: disposing a DelegatingHandler disposes the shared primary handler too.
        return new HttpClient(new PsaClientUsageHandler(usage) { InnerHandler = resilience }, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Identifies a connection by all of its settings without keeping them readable in the cache.</summary>
    private static string Key(params string[] parts) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts))));
}
