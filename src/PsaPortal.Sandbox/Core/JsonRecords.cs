using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PsaPortal.Sandbox.Core;

/// <summary>Helpers over the JSON records every table holds.</summary>
public static class JsonRecords
{
    /// <summary>Both vendors send non-ASCII text unescaped; clients compare names byte for byte.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static long GetId(JsonObject record) =>
        record.TryGetPropertyValue("id", out var node) && TryGetDecimal(node, out var id) ? (long)id : 0;

    public static bool TryGetDecimal(JsonNode? node, out decimal number)
    {
        number = 0;
        if (node is not JsonValue value)
        {
            return false;
        }

        switch (value.GetValueKind())
        {
            case JsonValueKind.Number:
                if (value.TryGetValue<int>(out var i)) { number = i; return true; }
                if (value.TryGetValue<long>(out var l)) { number = l; return true; }
                if (value.TryGetValue<decimal>(out var m)) { number = m; return true; }
                if (value.TryGetValue<double>(out var d)) { number = (decimal)d; return true; }
                if (value.TryGetValue<JsonElement>(out var e)) { return e.TryGetDecimal(out number); }
                return decimal.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number);
            case JsonValueKind.String:
                return decimal.TryParse(value.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out number);
            default:
                return false;
        }
    }

    public static string? GetString(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static bool? GetBoolean(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>Property lookup that ignores case, as both vendors do for field names in queries.</summary>
    public static bool TryGetProperty(JsonObject record, string name, out JsonNode? value, out string actualName)
    {
        if (record.TryGetPropertyValue(name, out value))
        {
            actualName = name;
            return true;
        }

        foreach (var (key, node) in record)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                value = node;
                actualName = key;
                return true;
            }
        }

        actualName = name;
        return false;
    }

    public static JsonNode? Get(JsonObject record, string name) =>
        TryGetProperty(record, name, out var value, out _) ? value : null;

    /// <summary>
    /// Every value a slash path (<c>board/name</c>, <c>communicationItems/value</c>) reaches; arrays fan
    /// out, so a path through a collection yields one value per element.
    /// </summary>
    public static void Resolve(JsonNode? node, string[] segments, int index, List<JsonNode?> results)
    {
        if (index == segments.Length)
        {
            results.Add(node);
            return;
        }

        switch (node)
        {
            case JsonObject obj:
                if (TryGetProperty(obj, segments[index], out var child, out _))
                {
                    Resolve(child, segments, index + 1, results);
                }
                else
                {
                    results.Add(null);
                }

                break;
            case JsonArray array:
                foreach (var element in array)
                {
                    Resolve(element, segments, index, results);
                }

                break;
            default:
                results.Add(null);
                break;
        }
    }

    /// <summary>Forces lazily materialised nodes (from parsed request bodies) into their final shape so concurrent readers never race on first access.</summary>
    public static void Freeze(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    Freeze(child);
                }

                _ = obj.ContainsKey("id");
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Freeze(child);
                }

                break;
        }
    }

    public static JsonObject Clone(JsonObject record) => (JsonObject)record.DeepClone();

    /// <summary>Copies only the requested slash paths (the ConnectWise <c>fields</c> parameter, the Autotask <c>includeFields</c>).</summary>
    public static JsonObject Project(JsonObject record, IReadOnlyList<string[]> paths)
    {
        var result = new JsonObject();
        foreach (var path in paths)
        {
            CopyPath(record, result, path, 0);
        }

        return result;
    }

    private static void CopyPath(JsonObject source, JsonObject target, string[] path, int index)
    {
        if (!TryGetProperty(source, path[index], out var value, out var actualName))
        {
            return;
        }

        if (index == path.Length - 1 || value is not JsonObject childSource)
        {
            if (!target.ContainsKey(actualName))
            {
                target[actualName] = value?.DeepClone();
            }

            return;
        }

        if (target[actualName] is not JsonObject childTarget)
        {
            childTarget = [];
            target[actualName] = childTarget;
        }

        CopyPath(childSource, childTarget, path, index + 1);
    }

    /// <summary>
    /// Writes a record; string properties named <c>*_href</c> are stored relative to the API root and
    /// are completed here with the base URL of the incoming request, so links point back at whichever
    /// host and prefix the sandbox is mounted on.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, JsonNode? node, string? hrefBase)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (name, child) in obj)
                {
                    writer.WritePropertyName(name);
                    if (hrefBase is not null && child is JsonValue hrefValue && name.EndsWith("_href", StringComparison.Ordinal)
                        && hrefValue.GetValueKind() == JsonValueKind.String)
                    {
                        writer.WriteStringValue(hrefBase + hrefValue.GetValue<string>());
                    }
                    else
                    {
                        Write(writer, child, hrefBase);
                    }
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var child in array)
                {
                    Write(writer, child, hrefBase);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
