using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.Autotask;

/// <summary>A query the vendor refuses; answered with 500 and <c>{"errors":[message]}</c>.</summary>
public sealed class AutotaskQueryException(string message) : Exception(message);

/// <summary>One node of an Autotask filter: a comparison on a field, or an <c>and</c>/<c>or</c> group of items.</summary>
internal sealed record AutotaskFilter(string Op, string? Field, bool Udf, JsonNode? Value, IReadOnlyList<AutotaskFilter> Items)
{
    private static readonly HashSet<string> Comparisons = new(StringComparer.Ordinal)
    {
        "eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains", "exist", "notExist", "in", "notIn",
    };

    /// <summary>Parses the top-level filter array (its entries are ANDed). Operator names are case-sensitive; field names are not.</summary>
    public static AutotaskFilter ParseAll(JsonNode? filter, string entity, Func<string, bool> isKnownField)
    {
        if (filter is null)
        {
            return new AutotaskFilter("and", null, false, null, []);
        }

        if (filter is not JsonArray array)
        {
            throw new AutotaskQueryException("Invalid query: filter must be an array.");
        }

        var udfCount = 0;
        var items = array.Select(item => Parse(item, entity, isKnownField, ref udfCount)).ToList();
        return new AutotaskFilter("and", null, false, null, items);
    }

    private static AutotaskFilter Parse(JsonNode? node, string entity, Func<string, bool> isKnownField, ref int udfCount)
    {
        if (node is not JsonObject obj)
        {
            throw new AutotaskQueryException("Invalid query: each filter must be an object.");
        }

        var op = JsonRecords.GetString(JsonRecords.Get(obj, "op"));
        if (op is "and" or "or")
        {
            if (JsonRecords.Get(obj, "items") is not JsonArray children || children.Count == 0)
            {
                throw new AutotaskQueryException($"Invalid query: '{op}' needs a non-empty items array.");
            }

            var items = new List<AutotaskFilter>();
            foreach (var child in children)
            {
                items.Add(Parse(child, entity, isKnownField, ref udfCount));
            }

            return new AutotaskFilter(op, null, false, null, items);
        }

        if (op is null || !Comparisons.Contains(op))
        {
            throw new AutotaskQueryException($"Invalid query: '{op}' is not a valid filter operation.");
        }

        var field = JsonRecords.GetString(JsonRecords.Get(obj, "field"));
        if (string.IsNullOrEmpty(field))
        {
            throw new AutotaskQueryException($"Invalid query: the '{op}' filter needs a field.");
        }

        var udf = JsonRecords.GetBoolean(JsonRecords.Get(obj, "udf")) == true;
        if (udf && ++udfCount > 1)
        {
            throw new AutotaskQueryException("Invalid query: only one user-defined field may be used in a query.");
        }

        if (!udf && !isKnownField(field))
        {
            throw new AutotaskQueryException($"Unable to find {field} in the {entity} Entity.");
        }

        var value = JsonRecords.Get(obj, "value");
        var needsValue = op is not ("exist" or "notExist");
        if (needsValue && (value is null || value.GetValueKind() == JsonValueKind.Null))
        {
            throw new AutotaskQueryException($"Invalid query: the '{op}' filter on {field} needs a value.");
        }

        if (op is "in" or "notIn")
        {
            if (value is not JsonArray values || values.Count == 0)
            {
                throw new AutotaskQueryException($"Invalid query: the '{op}' filter on {field} needs an array of values.");
            }

            if (values.Count > 500)
            {
                throw new AutotaskQueryException("Invalid query syntax. Queries are limited to 500 or fewer 'OR' conditions.");
            }
        }

        return new AutotaskFilter(op, field, udf, value, []);
    }

    public bool Matches(JsonObject record)
    {
        switch (Op)
        {
            case "and":
                return Items.All(item => item.Matches(record));
            case "or":
                return Items.Any(item => item.Matches(record));
        }

        var actual = Udf ? UdfValue(record, Field!) : JsonRecords.Get(record, Field!);
        var present = actual is not null && actual.GetValueKind() != JsonValueKind.Null
            && !(actual.GetValueKind() == JsonValueKind.String && actual.GetValue<string>().Length == 0);
        return Op switch
        {
            "exist" => present,
            "notExist" => !present,
            "noteq" => !present || Compare(actual!, Value!) != 0,
            "in" => present && (NumericMatch(actual!) ?? ((JsonArray)Value!).Any(v => v is not null && Compare(actual!, v) == 0)),
            "notIn" => !present || !(NumericMatch(actual!) ?? ((JsonArray)Value!).Any(v => v is not null && Compare(actual!, v) == 0)),
            _ when !present => false,
            "eq" => Compare(actual!, Value!) == 0,
            "gt" => Compare(actual!, Value!) > 0,
            "gte" => Compare(actual!, Value!) >= 0,
            "lt" => Compare(actual!, Value!) < 0,
            "lte" => Compare(actual!, Value!) <= 0,
            "beginsWith" => Text(actual!).StartsWith(Text(Value!), StringComparison.OrdinalIgnoreCase),
            "endsWith" => Text(actual!).EndsWith(Text(Value!), StringComparison.OrdinalIgnoreCase),
            "contains" => Text(actual!).Contains(Text(Value!), StringComparison.OrdinalIgnoreCase),
            _ => false,
        };
    }

    private HashSet<decimal>? _numericValues;

    /// <summary>
    /// For a number compared with an <c>in</c>/<c>notIn</c> list of numbers only: whether the list holds
    /// it, by a set built once per filter instead of comparing with every value (500 per row); null
    /// when the general comparison has to decide.
    /// </summary>
    private bool? NumericMatch(JsonNode actual)
    {
        if (actual.GetValueKind() != JsonValueKind.Number || Value is not JsonArray values || !JsonRecords.TryGetDecimal(actual, out var number))
        {
            return null;
        }

        var set = Volatile.Read(ref _numericValues);
        if (set is null)
        {
            set = [];
            foreach (var value in values)
            {
                if (value is null || value.GetValueKind() != JsonValueKind.Number || !JsonRecords.TryGetDecimal(value, out var listed))
                {
                    return null;
                }

                set.Add(listed);
            }

            Volatile.Write(ref _numericValues, set);
        }

        return set.Contains(number);
    }

    private static JsonNode? UdfValue(JsonObject record, string name) =>
        JsonRecords.Get(record, "userDefinedFields") is JsonArray fields
            ? fields.OfType<JsonObject>().FirstOrDefault(f => string.Equals(JsonRecords.GetString(f["name"]), name, StringComparison.OrdinalIgnoreCase))?["value"]
            : null;

    private static string Text(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.String => node.GetValue<string>(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => node.ToJsonString(),
    };

    /// <summary>Numbers compare numerically, booleans as booleans, date-like strings as dates, other text ignoring case.</summary>
    private static int Compare(JsonNode actual, JsonNode expected)
    {
        var actualKind = actual.GetValueKind();
        if (actualKind is JsonValueKind.True or JsonValueKind.False)
        {
            var expectedFlag = expected.GetValueKind() switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.String when bool.TryParse(expected.GetValue<string>(), out var parsed) => parsed,
                JsonValueKind.Number when JsonRecords.TryGetDecimal(expected, out var number) => number != 0,
                _ => throw new AutotaskQueryException($"Invalid query: '{expected.ToJsonString()}' is not a boolean value."),
            };
            return (actualKind == JsonValueKind.True).CompareTo(expectedFlag);
        }

        if (actualKind == JsonValueKind.Number)
        {
            if (!JsonRecords.TryGetDecimal(expected, out var expectedNumber))
            {
                throw new AutotaskQueryException($"Invalid query: '{expected.ToJsonString()}' is not a numeric value.");
            }

            JsonRecords.TryGetDecimal(actual, out var actualNumber);
            return actualNumber.CompareTo(expectedNumber);
        }

        var actualText = Text(actual);
        var expectedText = Text(expected);
        if (LooksLikeDate(actualText) && DateTime.TryParse(expectedText, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var expectedDate)
            && DateTime.TryParse(actualText, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var actualDate))
        {
            return actualDate.CompareTo(expectedDate);
        }

        return string.Compare(actualText, expectedText, StringComparison.OrdinalIgnoreCase);
    }

    private static bool LooksLikeDate(string text) => text.Length >= 10 && text[4] == '-' && text[7] == '-' && char.IsDigit(text[0]);
}
