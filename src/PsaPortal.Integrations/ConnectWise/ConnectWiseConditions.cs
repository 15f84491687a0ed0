using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PsaPortal.Integrations.ConnectWise;

/// <summary>
/// A ConnectWise <c>conditions</c> expression built from typed parts. Field paths are checked against
/// the grammar and every value is rendered as a literal of its type (strings quoted with embedded
/// quotes escaped), so a value such as <c>Smith &amp; "Sons" (AU)</c> can never change what the query means.
/// Combine with <see cref="And"/>, <see cref="Or"/> and <see cref="Not"/>; each side is parenthesised.
/// </summary>
public sealed partial class ConnectWiseCondition
{
    private ConnectWiseCondition(string text) => Text = text;

    /// <summary>The expression as sent in the <c>conditions</c> query parameter (before URL encoding).</summary>
    public string Text { get; }

    /// <summary>Starts a condition on a field path such as <c>company/identifier</c>.</summary>
    public static ConnectWiseField Field(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!FieldPath().IsMatch(path))
        {
            throw new ArgumentException($"'{path}' is not a ConnectWise field path (letters, digits and '_' separated by '/').", nameof(path));
        }

        return new ConnectWiseField(path);
    }

    public ConnectWiseCondition And(ConnectWiseCondition other) => new($"({Text}) and ({other.Text})");

    public ConnectWiseCondition Or(ConnectWiseCondition other) => new($"({Text}) or ({other.Text})");

    public static ConnectWiseCondition Not(ConnectWiseCondition condition) => new($"not ({condition.Text})");

    /// <summary>All of the given conditions; null when there are none.</summary>
    public static ConnectWiseCondition? All(IEnumerable<ConnectWiseCondition?> conditions) =>
        conditions.OfType<ConnectWiseCondition>().Aggregate((ConnectWiseCondition?)null, (all, next) => all is null ? next : all.And(next));

    public override string ToString() => Text;

    internal static ConnectWiseCondition Comparison(string path, string op, string literal) => new($"{path} {op} {literal}");

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex FieldPath();
}

/// <summary>A field of a condition; each method renders one comparison with a correctly typed literal.</summary>
public readonly record struct ConnectWiseField(string Path)
{
    public ConnectWiseCondition EqualTo(string value) => Compare("=", ConnectWiseLiteral.String(value));

    public ConnectWiseCondition EqualTo(long value) => Compare("=", ConnectWiseLiteral.Number(value));

    public ConnectWiseCondition EqualTo(decimal value) => Compare("=", ConnectWiseLiteral.Number(value));

    public ConnectWiseCondition EqualTo(bool value) => Compare("=", value ? "true" : "false");

    public ConnectWiseCondition EqualTo(DateTimeOffset value) => Compare("=", ConnectWiseLiteral.Date(value));

    public ConnectWiseCondition NotEqualTo(string value) => Compare("!=", ConnectWiseLiteral.String(value));

    public ConnectWiseCondition NotEqualTo(long value) => Compare("!=", ConnectWiseLiteral.Number(value));

    public ConnectWiseCondition GreaterThan(long value) => Compare(">", ConnectWiseLiteral.Number(value));

    public ConnectWiseCondition GreaterThan(DateTimeOffset value) => Compare(">", ConnectWiseLiteral.Date(value));

    public ConnectWiseCondition LessThan(long value) => Compare("<", ConnectWiseLiteral.Number(value));

    public ConnectWiseCondition LessThan(DateTimeOffset value) => Compare("<", ConnectWiseLiteral.Date(value));

    public ConnectWiseCondition AtLeast(DateTimeOffset value) => Compare(">=", ConnectWiseLiteral.Date(value));

    public ConnectWiseCondition AtMost(DateTimeOffset value) => Compare("<=", ConnectWiseLiteral.Date(value));

    /// <summary>Substring match; the value is taken literally.</summary>
    public ConnectWiseCondition Contains(string value) => Compare("contains", ConnectWiseLiteral.String(value));

    /// <summary>ConnectWise <c>like</c>: <c>*</c> in <paramref name="pattern"/> is the vendor's wildcard.</summary>
    public ConnectWiseCondition Like(string pattern) => Compare("like", ConnectWiseLiteral.String(pattern));

    public ConnectWiseCondition IsNull() => Compare("=", "null");

    public ConnectWiseCondition IsNotNull() => Compare("!=", "null");

    public ConnectWiseCondition In(IEnumerable<long> values) => Compare("in", ConnectWiseLiteral.List(values.Select(ConnectWiseLiteral.Number)));

    public ConnectWiseCondition In(IEnumerable<string> values) => Compare("in", ConnectWiseLiteral.List(values.Select(ConnectWiseLiteral.String)));

    private ConnectWiseCondition Compare(string op, string literal) => ConnectWiseCondition.Comparison(Path, op, literal);
}

/// <summary>Literals of the conditions grammar.</summary>
internal static class ConnectWiseLiteral
{
    public static string String(string value)
    {
        ArgumentNullException.ThrowIfNull(value);

        // The grammar escapes a quote with a backslash and has no escape for a backslash itself, so a
        // value ending in one would swallow the closing quote. Refuse it rather than send a query that means something else.
        if (value.EndsWith('\\'))
        {
            throw new ArgumentException("A ConnectWise condition value cannot end with a backslash.", nameof(value));
        }

        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            if (c == '"')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.Append('"').ToString();
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Number(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Date(DateTimeOffset value) => "[" + value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) + "]";

    public static string List(IEnumerable<string> literals)
    {
        var items = literals.ToList();
        if (items.Count == 0)
        {
            throw new ArgumentException("An 'in' condition needs at least one value.", nameof(literals));
        }

        return "(" + string.Join(", ", items) + ")";
    }
}
