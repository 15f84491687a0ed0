using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations.Autotask;

/// <summary>How PsaPortal talks to Autotask; the same for every connection unless a caller overrides it.</summary>
public sealed record AutotaskOptions
{
    /// <summary>Autotask runs at most 3 requests at a time per tracking identifier and endpoint (thread limiting).</summary>
    public int ConcurrentRequestsPerEndpoint { get; init; } = 3;

    /// <summary>Share of the hourly threshold left for other integrations and people on the same database.</summary>
    public double ThresholdReserve { get; init; } = 0.1;

    /// <summary>Rows per query page; Autotask allows at most 500.</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>Values per <c>in</c> filter; Autotask refuses queries with more than 500 OR conditions.</summary>
    public int MaxInValues { get; init; } = 500;

    public PsaResilienceOptions Resilience { get; init; } = new();
}
