using System.Text;

namespace PsaPortal.Integrations.Recording;

/// <summary>The one place that decides what a call record may show.</summary>
internal static class SecretRedactor
{
    public const string Mask = "***";

    private static readonly HashSet<string> SecretHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Proxy-Authorization", "Secret", "ApiIntegrationCode", "clientId", "Cookie", "Set-Cookie",
    };

    private static readonly string[] SecretWords = ["key", "secret", "password", "token", "code", "auth", "signature"];

    public static bool IsSecretHeader(string name) => SecretHeaders.Contains(name);

    public static IReadOnlyDictionary<string, string> Headers(HttpRequestMessage request)
    {
        var headers = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = IsSecretHeader(name) ? Mask : string.Join(", ", values);
        }

        if (request.Content is not null)
        {
            foreach (var (name, values) in request.Content.Headers)
            {
                headers[name] = string.Join(", ", values);
            }
        }

        return headers;
    }

    /// <summary>The URL without user info and with the value of every key-like query parameter masked.</summary>
    public static string Url(Uri? uri)
    {
        if (uri is null)
        {
            return string.Empty;
        }

        var builder = new StringBuilder();
        builder.Append(uri.Scheme).Append("://").Append(uri.Authority).Append(uri.AbsolutePath);
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            return builder.ToString();
        }

        builder.Append('?');
        var first = true;
        foreach (var pair in query.Split('&'))
        {
            if (!first)
            {
                builder.Append('&');
            }

            first = false;
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            var decodedName = Uri.UnescapeDataString(name);
            builder.Append(equals >= 0 && SecretWords.Any(word => decodedName.Contains(word, StringComparison.OrdinalIgnoreCase))
                ? $"{name}={Mask}"
                : pair);
        }

        return builder.ToString();
    }
}
