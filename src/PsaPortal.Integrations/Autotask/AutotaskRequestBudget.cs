using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations.Autotask;

/// <summary>
/// Autotask's two limits for one connection: at most N concurrent requests per endpoint (the vendor's
/// thread limit, 3 by default), and the database's hourly request threshold as last read from
/// ThresholdInformation, less a reserve for everyone else. Requests beyond the concurrency limit wait;
/// a request that would use up the hourly threshold is refused with <see cref="PsaErrorKind.RateLimited"/>.
/// </summary>
internal sealed class AutotaskRequestBudget(int concurrentRequestsPerEndpoint, double thresholdReserve, TimeProvider time) : RequestBudget
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly ConcurrentDictionary<string, ConcurrencyLimiter> _endpoints = new(StringComparer.OrdinalIgnoreCase);
    private readonly Queue<DateTimeOffset> _sentSinceReading = new();
    private readonly Lock _gate = new();
    private AutotaskThreshold? _threshold;
    private DateTimeOffset _readAt;

    /// <summary>When the threshold was last read; null before the first reading.</summary>
    public DateTimeOffset? ThresholdReadAt
    {
        get
        {
            lock (_gate)
            {
                return _threshold is null ? null : _readAt;
            }
        }
    }

    /// <summary>Takes a fresh reading: the server's count already includes everything sent so far.</summary>
    public void Observe(AutotaskThreshold threshold)
    {
        lock (_gate)
        {
            _threshold = threshold;
            _readAt = time.GetUtcNow();
            _sentSinceReading.Clear();
        }
    }

    public override async ValueTask<IDisposable> AcquireAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(PsaRequestOptions.Anonymous, out var anonymous) && anonymous)
        {
            // Zone discovery is exempt from thread limiting and not counted against the threshold.
            return NoLease.Instance;
        }

        var limiter = _endpoints.GetOrAdd(Endpoint(request.RequestUri), _ => new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = concurrentRequestsPerEndpoint,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }));
        var lease = await limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        try
        {
            CountAgainstThreshold();
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        return lease;
    }

    private void CountAgainstThreshold()
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            while (_sentSinceReading.Count > 0 && now - _sentSinceReading.Peek() >= Hour)
            {
                _sentSinceReading.Dequeue();
            }

            if (_threshold is { } threshold)
            {
                // The server's count ages out over the rolling hour too; after an hour it says nothing.
                var serverCount = now - _readAt < Hour ? threshold.CurrentRequestCount : 0;
                var allowed = (int)Math.Floor(threshold.RequestThreshold * (1 - thresholdReserve));
                if (serverCount + _sentSinceReading.Count >= allowed)
                {
                    throw new PsaException(PsaVendor.Autotask, PsaErrorKind.RateLimited,
                        $"PsaPortal paused Autotask calls: {serverCount + _sentSinceReading.Count} of the database's {threshold.RequestThreshold} API requests per {threshold.TimeframeMinutes} minutes are used, and PsaPortal keeps {thresholdReserve:P0} for other integrations. It continues when usage drops.");
                }
            }

            _sentSinceReading.Enqueue(now);
        }
    }

    public override void Dispose()
    {
        foreach (var limiter in _endpoints.Values)
        {
            limiter.Dispose();
        }
    }

    /// <summary>The object endpoint a request counts against: the entity segment after <c>V1.0/</c>.</summary>
    internal static string Endpoint(Uri? uri)
    {
        var segments = uri?.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var version = Array.FindIndex(segments, s => s.Equals("v1.0", StringComparison.OrdinalIgnoreCase));
        return version >= 0 && version + 1 < segments.Length ? segments[version + 1] : uri?.AbsolutePath ?? string.Empty;
    }

    private sealed class NoLease : IDisposable
    {
        public static readonly NoLease Instance = new();

        public void Dispose()
        {
        }
    }
}
