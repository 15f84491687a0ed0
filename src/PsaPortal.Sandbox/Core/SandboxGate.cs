using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PsaPortal.Sandbox.Core;

/// <summary>
/// The endpoint filter in front of every vendor route: it applies latency and injected faults, runs
/// the vendor's own checks (routing, limits, authentication, permissions), executes the handler's
/// result itself so that the status and the full time spent are known, and logs the call. It is an
/// endpoint filter on the vendor's route group, so mounting the sandbox never affects other routes.
/// </summary>
internal abstract class SandboxGate : IEndpointFilter
{
    public const string UserItemKey = "PsaPortal.Sandbox.User";

    protected abstract RequestLog Log { get; }

    protected abstract FaultSettings Faults { get; }

    protected abstract TimeProvider Time { get; }

    /// <summary>When the current <see cref="Faults"/> were applied (sandbox clock); throttle storms count from here.</summary>
    protected abstract DateTimeOffset FaultsAppliedAt { get; }

    /// <summary>The vendor's answer to an injected server error.</summary>
    protected abstract IResult ServerError();

    /// <summary>The vendor's answer to injected throttling (429 before the request is processed).</summary>
    protected abstract IResult Throttled(int retryAfterSeconds);

    /// <summary>Vendor checks before the handler runs; a non-null result rejects the call. May add delay through <paramref name="addDelay"/>.</summary>
    protected abstract ValueTask<IResult?> CheckAsync(HttpContext http, Func<TimeSpan, Task> addDelay);

    /// <summary>
    /// Called when the answer is ready, before it is written (and again, harmlessly, once the call ended whatever
    /// happened): releases concurrency slots. Released before writing, so a client that starts its next request the
    /// moment it has read this answer never finds the slot still taken.
    /// </summary>
    protected virtual void Complete(HttpContext http)
    {
    }

    private static bool IsWrite(HttpRequest request) =>
        !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)
        && !(request.Path.Value ?? string.Empty).Contains("/query", StringComparison.OrdinalIgnoreCase)
        && !(request.Path.Value ?? string.Empty).EndsWith("/search", StringComparison.OrdinalIgnoreCase);

    private static async Task<IResult> InvokeHandlerAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var value = await next(context);
        return value as IResult ?? throw new InvalidOperationException(
            $"Sandbox endpoint {context.HttpContext.GetEndpoint()?.DisplayName} must return an IResult (a lambda typed HttpContext → Task would be bound as a RequestDelegate and lose its result).");
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var startedAt = Time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        var injected = TimeSpan.Zero;
        var status = 0;
        // A lost connection is dropped only once the call is in the request log, so a client that sees the reset
        // and then reads the log finds the call there.
        var abort = false;

        async Task AddDelay(TimeSpan delay)
        {
            if (delay > TimeSpan.Zero)
            {
                injected += delay;
                await Task.Delay(delay, Time, http.RequestAborted);
            }
        }

        try
        {
            var faults = Faults;
            var stormLeft = faults.StormSecondsLeft(Time.GetUtcNow() - FaultsAppliedAt);
            var roll = stormLeft is null ? Random.Shared.NextDouble() : double.MaxValue;
            if (roll < faults.ConnectionResetRate)
            {
                abort = true;
                return Results.Empty;
            }

            if (roll < faults.ConnectionResetRate + faults.TimeoutRate)
            {
                await AddDelay(TimeSpan.FromMilliseconds(faults.TimeoutMilliseconds));
                abort = true;
                return Results.Empty;
            }

            // Latency is server time: it is spent after the vendor checks, so a request holds its
            // concurrency slot (Autotask's thread limit) while it "works".
            var latency = TimeSpan.FromMilliseconds(faults.LatencyMilliseconds + (faults.JitterMilliseconds > 0 ? Random.Shared.Next(faults.JitterMilliseconds) : 0));
            IResult result;
            var serverErrorBelow = faults.ConnectionResetRate + faults.TimeoutRate + faults.ServerErrorRate;
            if (roll < serverErrorBelow)
            {
                await AddDelay(latency);
                result = ServerError();
            }
            else if (stormLeft is not null || roll < serverErrorBelow + faults.ThrottleRate)
            {
                await AddDelay(latency);
                result = Throttled(stormLeft ?? 1);
            }
            else
            {
                var rejection = await CheckAsync(http, AddDelay);
                await AddDelay(latency);
                result = rejection ?? await InvokeHandlerAsync(context, next);
                if (rejection is null && faults.SlowWriteAnswerMilliseconds > 0 && IsWrite(http.Request))
                {
                    await AddDelay(TimeSpan.FromMilliseconds(faults.SlowWriteAnswerMilliseconds));
                }

                if (rejection is null && roll < serverErrorBelow + faults.ThrottleRate + faults.ResponseLostRate)
                {
                    // Processed (a write is applied), then the answer is lost.
                    Complete(http);
                    abort = true;
                    return Results.Empty;
                }
            }

            Complete(http);
            await result.ExecuteAsync(http);
            status = http.Response.StatusCode;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            status = 0;
        }
        catch (Exception exception) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
        {
            // An unexpected failure inside a handler still answers in the vendor's shape, as the real
            // server would, but it is a sandbox bug, so it is logged loudly.
            http.RequestServices.GetService<ILoggerFactory>()?.CreateLogger<SandboxGate>()
                .LogError(exception, "Sandbox handler for {Method} {Path} failed", http.Request.Method, http.Request.Path);
            http.Response.Clear();
            await ServerError().ExecuteAsync(http);
            status = http.Response.StatusCode;
        }
        finally
        {
            Complete(http);
            var elapsed = Stopwatch.GetElapsedTime(started);
            var request = http.Request;
            var route = (http.GetEndpoint() as Microsoft.AspNetCore.Routing.RouteEndpoint)?.RoutePattern.RawText ?? string.Empty;
            Log.Add(startedAt, request.Method, request.PathBase.Add(request.Path).Value ?? string.Empty, request.QueryString.Value ?? string.Empty, route,
                status, elapsed.TotalMilliseconds, injected.TotalMilliseconds, http.Items[UserItemKey] as string);
            if (abort)
            {
                http.Abort();
            }
        }

        return Results.Empty;
    }
}
