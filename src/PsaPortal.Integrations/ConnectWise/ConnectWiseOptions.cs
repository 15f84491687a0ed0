using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations.ConnectWise;

/// <summary>How PsaPortal talks to ConnectWise; the same for every connection unless a caller overrides it.</summary>
public sealed record ConnectWiseOptions
{
    /// <summary>The API model requested in <c>Accept</c>; ConnectWise answers with the newest model not above it.</summary>
    public string ApiVersion { get; init; } = "2025.1";

    /// <summary>Rows per page (ConnectWise allows up to 1,000).</summary>
    public int PageSize { get; init; } = 1000;

    /// <summary>ConnectWise says integrations above about 1,000 requests a minute get throttled; stay below it.</summary>
    public int RequestsPerMinute { get; init; } = 900;

    /// <summary>How many agreements' additions are read at the same time.</summary>
    public int ParallelReads { get; init; } = 4;

    public PsaResilienceOptions Resilience { get; init; } = new();
}
