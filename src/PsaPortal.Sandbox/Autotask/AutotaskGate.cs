using Microsoft.AspNetCore.Http;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.Autotask;

/// <summary>Endpoint metadata: the entity and action an Autotask route needs; <see cref="Entity"/> also names the thread-limit bucket.</summary>
internal sealed record AutotaskPermission(string Entity, AutotaskAction? Action);

/// <summary>Endpoint metadata: zone discovery, which needs no credentials and is exempt from thread limiting.</summary>
internal sealed record AutotaskAnonymous;

/// <summary>
/// Autotask checks in the vendor's order: the zone in the URL (a stale zone gives 401), the three
/// credential headers (bad user or integration code → 500, bad secret → 401), the hourly threshold
/// with its latency steps, the 3-concurrent-requests-per-endpoint rule, then entity rights.
/// </summary>
internal sealed class AutotaskGate(AutotaskSandbox sandbox, TimeProvider time) : SandboxGate
{
    public const string UserObjectItemKey = "PsaPortal.Sandbox.AutotaskUser";
    private const string ThreadKeyItem = "PsaPortal.Sandbox.AutotaskThreadKey";

    protected override RequestLog Log => sandbox.RequestLog;

    protected override FaultSettings Faults => sandbox.Settings.Faults;

    protected override TimeProvider Time => time;

    protected override DateTimeOffset FaultsAppliedAt => sandbox.FaultsAppliedAt;

    protected override IResult ServerError() => AutotaskErrors.ServerError();

    /// <summary>Autotask documents no Retry-After; its throttling answer under load is the thread-threshold error, here with 429.</summary>
    protected override IResult Throttled(int retryAfterSeconds) =>
        AutotaskErrors.ThreadLimitExceeded(StatusCodes.Status429TooManyRequests, sandbox.Settings.ThreadLimitPerEndpoint);

    protected override async ValueTask<IResult?> CheckAsync(HttpContext http, Func<TimeSpan, Task> addDelay)
    {
        var settings = sandbox.Settings;
        var endpoint = http.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<AutotaskAnonymous>() is not null)
        {
            return null;
        }

        if (http.Request.RouteValues.TryGetValue("zone", out var zone) && zone is string zoneName
            && !string.Equals(zoneName, $"webservices{settings.ZoneNumber}", StringComparison.OrdinalIgnoreCase))
        {
            return AutotaskErrors.Unauthorized();
        }

        var headers = http.Request.Headers;
        var user = sandbox.FindUser(headers["UserName"].ToString());
        if (user is null)
        {
            return AutotaskErrors.ZoneUnknown();
        }

        var integrationCode = headers["ApiIntegrationCode"].ToString();
        if (!sandbox.IntegrationCodes.ContainsKey(integrationCode))
        {
            return AutotaskErrors.IntegrationCodeInvalid();
        }

        if (!string.Equals(headers["Secret"].ToString(), user.Secret, StringComparison.Ordinal))
        {
            return AutotaskErrors.Unauthorized();
        }

        http.Items[UserItemKey] = user.UserName;
        http.Items[UserObjectItemKey] = user;

        if (sandbox.TryCountRequest() is not { } usage)
        {
            return AutotaskErrors.ThresholdExceeded(settings.HourlyThreshold);
        }

        if (settings.ThresholdLatencyEnabled && usage >= 0.5)
        {
            await addDelay(TimeSpan.FromMilliseconds(usage >= 0.75 ? 1000 : 500));
        }

        var permission = endpoint?.Metadata.GetMetadata<AutotaskPermission>();
        var threadKey = $"{integrationCode}|{permission?.Entity ?? http.Request.Path.Value}";
        if (!sandbox.TryEnterThread(threadKey, settings.ThreadLimitPerEndpoint))
        {
            return AutotaskErrors.ThreadLimitExceeded(settings.ThreadLimitStatusCode, settings.ThreadLimitPerEndpoint);
        }

        http.Items[ThreadKeyItem] = threadKey;
        if (permission?.Action is { } action && !user.Allows(permission.Entity, action))
        {
            return AutotaskErrors.Forbidden(permission.Entity, action);
        }

        return null;
    }

    protected override void Complete(HttpContext http)
    {
        if (http.Items[ThreadKeyItem] is string key)
        {
            http.Items.Remove(ThreadKeyItem);
            sandbox.ExitThread(key);
        }
    }
}
