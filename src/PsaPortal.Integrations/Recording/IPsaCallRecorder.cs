namespace PsaPortal.Integrations.Recording;

/// <summary>Receives one record per HTTP attempt a PSA client makes; the portal stores them as System Logs.</summary>
public interface IPsaCallRecorder
{
    /// <summary>Called on the request path: keep it cheap (queue the record, do not await a database here).</summary>
    void Record(PsaCallRecord record);
}

/// <summary>
/// One HTTP attempt, already redacted: no credential, Authorization, Secret or ApiIntegrationCode value
/// and no key-like query parameter survives into a record.
/// </summary>
/// <param name="ConnectionName">The caller's name for the linked integration (never a credential).</param>
/// <param name="Operation">What the client was doing, e.g. "ListAdditions".</param>
/// <param name="Url">Absolute URL with secret query values replaced by <c>***</c>.</param>
/// <param name="StatusCode">Null when no response arrived (network failure, timeout).</param>
/// <param name="Attempt">1 for the first try, 2 for the first retry…</param>
/// <param name="CorrelationId">Shared by every attempt and page of one logical call.</param>
/// <param name="Failure">The transport failure when there was no response.</param>
public sealed record PsaCallRecord(
    PsaVendor Vendor,
    string ConnectionName,
    string Operation,
    string Method,
    string Url,
    int? StatusCode,
    TimeSpan Duration,
    int Attempt,
    string CorrelationId,
    DateTimeOffset StartedAt,
    IReadOnlyDictionary<string, string> RequestHeaders,
    string? Failure);

/// <summary>For callers that do not keep call logs.</summary>
public sealed class NullPsaCallRecorder : IPsaCallRecorder
{
    public static readonly NullPsaCallRecorder Instance = new();

    public void Record(PsaCallRecord record)
    {
    }
}
