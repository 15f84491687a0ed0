using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Api;

/// <summary>The API's RFC 7807 answers (application/problem+json), written the same way everywhere.</summary>
internal static class ApiProblems
{
    public const string InvalidTitle = "One or more fields are not valid.";

    public static IResult Status(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);

    public static IResult NotFound(string detail) => Status(StatusCodes.Status404NotFound, "Not found.", detail);

    public static IResult Invalid(string title, IDictionary<string, string[]> errors, string? detail = null) =>
        TypedResults.ValidationProblem(errors, detail: detail ?? "Nothing was written. Correct the fields named in errors and send the request again.", title: title);

    public static IResult Invalid(string field, string message) => Invalid(InvalidTitle, new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>
    /// Ingest errors keyed by where the field is in the request: <c>items[3].name</c> in a batch of one kind,
    /// <c>usage[3].quantity</c> in a mixed batch, <c>name</c> for a single item.
    /// </summary>
    public static IResult Invalid(IReadOnlyList<IngestError> errors, Func<IngestError, string> pathOf) =>
        Invalid(InvalidTitle, errors.GroupBy(pathOf, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal),
            errors.Count == 1 ? null : $"Nothing was written: {errors.Count} problems. Correct the fields named in errors and send the request again.");

    public static string ItemPath(IngestError error, string collection) =>
        error.Field.Length == 0 ? $"{collection}[{error.Index}]" : $"{collection}[{error.Index}].{error.Field}";

    public static string SinglePath(IngestError error) => error.Field.Length == 0 ? "body" : error.Field;
}
