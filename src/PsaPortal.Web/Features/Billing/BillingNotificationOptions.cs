using System.Net.Mail;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// The <c>Smtp</c> configuration section: the mail server billing failure e-mails go through. E-mail is off until
/// <see cref="Host"/> is set, so a portal without a mail server never tries to send one.
/// </summary>
public sealed class SmtpOptions
{
    public const string SectionName = "Smtp";

    /// <summary>The SMTP server's host name; empty turns e-mail off.</summary>
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    /// <summary>STARTTLS before anything else is sent (the server must offer it).</summary>
    public bool EnableSsl { get; set; } = true;

    /// <summary>With <see cref="Password"/>, the account the portal signs in with; empty sends without signing in.</summary>
    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>The sender address, e.g. <c>psaportal@msp.example</c>; required once <see cref="Host"/> is set.</summary>
    public string? From { get; set; }

    /// <summary>How long one message may take to hand over before it counts as failed.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);

    /// <summary>What is wrong with the section, with the setting's name and the fix; null when it is usable.</summary>
    public string? Problem()
    {
        if (!Enabled)
        {
            return null;
        }

        if (Port is < 1 or > 65535)
        {
            return "Smtp:Port must be between 1 and 65535 (587 for submission with STARTTLS, 25 for plain relay).";
        }

        if (TimeoutSeconds is < 1 or > 300)
        {
            return "Smtp:TimeoutSeconds must be between 1 and 300.";
        }

        if (string.IsNullOrWhiteSpace(From) || !MailAddress.TryCreate(From, out _))
        {
            return "Smtp:From must be the sender's e-mail address (e.g. psaportal@msp.example) when Smtp:Host is set.";
        }

        if (string.IsNullOrEmpty(UserName) != string.IsNullOrEmpty(Password))
        {
            return "Smtp:UserName and Smtp:Password go together: set both to sign in to the mail server, or neither.";
        }

        return null;
    }
}

/// <summary>
/// How failure notifications reach their receivers. <see cref="PublicUrl"/> comes from <c>Portal:PublicUrl</c>; the
/// webhook figures are fixed defaults that tests shorten.
/// </summary>
public sealed class BillingNotificationOptions
{
    /// <summary>The address people open the portal at (e.g. https://psaportal.msp.example), for links in e-mails; null omits the link.</summary>
    public Uri? PublicUrl { get; set; }

    /// <summary>How long one webhook attempt may take.</summary>
    public TimeSpan WebhookAttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries after the first attempt, on a 5xx, 408, 429, a timeout or a connection failure.</summary>
    public int WebhookRetries { get; set; } = 3;

    /// <summary>The first retry's delay; each next one doubles (with jitter).</summary>
    public TimeSpan WebhookRetryDelay { get; set; } = TimeSpan.FromSeconds(2);
}
