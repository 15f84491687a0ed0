using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace PsaPortal.Sandbox.Core;

/// <summary>
/// Writes JSON straight to the response body. Record lists are streamed element by element so a
/// 1,000-row page is never built as one tree or string first.
/// </summary>
public sealed class JsonPayloadResult : IResult, IStatusCodeHttpResult
{
    private readonly JsonNode? _node;
    private readonly IReadOnlyList<JsonObject>? _records;
    private readonly string? _hrefBase;
    private readonly string? _listProperty;
    private readonly bool _cacheRecords;

    /// <summary>
    /// Stored records never change in place (writers swap in copies), so each one's JSON for a given
    /// href base is written once and reused: large pages then cost little more than a copy.
    /// </summary>
    private static readonly ConditionalWeakTable<JsonObject, CachedRecord> Cache = [];

    private JsonPayloadResult(int statusCode, JsonNode? node, IReadOnlyList<JsonObject>? records, string? hrefBase, string? listProperty = null, bool cacheRecords = false)
    {
        _cacheRecords = cacheRecords;
        StatusCode = statusCode;
        _node = node;
        _records = records;
        _hrefBase = hrefBase;
        _listProperty = listProperty;
    }

    public int? StatusCode { get; }

    public static JsonPayloadResult Node(JsonNode? node, int statusCode = StatusCodes.Status200OK, string? hrefBase = null) =>
        new(statusCode, node, null, hrefBase);

    /// <param name="recordsAreStored">True when the records are the table's own (immutable) objects, whose JSON may be cached.</param>
    public static JsonPayloadResult List(IReadOnlyList<JsonObject> records, string? hrefBase = null, bool recordsAreStored = false) =>
        new(StatusCodes.Status200OK, null, records, hrefBase, cacheRecords: recordsAreStored);

    /// <summary><c>{"listProperty": [records…], …other properties of <paramref name="envelope"/>}</c>, e.g. an Autotask query result.</summary>
    public static JsonPayloadResult Envelope(string listProperty, IReadOnlyList<JsonObject> records, JsonObject envelope, bool recordsAreStored = false) =>
        new(StatusCodes.Status200OK, envelope, records, null, listProperty, recordsAreStored);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCode ?? StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        await using (var writer = new Utf8JsonWriter(response.BodyWriter, JsonRecords.WriterOptions))
        {
            if (_records is null)
            {
                JsonRecords.Write(writer, _node, _hrefBase);
            }
            else
            {
                if (_listProperty is not null)
                {
                    writer.WriteStartObject();
                    writer.WritePropertyName(_listProperty);
                }

                writer.WriteStartArray();
                for (var i = 0; i < _records.Count; i++)
                {
                    if (_cacheRecords)
                    {
                        writer.WriteRawValue(Serialized(_records[i], _hrefBase), skipInputValidation: true);
                    }
                    else
                    {
                        JsonRecords.Write(writer, _records[i], _hrefBase);
                    }

                    if (writer.BytesPending > 32 * 1024)
                    {
                        await writer.FlushAsync(httpContext.RequestAborted);
                    }
                }

                writer.WriteEndArray();
                if (_listProperty is not null)
                {
                    foreach (var (name, value) in (JsonObject)_node!)
                    {
                        writer.WritePropertyName(name);
                        JsonRecords.Write(writer, value, _hrefBase);
                    }

                    writer.WriteEndObject();
                }
            }
        }

        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }

    private static byte[] Serialized(JsonObject record, string? hrefBase)
    {
        if (Cache.TryGetValue(record, out var cached) && cached.HrefBase == hrefBase)
        {
            return cached.Json;
        }

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, JsonRecords.WriterOptions))
        {
            JsonRecords.Write(writer, record, hrefBase);
        }

        var json = buffer.WrittenSpan.ToArray();
        Cache.AddOrUpdate(record, new CachedRecord(hrefBase, json));
        return json;
    }

    private sealed record CachedRecord(string? HrefBase, byte[] Json);
}
