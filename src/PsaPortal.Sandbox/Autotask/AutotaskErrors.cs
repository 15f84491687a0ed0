using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.Autotask;

/// <summary>Autotask error bodies: <c>{"errors":["…"]}</c>, usually with status 500 (docs/psa/autotask-api-notes.md §3).</summary>
internal static class AutotaskErrors
{
    public static IResult Errors(int statusCode, params string[] messages) =>
        JsonPayloadResult.Node(new JsonObject { ["errors"] = new JsonArray([.. messages.Select(m => (JsonNode)JsonValue.Create(m))]) }, statusCode);

    public static IResult ZoneUnknown() => Errors(StatusCodes.Status500InternalServerError, "Zone information could not be determined");

    public static IResult IntegrationCodeInvalid() => Errors(StatusCodes.Status500InternalServerError, "IntegrationCode is invalid.");

    public static IResult Unauthorized() => Results.StatusCode(StatusCodes.Status401Unauthorized);

    public static IResult Forbidden(string entity, AutotaskAction action) =>
        Errors(StatusCodes.Status403Forbidden, $"User does not have permission to {action.ToString().ToLowerInvariant()} {entity}.");

    public static IResult Failure(string message) => Errors(StatusCodes.Status500InternalServerError, message);

    public static IResult NotFound() => Errors(StatusCodes.Status404NotFound, "The requested resource does not exist.");

    public static IResult ThresholdExceeded(int threshold) =>
        Errors(StatusCodes.Status429TooManyRequests, $"Request threshold exceeded: {threshold} requests per 60 minutes. API access is suspended until usage falls below the threshold.");

    public static IResult ThreadLimitExceeded(int statusCode, int limit) =>
        Errors(statusCode, $"Thread Threshold Exceeded: The Autotask API thread threshold of {limit} threads has been exceeded. (Itgenatr005)");

    public static IResult ServerError() => Errors(StatusCodes.Status500InternalServerError, "An unexpected error occurred. Please try again.");
}
