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

    /// <summary>
    /// The body of a PSA's answer with every credential the request carried masked. A PSA (or a proxy in front of it)
    /// may echo what it was sent in an error; that text becomes a <see cref="Errors.PsaException"/> message, which is
    /// shown, logged and stored, so it must never hold a key, a secret, an integration code or the clientId.
    /// </summary>
    public static async Task<string> ResponseTextAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return Text(text, response.RequestMessage);
    }

    /// <summary><paramref name="text"/> with the credentials <paramref name="request"/> carried replaced by the mask.</summary>
    public static string Text(string text, HttpRequestMessage? request)
    {
        if (request is null || string.IsNullOrEmpty(text))
        {
            return text;
        }

        foreach (var secret in SecretsOf(request).Where(s => s.Length >= 4).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length))
        {
            text = text.Replace(secret, Mask, StringComparison.OrdinalIgnoreCase);
            var escaped = Uri.EscapeDataString(secret);
            if (escaped != secret)
            {
                text = text.Replace(escaped, Mask, StringComparison.OrdinalIgnoreCase);
            }
        }

        return text;
    }

    // The secret header values as sent, and for Basic authentication (ConnectWise: company+public:private) the
    // encoded value, the decoded text and each key on its own (the company id is no secret).
    private static IEnumerable<string> SecretsOf(HttpRequestMessage request)
    {
        foreach (var (name, values) in request.Headers)
        {
            if (!IsSecretHeader(name) || name.Equals("Cookie", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var value in values)
            {
                yield return value;
                var space = value.IndexOf(' ', StringComparison.Ordinal);
                if (space <= 0 || !value[..space].Equals("Basic", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var encoded = value[(space + 1)..].Trim();
                yield return encoded;
                string decoded;
                try
                {
                    decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
                }
                catch (FormatException)
                {
                    continue;
                }

                yield return decoded;
                var keys = decoded[(decoded.IndexOf('+', StringComparison.Ordinal) + 1)..];
                yield return keys;
                foreach (var key in keys.Split(':'))
                {
                    yield return key;
                }
            }
        }
    }

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
