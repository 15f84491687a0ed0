using System.Text.RegularExpressions;
using PsaPortal.Integrations.Errors;

namespace PsaPortal.Integrations.ConnectWise;

/// <summary>
/// Turns what an admin pastes as "Site URL" into the site root that <c>login/companyinfo</c> and
/// <c>{codebase}apis/3.0</c> hang off.
/// </summary>
public static partial class ConnectWiseSite
{
    // ConnectWise cloud hosts answer the API only on their api- twin ("SSL is required" otherwise).
    private static readonly HashSet<string> CloudHosts = new(StringComparer.OrdinalIgnoreCase)
    {
        "na.myconnectwise.net", "eu.myconnectwise.net", "au.myconnectwise.net", "aus.myconnectwise.net", "za.myconnectwise.net", "staging.connectwisedev.com",
    };

    /// <summary>
    /// The site root, ending in '/': scheme and host (with <c>api-</c> for cloud hosts) plus any path
    /// prefix before the codebase, <c>login</c> or <c>apis</c> segment.
    /// </summary>
    public static Uri Normalize(string siteUrl, bool allowInsecureHttp = false)
    {
        var text = siteUrl?.Trim() ?? string.Empty;
        if (text.Length == 0)
        {
            throw Invalid(siteUrl, "The ConnectWise site URL is empty.");
        }

        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "https://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw Invalid(siteUrl, $"\"{siteUrl}\" is not a ConnectWise site URL. Enter the address you sign in to, e.g. na.myconnectwise.net.");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !allowInsecureHttp)
        {
            throw Invalid(siteUrl, "ConnectWise requires https. Enter the site URL with https:// (or without a scheme).");
        }

        if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
        {
            throw Invalid(siteUrl, $"\"{siteUrl}\" is not a web address.");
        }

        var host = CloudHosts.Contains(uri.Host) ? "api-" + uri.Host.ToLowerInvariant() : uri.Host.ToLowerInvariant();
        var prefix = new List<string>();
        foreach (var segment in uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (IsApiSegment(segment))
            {
                break;
            }

            prefix.Add(segment);
        }

        var builder = new UriBuilder(uri.Scheme, host, uri.IsDefaultPort ? -1 : uri.Port, string.Concat(prefix.Select(s => s + "/")));
        return new Uri(builder.Uri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
    }

    private static bool IsApiSegment(string segment) =>
        CodebasePattern().IsMatch(segment)
        || segment.Equals("login", StringComparison.OrdinalIgnoreCase)
        || segment.Equals("apis", StringComparison.OrdinalIgnoreCase)
        || segment.Equals("services", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"^v\d{1,4}_\d{1,2}(_release)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CodebasePattern();

    private static PsaException Invalid(string? siteUrl, string message) =>
        new(PsaVendor.ConnectWise, PsaErrorKind.Validation, message, vendorErrors: [new PsaVendorError("SiteUrl", siteUrl ?? string.Empty, "siteUrl")]);
}
