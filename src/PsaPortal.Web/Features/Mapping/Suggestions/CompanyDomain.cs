namespace PsaPortal.Web.Features.Mapping.Suggestions;

/// <summary>Reduces what a PSA or the platform stores as a company's domain (a website, an e-mail domain) to a host.</summary>
public static class CompanyDomain
{
    /// <summary>
    /// "https://www.Acme.example:443/about" → "acme.example"; "someone@acme.example" → "acme.example". Null when
    /// nothing host-like is left.
    /// </summary>
    public static string? ToHost(string? domainOrWebsite)
    {
        if (string.IsNullOrWhiteSpace(domainOrWebsite))
        {
            return null;
        }

        var host = domainOrWebsite.Trim().ToLowerInvariant().AsSpan();
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            host = host[(scheme + 3)..];
        }

        var pathStart = host.IndexOfAny('/', '?', '#');
        if (pathStart >= 0)
        {
            host = host[..pathStart];
        }

        var at = host.LastIndexOf('@');
        if (at >= 0)
        {
            host = host[(at + 1)..];
        }

        var port = host.IndexOf(':');
        if (port >= 0)
        {
            host = host[..port];
        }

        host = host.Trim().TrimEnd('.');
        if (host.StartsWith("www.", StringComparison.Ordinal))
        {
            host = host[4..];
        }

        return host.Length == 0 || host.ContainsAny(' ', '\t') ? null : host.ToString();
    }
}
