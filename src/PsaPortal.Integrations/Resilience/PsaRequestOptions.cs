namespace PsaPortal.Integrations.Resilience;

/// <summary>Per-request facts the clients hand down the handler chain.</summary>
internal static class PsaRequestOptions
{
    /// <summary>A POST that may be sent again (a query, not a create). Other methods are idempotent and always may.</summary>
    public static readonly HttpRequestOptionsKey<bool> RetrySafe = new("PsaPortal.RetrySafe");

    /// <summary>Discovery calls that must go out without credentials.</summary>
    public static readonly HttpRequestOptionsKey<bool> Anonymous = new("PsaPortal.Anonymous");

    public static readonly HttpRequestOptionsKey<int> Attempt = new("PsaPortal.Attempt");

    /// <summary>The current attempt was handed to the transport (after the request budget), so it may have reached the PSA.</summary>
    public static readonly HttpRequestOptionsKey<bool> Sent = new("PsaPortal.Sent");

    public static readonly HttpRequestOptionsKey<string> CorrelationId = new("PsaPortal.CorrelationId");

    public static readonly HttpRequestOptionsKey<string> Operation = new("PsaPortal.Operation");

    /// <summary>Whether the request may be sent again whatever happened to the previous attempt: everything but a POST that creates or adds.</summary>
    public static bool MayReplay(HttpRequestMessage request) =>
        request.Method != HttpMethod.Post || (request.Options.TryGetValue(RetrySafe, out var safe) && safe);

    /// <summary>
    /// Whether a failed attempt certainly never reached the PSA's processing, so even a write that must not be
    /// applied twice may be sent again: the connection could not be opened (refused, name not resolved).
    /// A reset, a timeout or a 5xx after the request went out leave the outcome unknown.
    /// </summary>
    public static bool NeverSent(Exception? exception) =>
        exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError };
}
