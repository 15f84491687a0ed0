using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PsaPortal.Integrations.Autotask.Models;

namespace PsaPortal.Integrations.Autotask;

/// <summary>
/// A typed Autotask query filter: every operator the vendor knows, with <see cref="And"/>/<see cref="Or"/>
/// groups nested to any depth. Values travel as JSON values, never as text to be parsed, so no value
/// can change a filter's meaning. An <c>in</c> with more values than Autotask accepts is split by the
/// client into several queries whose results are concatenated.
/// </summary>
public sealed partial class AutotaskFilter
{
    private AutotaskFilter(string op, string? field, bool udf, Func<JsonNode?>? value, IReadOnlyList<AutotaskFilter> items, IReadOnlyList<JsonNode?>? values = null)
    {
        Op = op;
        Field = field;
        Udf = udf;
        _value = value;
        Items = items;
        Values = values;
    }

    private readonly Func<JsonNode?>? _value;

    internal string Op { get; }

    internal string? Field { get; }

    internal bool Udf { get; }

    internal IReadOnlyList<AutotaskFilter> Items { get; }

    /// <summary>The list of an <c>in</c>/<c>notIn</c> comparison.</summary>
    internal IReadOnlyList<JsonNode?>? Values { get; }

    /// <summary>Starts a comparison on a field; <paramref name="userDefined"/> marks a UDF (one per query).</summary>
    public static AutotaskFilterField Where(string field, bool userDefined = false)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (!FieldName().IsMatch(field))
        {
            throw new ArgumentException($"'{field}' is not an Autotask field name.", nameof(field));
        }

        return new AutotaskFilterField(field, userDefined);
    }

    public static AutotaskFilter And(params AutotaskFilter[] items) => Group("and", items);

    public static AutotaskFilter Or(params AutotaskFilter[] items) => Group("or", items);

    internal static AutotaskFilter Comparison(string op, string field, bool udf, Func<JsonNode?>? value) => new(op, field, udf, value, []);

    internal static AutotaskFilter List(string op, string field, bool udf, IReadOnlyList<JsonNode?> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException($"An '{op}' filter needs at least one value.", nameof(values));
        }

        return new AutotaskFilter(op, field, udf, null, [], values);
    }

    /// <summary>The same list comparison on a subset of its values.</summary>
    internal AutotaskFilter WithValues(IReadOnlyList<JsonNode?> values) => new(Op, Field, Udf, null, [], values);

    internal AtFilter ToModel() => new()
    {
        Op = Op,
        Field = Field,
        Udf = Udf ? true : null,
        Value = Values is not null ? new JsonArray([.. Values.Select(v => v?.DeepClone())]) : _value?.Invoke(),
        Items = Items.Count > 0 ? [.. Items.Select(i => i.ToModel())] : null,
    };

    private static AutotaskFilter Group(string op, AutotaskFilter[] items)
    {
        if (items.Length == 0)
        {
            throw new ArgumentException($"An '{op}' group needs at least one filter.", nameof(items));
        }

        return new AutotaskFilter(op, null, false, null, items);
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex FieldName();
}

/// <summary>A field of an Autotask filter; each method makes one comparison with a typed value.</summary>
public readonly record struct AutotaskFilterField(string Name, bool UserDefined)
{
    public AutotaskFilter Equal(string value) => Compare("eq", value);

    public AutotaskFilter Equal(long value) => Compare("eq", value);

    public AutotaskFilter Equal(bool value) => Compare("eq", value);

    public AutotaskFilter NotEqual(string value) => Compare("noteq", value);

    public AutotaskFilter NotEqual(long value) => Compare("noteq", value);

    public AutotaskFilter GreaterThan(long value) => Compare("gt", value);

    public AutotaskFilter GreaterThan(DateTime value) => Compare("gt", AutotaskDates.Format(value));

    public AutotaskFilter AtLeast(long value) => Compare("gte", value);

    public AutotaskFilter AtLeast(DateTime value) => Compare("gte", AutotaskDates.Format(value));

    public AutotaskFilter LessThan(long value) => Compare("lt", value);

    public AutotaskFilter LessThan(DateTime value) => Compare("lt", AutotaskDates.Format(value));

    public AutotaskFilter AtMost(long value) => Compare("lte", value);

    public AutotaskFilter AtMost(DateTime value) => Compare("lte", AutotaskDates.Format(value));

    public AutotaskFilter BeginsWith(string value) => Compare("beginsWith", value);

    public AutotaskFilter EndsWith(string value) => Compare("endsWith", value);

    public AutotaskFilter Contains(string value) => Compare("contains", value);

    public AutotaskFilter Exists() => AutotaskFilter.Comparison("exist", Name, UserDefined, null);

    public AutotaskFilter NotExists() => AutotaskFilter.Comparison("notExist", Name, UserDefined, null);

    public AutotaskFilter In(IEnumerable<long> values) => AutotaskFilter.List("in", Name, UserDefined, [.. values.Distinct().Select(v => (JsonNode?)JsonValue.Create(v))]);

    public AutotaskFilter In(IEnumerable<string> values) => AutotaskFilter.List("in", Name, UserDefined, [.. values.Distinct().Select(v => (JsonNode?)JsonValue.Create(v))]);

    public AutotaskFilter NotIn(IEnumerable<long> values) => AutotaskFilter.List("notIn", Name, UserDefined, [.. values.Distinct().Select(v => (JsonNode?)JsonValue.Create(v))]);

    private AutotaskFilter Compare(string op, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return AutotaskFilter.Comparison(op, Name, UserDefined, () => JsonValue.Create(value));
    }

    private AutotaskFilter Compare(string op, long value) => AutotaskFilter.Comparison(op, Name, UserDefined, () => JsonValue.Create(value));

    private AutotaskFilter Compare(string op, bool value) => AutotaskFilter.Comparison(op, Name, UserDefined, () => JsonValue.Create(value));
}

/// <summary>Autotask's date format: UTC, no offset, milliseconds optional.</summary>
internal static class AutotaskDates
{
    public static string Format(DateTime value) =>
        (value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value).ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture);
}
