using System.Net;
using System.Net.Mail;
using System.Security.Cryptography;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// What a person may type into the failure notification settings, and the exact words when it is refused. Checked
/// before anything is stored; the webhook's host is checked again when a connection is opened
/// (<see cref="ConnectAsync"/>), so a name that later resolves to a private address is refused too.
/// </summary>
public static class BillingNotificationRules
{
    public const int MaxRecipients = 20;
    public const int MaxRecipientsLength = 2000;
    public const int MaxAddressLength = 254;
    public const int MinSecretLength = 16;
    public const int MaxSecretLength = 200;

    public const string TooManyRecipients = "At most 20 e-mail recipients: use a distribution list for more.";
    public const string RecipientsTooLong = "The e-mail recipients are too long: at most 2,000 characters.";
    public const string UrlTooLong = "The webhook URL is too long: at most 300 characters.";
    public const string UrlNotAbsolute = "The webhook URL must be a full address such as https://hooks.msp.example/psaportal.";
    public const string UrlNotHttps = "The webhook URL must use https:// (plain http:// is allowed only for a receiver on this machine: localhost, 127.0.0.1 or [::1]).";
    public const string UrlHasCredentials = "The webhook URL cannot contain a user name or password; the receiver checks the signature instead.";
    public const string UrlPrivate = "The webhook URL points to a private or link-local network. Use the receiver's public https:// address, or a receiver on this machine.";
    public const string UrlNotPublicName = "The webhook URL's host is not a public host name. Use the receiver's public https:// address, or a receiver on this machine.";
    public const string SecretLength = "The webhook secret must have 16 to 200 characters.";
    public const string SecretCharacters = "The webhook secret may contain only visible ASCII characters (no spaces).";

    private static readonly string[] InternalSuffixes = [".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp"];

    /// <summary>For a URL typed as loopback (a receiver on the portal's own machine): loopback may be dialled.</summary>
    private static readonly SiteAddressPolicy LoopbackReceiver = new(allowLoopbackSandbox: true);

    /// <summary>For every other URL: the PSA connections' policy, so no private, loopback or link-local address is dialled.</summary>
    private static readonly SiteAddressPolicy PublicReceiver = new(allowLoopbackSandbox: false);

    /// <summary>
    /// The connect callback for webhook connections: a host typed as loopback may reach loopback; a public name that
    /// resolves to a private, loopback or link-local address is refused when it is dialled (DNS rebinding included).
    /// </summary>
    public static ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        IsLoopbackHost(context.DnsEndPoint.Host)
            ? LoopbackReceiver.ConnectAsync(context, cancellationToken)
            : PublicReceiver.ConnectAsync(context, cancellationToken);

    /// <summary>The addresses, de-duplicated, or the first problem naming the bad address.</summary>
    public static (IReadOnlyList<string> Addresses, string? Error) Recipients(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return ([], null);
        }

        if (text.Length > MaxRecipientsLength)
        {
            return ([], RecipientsTooLong);
        }

        var addresses = new List<string>();
        foreach (var part in text.Split([',', ';', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!IsPlainAddress(part))
            {
                return ([], $"\"{Shorten(part)}\" is not an e-mail address. Separate addresses with commas, e.g. finance@msp.example, ops@msp.example.");
            }

            if (!addresses.Contains(part, StringComparer.OrdinalIgnoreCase))
            {
                addresses.Add(part);
            }
        }

        return addresses.Count > MaxRecipients ? ([], TooManyRecipients) : (addresses, null);
    }

    /// <summary>The URL to store (null for none), or why it cannot be used.</summary>
    public static (Uri? Url, string? Error) WebhookUrl(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, null);
        }

        text = text.Trim();
        if (text.Length > Integration.UrlMaxLength)
        {
            return (null, UrlTooLong);
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || string.IsNullOrEmpty(url.Host))
        {
            return (null, UrlNotAbsolute);
        }

        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            return (null, UrlHasCredentials);
        }

        var host = url.IdnHost.TrimEnd('.');
        if (IsLoopbackHost(host))
        {
            return (url, null);
        }

        var literal = IPAddress.TryParse(host.Trim('[', ']'), out var ip) ? ip : null;

        if (url.Scheme != Uri.UriSchemeHttps)
        {
            return (null, UrlNotHttps);
        }

        if (literal is not null)
        {
            return PublicReceiver.IsAllowed(literal) ? (url, null) : (null, UrlPrivate);
        }

        if (!host.Contains('.') || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || InternalSuffixes.Any(s => host.EndsWith(s, StringComparison.OrdinalIgnoreCase)))
        {
            return (null, UrlNotPublicName);
        }

        return (url, null);
    }

    /// <summary>Null when a secret a person typed may be used.</summary>
    public static string? Secret(string secret)
    {
        if (secret.Length is < MinSecretLength or > MaxSecretLength)
        {
            return SecretLength;
        }

        return secret.All(c => c is > ' ' and <= '~') ? null : SecretCharacters;
    }

    /// <summary>A new random signing secret: 32 bytes, hex, with a prefix that says what it is.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>Scheme, host and port only: webhook paths often carry a token of their own, so audit lines leave them out.</summary>
    public static string Origin(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var parsed) ? parsed.GetLeftPart(UriPartial.Authority) : "(unreadable URL)";

    private static bool IsLoopbackHost(string host)
    {
        host = host.TrimEnd('.');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }

    private static bool IsPlainAddress(string text) =>
        text.Length <= MaxAddressLength
        && MailAddress.TryCreate(text, out var address)
        && address.Address == text
        && string.IsNullOrEmpty(address.DisplayName)
        && address.Host.Contains('.')
        && !address.Host.StartsWith('.')
        && !address.Host.EndsWith('.')
        && !address.Host.StartsWith('[')
        && text.All(c => c is > ' ' and <= '~');

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..79] + "…";
}
