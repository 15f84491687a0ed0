namespace PsaPortal.Integrations.Resilience;

/// <summary>
/// Timeouts, retries and the circuit breaker of one connection. The defaults follow the vendors'
/// guidance (back off exponentially with jitter, honour Retry-After, never retry other 4xx).
/// </summary>
public sealed record PsaResilienceOptions
{
    /// <summary>How long one HTTP attempt may take.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a call may take with all its retries and waits for the request budget.</summary>
    public TimeSpan OverallTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Retries after the first attempt; 0 turns retrying off.</summary>
    public int MaxRetryAttempts { get; init; } = 4;

    /// <summary>Median delay before the first retry; later retries grow exponentially, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait PsaPortal accepts, also when the PSA's Retry-After asks for more.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Share of failed attempts within <see cref="BreakerSamplingDuration"/> that opens the circuit.</summary>
    public double BreakerFailureRatio { get; init; } = 0.5;

    public int BreakerMinimumThroughput { get; init; } = 10;

    public TimeSpan BreakerSamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest answer PsaPortal reads (every answer is read whole, inside the attempt). A page of 1,000 ConnectWise
    /// companies is about 2 MB; a bigger answer is refused without retrying, so a broken or hostile PSA cannot fill the
    /// portal's memory.
    /// </summary>
    public long MaxResponseBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>How long calls are refused once the circuit opens (at least half a second).</summary>
    public TimeSpan BreakerBreakDuration { get; init; } = TimeSpan.FromSeconds(30);
}
