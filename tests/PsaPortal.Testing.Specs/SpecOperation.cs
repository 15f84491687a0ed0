using System.Globalization;
using System.Text.Json;

namespace PsaPortal.Testing.Specs;

/// <summary>One operation (method + path template) of a <see cref="VendorSpec"/>.</summary>
public sealed class SpecOperation
{
    private readonly VendorSpec _spec;
    private readonly JsonElement _operation;
    private readonly IReadOnlyList<JsonElement> _parameters;

    internal SpecOperation(VendorSpec spec, string method, string pathTemplate, JsonElement pathItem, JsonElement operation)
    {
        _spec = spec;
        _operation = operation;
        Method = method;
        PathTemplate = pathTemplate;
        OperationId = operation.TryGetProperty("operationId", out var id) ? id.GetString() : null;
        _parameters = MergeParameters(pathItem, operation);
        DeclaredStatusCodes = operation.TryGetProperty("responses", out var responses)
            ? [.. responses.EnumerateObject().Select(r => r.Name)]
            : [];
    }

    public string Method { get; }

    /// <summary>The path as written in the specification, e.g. <c>/finance/agreements/{parentId}/additions</c>.</summary>
    public string PathTemplate { get; }

    public string? OperationId { get; }

    /// <summary>Response keys as declared: status codes and <c>default</c>.</summary>
    public IReadOnlyList<string> DeclaredStatusCodes { get; }

    public override string ToString() => $"{Method} {PathTemplate}";

    /// <summary>Validates a request body (null or <c>default</c> when there is none) against the operation's request schema.</summary>
    public ValidationReport ValidateRequestBody(JsonElement? body, ValidationOptions? options = null)
    {
        var subject = $"request body of {this}";
        var hasBody = body is { ValueKind: not JsonValueKind.Undefined };
        var (schema, required) = RequestBodySchema();
        if (schema is null)
        {
            return hasBody
                ? new ValidationReport(subject, SchemaCoverage.NoSchema, [], [$"no schema: {this} declares no request body"])
                : new ValidationReport(subject, SchemaCoverage.NoBody, [], []);
        }

        if (!hasBody)
        {
            return required
                ? new ValidationReport(subject, SchemaCoverage.Validated, [new SchemaViolation("$", $"request body is required ({DescribeSchema(schema.Value)}), but none was sent")], [])
                : new ValidationReport(subject, SchemaCoverage.NoBody, [], []);
        }

        var validator = new SchemaValidator(_spec, MessageDirection.Request, options ?? ValidationOptions.Default);
        validator.Validate(schema.Value, body!.Value, "$");
        return new ValidationReport(subject, SchemaCoverage.Validated, validator.Violations, []);
    }

    /// <summary>Validates a response body (null or <c>default</c> when there is none) against the schema declared for the status code.</summary>
    public ValidationReport ValidateResponseBody(int statusCode, JsonElement? body, ValidationOptions? options = null)
    {
        var subject = $"response {statusCode} of {this}";
        var hasBody = body is { ValueKind: not JsonValueKind.Undefined };
        if (!TryFindResponse(statusCode, out var declaredAs, out var response, out var notes))
        {
            var violation = new SchemaViolation("$", $"status {statusCode} is not declared for {this} (declared: {string.Join(", ", DeclaredStatusCodes)})");
            return new ValidationReport(subject, hasBody ? SchemaCoverage.NoSchema : SchemaCoverage.NoBody, [violation], notes);
        }

        var schema = ResponseSchema(response);
        if (schema is null)
        {
            return hasBody
                ? new ValidationReport(subject, SchemaCoverage.NoSchema, [], [.. notes, $"no schema: {this} declares response {declaredAs} without a schema"])
                : new ValidationReport(subject, SchemaCoverage.NoBody, [], notes);
        }

        if (!hasBody)
        {
            return new ValidationReport(subject, SchemaCoverage.Validated,
                [new SchemaViolation("$", $"expected a body ({DescribeSchema(schema.Value)}), got none")], notes);
        }

        var validator = new SchemaValidator(_spec, MessageDirection.Response, options ?? ValidationOptions.Default);
        validator.Validate(schema.Value, body!.Value, "$");
        return new ValidationReport(subject, SchemaCoverage.Validated, validator.Violations, notes);
    }

    /// <summary>Path parameter values and declared query parameters must have the declared type; required query parameters and headers must be there.</summary>
    internal List<SchemaViolation> ValidateParameters(
        IReadOnlyDictionary<string, string> pathValues,
        IReadOnlyDictionary<string, string> queryValues,
        IEnumerable<string>? headerNames)
    {
        var violations = new List<SchemaViolation>();
        var headers = headerNames is null ? null : new HashSet<string>(headerNames, StringComparer.OrdinalIgnoreCase);
        foreach (var parameter in _parameters)
        {
            var name = parameter.GetProperty("name").GetString() ?? string.Empty;
            var location = parameter.GetProperty("in").GetString();
            var required = parameter.TryGetProperty("required", out var flag) && flag.ValueKind == JsonValueKind.True;
            var schema = _spec.Format == SpecFormat.OpenApi3 && parameter.TryGetProperty("schema", out var inner) ? inner : parameter;
            switch (location)
            {
                case "path" when pathValues.TryGetValue(name, out var value):
                    AddIfInvalid(violations, $"path.{name}", value, schema);
                    break;
                case "query" when queryValues.TryGetValue(name, out var value):
                    AddIfInvalid(violations, $"query.{name}", value, schema);
                    break;
                case "query" when required:
                    violations.Add(new SchemaViolation($"query.{name}", "required query parameter is missing"));
                    break;
                case "header" when required && headers is not null && !headers.Contains(name):
                    violations.Add(new SchemaViolation($"header.{name}", "required header is missing"));
                    break;
            }
        }

        return violations;
    }

    private static void AddIfInvalid(List<SchemaViolation> violations, string path, string value, JsonElement schema)
    {
        var type = schema.TryGetProperty("type", out var typeElement) ? typeElement.GetString() : null;
        var format = schema.TryGetProperty("format", out var formatElement) ? formatElement.GetString() : null;
        var problem = type switch
        {
            "integer" when !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) =>
                $"expected integer, got '{value}'",
            "integer" when format == "int32" && !int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) =>
                $"expected int32, got {value} (out of range)",
            "number" when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) =>
                $"expected number, got '{value}'",
            "boolean" when !bool.TryParse(value, out _) =>
                $"expected boolean, got '{value}'",
            _ => null,
        };
        if (problem is not null)
        {
            violations.Add(new SchemaViolation(path, problem));
        }
    }

    private (JsonElement? Schema, bool Required) RequestBodySchema()
    {
        if (_spec.Format == SpecFormat.Swagger2)
        {
            var bodyParameter = _parameters.FirstOrDefault(p => p.GetProperty("in").GetString() == "body");
            return bodyParameter.ValueKind == JsonValueKind.Object && bodyParameter.TryGetProperty("schema", out var schema)
                ? (schema, bodyParameter.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.True)
                : (null, false);
        }

        if (!_operation.TryGetProperty("requestBody", out var requestBody) || !TryDereference(ref requestBody))
        {
            return (null, false);
        }

        var isRequired = requestBody.TryGetProperty("required", out var flag) && flag.ValueKind == JsonValueKind.True;
        return (JsonContentSchema(requestBody), isRequired);
    }

    private bool TryFindResponse(int statusCode, out string declaredAs, out JsonElement response, out List<string> notes)
    {
        notes = [];
        declaredAs = string.Empty;
        response = default;
        if (!_operation.TryGetProperty("responses", out var responses))
        {
            return false;
        }

        var code = statusCode.ToString(CultureInfo.InvariantCulture);
        var range = $"{statusCode / 100}XX";
        foreach (var candidate in responses.EnumerateObject())
        {
            if (candidate.Name == code || string.Equals(candidate.Name, range, StringComparison.OrdinalIgnoreCase))
            {
                declaredAs = candidate.Name;
                response = candidate.Value;
                return TryDereference(ref response);
            }
        }

        if (_spec.Options.PostSuccessCodesGuessed && Method == "POST" && statusCode is >= 200 and < 300)
        {
            var declaredSuccess = responses.EnumerateObject().Where(r => r.Name.StartsWith('2')).ToList();
            if (declaredSuccess.Count == 1)
            {
                declaredAs = declaredSuccess[0].Name;
                response = declaredSuccess[0].Value;
                notes.Add($"status {statusCode} checked against the declared {declaredAs}: {_spec.FileName} guessed the success code of every POST");
                return TryDereference(ref response);
            }
        }

        if (responses.TryGetProperty("default", out response))
        {
            declaredAs = "default";
            return TryDereference(ref response);
        }

        return false;
    }

    private JsonElement? ResponseSchema(JsonElement response) =>
        _spec.Format == SpecFormat.Swagger2
            ? response.TryGetProperty("schema", out var schema) ? schema : null
            : JsonContentSchema(response);

    /// <summary>The schema of the JSON media type (ConnectWise uses <c>application/vnd.connectwise.com+json; version=…</c>).</summary>
    private static JsonElement? JsonContentSchema(JsonElement requestBodyOrResponse)
    {
        if (!requestBodyOrResponse.TryGetProperty("content", out var content))
        {
            return null;
        }

        var mediaTypes = content.EnumerateObject().ToList();
        if (mediaTypes.Count == 0)
        {
            return null;
        }

        var jsonIndex = mediaTypes.FindIndex(m => m.Name.Contains("json", StringComparison.OrdinalIgnoreCase));
        var chosen = mediaTypes[Math.Max(jsonIndex, 0)].Value;
        return chosen.TryGetProperty("schema", out var schema) ? schema : null;
    }

    private bool TryDereference(ref JsonElement element)
    {
        return !element.TryGetProperty("$ref", out var reference) || _spec.TryResolveReference(reference.GetString() ?? string.Empty, out element);
    }

    private static string DescribeSchema(JsonElement schema)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            var target = reference.GetString() ?? string.Empty;
            return target[(target.LastIndexOf('/') + 1)..];
        }

        if (schema.TryGetProperty("items", out var items))
        {
            return $"array of {DescribeSchema(items)}";
        }

        return schema.TryGetProperty("type", out var type) ? type.GetString() ?? "schema" : "schema";
    }

    // Operation-level parameters override path-level ones with the same name and location.
    private List<JsonElement> MergeParameters(JsonElement pathItem, JsonElement operation)
    {
        var merged = new Dictionary<(string?, string?), JsonElement>();
        foreach (var source in new[] { pathItem, operation })
        {
            if (!source.TryGetProperty("parameters", out var parameters))
            {
                continue;
            }

            foreach (var parameter in parameters.EnumerateArray())
            {
                var resolved = parameter;
                if (TryDereference(ref resolved) && resolved.TryGetProperty("name", out var name) && resolved.TryGetProperty("in", out var location))
                {
                    merged[(name.GetString(), location.GetString())] = resolved;
                }
            }
        }

        return [.. merged.Values];
    }
}
