namespace PsaPortal.Sandbox.Core;

/// <summary>
/// Latency and injected failures for one vendor instance. Rates are probabilities per request
/// (0 = never, 1 = always), drawn in this order: connection reset, timeout, server error.
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
}
