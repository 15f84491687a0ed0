using Polly.CircuitBreaker;

namespace PsaPortal.Integrations.Resilience;

/// <summary>Whether PsaPortal currently sends calls on a connection.</summary>
public enum PsaCircuitState
{
    /// <summary>Calls flow normally.</summary>
    Closed,

    /// <summary>Calls are refused for a while after repeated failures.</summary>
    Open,

    /// <summary>One trial call is allowed through to see whether the PSA recovered.</summary>
    HalfOpen,
}

/// <summary>The health of one connection's pipeline, for dashboards ("paused after repeated failures").</summary>
public interface IPsaConnectionHealth
{
    PsaCircuitState CircuitState { get; }
}

internal sealed class ConnectionHealth(CircuitBreakerStateProvider provider) : IPsaConnectionHealth
{
    public PsaCircuitState CircuitState => provider.CircuitState switch
    {
        Polly.CircuitBreaker.CircuitState.Closed => PsaCircuitState.Closed,
        Polly.CircuitBreaker.CircuitState.HalfOpen => PsaCircuitState.HalfOpen,
        _ => PsaCircuitState.Open,
    };
}
