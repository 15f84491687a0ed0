using System.Diagnostics;
using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations.Recording;

/// <summary>
/// Sits inside the resilience handler and the auth handler, so it sees every attempt with the headers
/// actually sent, and turns each into a redacted <see cref="PsaCallRecord"/>.
/// </summary>
internal sealed class CallRecordingHandler(PsaVendor vendor, string connectionName, IPsaCallRecorder recorder, TimeProvider time, IPsaMetrics metrics) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            Write(request, startedAt, started, (int)response.StatusCode, failure: null);
            return response;
        }
        catch (Exception exception)
        {
            Write(request, startedAt, started, statusCode: null, exception.GetType().Name);
            throw;
        }
    }

    private void Write(HttpRequestMessage request, DateTimeOffset startedAt, long started, int? statusCode, string? failure)
    {
        var options = request.Options;
        metrics.CallCompleted(vendor, request.Method.Method, statusCode, Stopwatch.GetElapsedTime(started));
        recorder.Record(new PsaCallRecord(
            vendor,
            connectionName,
            options.TryGetValue(PsaRequestOptions.Operation, out var operation) ? operation : "Unnamed",
            request.Method.Method,
            SecretRedactor.Url(request.RequestUri),
            statusCode,
            Stopwatch.GetElapsedTime(started),
            options.TryGetValue(PsaRequestOptions.Attempt, out var attempt) ? attempt : 1,
            options.TryGetValue(PsaRequestOptions.CorrelationId, out var correlationId) ? correlationId : string.Empty,
            startedAt,
            SecretRedactor.Headers(request),
            failure));
    }
}
