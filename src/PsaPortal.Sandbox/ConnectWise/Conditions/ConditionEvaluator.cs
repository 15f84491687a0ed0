using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.ConnectWise.Conditions;

/// <summary>
/// Evaluates parsed conditions against a record with SQL-like semantics, as the vendor's database
/// does: string comparisons ignore case, an empty field matches only <c>= null</c>, and a path
/// through a collection matches when any element does.
/// </summary>
internal static class ConditionEvaluator
{
    public static bool Matches(ConditionNode node, JsonObject record) => Evaluate(node, record, null, null);

    /// <summary>
    /// childConditions: every comparison on the same collection must hold for one and the same
    /// element (<c>communicationItems/value like "a*" and communicationItems/communicationType = "Email"</c>).
    /// </summary>
    public static bool MatchesChild(ConditionNode node, JsonObject record)
    {
        var collections = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        CollectCollections(node, collections);
        if (collections.Count == 0)
        {
            return Matches(node, record);
        }

        var collection = collections.First();
        if (JsonRecords.Get(record, collection) is not JsonArray elements)
        {
            return false;
        }

        foreach (var element in elements)
        {
            if (Evaluate(node, record, collection, element))
            {
                return true;
            }
        }

        return false;
    }

    private static void CollectCollections(ConditionNode node, HashSet<string> collections)
    {
        switch (node)
        {
            case AndNode and:
                CollectCollections(and.Left, collections);
                CollectCollections(and.Right, collections);
                break;
            case OrNode or:
                CollectCollections(or.Left, collections);
                CollectCollections(or.Right, collections);
                break;
            case NotNode not:
                CollectCollections(not.Inner, collections);
                break;
            case ComparisonNode comparison when comparison.Segments.Length > 1:
                collections.Add(comparison.Segments[0]);
                break;
        }
    }

    private static bool Evaluate(ConditionNode node, JsonObject record, string? boundCollection, JsonNode? boundElement) => node switch
    {
        AndNode and => Evaluate(and.Left, record, boundCollection, boundElement) && Evaluate(and.Right, record, boundCollection, boundElement),
        OrNode or => Evaluate(or.Left, record, boundCollection, boundElement) || Evaluate(or.Right, record, boundCollection, boundElement),
        NotNode not => !Evaluate(not.Inner, record, boundCollection, boundElement),
        ComparisonNode comparison => EvaluateComparison(comparison, record, boundCollection, boundElement),
        _ => false,
    };

    private static bool EvaluateComparison(ComparisonNode comparison, JsonObject record, string? boundCollection, JsonNode? boundElement)
    {
        var values = new List<JsonNode?>(2);
        if (boundCollection is not null && comparison.Segments.Length > 1
            && string.Equals(comparison.Segments[0], boundCollection, StringComparison.OrdinalIgnoreCase))
        {
            JsonRecords.Resolve(boundElement, comparison.Segments, 1, values);
        }
        else
        {
            JsonRecords.Resolve(record, comparison.Segments, 0, values);
        }

        var literal = comparison.Values[0];
        if (literal.Kind == LiteralKind.Null && comparison.Operator is ComparisonOperator.Equal or ComparisonOperator.NotEqual)
        {
            var anyEmpty = values.Count == 0 || values.Any(IsNull);
            return comparison.Operator == ComparisonOperator.Equal ? anyEmpty : values.Any(v => !IsNull(v));
        }

        foreach (var value in values)
        {
            if (IsNull(value))
            {
                continue;
            }

            var matched = comparison.Operator == ComparisonOperator.In
                ? comparison.Values.Any(candidate => Compare(value!, ComparisonOperator.Equal, candidate))
                : Compare(value!, comparison.Operator, literal);
            if (matched != comparison.Negated)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsNull(JsonNode? node) => node is null || node.GetValueKind() == JsonValueKind.Null;

    private static bool Compare(JsonNode value, ComparisonOperator op, Literal literal)
    {
        switch (literal.Kind)
        {
            case LiteralKind.Null:
                return false;
            case LiteralKind.Boolean:
                var flag = JsonRecords.GetBoolean(value)
                    ?? (bool.TryParse(JsonRecords.GetString(value), out var parsedFlag) ? parsedFlag : null);
                return flag is { } actual && op switch
                {
                    ComparisonOperator.Equal => actual == literal.Boolean,
                    ComparisonOperator.NotEqual => actual != literal.Boolean,
                    _ => false,
                };
            case LiteralKind.Date:
                var text = JsonRecords.GetString(value);
                return text is not null
                    && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
                    && Order(date.CompareTo(literal.Date), op);
            case LiteralKind.Number when op is not (ComparisonOperator.Contains or ComparisonOperator.Like):
                return JsonRecords.TryGetDecimal(value, out var number) && Order(number.CompareTo(literal.Number), op);
            default:
                return CompareText(TextOf(value), op, literal.Text ?? string.Empty);
        }
    }

    private static string TextOf(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.String => value.GetValue<string>(),
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        _ => value.ToJsonString(),
    };

    private static bool CompareText(string actual, ComparisonOperator op, string expected) => op switch
    {
        ComparisonOperator.Contains => actual.Contains(expected, StringComparison.OrdinalIgnoreCase),
        ComparisonOperator.Like => Like(actual, expected),
        _ => Order(string.Compare(actual, expected, StringComparison.OrdinalIgnoreCase), op),
    };

    private static bool Order(int comparison, ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => comparison == 0,
        ComparisonOperator.NotEqual => comparison != 0,
        ComparisonOperator.Less => comparison < 0,
        ComparisonOperator.LessOrEqual => comparison <= 0,
        ComparisonOperator.Greater => comparison > 0,
        ComparisonOperator.GreaterOrEqual => comparison >= 0,
        _ => false,
    };

    /// <summary><c>like</c> patterns: <c>*</c> or <c>%</c> match any run of characters; no wildcard means equality.</summary>
    internal static bool Like(string actual, string pattern)
    {
        var parts = pattern.Split('*', '%');
        if (parts.Length == 1)
        {
            return string.Equals(actual, pattern, StringComparison.OrdinalIgnoreCase);
        }

        if (!actual.StartsWith(parts[0], StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var position = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = actual.IndexOf(parts[i], position, StringComparison.OrdinalIgnoreCase);
            if (found < 0)
            {
                return false;
            }

            position = found + parts[i].Length;
        }

        var last = parts[^1];
        return actual.Length - position >= last.Length && actual.EndsWith(last, StringComparison.OrdinalIgnoreCase);
    }
}
