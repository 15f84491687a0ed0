namespace PsaPortal.Integrations.Resilience;

/// <summary>Per-request facts the clients hand down the handler chain.</summary>
internal static class PsaRequestOptions
{
    /// <summary>A POST that may be sent again (a query, not a create). Other methods are idempotent and always may.</summary>
    public static readonly HttpRequestOptionsKey<bool> RetrySafe = new("PsaPortal.RetrySafe");

    /// <summary>Discovery calls that must go out without credentials.</summary>
    public static readonly HttpRequestOptionsKey<bool> Anonymous = new("PsaPortal.Anonymous");

    public static readonly HttpRequestOptionsKey<int> Attempt = new("PsaPortal.Attempt");

    public static readonly HttpRequestOptionsKey<string> CorrelationId = new("PsaPortal.CorrelationId");

    public static readonly HttpRequestOptionsKey<string> Operation = new("PsaPortal.Operation");

    public static bool MayReplay(HttpRequestMessage request) =>
        request.Method != HttpMethod.Post || (request.Options.TryGetValue(RetrySafe, out var safe) && safe);
}
