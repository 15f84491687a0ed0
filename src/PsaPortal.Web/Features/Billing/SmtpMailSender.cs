using System.Net;
using System.Net.Mail;
using System.Net.Mime;
using System.Text;
using Microsoft.Extensions.Options;

namespace PsaPortal.Web.Features.Billing;

/// <summary>How handing one message to the mail server went, in words for System Logs and the audit trail.</summary>
public sealed record MailDelivery(bool Delivered, string Message);

/// <summary>
/// The portal's one SMTP client, shared by every failure notification (billing runs, invoice exports): sends a plain
/// text message with an HTML alternative through the <c>Smtp:*</c> server. Never throws for a delivery problem; the
/// result says what happened, naming the server and the recipients, so callers can log it without losing their work.
/// </summary>
public sealed class SmtpMailSender(IOptions<SmtpOptions> options, TimeProvider time)
{
    /// <summary>Whether <c>Smtp:Host</c> is set at all.</summary>
    public bool Enabled => options.Value.Enabled;

    public async Task<MailDelivery> SendAsync(IReadOnlyList<string> recipients, string subject, string text, string? html, CancellationToken cancellationToken = default)
    {
        var smtp = options.Value;
        var to = string.Join(", ", recipients);
        if (recipients.Count == 0)
        {
            return new(false, "E-mail not sent: there is no recipient.");
        }

        if (!smtp.Enabled)
        {
            return new(false, $"E-mail to {to} not sent: e-mail is off because Smtp:Host is not set in PsaPortal's configuration.");
        }

        if (smtp.Problem() is { } problem)
        {
            return new(false, $"E-mail to {to} not sent: {problem}");
        }

        var server = $"{smtp.Host}:{smtp.Port}";
        using var message = new MailMessage
        {
            From = new MailAddress(smtp.From!, "PsaPortal"),
            Subject = subject,
            SubjectEncoding = Encoding.UTF8,
            Body = text,
            BodyEncoding = Encoding.UTF8,
            IsBodyHtml = false,
        };
        try
        {
            foreach (var recipient in recipients)
            {
                message.To.Add(recipient);
            }
        }
        catch (FormatException exception)
        {
            return new(false, $"E-mail to {to} not sent: {exception.Message}");
        }

        if (html is not null)
        {
            message.AlternateViews.Add(AlternateView.CreateAlternateViewFromString(html, Encoding.UTF8, MediaTypeNames.Text.Html));
        }

        using var client = new SmtpClient(smtp.Host, smtp.Port)
        {
            EnableSsl = smtp.EnableSsl,
            DeliveryMethod = SmtpDeliveryMethod.Network,
            Credentials = string.IsNullOrEmpty(smtp.UserName) ? null : new NetworkCredential(smtp.UserName, smtp.Password),
            Timeout = smtp.TimeoutSeconds * 1000,
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(smtp.TimeoutSeconds), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await client.SendMailAsync(message, linked.Token);
            return new(true, $"E-mail sent to {to} through {server}.");
        }
        catch (SmtpFailedRecipientsException exception)
        {
            var refused = exception.InnerExceptions.Length > 0
                ? string.Join("; ", exception.InnerExceptions.Select(e => $"{e.FailedRecipient}: {e.Message}"))
                : $"{exception.FailedRecipient}: {exception.Message}";
            return new(false, $"E-mail not sent: {server} refused recipients — {refused}");
        }
        catch (SmtpException exception)
        {
            var detail = exception.InnerException is { } inner && !exception.Message.Contains(inner.Message, StringComparison.Ordinal)
                ? $"{exception.Message} {inner.Message}"
                : exception.Message;
            return new(false, $"E-mail to {to} not sent through {server}: {detail} (SMTP status {(int)exception.StatusCode} {exception.StatusCode}).");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new(false, $"E-mail to {to} not sent: {server} did not take the message within {smtp.TimeoutSeconds} s.");
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or FormatException)
        {
            return new(false, $"E-mail to {to} not sent through {server}: {exception.Message}");
        }
    }
}
