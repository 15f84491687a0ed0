using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Features.Api;

/// <summary>
/// The "ApiKey" scheme: a token in <c>Authorization: Bearer …</c> or <c>X-Api-Key: …</c>. Only the API's policy uses
/// it, and that policy uses nothing else: the API never accepts the portal's cookie, and the portal's pages never accept
/// a key. A refusal is a 401 problem details body with a <c>WWW-Authenticate</c> header; the token is never logged or
/// echoed.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyService keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string KeyIdClaim = "psaportal:api_key_id";
    public const string Realm = "PsaPortal API";

    public const string MissingMessage = "Send an API key: Authorization: Bearer <key>, or X-Api-Key: <key>. Admins create keys in Settings › API keys.";
    public const string MalformedMessage = "The API key is malformed. A key looks like psak_ followed by 12 letters or digits, _ and 43 more characters.";
    public const string UnknownMessage = "The API key is not valid. Check that it was copied whole, or ask an Admin for a new one.";
    public const string RevokedMessage = "The API key was revoked. Ask an Admin of your organization for a new one.";

    private ApiKeyCheck? _check;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken(Request, out var malformed);
        if (malformed)
        {
            _check = ApiKeyCheck.Malformed;
            return AuthenticateResult.Fail("Malformed API key.");
        }

        if (token is null)
        {
            return AuthenticateResult.NoResult();
        }

        var (check, identity) = await keys.CheckAsync(token, Context.RequestAborted);
        _check = check;
        if (identity is null)
        {
            return AuthenticateResult.Fail($"API key refused: {check}.");
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, identity.KeyId.ToString()),
                new Claim(ClaimTypes.Name, $"API key {identity.Name} ({ApiKeyToken.Marker}{identity.Prefix})"),
                new Claim(KeyIdClaim, identity.KeyId.ToString()),
                new Claim(PortalClaims.OrganizationId, identity.OrganizationId.ToString()),
            ],
            SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var detail = _check switch
        {
            ApiKeyCheck.Malformed => MalformedMessage,
            ApiKeyCheck.Unknown => UnknownMessage,
            ApiKeyCheck.Revoked => RevokedMessage,
            _ => MissingMessage,
        };
        // RFC 6750: no error code when no credentials were sent at all.
        Response.Headers.WWWAuthenticate = _check is null
            ? $"Bearer realm=\"{Realm}\""
            : $"Bearer realm=\"{Realm}\", error=\"invalid_token\", error_description=\"{detail.Replace("\"", "'", StringComparison.Ordinal)}\"";
        return ApiProblems.Status(StatusCodes.Status401Unauthorized, "An API key is required.", detail).ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiProblems.Status(StatusCodes.Status403Forbidden, "Forbidden.", "This API key may not do that.").ExecuteAsync(Context);

    /// <summary>The token from either header; two different tokens, or an Authorization header that is not Bearer, are malformed.</summary>
    private static string? ReadToken(HttpRequest request, out bool malformed)
    {
        malformed = false;
        string? bearer = null;
        var authorization = request.Headers.Authorization;
        if (authorization.Count > 1)
        {
            malformed = true;
            return null;
        }

        if (authorization.Count == 1)
        {
            var value = authorization[0] ?? "";
            if (!value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                malformed = true;
                return null;
            }

            bearer = value["Bearer ".Length..].Trim();
        }

        var header = request.Headers[HeaderName];
        if (header.Count > 1 || (header.Count == 1 && bearer is not null && header[0]?.Trim() != bearer))
        {
            malformed = true;
            return null;
        }

        var token = bearer ?? header.FirstOrDefault()?.Trim();
        if (token is { Length: 0 })
        {
            malformed = true;
            return null;
        }

        return token;
    }
}
