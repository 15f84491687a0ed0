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

    private JsonPayloadResult(int statusCode, JsonNode? node, IReadOnlyList<JsonObject>? records, string? hrefBase, string? listProperty = null)
    {
        StatusCode = statusCode;
        _node = node;
        _records = records;
        _hrefBase = hrefBase;
        _listProperty = listProperty;
    }

    public int? StatusCode { get; }

    public static JsonPayloadResult Node(JsonNode? node, int statusCode = StatusCodes.Status200OK, string? hrefBase = null) =>
        new(statusCode, node, null, hrefBase);

    public static JsonPayloadResult List(IReadOnlyList<JsonObject> records, string? hrefBase = null) =>
        new(StatusCodes.Status200OK, null, records, hrefBase);

    /// <summary><c>{"listProperty": [records…], …other properties of <paramref name="envelope"/>}</c>, e.g. an Autotask query result.</summary>
    public static JsonPayloadResult Envelope(string listProperty, IReadOnlyList<JsonObject> records, JsonObject envelope) =>
        new(StatusCodes.Status200OK, envelope, records, null, listProperty);

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
                    JsonRecords.Write(writer, _records[i], _hrefBase);
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
}
