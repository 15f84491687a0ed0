using System.Collections.Concurrent;

namespace PsaPortal.Testing.Specs;

/// <summary>One request and its response as they crossed the wire.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="RequestUri">The absolute request URI.</param>
/// <param name="RequestHeaderNames">Names only (request and content headers): enough to check required headers without keeping secrets.</param>
/// <param name="RequestContentType">The media type of the request body, if any.</param>
/// <param name="RequestBody">The request body as text, or null when there was none.</param>
/// <param name="StatusCode">The response status, or null when the call threw (see <paramref name="Failure"/>).</param>
/// <param name="ResponseContentType">The media type of the response body, if any.</param>
/// <param name="ResponseBody">The response body as text, or null when there was none.</param>
/// <param name="Failure">The exception message when no response arrived.</param>
public sealed record RecordedExchange(
    HttpMethod Method,
    Uri RequestUri,
    IReadOnlyList<string> RequestHeaderNames,
    string? RequestContentType,
    string? RequestBody,
    int? StatusCode,
    string? ResponseContentType,
    string? ResponseBody,
    string? Failure)
{
    public override string ToString() =>
        $"{Method} {RequestUri} -> {(StatusCode is { } status ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : Failure)}";
}

/// <summary>
/// Records every request and response that passes through it, so a test can check all traffic against a
/// <see cref="VendorSpec"/>. Place it innermost (right above the primary handler) so it sees what really goes on
/// the wire: the auth handler's headers, and every retry attempt as its own exchange.
/// </summary>
public sealed class RecordingHandler : DelegatingHandler
{
    private readonly ConcurrentQueue<RecordedExchange> _exchanges = new();

    public RecordingHandler()
    {
    }

    public RecordingHandler(HttpMessageHandler innerHandler)
        : base(innerHandler)
    {
    }

    /// <summary>A snapshot, in the order the requests completed.</summary>
    public IReadOnlyList<RecordedExchange> Exchanges => [.. _exchanges];

    public void Clear() => _exchanges.Clear();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        // Reading buffers the content, so the inner handler still sends it in full.
        var requestBody = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var headerNames = request.Headers.Select(h => h.Key)
            .Concat(request.Content?.Headers.Select(h => h.Key) ?? [])
            .ToList();
        var requestContentType = request.Content?.Headers.ContentType?.MediaType;

        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            _exchanges.Enqueue(new RecordedExchange(request.Method, request.RequestUri!, headerNames, requestContentType, NullIfEmpty(requestBody), null, null, null, exception.Message));
            throw;
        }

        // Buffered as well, so the caller can still read the body after we have.
        var responseBody = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        _exchanges.Enqueue(new RecordedExchange(
            request.Method,
            request.RequestUri!,
            headerNames,
            requestContentType,
            NullIfEmpty(requestBody),
            (int)response.StatusCode,
            response.Content.Headers.ContentType?.MediaType,
            NullIfEmpty(responseBody),
            null));
        return response;
    }

    private static string? NullIfEmpty(string? body) => string.IsNullOrEmpty(body) ? null : body;
}
