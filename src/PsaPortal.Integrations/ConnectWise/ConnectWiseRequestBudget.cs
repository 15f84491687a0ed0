using System.Threading.RateLimiting;
using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations.ConnectWise;

/// <summary>
/// ConnectWise throttles integrations that send more than about 1,000 requests a minute. A sliding
/// window queues requests beyond the connection's per-minute budget instead of letting them hit 429.
/// </summary>
internal sealed class ConnectWiseRequestBudget(int requestsPerMinute, TimeSpan? window = null) : RequestBudget
{
    private readonly SlidingWindowRateLimiter _limiter = new(new SlidingWindowRateLimiterOptions
    {
        PermitLimit = requestsPerMinute,
        Window = window ?? TimeSpan.FromMinutes(1),
        SegmentsPerWindow = 12,
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        AutoReplenishment = true,
    });

    public override async ValueTask<IDisposable> AcquireAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        await _limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);

    public override void Dispose() => _limiter.Dispose();
}
