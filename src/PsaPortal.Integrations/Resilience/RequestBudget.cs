namespace PsaPortal.Integrations.Resilience;

/// <summary>
/// Keeps one connection inside its vendor's request budget. Acquire before each attempt; dispose the
/// lease when the response has arrived (concurrency budgets hold their slot until then). Disposing the
/// budget releases its limiters (a replenishing limiter runs a timer until then).
/// </summary>
internal abstract class RequestBudget : IDisposable
{
    public abstract ValueTask<IDisposable> AcquireAsync(HttpRequestMessage request, CancellationToken cancellationToken);

    public abstract void Dispose();
}
