using System.Text;
using Microsoft.AspNetCore.Http;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.ConnectWise;

/// <summary>Endpoint metadata: the security function (and action) a ConnectWise route needs.</summary>
internal sealed record ConnectWisePermission(ConnectWiseFunction Function, ConnectWiseAction Action);

/// <summary>Endpoint metadata: the route needs no API member (codebase discovery).</summary>
internal sealed record ConnectWiseAnonymous;

/// <summary>
/// ConnectWise checks in the vendor's order: codebase routing, rate limit (429 + Retry-After),
/// clientId, Basic credentials (<c>companyId+publicKey:privateKey</c>), then the member's security
/// role for the route. Also echoes the model version as <c>api-current-version</c>.
/// </summary>
internal sealed class ConnectWiseGate(ConnectWiseSandbox sandbox, TimeProvider time) : SandboxGate
{
    public const string MemberItemKey = "PsaPortal.Sandbox.ConnectWiseMember";

    protected override RequestLog Log => sandbox.RequestLog;

    protected override FaultSettings Faults => sandbox.Settings.Faults;

    protected override TimeProvider Time => time;

    protected override DateTimeOffset FaultsAppliedAt => sandbox.FaultsAppliedAt;

    protected override IResult ServerError() => ConnectWiseErrors.Timeout();

    protected override IResult Throttled(int retryAfterSeconds) => ConnectWiseErrors.TooManyRequests(retryAfterSeconds);

    protected override ValueTask<IResult?> CheckAsync(HttpContext http, Func<TimeSpan, Task> addDelay)
    {
        var settings = sandbox.Settings;
        http.Response.Headers["api-current-version"] = NegotiateVersion(http.Request.Headers.Accept.ToString(), settings.ApiVersion);
        var endpoint = http.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<ConnectWiseAnonymous>() is not null)
        {
            return ValueTask.FromResult<IResult?>(null);
        }

        if (http.Request.RouteValues.TryGetValue("codebase", out var codebaseValue) && codebaseValue is string codebase
            && !string.Equals(codebase, "v4_6_release", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(codebase + "/", settings.Codebase, StringComparison.OrdinalIgnoreCase))
        {
            return ValueTask.FromResult<IResult?>(ConnectWiseErrors.CodebaseInvalid());
        }

        if (sandbox.TryConsumeRateLimit() is { } retryAfter)
        {
            return ValueTask.FromResult<IResult?>(ConnectWiseErrors.TooManyRequests(retryAfter));
        }

        var clientId = http.Request.Headers["clientId"].ToString();
        if (!(Guid.TryParse(clientId, out _) && (settings.AcceptAnyClientId || string.Equals(clientId, ConnectWiseSandbox.SeededClientId, StringComparison.OrdinalIgnoreCase))))
        {
            return ValueTask.FromResult<IResult?>(ConnectWiseErrors.MissingClientId());
        }

        var member = Authenticate(http.Request.Headers.Authorization.ToString());
        if (member is null)
        {
            return ValueTask.FromResult<IResult?>(ConnectWiseErrors.Unauthenticated());
        }

        http.Items[UserItemKey] = member.Identifier;
        http.Items[MemberItemKey] = member;
        var permission = endpoint?.Metadata.GetMetadata<ConnectWisePermission>();
        if (permission is not null && !member.Allows(permission.Function, permission.Action))
        {
            return ValueTask.FromResult<IResult?>(ConnectWiseErrors.Forbidden());
        }

        return ValueTask.FromResult<IResult?>(null);
    }

    private ConnectWiseApiMember? Authenticate(string authorization)
    {
        const string scheme = "Basic ";
        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[scheme.Length..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }

        var plus = decoded.IndexOf('+', StringComparison.Ordinal);
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (plus <= 0 || colon <= plus)
        {
            return null;
        }

        var companyId = decoded[..plus];
        var publicKey = decoded[(plus + 1)..colon];
        var privateKey = decoded[(colon + 1)..];
        var member = sandbox.FindMember(publicKey);
        return member is not null
            && string.Equals(companyId, ConnectWiseSandbox.CompanyId, StringComparison.OrdinalIgnoreCase)
            && string.Equals(member.PrivateKey, privateKey, StringComparison.Ordinal)
            ? member
            : null;
    }

    /// <summary>The newest model not above the requested <c>version=</c> (latest when none is asked for).</summary>
    private static string NegotiateVersion(string accept, string current)
    {
        const string marker = "version=";
        var index = accept.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
        if (index < 0)
        {
            return current;
        }

        var requested = new string([.. accept[(index + marker.Length)..].TakeWhile(c => char.IsDigit(c) || c == '.')]);
        return Version.TryParse(requested, out var asked) && Version.TryParse(current, out var available) && asked < available ? requested : current;
    }
}
