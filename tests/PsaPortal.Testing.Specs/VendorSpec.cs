using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PsaPortal.Testing.Specs;

public enum SpecFormat
{
    Swagger2,
    OpenApi3,
}

/// <summary>
/// One vendor specification file, parsed once per process and shared: finds the operation for a concrete
/// request and validates request and response bodies against its schemas.
/// </summary>
/// <remarks>
/// Paths are passed relative to the vendor's API root, which is <see cref="ApiRoot"/>:
/// ConnectWise <c>/apis/3.0</c> (pass <c>/finance/agreements/17/additions</c>), Autotask <c>/ATServicesRest</c>
/// (pass <c>/v1.0/Companies/query</c>). <see cref="GetApiRelativePath"/> cuts a full request URI down to that.
/// </remarks>
public sealed partial class VendorSpec
{
    public const string ConnectWiseFileName = "connectwise/connectwise-psa-2025.1.reconstructed.openapi.json";
    public const string AutotaskFileName = "autotask/autotask-rest-v1.swagger.json";

    private static readonly ConcurrentDictionary<(string FilePath, VendorSpecOptions Options), Lazy<VendorSpec>> Loaded = new();

    private static readonly string[] HttpMethodKeys = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    // Never disposed: the document is shared by every test in the process for its whole life.
    private readonly JsonDocument _document;
    private readonly RouteTable _routes;
    private readonly ConcurrentDictionary<string, JsonElement?> _resolvedReferences = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Method, string Template), SpecOperation> _operations = new();

    private VendorSpec(string filePath, VendorSpecOptions options)
    {
        var stopwatch = Stopwatch.StartNew();
        if (!File.Exists(filePath))
        {
            throw new FileNotFoundException(
                $"Specification file '{filePath}' does not exist. Check {SpecsDirectory.EnvironmentVariable} or the shared specs folder.", filePath);
        }

        FilePath = filePath;
        Options = options;
        using (var stream = File.OpenRead(filePath))
        {
            _document = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
        }

        var root = _document.RootElement;
        if (root.TryGetProperty("swagger", out var swagger) && swagger.GetString() == "2.0")
        {
            Format = SpecFormat.Swagger2;
            ApiRoot = root.TryGetProperty("basePath", out var basePath) ? basePath.GetString() ?? "/" : "/";
        }
        else if (root.TryGetProperty("openapi", out var openApi) && openApi.GetString()?.StartsWith("3.0", StringComparison.Ordinal) == true)
        {
            Format = SpecFormat.OpenApi3;
            ApiRoot = ApiRootOfFirstServer(root);
        }
        else
        {
            throw new InvalidDataException($"'{filePath}' is neither a Swagger 2.0 nor an OpenAPI 3.0 document.");
        }

        var paths = root.GetProperty("paths");
        _routes = new RouteTable(paths, options.CaseInsensitivePaths);
        OperationCount = paths.EnumerateObject().Sum(path => path.Value.EnumerateObject().Count(p => HttpMethodKeys.Contains(p.Name)));
        LoadTime = stopwatch.Elapsed;
    }

    /// <summary>The ConnectWise PSA file from the shared specs folder (see <see cref="SpecsDirectory.Locate()"/>).</summary>
    public static VendorSpec ConnectWise => Load(Path.Combine(SpecsDirectory.Locate(), ConnectWiseFileName), VendorSpecOptions.ConnectWise);

    /// <summary>The Autotask PSA file from the shared specs folder (see <see cref="SpecsDirectory.Locate()"/>).</summary>
    public static VendorSpec Autotask => Load(Path.Combine(SpecsDirectory.Locate(), AutotaskFileName), VendorSpecOptions.Autotask);

    public string Name => Options.DisplayName;

    public string FilePath { get; }

    public string FileName => Path.GetFileName(FilePath);

    public VendorSpecOptions Options { get; }

    public SpecFormat Format { get; }

    /// <summary>The path prefix the specification's paths are relative to: <c>/apis/3.0</c> or <c>/ATServicesRest</c>.</summary>
    public string ApiRoot { get; }

    public int PathCount => _routes.TemplateCount;

    public int OperationCount { get; }

    /// <summary>Every operation in the file, e.g. to check that a set of served routes covers what a client needs.</summary>
    public IEnumerable<SpecOperation> Operations =>
        _routes.Templates.SelectMany(template => template.PathItem.EnumerateObject()
            .Where(item => HttpMethodKeys.Contains(item.Name))
            .Select(item => GetOperation(item.Name, template, item.Value)));

    /// <summary>How long parsing and indexing took when the file was first loaded.</summary>
    public TimeSpan LoadTime { get; }

    internal JsonElement Root => _document.RootElement;

    /// <summary>Loads a specification file, or returns the instance already loaded for the same file and options.</summary>
    public static VendorSpec Load(string filePath, VendorSpecOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var key = (Path.GetFullPath(filePath), options);
        return Loaded.GetOrAdd(key, k => new Lazy<VendorSpec>(() => new VendorSpec(k.FilePath, k.Options))).Value;
    }

    /// <summary>
    /// The part of a request URI after the API root, with its query: <c>https://host/v4_6_release/apis/3.0/company/companies?page=2</c>
    /// gives <c>/company/companies?page=2</c>. Works for the sandbox's mount points too (<c>/sandbox/autotask/atservicesrest/…</c>).
    /// </summary>
    public string GetApiRelativePath(Uri requestUri)
    {
        ArgumentNullException.ThrowIfNull(requestUri);
        var pathAndQuery = requestUri.IsAbsoluteUri ? requestUri.PathAndQuery : requestUri.OriginalString;
        var queryStart = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var path = queryStart < 0 ? pathAndQuery : pathAndQuery[..queryStart];
        var query = queryStart < 0 ? string.Empty : pathAndQuery[queryStart..];

        var segments = RouteTable.SplitSegments(path);
        var rootSegments = RouteTable.SplitSegments(ApiRoot);
        for (var start = 0; start + rootSegments.Length <= segments.Length; start++)
        {
            if (rootSegments.Select((segment, i) => string.Equals(segment, segments[start + i], StringComparison.OrdinalIgnoreCase)).All(equal => equal))
            {
                return "/" + string.Join('/', segments[(start + rootSegments.Length)..]) + query;
            }
        }

        throw new SpecMismatchException($"{requestUri} is not under the {Name} API root '{ApiRoot}', so it cannot be in {FileName}.");
    }

    /// <summary>Finds the operation for a concrete request, or throws <see cref="SpecMismatchException"/> saying why it is not in the spec.</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="apiRelativePath">The path after <see cref="ApiRoot"/>, e.g. <c>/finance/agreements/17/additions</c>; a query string is ignored.</param>
    public OperationMatch FindOperation(HttpMethod method, string apiRelativePath) =>
        TryFindOperation(method, apiRelativePath, out var match, out var failure) ? match : throw new SpecMismatchException(failure);

    public bool TryFindOperation(HttpMethod method, string apiRelativePath, [NotNullWhen(true)] out OperationMatch? match, out string failure)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(apiRelativePath);
        var path = StripQuery(apiRelativePath);
        var methodKey = method.Method.ToLowerInvariant();
        var candidates = _routes.Match(path);
        foreach (var candidate in candidates)
        {
            if (candidate.Template.PathItem.TryGetProperty(methodKey, out var operation))
            {
                match = new OperationMatch(GetOperation(methodKey, candidate.Template, operation), candidate.PathParameters);
                failure = string.Empty;
                return true;
            }
        }

        match = null;
        var request = $"{method.Method.ToUpperInvariant()} {path}";
        if (candidates.Count == 0)
        {
            failure = $"{request} is not in spec {Name} ({FileName}): no path template matches.{RootHint(path)}";
        }
        else
        {
            var declared = candidates[0].Template.PathItem.EnumerateObject()
                .Where(p => HttpMethodKeys.Contains(p.Name)).Select(p => p.Name.ToUpperInvariant());
            failure = $"{request} is not in spec {Name} ({FileName}): the path matches {candidates[0].Template.Template}, " +
                $"which declares only {string.Join(", ", declared)}.";
        }

        return false;
    }

    private SpecOperation GetOperation(string methodKey, RouteTemplate template, JsonElement operation) =>
        _operations.GetOrAdd(
            (methodKey, template.Template),
            _ => new SpecOperation(this, methodKey.ToUpperInvariant(), template.Template, template.PathItem, operation));

    /// <summary>Checks a request: the route exists, its path, query and (if given) header parameters, and its body.</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="apiRelativePathAndQuery">The path after <see cref="ApiRoot"/>, with its query string if any.</param>
    /// <param name="body">The JSON body, or null when the request has none.</param>
    /// <param name="headerNames">Names of the headers sent; when null, required headers are not checked.</param>
    /// <param name="options">Validation options; default if null.</param>
    public ValidationReport ValidateRequest(
        HttpMethod method,
        string apiRelativePathAndQuery,
        JsonElement? body,
        IEnumerable<string>? headerNames = null,
        ValidationOptions? options = null) =>
        ValidateRequest(method, apiRelativePathAndQuery, body, headerNames, options, nonJsonContentType: null);

    /// <param name="nonJsonContentType">Set when the body is not JSON: route and parameters are checked, the body is reported as not checked.</param>
    internal ValidationReport ValidateRequest(
        HttpMethod method,
        string apiRelativePathAndQuery,
        JsonElement? body,
        IEnumerable<string>? headerNames,
        ValidationOptions? options,
        string? nonJsonContentType)
    {
        if (!TryFindOperation(method, apiRelativePathAndQuery, out var match, out var failure))
        {
            return NotInSpec($"request {method.Method.ToUpperInvariant()} {StripQuery(apiRelativePathAndQuery)}", failure);
        }

        var bodyReport = nonJsonContentType is null
            ? match.Operation.ValidateRequestBody(body, options)
            : new ValidationReport($"request body of {match.Operation}", SchemaCoverage.NoSchema, [],
                [$"no schema: the {nonJsonContentType} body was not checked (only JSON bodies are)"]);
        var parameterViolations = match.Operation.ValidateParameters(match.PathParameters, ParseQuery(apiRelativePathAndQuery), headerNames);
        return parameterViolations.Count == 0
            ? bodyReport
            : new ValidationReport(bodyReport.Subject, bodyReport.Coverage, [.. parameterViolations, .. bodyReport.Violations], bodyReport.Notes);
    }

    /// <summary>Checks a response body against the schema the operation declares for the status code.</summary>
    /// <param name="method">The HTTP method of the request.</param>
    /// <param name="apiRelativePathAndQuery">The request path after <see cref="ApiRoot"/>, with its query string if any.</param>
    /// <param name="statusCode">The response status.</param>
    /// <param name="body">The JSON body, or null when the response has none.</param>
    /// <param name="options">Validation options; when null, <c>required</c> is skipped if the request asked for <c>fields=</c>.</param>
    public ValidationReport ValidateResponse(HttpMethod method, string apiRelativePathAndQuery, int statusCode, JsonElement? body, ValidationOptions? options = null)
    {
        if (!TryFindOperation(method, apiRelativePathAndQuery, out var match, out var failure))
        {
            return NotInSpec($"response {statusCode} of {method.Method.ToUpperInvariant()} {StripQuery(apiRelativePathAndQuery)}", failure);
        }

        if (options is null && ParseQuery(apiRelativePathAndQuery).ContainsKey("fields"))
        {
            var report = match.Operation.ValidateResponseBody(statusCode, body, new ValidationOptions { IgnoreRequired = true });
            return new ValidationReport(report.Subject, report.Coverage, report.Violations,
                [.. report.Notes, "required properties not checked: the request selected fields= and the vendor returns only those"]);
        }

        return match.Operation.ValidateResponseBody(statusCode, body, options);
    }

    internal bool TryResolveReference(string reference, out JsonElement target)
    {
        var resolved = _resolvedReferences.GetOrAdd(reference, ResolvePointer);
        target = resolved.GetValueOrDefault();
        return resolved.HasValue;
    }

    private JsonElement? ResolvePointer(string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            return null;
        }

        var current = Root;
        foreach (var token in reference[2..].Split('/'))
        {
            var name = Uri.UnescapeDataString(token).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current))
            {
                return null;
            }
        }

        return current;
    }

    internal static string StripQuery(string pathAndQuery)
    {
        var queryStart = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        return queryStart < 0 ? pathAndQuery : pathAndQuery[..queryStart];
    }

    internal static Dictionary<string, string> ParseQuery(string pathAndQuery)
    {
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var queryStart = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        if (queryStart < 0)
        {
            return parameters;
        }

        foreach (var pair in pathAndQuery[(queryStart + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(equals < 0 ? pair : pair[..equals]);
            parameters[name] = equals < 0 ? string.Empty : Decode(pair[(equals + 1)..]);
        }

        return parameters;

        static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
    }

    private ValidationReport NotInSpec(string subject, string failure) =>
        new(subject, SchemaCoverage.NoSchema, [new SchemaViolation("$", failure)], []);

    private string RootHint(string path)
    {
        var first = RouteTable.SplitSegments(path).FirstOrDefault();
        var rootFirst = RouteTable.SplitSegments(ApiRoot).FirstOrDefault();
        return first is not null && string.Equals(first, rootFirst, StringComparison.OrdinalIgnoreCase)
            ? $" Pass the path relative to the API root '{ApiRoot}' (or use {nameof(GetApiRelativePath)})."
            : string.Empty;
    }

    // "https://{site}/{codebase}apis/3.0" -> "/apis/3.0": server variables stand for the host and the codebase.
    private static string ApiRootOfFirstServer(JsonElement root)
    {
        if (!root.TryGetProperty("servers", out var servers) || servers.GetArrayLength() == 0
            || servers[0].GetProperty("url").GetString() is not { } url)
        {
            return "/";
        }

        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var pathStart = schemeEnd < 0 ? 0 : url.IndexOf('/', schemeEnd + 3);
        var path = pathStart < 0 ? "/" : url[pathStart..];
        return "/" + string.Join('/', RouteTable.SplitSegments(ServerVariable().Replace(path, string.Empty)));
    }

    [GeneratedRegex(@"\{[^}]*\}", RegexOptions.CultureInvariant)]
    private static partial Regex ServerVariable();
}

/// <summary>The operation a concrete request maps to, with the values of its path parameters.</summary>
public sealed record OperationMatch(SpecOperation Operation, IReadOnlyDictionary<string, string> PathParameters);

/// <summary>A request that the specification does not describe.</summary>
public sealed class SpecMismatchException(string message) : Exception(message);
