using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.ConnectWise;

/// <summary>The vendor's error bodies (<c>{code, message, errors[]}</c>) with their status codes; see docs/psa/connectwise-api-notes.md §3.</summary>
internal static class ConnectWiseErrors
{
    public const string SiteCompanyId = "sandbox";

    public static IResult Unauthenticated() =>
        Error(StatusCodes.Status401Unauthorized, new JsonObject { ["code"] = "ConnectWiseApi", ["message"] = "UserNotAuthenticated" });

    public static IResult MissingClientId() =>
        Error(StatusCodes.Status401Unauthorized, new JsonObject { ["code"] = "ConnectWiseApi", ["message"] = "A valid clientId is required for all API calls." });

    public static IResult Forbidden() =>
        Error(StatusCodes.Status403Forbidden, new JsonObject { ["code"] = "Security", ["message"] = "You do not have security permission to perform this action." });

    public static IResult NotFound(string resource, long id) =>
        Error(StatusCodes.Status404NotFound, new JsonObject { ["code"] = "NotFound", ["message"] = $"{resource} recId {id} not found" });

    public static IResult RouteNotFound() =>
        Error(StatusCodes.Status404NotFound, new JsonObject { ["code"] = "NotFound", ["message"] = "The requested resource does not exist." });

    public static IResult TooManyRequests(int retryAfterSeconds) => new TooManyRequestsResult(retryAfterSeconds);

    public static IResult Timeout() =>
        Error(StatusCodes.Status500InternalServerError, new JsonObject { ["code"] = "ConnectWiseApi", ["message"] = "A timeout has occured. Please try again." });

    public static IResult CodebaseInvalid() => Results.Text("Cannot route. Codebase/company is invalid", "text/plain", statusCode: StatusCodes.Status404NotFound);

    /// <summary>400 InvalidObject with one or more validation errors.</summary>
    public static IResult InvalidObject(string resource, params (string Code, string Message, string Field)[] errors)
    {
        var list = new JsonArray();
        foreach (var (code, message, field) in errors)
        {
            list.Add(new JsonObject { ["code"] = code, ["message"] = message, ["resource"] = resource, ["field"] = field });
        }

        return Error(StatusCodes.Status400BadRequest, new JsonObject { ["code"] = "InvalidObject", ["message"] = $"{resource} object is invalid", ["errors"] = list });
    }

    /// <summary>A query parameter (conditions, orderBy, fields…) the vendor cannot parse.</summary>
    public static IResult InvalidParameter(string parameter, string message) => InvalidObject(parameter, ("InvalidField", message, parameter));

    public static IResult Error(int statusCode, JsonObject body) => JsonPayloadResult.Node(body, statusCode);

    private sealed class TooManyRequestsResult(int retryAfterSeconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var body = new JsonObject { ["error"] = "ConnectWiseAPI", ["message"] = $"Too many requests. Please try again in {retryAfterSeconds} seconds." };
            return JsonPayloadResult.Node(body, StatusCodes.Status429TooManyRequests).ExecuteAsync(httpContext);
        }
    }
}
