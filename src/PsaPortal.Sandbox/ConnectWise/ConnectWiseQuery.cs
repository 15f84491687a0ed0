using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PsaPortal.Sandbox.ConnectWise.Conditions;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Specs;

namespace PsaPortal.Sandbox.ConnectWise;

/// <summary>
/// The common GET parameters of every ConnectWise collection: conditions, childConditions,
/// customFieldConditions, orderBy, fields, page/pageSize (navigable, RFC 5988 Link header) and
/// pageId with <c>pagination-type: forward-only</c>.
/// </summary>
internal static class ConnectWiseQuery
{
    public const int DefaultPageSize = 25;
    public const int MaxPageSize = 1000;

    private static readonly Dictionary<string, HashSet<string>> KnownFields = SpecFieldCatalog.ConnectWise.ToDictionary(
        pair => pair.Key, pair => new HashSet<string>(pair.Value, StringComparer.OrdinalIgnoreCase));

    public static bool IsKnownField(string schema, string field) =>
        !KnownFields.TryGetValue(schema, out var fields) || fields.Contains(field);

    /// <summary>The URL prefix every <c>_href</c> is completed with: this request's …/apis/3.0/.</summary>
    public static string ApiRoot(HttpContext http)
    {
        var request = http.Request;
        var path = request.PathBase.Add(request.Path).Value ?? string.Empty;
        var index = path.IndexOf("/apis/3.0/", StringComparison.OrdinalIgnoreCase);
        var root = index < 0 ? path : path[..(index + "/apis/3.0/".Length)];
        return $"{request.Scheme}://{request.Host}{root}";
    }

    /// <param name="stored">False when the rows are built per request (mySecurity) rather than held in a table.</param>
    /// <param name="parameters">The query parameters; <c>POST …/search</c> passes its body's filter values merged in.</param>
    public static IResult List(HttpContext http, IReadOnlyList<JsonObject> source, string schema, bool stored = true, IQueryCollection? parameters = null)
    {
        var query = parameters ?? http.Request.Query;
        if (!TryFilter(query, source, schema, out var matched, out var error))
        {
            return error!;
        }

        if (!TryParseFields(query["fields"], schema, out var fields, out error))
        {
            return error!;
        }

        var pageSize = ReadInt(query["pageSize"], DefaultPageSize);
        pageSize = pageSize <= 0 ? DefaultPageSize : Math.Min(pageSize, MaxPageSize);
        var forwardOnly = string.Equals(http.Request.Headers["pagination-type"], "forward-only", StringComparison.OrdinalIgnoreCase);

        List<JsonObject> page;
        if (forwardOnly)
        {
            if (!string.IsNullOrWhiteSpace(query["orderBy"]))
            {
                return ConnectWiseErrors.InvalidParameter("orderBy", "orderBy is not supported with forward-only pagination; results are ordered by id.");
            }

            var afterId = ReadInt(query["pageId"], 0);
            var remaining = matched.Where(r => JsonRecords.GetId(r) > afterId).Take(pageSize + 1).ToList();
            var hasMore = remaining.Count > pageSize;
            page = hasMore ? remaining[..pageSize] : remaining;
            var links = new List<string>();
            if (hasMore)
            {
                links.Add($"<{PageUrl(http, pageSize, ("pageId", JsonRecords.GetId(page[^1])))}>; rel=\"next\"");
            }
            else
            {
                // The vendor always answers forward-only requests with a Link header; with no further page it carries no "next".
                links.Add($"<{PageUrl(http, pageSize, null)}>; rel=\"first\"");
            }

            http.Response.Headers.Link = string.Join(", ", links);
        }
        else
        {
            if (!TrySort(query["orderBy"], schema, matched, out var sorted, out error))
            {
                return error!;
            }

            var pageNumber = Math.Max(1, ReadInt(query["page"], 1));
            var lastPage = Math.Max(1, (sorted.Count + pageSize - 1) / pageSize);
            page = [.. sorted.Skip((pageNumber - 1) * pageSize).Take(pageSize)];
            var links = new List<string>();
            if (pageNumber > 1)
            {
                links.Add($"<{PageUrl(http, pageSize, ("page", 1))}>; rel=\"first\"");
                links.Add($"<{PageUrl(http, pageSize, ("page", Math.Min(pageNumber - 1, lastPage)))}>; rel=\"prev\"");
            }

            if (pageNumber < lastPage)
            {
                links.Add($"<{PageUrl(http, pageSize, ("page", pageNumber + 1))}>; rel=\"next\"");
                links.Add($"<{PageUrl(http, pageSize, ("page", lastPage))}>; rel=\"last\"");
            }

            if (links.Count > 0)
            {
                http.Response.Headers.Link = string.Join(", ", links);
            }
        }

        if (fields is not null)
        {
            page = [.. page.Select(r => JsonRecords.Project(r, fields))];
        }

        return JsonPayloadResult.List(page, ApiRoot(http), recordsAreStored: fields is null && stored);
    }

    public static IResult Count(HttpContext http, IReadOnlyList<JsonObject> source, string schema) =>
        TryFilter(http.Request.Query, source, schema, out var matched, out var error)
            ? JsonPayloadResult.Node(new JsonObject { ["count"] = matched.Count })
            : error!;

    public static IResult Single(HttpContext http, JsonObject? record, string resource, long id, string schema)
    {
        if (record is null)
        {
            return ConnectWiseErrors.NotFound(resource, id);
        }

        if (!TryParseFields(http.Request.Query["fields"], schema, out var fields, out var error))
        {
            return error!;
        }

        return JsonPayloadResult.Node(fields is null ? record : JsonRecords.Project(record, fields), hrefBase: ApiRoot(http));
    }

    private static bool TryFilter(IQueryCollection query, IReadOnlyList<JsonObject> source, string schema, out IReadOnlyList<JsonObject> matched, out IResult? error)
    {
        matched = source;
        error = null;
        try
        {
            var conditions = Parse(query["conditions"], schema);
            var child = Parse(query["childConditions"], schema);
            var custom = string.IsNullOrWhiteSpace(query["customFieldConditions"]) ? null : ConditionParser.Parse(query["customFieldConditions"]!);
            if (conditions is null && child is null && custom is null)
            {
                return true;
            }

            matched = [.. source.Where(record =>
                (conditions is null || ConditionEvaluator.Matches(conditions, record))
                && (child is null || ConditionEvaluator.MatchesChild(child, record))
                && (custom is null || (JsonRecords.Get(record, "customFields") is JsonArray customFields
                    && customFields.OfType<JsonObject>().Any(field => ConditionEvaluator.Matches(custom, field)))))];
            return true;
        }
        catch (ConditionSyntaxException exception)
        {
            error = ConnectWiseErrors.InvalidParameter("conditions", exception.Message);
            return false;
        }
    }

    private static ConditionNode? Parse(string? text, string schema) =>
        string.IsNullOrWhiteSpace(text) ? null : ConditionParser.Parse(text, field => IsKnownField(schema, field));

    private static bool TryParseFields(string? text, string schema, out List<string[]>? fields, out IResult? error)
    {
        fields = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        fields = [];
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var segments = part.Split('/');
            if (!IsKnownField(schema, segments[0]))
            {
                error = ConnectWiseErrors.InvalidParameter("fields", $"Unknown field '{part}'.");
                return false;
            }

            fields.Add(segments);
        }

        return true;
    }

    private static bool TrySort(string? text, string schema, IReadOnlyList<JsonObject> records, out IReadOnlyList<JsonObject> sorted, out IResult? error)
    {
        sorted = records;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var keys = new List<(string[] Path, bool Descending)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var words = part.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var descending = words.Length > 1 && string.Equals(words[1], "desc", StringComparison.OrdinalIgnoreCase);
            var valid = words.Length == 1 || (words.Length == 2 && (descending || string.Equals(words[1], "asc", StringComparison.OrdinalIgnoreCase)));
            var path = words[0].Split('/');
            if (!valid || !IsKnownField(schema, path[0]))
            {
                error = ConnectWiseErrors.InvalidParameter("orderBy", $"Invalid orderBy clause '{part}'.");
                return false;
            }

            keys.Add((path, descending));
        }

        var comparer = Comparer<JsonObject>.Create((left, right) =>
        {
            foreach (var (path, descending) in keys)
            {
                var result = CompareValues(First(left, path), First(right, path));
                if (result != 0)
                {
                    return descending ? -result : result;
                }
            }

            return JsonRecords.GetId(left).CompareTo(JsonRecords.GetId(right));
        });
        sorted = [.. records.Order(comparer)];
        return true;
    }

    private static JsonNode? First(JsonObject record, string[] path)
    {
        var values = new List<JsonNode?>(1);
        JsonRecords.Resolve(record, path, 0, values);
        return values.Count > 0 ? values[0] : null;
    }

    private static int CompareValues(JsonNode? left, JsonNode? right)
    {
        if (left is null || right is null)
        {
            return (left is null ? 0 : 1) - (right is null ? 0 : 1);
        }

        if (JsonRecords.TryGetDecimal(left, out var a) && JsonRecords.TryGetDecimal(right, out var b)
            && left.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            return a.CompareTo(b);
        }

        return string.Compare(left.ToString(), right.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    private static int ReadInt(string? text, int fallback) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    /// <summary>This request's URL with the paging parameters replaced (other parameters kept, as the vendor does).</summary>
    private static string PageUrl(HttpContext http, int pageSize, (string Name, long Value)? position)
    {
        var request = http.Request;
        var url = new StringBuilder($"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}?");
        foreach (var (key, values) in request.Query)
        {
            if (key.Equals("page", StringComparison.OrdinalIgnoreCase) || key.Equals("pageSize", StringComparison.OrdinalIgnoreCase)
                || key.Equals("pageId", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var value in values)
            {
                url.Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value ?? string.Empty)).Append('&');
            }
        }

        url.Append("pageSize=").Append(pageSize.ToString(CultureInfo.InvariantCulture));
        if (position is { } p)
        {
            url.Append('&').Append(p.Name).Append('=').Append(p.Value.ToString(CultureInfo.InvariantCulture));
        }

        return url.ToString();
    }
}
