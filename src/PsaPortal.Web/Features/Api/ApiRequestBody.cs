using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace PsaPortal.Web.Features.Api;

/// <summary>
/// Reads a JSON request body strictly, with its own serializer settings, so that every way a body can be wrong is a
/// 4xx problem details answer and never a 500: not JSON (415), too large (413), not parseable, a wrong type, an
/// unknown property, a null where a value is needed, nesting too deep (400, naming the JSON path, line and position).
/// The global minimal-API JSON settings are left alone: other endpoints keep theirs.
/// </summary>
internal static partial class ApiRequestBody
{
    public const int MaxBytes = 16 * 1024 * 1024;
    public const int MaxDepth = 32;

    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        AllowDuplicateProperties = false,
        MaxDepth = MaxDepth,
    };

    public const string BodyNotReadTitle = "The request body could not be read.";

    /// <summary>The body as <typeparamref name="T"/>, or the problem to answer with instead.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request) where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, ApiProblems.Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type.",
                "Send the body as JSON with the header Content-Type: application/json."));
        }

        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        // One pooled buffer, sized from Content-Length when the client sent it (one byte more, to see the end): at 100
        // ingest requests a second, a growable writer's fresh 64 KB and 128 KB arrays per request were most of the
        // portal's allocations (bench load, dotnet-trace allocation ticks) and kept the large object heap churning.
        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is long announced and > 0 ? (int)announced + 1 : InitialBytes);
        try
        {
            var written = 0;
            try
            {
                while (true)
                {
                    if (written == buffer.Length)
                    {
                        buffer = Grow(buffer, written);
                    }

                    var read = await request.Body.ReadAsync(buffer.AsMemory(written), request.HttpContext.RequestAborted);
                    if (read == 0)
                    {
                        break;
                    }

                    written += read;
                    if (written > MaxBytes)
                    {
                        return (null, TooLarge());
                    }
                }
            }
            catch (BadHttpRequestException exception)
            {
                // The server's own limits (body size, a client that stops sending) surface here.
                return (null, exception.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? TooLarge()
                    : ApiProblems.Status(exception.StatusCode, BodyNotReadTitle, "The request body ended early or could not be read."));
            }

            if (written == 0)
            {
                return (null, Unreadable("body", "The request body is empty. Send a JSON object."));
            }

            try
            {
                return JsonSerializer.Deserialize<T>(buffer.AsSpan(0, written), Options) is { } value
                    ? (value, null)
                    : (null, Unreadable("body", "The request body is null. Send a JSON object."));
            }
            catch (JsonException exception)
            {
                var (field, message) = Describe(exception, typeof(T));
                return (null, Unreadable(field, message));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The first buffer when the length was not announced (chunked).</summary>
    private const int InitialBytes = 16 * 1024;

    /// <summary>A pooled buffer twice as large (at most one byte over <see cref="MaxBytes"/>) holding what was read.</summary>
    private static byte[] Grow(byte[] buffer, int written)
    {
        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, MaxBytes + 1L));
        buffer.AsSpan(0, written).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }

    private static IResult TooLarge() => ApiProblems.Status(StatusCodes.Status413PayloadTooLarge, "The request body is too large.",
        $"A request body is at most {MaxBytes / 1024 / 1024} MB. Send the items in smaller batches.");

    private static IResult Unreadable(string field, string message) =>
        ApiProblems.Invalid(BodyNotReadTitle, new Dictionary<string, string[]> { [field] = [message] }, message);

    /// <summary>The field (JSON path without <c>$.</c>) and a message a person can act on, with where in the body it was.</summary>
    private static (string Field, string Message) Describe(JsonException exception, Type root)
    {
        var field = exception.Path is null or "$" ? "body" : exception.Path.StartsWith("$.", StringComparison.Ordinal) ? exception.Path[2..] : exception.Path.TrimStart('$');
        var where = exception.LineNumber is { } line
            ? $" (line {line + 1}, position {(exception.BytePositionInLine ?? 0) + 1})"
            : "";
        var text = exception.Message;
        string message;
        if (text.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            message = "Unknown property: it is not part of this request. Remove it.";
        }
        else if (text.Contains("missing required properties", StringComparison.Ordinal))
        {
            var names = QuotedNames().Matches(text[text.IndexOf("including", StringComparison.Ordinal)..]).Select(m => m.Groups[1].Value).ToList();
            (field, message) = names.Count > 0
                ? (names.Count == 1 && field == "body" ? names[0] : field, $"Required property missing: {string.Join(", ", names)}.")
                : (field, "A required property is missing.");
        }
        else if (text.Contains("doesn't allow setting null values", StringComparison.Ordinal)
                 || text.Contains("does not allow setting null values", StringComparison.Ordinal))
        {
            message = "Cannot be null.";
        }
        else if (text.Contains("Duplicate", StringComparison.OrdinalIgnoreCase) && text.Contains("propert", StringComparison.Ordinal))
        {
            message = "This property appears twice in the same object. Send it once.";
        }
        else if (text.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            message = $"The JSON is nested too deeply (at most {MaxDepth} levels).";
        }
        else if (text.Contains("could not be converted", StringComparison.Ordinal))
        {
            message = ExpectedAt(root, exception.Path) is { } expected ? $"Expected {expected}." : "This value has the wrong type.";
        }
        else
        {
            message = "The body is not valid JSON: " + FirstSentence(exception.InnerException?.Message ?? text);
        }

        return (field, message + where);
    }

    /// <summary>What the request type holds at a JSON path like <c>$.items[2].quantity</c>, in words.</summary>
    private static string? ExpectedAt(Type type, string? path)
    {
        if (path is null)
        {
            return null;
        }

        foreach (Match segment in PathSegment().Matches(path))
        {
            if (segment.Groups["index"].Success)
            {
                type = ElementType(type) ?? type;
                continue;
            }

            var property = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .FirstOrDefault(p => string.Equals(p.Name, segment.Groups["name"].Value, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                return null;
            }

            type = property.PropertyType;
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(string) => "a string",
            _ when type == typeof(int) || type == typeof(long) => "a whole number",
            _ when type == typeof(decimal) || type == typeof(double) => "a number",
            _ when type == typeof(bool) => "true or false",
            _ when ElementType(type) is not null => "an array",
            _ => "an object",
        };
    }

    private static Type? ElementType(Type type) =>
        type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type) && type.IsGenericType ? type.GetGenericArguments()[0] : null;

    private static string FirstSentence(string text)
    {
        var cut = text.IndexOf(" Path:", StringComparison.Ordinal) is var path and >= 0 ? path : text.IndexOf(" LineNumber:", StringComparison.Ordinal);
        // The reader speaks to the programmer who configured it; the client cannot change its options.
        return (cut >= 0 ? text[..cut] : text)
            .Replace(" Change the reader options.", "", StringComparison.Ordinal)
            .Replace(" which is not supported in this mode", "", StringComparison.Ordinal)
            .Trim();
    }

    [GeneratedRegex("'([^']+)'", RegexOptions.CultureInvariant)]
    private static partial Regex QuotedNames();

    [GeneratedRegex(@"\.(?<name>[A-Za-z0-9_]+)|\[(?<index>\d+)\]|\['(?<name>[^']*)'\]", RegexOptions.CultureInvariant)]
    private static partial Regex PathSegment();

    /// <summary>Makes an int from a query value, or says why not.</summary>
    public static bool TryParseInt(string? value, out int result) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result);
}
