using System.Net;
using System.Runtime.ExceptionServices;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Recording;

namespace PsaPortal.Integrations.Resilience;

/// <summary>
/// Runs every request of one connection through one Polly pipeline: an overall timeout, retries with
/// exponential backoff and jitter (honouring Retry-After) on transient failures only, a circuit
/// breaker, and per attempt the vendor's request budget and an attempt timeout. Failures that no
/// retry fixes leave as <see cref="PsaException"/>.
/// A POST that creates or adds (not marked <see cref="PsaRequestOptions.RetrySafe"/>) is sent again only when the
/// PSA certainly did not process it: it was throttled before processing (the vendor's reading, e.g. 429) or the
/// connection could not be opened. When it may have arrived (timeout, connection lost after sending, 5xx) it is not
/// resent and fails with <see cref="PsaErrorKind.OutcomeUnknown"/>, so the caller re-reads the PSA instead.
/// </summary>
internal sealed class ResilienceHandler : DelegatingHandler
{
    private static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("PsaPortal.Request");

    private readonly PsaVendor _vendor;
    private readonly PsaResilienceOptions _options;
    private readonly RequestBudget _budget;
    private readonly Func<HttpResponseMessage, ValueTask<bool>> _isTransient;
    private readonly Func<HttpResponseMessage, ValueTask<bool>> _isUnprocessed;
    private readonly TimeProvider _time;
    private readonly IPsaMetrics _metrics;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    /// <param name="isTransient">The vendor's reading of a response: may the same request succeed if sent again later?</param>
    /// <param name="isUnprocessed">The vendor's reading of a transient response: did the PSA refuse it before processing anything (throttling), so a write may be resent?</param>
    public ResilienceHandler(PsaVendor vendor, PsaResilienceOptions options, RequestBudget budget, Func<HttpResponseMessage, ValueTask<bool>> isTransient,
        Func<HttpResponseMessage, ValueTask<bool>> isUnprocessed, TimeProvider time, IPsaMetrics? metrics = null)
    {
        _metrics = metrics ?? NullPsaMetrics.Instance;
        _vendor = vendor;
        _options = options;
        _budget = budget;
        _isTransient = isTransient;
        _isUnprocessed = isUnprocessed;
        _time = time;
        var breakerState = new CircuitBreakerStateProvider();
        Health = new ConnectionHealth(breakerState);
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }.AddTimeout(options.OverallTimeout);
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = async args =>
                    args.Context.Properties.TryGetValue(RequestKey, out var request)
                    && await IsTransientAsync(args.Outcome).ConfigureAwait(false)
                    && (PsaRequestOptions.MayReplay(request) || await IsUnprocessedAsync(args.Outcome).ConfigureAwait(false)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                OnRetry = args =>
                {
                    _metrics.Retrying(_vendor, args.Outcome.Result is { } result ? ((int)result.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : args.Outcome.Exception?.GetType().Name ?? "unknown");
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            });
        }

        _pipeline = builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSamplingDuration,
                BreakDuration = options.BreakerBreakDuration,
                StateProvider = breakerState,
                // Throttling says nothing about the PSA's health, so 429 does not count towards opening.
                ShouldHandle = async args => args.Outcome.Result?.StatusCode != HttpStatusCode.TooManyRequests
                    && await IsTransientAsync(args.Outcome).ConfigureAwait(false),
            })
            .Build();
    }

    public IPsaConnectionHealth Health { get; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(RequestKey, request);
        try
        {
            var outcome = await _pipeline.ExecuteOutcomeAsync(
                static async (context, state) => await state.Handler.AttemptAsync(state.Request, context.CancellationToken).ConfigureAwait(false),
                context,
                (Handler: this, Request: request)).ConfigureAwait(false);
            if (outcome.Exception is { } exception)
            {
                throw Translate(exception, request);
            }

            var response = outcome.Result!;
            if (!PsaRequestOptions.MayReplay(request) && await _isTransient(response).ConfigureAwait(false) && !await _isUnprocessed(response).ConfigureAwait(false))
            {
                // A 5xx to a write: the PSA may have applied it before failing. The caller must re-read, not resend.
                using (response)
                {
                    var body = await response.Content.ReadAsStringAsync(CancellationToken.None).ConfigureAwait(false);
                    var said = string.IsNullOrWhiteSpace(body) ? string.Empty : $": {(body.Length > 300 ? body[..300] : body)}";
                    throw OutcomeUnknown(_vendor, request, $"{_vendor.DisplayName()} answered with a server error ({(int)response.StatusCode}{said})", statusCode: response.StatusCode);
                }
            }

            return response;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<Outcome<HttpResponseMessage>> AttemptAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Options.Set(PsaRequestOptions.Attempt, request.Options.TryGetValue(PsaRequestOptions.Attempt, out var previous) ? previous + 1 : 1);
        request.Options.Set(PsaRequestOptions.Sent, false);
        try
        {
            var acquiring = _budget.AcquireAsync(request, cancellationToken);
            var waitStarted = acquiring.IsCompleted ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            using var lease = await acquiring.ConfigureAwait(false);
            if (waitStarted != 0)
            {
                _metrics.BudgetWaited(_vendor, System.Diagnostics.Stopwatch.GetElapsedTime(waitStarted));
            }

            using var attemptTimeout = new CancellationTokenSource(_options.AttemptTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attemptTimeout.Token);
            try
            {
                request.Options.Set(PsaRequestOptions.Sent, true);
                var response = await base.SendAsync(request, linked.Token).ConfigureAwait(false);

                // Read the body while the budget slot is held: the vendor counts the request until it has answered.
                try
                {
                    await response.Content.LoadIntoBufferAsync(_options.MaxResponseBytes, linked.Token).ConfigureAwait(false);
                }
                catch (HttpRequestException tooLarge) when (tooLarge.HttpRequestError == HttpRequestError.ConfigurationLimitExceeded)
                {
                    response.Dispose();
                    return Outcome.FromException<HttpResponseMessage>(TooLarge(request, response.StatusCode, tooLarge));
                }

                return Outcome.FromResult(response);
            }
            catch (OperationCanceledException) when (attemptTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return Outcome.FromException<HttpResponseMessage>(new TimeoutRejectedException($"The attempt took longer than {_options.AttemptTimeout.TotalSeconds:0.#} s.", _options.AttemptTimeout));
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or PsaException or IOException)
        {
            if (PsaRequestOptions.NeverSent(exception))
            {
                request.Options.Set(PsaRequestOptions.Sent, false);
            }

            return Outcome.FromException<HttpResponseMessage>(exception);
        }
    }

    private async ValueTask<bool> IsTransientAsync(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or IOException or TimeoutRejectedException } => true,
        { Result: { } response } => await _isTransient(response).ConfigureAwait(false),
        _ => false,
    };

    /// <summary>For a write that must not be applied twice: did this failed attempt certainly not reach the PSA's processing?</summary>
    private async ValueTask<bool> IsUnprocessedAsync(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: { } exception } => PsaRequestOptions.NeverSent(exception),
        { Result: { } response } => await _isUnprocessed(response).ConfigureAwait(false),
        _ => false,
    };

    private TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - _time.GetUtcNow() : null);
        if (wait is not { } delay)
        {
            return null;
        }

        return delay <= TimeSpan.Zero ? TimeSpan.Zero : delay > _options.MaxRetryDelay ? _options.MaxRetryDelay : delay;
    }

    private Exception Translate(Exception exception, HttpRequestMessage request)
    {
        var vendor = _vendor.DisplayName();
        // The last attempt went out (budget acquired, handed to the socket) and no answer says it was refused unprocessed.
        // Conservative: an overall timeout during the wait after a throttled attempt also counts as "may have arrived".
        var mayHaveArrived = !PsaRequestOptions.MayReplay(request) && request.Options.TryGetValue(PsaRequestOptions.Sent, out var sent) && sent
            && exception is TimeoutRejectedException or IOException or HttpRequestException && !PsaRequestOptions.NeverSent(exception);
        return exception switch
        {
            PsaException psa => psa,
            _ when mayHaveArrived => OutcomeUnknown(_vendor, request, exception is TimeoutRejectedException
                ? $"{vendor} did not answer in time"
                : $"the connection to {vendor} was lost before it answered ({exception.Message})", exception),
            BrokenCircuitException broken => new PsaException(_vendor, PsaErrorKind.Unavailable,
                $"PsaPortal has paused calls to {vendor} for a short while because its recent calls kept failing. It will try again by itself; if this persists, check {vendor}'s status.",
                innerException: broken) { RetryAfter = broken.RetryAfter },
            TimeoutRejectedException timeout => new PsaException(_vendor, PsaErrorKind.Unavailable,
                $"{vendor} did not answer in time ({request.Method} {request.RequestUri?.AbsolutePath}). Try again later; if this persists, check {vendor}'s status.",
                innerException: timeout),
            HttpRequestException or IOException => new PsaException(_vendor, PsaErrorKind.Unavailable,
                $"PsaPortal could not reach {vendor} at {request.RequestUri?.Host}: {exception.Message}",
                innerException: exception),
            _ => Rethrow(exception),
        };
    }

    /// <summary>
    /// An answer over <see cref="PsaResilienceOptions.MaxResponseBytes"/>: not retried (the same request brings the same
    /// answer). A write it answered may have been applied, so that is <see cref="PsaErrorKind.OutcomeUnknown"/>.
    /// </summary>
    private PsaException TooLarge(HttpRequestMessage request, HttpStatusCode statusCode, HttpRequestException exception)
    {
        var what = $"{_vendor.DisplayName()} answered {request.Method} {request.RequestUri?.AbsolutePath} with more than {_options.MaxResponseBytes / (1024 * 1024.0):0.#} MB, " +
                   "the most PsaPortal reads of one answer";
        return PsaRequestOptions.MayReplay(request)
            ? new PsaException(_vendor, PsaErrorKind.Unavailable, $"{what}. Nothing of it was used.", statusCode, innerException: exception)
            : OutcomeUnknown(_vendor, request, what, exception, statusCode);
    }

    /// <summary>The failure of a write that may or may not have been applied; it was sent once and is not sent again.</summary>
    internal static PsaException OutcomeUnknown(PsaVendor vendor, HttpRequestMessage request, string reason, Exception? innerException = null, System.Net.HttpStatusCode? statusCode = null,
        IReadOnlyList<PsaVendorError>? vendorErrors = null) =>
        new(vendor, PsaErrorKind.OutcomeUnknown,
            $"{vendor.DisplayName()} may or may not have applied {request.Method} {request.RequestUri?.AbsolutePath}: {reason}. PsaPortal did not send it again; read the current state in {vendor.DisplayName()} before writing again.",
            statusCode, vendorErrors, innerException);

    private static Exception Rethrow(Exception exception)
    {
        ExceptionDispatchInfo.Capture(exception).Throw();
        return exception;
    }
}
