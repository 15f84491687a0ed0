namespace PsaPortal.Sandbox.Core;

/// <summary>
/// Latency and injected failures for one vendor instance. Rates are probabilities per request
/// (0 = never, 1 = always), drawn in this order: connection reset, timeout, server error, throttling, lost response.
/// A throttle storm comes before all of them: while it lasts every request is throttled.
/// </summary>
public sealed record FaultSettings
{
    public int LatencyMilliseconds { get; init; }

    /// <summary>Uniform random extra delay in [0, JitterMilliseconds).</summary>
    public int JitterMilliseconds { get; init; }

    public double ServerErrorRate { get; init; }

    /// <summary>The request hangs for <see cref="TimeoutMilliseconds"/> and the connection is then dropped, as a gateway timeout looks to a client.</summary>
    public double TimeoutRate { get; init; }

    public int TimeoutMilliseconds { get; init; } = 100_000;

    public double ConnectionResetRate { get; init; }

    /// <summary>
    /// Probability that a request is throttled before the vendor processes it: ConnectWise answers 429 with
    /// <c>Retry-After: 1</c> and its "Too many requests" body, Autotask 429 with its thread-threshold error.
    /// Nothing is read or written, so a client may safely send the request again.
    /// </summary>
    public double ThrottleRate { get; init; }

    /// <summary>
    /// Probability that a request is processed (a write is applied) and the connection is then dropped before
    /// the answer is sent: the case where only a re-read tells a client whether its write arrived.
    /// </summary>
    public double ResponseLostRate { get; init; }

    /// <summary>
    /// Every write (POST, PUT, PATCH, DELETE other than ConnectWise searches and Autotask queries) is processed — applied —
    /// and its answer then held back this long: a vendor slower than the client's timeout after it accepted the write.
    /// Reads are not affected, so a client can look up what its timed-out write did. 0 = off.
    /// </summary>
    public int SlowWriteAnswerMilliseconds { get; init; }

    /// <summary>
    /// Length of a 429 storm: every request is throttled for this many seconds (sandbox clock), counted from
    /// when these fault settings were applied, then answered normally; 0 = no storm. ConnectWise's
    /// <c>Retry-After</c> is the storm's seconds left.
    /// </summary>
    public int ThrottleStormSeconds { get; init; }

    /// <summary>Repeats the storm: one storm of <see cref="ThrottleStormSeconds"/> at the start of every interval of this many seconds; 0 = one storm only.</summary>
    public int ThrottleStormIntervalSeconds { get; init; }

    /// <summary>
    /// Seconds of storm left at <paramref name="elapsed"/> since these settings were applied, or null
    /// when no storm is raging then.
    /// </summary>
    public int? StormSecondsLeft(TimeSpan elapsed)
    {
        if (ThrottleStormSeconds <= 0 || elapsed < TimeSpan.Zero)
        {
            return null;
        }

        var phase = ThrottleStormIntervalSeconds > 0 ? TimeSpan.FromTicks(elapsed.Ticks % TimeSpan.FromSeconds(ThrottleStormIntervalSeconds).Ticks) : elapsed;
        var left = TimeSpan.FromSeconds(ThrottleStormSeconds) - phase;
        return left > TimeSpan.Zero ? Math.Max(1, (int)Math.Ceiling(left.TotalSeconds)) : null;
    }
}
