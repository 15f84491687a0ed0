namespace PsaPortal.Integrations.Resilience;

/// <summary>
/// Keeps one connection inside its vendor's request budget. Acquire before each attempt; dispose the
/// lease when the response has arrived (concurrency budgets hold their slot until then).
/// </summary>
internal abstract class RequestBudget
{
    public abstract ValueTask<IDisposable> AcquireAsync(HttpRequestMessage request, CancellationToken cancellationToken);
}
