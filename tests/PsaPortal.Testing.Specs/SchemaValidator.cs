using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PsaPortal.Testing.Specs;

internal enum MessageDirection
{
    Request,
    Response,
}

/// <summary>
/// Validates a JSON value against the subset of JSON Schema the two vendor files use: <c>$ref</c>, <c>type</c>,
/// <c>properties</c>, <c>required</c>, <c>items</c>, <c>enum</c>, <c>format</c>, <c>maxLength</c>,
/// <c>nullable</c>, <c>additionalProperties</c>, <c>readOnly</c>. Any other validation keyword is reported
/// instead of being ignored, so a schema is never half-checked in silence.
/// </summary>
internal sealed partial class SchemaValidator(VendorSpec spec, MessageDirection direction, ValidationOptions options)
{
    // Guards against a $ref cycle that consumes no data (A -> B -> A); real chains are a few hops long.
    private const int MaxReferenceHops = 32;
    private const int MaxEnumValuesInMessage = 12;

    private static readonly string[] UnsupportedKeywords =
    [
        "allOf", "anyOf", "oneOf", "not", "pattern", "minLength", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
        "patternProperties", "discriminator", "const", "dependencies",
    ];

    private readonly List<SchemaViolation> _violations = [];

    public List<SchemaViolation> Violations => _violations;

    public void Validate(JsonElement schema, JsonElement value, string path) =>
        ValidateValue(schema, value, path, nullAllowedByContext: false, schemaName: null);

    private void ValidateValue(JsonElement schema, JsonElement value, string path, bool nullAllowedByContext, string? schemaName)
    {
        if (!TryFollowReferences(ref schema, ref schemaName, path))
        {
            return;
        }

        foreach (var keyword in UnsupportedKeywords)
        {
            if (schema.TryGetProperty(keyword, out _))
            {
                Add(path, $"schema{NameSuffix(schemaName)} uses '{keyword}', which this validator does not implement");
            }
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            if (!nullAllowedByContext && !IsTrue(schema, "nullable"))
            {
                Add(path, $"expected {DeclaredType(schema) ?? "a value"}, got null");
            }

            return;
        }

        if (IsPlaceholderForAnyValue(schema))
        {
            return;
        }

        var type = DeclaredType(schema);
        if (type is not null && !MatchesType(type, value))
        {
            Add(path, $"expected {type}, got {DescribeKind(value)}");
            return;
        }

        if (schema.TryGetProperty("enum", out var allowed) && !IsOneOf(value, allowed))
        {
            Add(path, $"expected one of {DescribeEnum(allowed)}, got {value.GetRawText()}");
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                ValidateString(schema, value.GetString()!, path);
                break;
            case JsonValueKind.Number:
                ValidateNumberFormat(schema, value, path);
                break;
            case JsonValueKind.Object:
                ValidateObject(schema, value, path, schemaName);
                break;
            case JsonValueKind.Array:
                ValidateArray(schema, value, path);
                break;
        }
    }

    private bool TryFollowReferences(ref JsonElement schema, ref string? schemaName, string path)
    {
        for (var hops = 0; schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out var reference); hops++)
        {
            var target = reference.GetString() ?? string.Empty;
            if (hops == MaxReferenceHops)
            {
                Add(path, $"$ref chain through '{target}' is longer than {MaxReferenceHops} hops (circular?)");
                return false;
            }

            if (!spec.TryResolveReference(target, out schema))
            {
                Add(path, $"schema reference '{target}' does not resolve in {spec.FileName}");
                return false;
            }

            schemaName = target[(target.LastIndexOf('/') + 1)..];
        }

        if (schema.ValueKind == JsonValueKind.Object)
        {
            return true;
        }

        // JSON Schema allows boolean schemas; neither file uses them for bodies, but honour them.
        if (schema.ValueKind == JsonValueKind.False)
        {
            Add(path, "schema allows no value here");
        }

        return false;
    }

    private void ValidateString(JsonElement schema, string text, string path)
    {
        if (schema.TryGetProperty("maxLength", out var maxLengthElement) && maxLengthElement.TryGetInt32(out var maxLength))
        {
            // JSON Schema counts code points, not UTF-16 units.
            var length = text.EnumerateRunes().Count();
            if (length > maxLength)
            {
                Add(path, $"length {length} exceeds maxLength {maxLength}");
            }
        }

        switch (Format(schema))
        {
            case "date-time" when !IsDateTime(text):
                Add(path, $"expected date-time (ISO 8601, e.g. 2025-01-31T00:00:00Z), got \"{Shorten(text)}\"");
                break;
            case "byte" when !IsBase64(text):
                Add(path, "expected base64 (format byte), got text that is not base64");
                break;
        }
    }

    private void ValidateNumberFormat(JsonElement schema, JsonElement value, string path)
    {
        switch (Format(schema))
        {
            case "int32" when !value.TryGetInt32(out _):
                Add(path, $"expected int32, got {value.GetRawText()} (out of range)");
                break;
            case "int64" when !value.TryGetInt64(out _):
                Add(path, $"expected int64, got {value.GetRawText()} (out of range)");
                break;
        }
    }

    private void ValidateObject(JsonElement schema, JsonElement value, string path, string? schemaName)
    {
        var hasProperties = schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object;

        if (!options.IgnoreRequired && schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray())
            {
                var propertyName = name.GetString();
                if (propertyName is not null && !value.TryGetProperty(propertyName, out _))
                {
                    Add(ChildPath(path, propertyName), "required property is missing");
                }
            }
        }

        var hasAdditional = schema.TryGetProperty("additionalProperties", out var additional);
        foreach (var property in value.EnumerateObject())
        {
            var childPath = ChildPath(path, property.Name);
            if (hasProperties && properties.TryGetProperty(property.Name, out var propertySchema))
            {
                if (direction == MessageDirection.Request && IsReadOnly(propertySchema))
                {
                    Add(childPath, "read-only property must not be sent in a request");
                }

                ValidateValue(propertySchema, property.Value, childPath, spec.Options.NullAllowedForEveryProperty, null);
            }
            else if (hasAdditional)
            {
                if (additional.ValueKind == JsonValueKind.False)
                {
                    Add(childPath, $"property is not allowed by {schemaName ?? "the schema"} (additionalProperties: false)");
                }
                else if (additional.ValueKind == JsonValueKind.Object)
                {
                    ValidateValue(additional, property.Value, childPath, nullAllowedByContext: false, null);
                }
            }
            else if (!options.AllowUnknownProperties)
            {
                Add(childPath, $"property is not declared in {schemaName ?? "the schema"}{SuggestSpelling(properties, hasProperties, property.Name)}");
            }
        }
    }

    private void ValidateArray(JsonElement schema, JsonElement value, string path)
    {
        if (!schema.TryGetProperty("items", out var items))
        {
            return;
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            ValidateValue(items, item, $"{path}[{index}]", nullAllowedByContext: false, null);
            index++;
        }
    }

    private bool IsReadOnly(JsonElement propertySchema)
    {
        // Swagger 2.0 puts readOnly beside a $ref (Autotask soapParentPropertyId), so check before each hop.
        for (var hops = 0; hops < MaxReferenceHops && propertySchema.ValueKind == JsonValueKind.Object; hops++)
        {
            if (IsTrue(propertySchema, "readOnly"))
            {
                return true;
            }

            if (!propertySchema.TryGetProperty("$ref", out var reference)
                || !spec.TryResolveReference(reference.GetString() ?? string.Empty, out propertySchema))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>
    /// An object schema that declares nothing is how both generators render .NET <c>object</c>: Autotask
    /// <c>Object</c> (the <c>itemId</c> of a create result) and <c>Filter.value</c>, ConnectWise
    /// <c>PatchOperation.value</c> and <c>CustomFieldValue.value</c>. The vendors put scalars there, so it means "any value".
    /// </summary>
    private static bool IsPlaceholderForAnyValue(JsonElement schema)
    {
        var type = schema.TryGetProperty("type", out var typeElement) ? typeElement.GetString() : null;
        if (type is not null and not "object")
        {
            return false;
        }

        var declaresProperties = schema.TryGetProperty("properties", out var properties)
            && properties.ValueKind == JsonValueKind.Object && properties.EnumerateObject().Any();
        return !declaresProperties
            && !schema.TryGetProperty("additionalProperties", out _)
            && !schema.TryGetProperty("required", out _)
            && !schema.TryGetProperty("enum", out _);
    }

    private static string? DeclaredType(JsonElement schema)
    {
        if (schema.TryGetProperty("type", out var type))
        {
            return type.GetString();
        }

        return schema.TryGetProperty("properties", out _) ? "object" : null;
    }

    private static bool MatchesType(string type, JsonElement value) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => value.ValueKind == JsonValueKind.Number && IsIntegral(value),
        "number" => value.ValueKind == JsonValueKind.Number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "array" => value.ValueKind == JsonValueKind.Array,
        "object" => value.ValueKind == JsonValueKind.Object,
        _ => false,
    };

    // Draft 4 (which both OpenAPI 3.0 and Swagger 2.0 build on) does not count 1.0 as an integer.
    private static bool IsIntegral(JsonElement number) => number.GetRawText().AsSpan().IndexOfAny(".eE") < 0;

    private static string DescribeKind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => IsIntegral(value) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => value.ValueKind.ToString(),
    };

    private static bool IsOneOf(JsonElement value, JsonElement allowed)
    {
        foreach (var candidate in allowed.EnumerateArray())
        {
            if (candidate.ValueKind == value.ValueKind && (value.ValueKind == JsonValueKind.String
                    ? candidate.GetString() == value.GetString()
                    : candidate.GetRawText() == value.GetRawText()))
            {
                return true;
            }
        }

        return false;
    }

    private static string DescribeEnum(JsonElement allowed)
    {
        var values = allowed.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()).ToList();
        var shown = string.Join(", ", values.Take(MaxEnumValuesInMessage));
        return values.Count > MaxEnumValuesInMessage ? $"[{shown}, … {values.Count - MaxEnumValuesInMessage} more]" : $"[{shown}]";
    }

    private static string? Format(JsonElement schema) =>
        schema.TryGetProperty("format", out var format) ? format.GetString() : null;

    private static bool IsTrue(JsonElement schema, string keyword) =>
        schema.TryGetProperty(keyword, out var flag) && flag.ValueKind == JsonValueKind.True;

    // The offset is optional, unlike RFC 3339: System.Text.Json writes a DateTime of unspecified kind without one.
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?$", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimePattern();

    private static bool IsDateTime(string text) =>
        DateTimePattern().IsMatch(text)
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);

    private static bool IsBase64(string text) => Convert.TryFromBase64String(text, new byte[text.Length], out _);

    private static string SuggestSpelling(JsonElement properties, bool hasProperties, string name)
    {
        if (!hasProperties)
        {
            return string.Empty;
        }

        var declared = properties.EnumerateObject()
            .Select(p => p.Name)
            .FirstOrDefault(declaredName => string.Equals(declaredName, name, StringComparison.OrdinalIgnoreCase));
        return declared is null ? string.Empty : $" (did you mean '{declared}'?)";
    }

    private static string NameSuffix(string? schemaName) => schemaName is null ? string.Empty : $" {schemaName}";

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    internal static string ChildPath(string parent, string propertyName) =>
        IdentifierPattern().IsMatch(propertyName)
            ? $"{parent}.{propertyName}"
            : $"{parent}['{propertyName.Replace("'", "\\'", StringComparison.Ordinal)}']";

    [GeneratedRegex("^[A-Za-z_$][A-Za-z0-9_$]*$", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierPattern();

    private void Add(string path, string message) => _violations.Add(new SchemaViolation(path, message));
}
