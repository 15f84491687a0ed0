using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PsaPortal.Testing.Specs;

/// <summary>The specification's path templates, matched against concrete request paths.</summary>
internal sealed class RouteTable
{
    private readonly Dictionary<int, List<RouteTemplate>> _templatesBySegmentCount = [];
    private readonly bool _ignoreCase;

    public RouteTable(JsonElement paths, bool ignoreCase)
    {
        _ignoreCase = ignoreCase;
        foreach (var path in paths.EnumerateObject())
        {
            var template = new RouteTemplate(path.Name, path.Value, ignoreCase);
            if (!_templatesBySegmentCount.TryGetValue(template.SegmentCount, out var list))
            {
                list = [];
                _templatesBySegmentCount.Add(template.SegmentCount, list);
            }

            list.Add(template);
        }
    }

    public int TemplateCount => _templatesBySegmentCount.Values.Sum(list => list.Count);

    public IEnumerable<RouteTemplate> Templates => _templatesBySegmentCount.Values.SelectMany(list => list);

    /// <summary>
    /// Every template that matches, best first: literal segments beat mixed ones (<c>types{id}</c>), which beat
    /// whole-segment parameters, compared left to right; then an exact-case match beats a case-folded one.
    /// </summary>
    public IReadOnlyList<RouteMatch> Match(string apiRelativePath)
    {
        var segments = SplitSegments(apiRelativePath).Select(Uri.UnescapeDataString).ToArray();
        if (!_templatesBySegmentCount.TryGetValue(segments.Length, out var candidates))
        {
            return [];
        }

        var matches = new List<RouteMatch>();
        foreach (var template in candidates)
        {
            if (template.TryMatch(segments, out var parameters, out var exactCase))
            {
                matches.Add(new RouteMatch(template, parameters, exactCase));
            }
        }

        matches.Sort(CompareMatches);
        return matches;
    }

    /// <summary>Splits a path into segments; a trailing slash is not significant (the ConnectWise file has both spellings).</summary>
    public static string[] SplitSegments(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private int CompareMatches(RouteMatch left, RouteMatch right)
    {
        for (var i = 0; i < left.Template.Ranks.Length; i++)
        {
            var byRank = left.Template.Ranks[i].CompareTo(right.Template.Ranks[i]);
            if (byRank != 0)
            {
                return byRank;
            }
        }

        if (_ignoreCase && left.ExactCase != right.ExactCase)
        {
            return left.ExactCase ? -1 : 1;
        }

        return string.CompareOrdinal(left.Template.Template, right.Template.Template);
    }
}

internal sealed record RouteMatch(RouteTemplate Template, IReadOnlyDictionary<string, string> PathParameters, bool ExactCase);

internal sealed partial class RouteTemplate
{
    private const int LiteralRank = 0;
    private const int MixedRank = 1;
    private const int ParameterRank = 2;

    private readonly string[] _literals;
    private readonly Regex?[] _patterns;
    private readonly string[][] _parameterNames;
    private readonly StringComparison _comparison;

    public RouteTemplate(string template, JsonElement pathItem, bool ignoreCase)
    {
        Template = template;
        PathItem = pathItem;
        _comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

        var segments = RouteTable.SplitSegments(template);
        _literals = segments;
        _patterns = new Regex?[segments.Length];
        _parameterNames = new string[segments.Length][];
        Ranks = new int[segments.Length];
        for (var i = 0; i < segments.Length; i++)
        {
            var names = new List<string>();
            _patterns[i] = BuildPattern(segments[i], names, ignoreCase);
            _parameterNames[i] = [.. names];
            Ranks[i] = names.Count == 0 ? LiteralRank
                : HasLiteralText(segments[i]) ? MixedRank
                : ParameterRank;
        }
    }

    public string Template { get; }

    public JsonElement PathItem { get; }

    public int[] Ranks { get; }

    public int SegmentCount => _literals.Length;

    public bool TryMatch(string[] segments, out IReadOnlyDictionary<string, string> parameters, out bool exactCase)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        parameters = values;
        exactCase = true;
        for (var i = 0; i < segments.Length; i++)
        {
            var pattern = _patterns[i];
            if (pattern is null)
            {
                if (!string.Equals(_literals[i], segments[i], _comparison))
                {
                    return false;
                }

                exactCase &= string.Equals(_literals[i], segments[i], StringComparison.Ordinal);
                continue;
            }

            var match = pattern.Match(segments[i]);
            if (!match.Success)
            {
                return false;
            }

            for (var p = 0; p < _parameterNames[i].Length; p++)
            {
                values[_parameterNames[i][p]] = match.Groups[p + 1].Value;
            }
        }

        return true;
    }

    private static bool HasLiteralText(string segment) =>
        ParameterToken().Replace(segment, string.Empty).Length > 0;

    [GeneratedRegex(@"\{[^}]*\}", RegexOptions.CultureInvariant)]
    private static partial Regex ParameterToken();

    /// <summary>Null for a plain literal segment; otherwise a regex with one group per <c>{parameter}</c>.</summary>
    private static Regex? BuildPattern(string segment, List<string> parameterNames, bool ignoreCase)
    {
        if (!segment.Contains('{', StringComparison.Ordinal))
        {
            return null;
        }

        var pattern = new StringBuilder("^");
        var position = 0;
        while (position < segment.Length)
        {
            var open = segment.IndexOf('{', position);
            var close = open < 0 ? -1 : segment.IndexOf('}', open);
            if (open < 0 || close < 0)
            {
                pattern.Append(Regex.Escape(segment[position..]));
                break;
            }

            pattern.Append(Regex.Escape(segment[position..open]));
            parameterNames.Add(segment[(open + 1)..close]);
            pattern.Append("([^/]+?)");
            position = close + 1;
        }

        pattern.Append('$');
        var options = RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
        return new Regex(pattern.ToString(), options);
    }
}
