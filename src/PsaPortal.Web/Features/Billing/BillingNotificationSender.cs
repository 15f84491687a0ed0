using System.Net;
using System.Net.Mime;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.SystemLogs;

namespace PsaPortal.Web.Features.Billing;

/// <summary>How one channel of one notification went, in words for the person who reads System Logs or presses Send test.</summary>
public sealed record BillingNotificationDelivery(string Channel, bool Delivered, string Message);

/// <summary>
/// Sends a billing run's failures to the integration's chosen contacts: an e-mail through the configured SMTP server
/// and a JSON POST signed with HMAC-SHA256. A delivery problem never reaches the billing run: it is logged, written to
/// System Logs and the audit trail, and the run goes on as it was.
/// </summary>
public sealed class BillingNotificationSender(
    IDbContextFactory<PortalDbContext> dbFactory,
    IntegrationSecrets secrets,
    SmtpMailSender mail,
    IOptions<BillingNotificationOptions> notificationOptions,
    IJobLog jobLog,
    AuditLog audit,
    TimeProvider time,
    ILogger<BillingNotificationSender> logger) : IBillingFailureNotifier, IDisposable
{
    public const string JobName = "Billing notification";
    public const string TimestampHeader = "X-PsaPortal-Timestamp";
    public const string SignatureHeader = "X-PsaPortal-Signature";
    public const string EventHeader = "X-PsaPortal-Event";
    public const string DeliveryHeader = "X-PsaPortal-Delivery";
    private const int MaxRedirects = 3;

    // Redirects are followed by hand (same origin, method kept), never by the handler; every connection goes through
    // the address policy, so a name that resolves to a private network is refused when it is dialled.
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        ConnectCallback = BillingNotificationRules.ConnectAsync,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        UseCookies = false,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private BillingNotificationOptions Options => notificationOptions.Value;

    public async Task NotifyAsync(BillingRun run, IReadOnlyList<BillingRunItem> failedItems, CancellationToken cancellationToken = default)
    {
        if (run.Mode != BillingRunMode.Apply || run.Status is not (BillingRunStatus.Failed or BillingRunStatus.CompletedWithFailures))
        {
            return;
        }

        try
        {
            var settings = await FindSettingsAsync(run.OrganizationId, run.IntegrationId, cancellationToken);
            if (settings is null || (string.IsNullOrWhiteSpace(settings.EmailRecipients) && string.IsNullOrWhiteSpace(settings.WebhookUrl)))
            {
                return;
            }

            var content = new BillingNotificationContent(run, failedItems, Options.PublicUrl, time.GetUtcNow());
            var deliveries = await DeliverAsync(run.OrganizationId, run.Vendor, settings, content, cancellationToken);
            await audit.RecordAsync(run.OrganizationId, Actor.Portal, "Billing failure notification sent", $"{run.Vendor.DisplayName()} run {run.Id}",
                string.Join(" ", deliveries.Select(d => d.Message)), CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(exception, "Billing failure notification for run {RunId} could not be sent", run.Id);
            jobLog.Write(run.OrganizationId, run.Vendor, JobName, LogLevelName.Error, $"Failure notification for run {run.Id} could not be sent: {exception.Message}");
        }
    }

    /// <summary>
    /// Sends <paramref name="content"/> on every channel <paramref name="settings"/> turn on and writes each outcome to
    /// System Logs. Never throws for a delivery problem; each channel's result says what happened.
    /// </summary>
    public async Task<IReadOnlyList<BillingNotificationDelivery>> DeliverAsync(
        Guid organizationId, PsaVendor vendor, BillingNotificationSettings settings, BillingNotificationContent content, CancellationToken cancellationToken = default)
    {
        var deliveries = new List<BillingNotificationDelivery>();
        var (recipients, _) = BillingNotificationRules.Recipients(settings.EmailRecipients);
        if (recipients.Count > 0)
        {
            deliveries.Add(await SendEmailAsync(recipients, content, cancellationToken));
        }

        if (!string.IsNullOrWhiteSpace(settings.WebhookUrl))
        {
            deliveries.Add(await PostWebhookAsync(settings, content, cancellationToken));
        }

        foreach (var delivery in deliveries)
        {
            logger.Log(delivery.Delivered ? LogLevel.Information : LogLevel.Warning, "{Channel}: {Outcome}", delivery.Channel, delivery.Message);
            jobLog.Write(organizationId, vendor, JobName, delivery.Delivered ? LogLevelName.Information : LogLevelName.Warning, delivery.Message);
        }

        return deliveries;
    }

    /// <summary>HMAC-SHA256 of <c>{timestamp}.{body}</c> with the secret's UTF-8 bytes, as <c>sha256=&lt;lowercase hex&gt;</c>.</summary>
    public static string Signature(string secret, long timestamp, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    public void Dispose() => _http.Dispose();

    private async Task<BillingNotificationSettings?> FindSettingsAsync(Guid organizationId, Guid integrationId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.BillingNotificationSettings.AsNoTracking()
            .Where(s => s.IntegrationId == integrationId && db.Integrations.Any(i => i.Id == integrationId && i.OrganizationId == organizationId))
            .SingleOrDefaultAsync(cancellationToken);
    }

    private async Task<BillingNotificationDelivery> SendEmailAsync(IReadOnlyList<string> recipients, BillingNotificationContent content, CancellationToken cancellationToken)
    {
        var sent = await mail.SendAsync(recipients, content.Subject, content.Text(), content.Html(), cancellationToken);
        return new("E-mail", sent.Delivered, sent.Message);
    }

    private async Task<BillingNotificationDelivery> PostWebhookAsync(BillingNotificationSettings settings, BillingNotificationContent content, CancellationToken cancellationToken)
    {
        const string channel = "Webhook";
        var origin = BillingNotificationRules.Origin(settings.WebhookUrl!);
        var (url, error) = BillingNotificationRules.WebhookUrl(settings.WebhookUrl);
        if (url is null)
        {
            return new(channel, false, $"Webhook to {origin} not sent: {error}");
        }

        string secret;
        try
        {
            secret = settings.ProtectedWebhookSecret is { } stored
                ? secrets.Unprotect(stored)
                : throw new CryptographicException("no secret is stored");
        }
        catch (CryptographicException)
        {
            return new(channel, false, $"Webhook to {origin} not sent: its signing secret cannot be read (none is stored, or the Data Protection key ring changed). Generate a new secret in the notification settings.");
        }

        var body = content.WebhookJson();
        var delivery = Guid.NewGuid().ToString();
        var attempts = 0;
        var options = Options;
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(0, options.WebhookRetries),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.WebhookRetryDelay,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: HttpRequestException or TimeoutRejectedException or IOException } => true,
                    { Result: { } response } => IsTransient(response.StatusCode),
                    _ => false,
                }),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            })
            .AddTimeout(options.WebhookAttemptTimeout)
            .Build();
        try
        {
            using var response = await pipeline.ExecuteAsync(async token =>
            {
                attempts++;
                return await PostFollowingSameOriginAsync(url, body, secret, delivery, token);
            }, cancellationToken);
            var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase ?? response.StatusCode.ToString()}";
            var tries = attempts == 1 ? "" : $" after {attempts} attempts";
            if (response.IsSuccessStatusCode)
            {
                return new(channel, true, $"Webhook delivered to {origin}: {status}{tries}.");
            }

            if ((int)response.StatusCode is >= 300 and < 400)
            {
                var target = response.Headers.Location is { } location ? new Uri(url, location).GetLeftPart(UriPartial.Authority) : "nowhere";
                return new(channel, false, $"Webhook not delivered to {origin}: {status}, a redirect to {target}. PsaPortal follows only 307 and 308 redirects on the same host; set the receiver's final address.");
            }

            return new(channel, false, $"Webhook not delivered to {origin}: {status}{tries}.");
        }
        catch (TimeoutRejectedException)
        {
            return new(channel, false, $"Webhook not delivered to {origin}: no answer within {options.WebhookAttemptTimeout.TotalSeconds:0.#} s, {attempts} attempts.");
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            return new(channel, false, $"Webhook not delivered to {origin}: {exception.Message} ({Attempts(attempts)}).");
        }
    }

    private async Task<HttpResponseMessage> PostFollowingSameOriginAsync(Uri url, string body, string secret, string delivery, CancellationToken cancellationToken)
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, MediaTypeNames.Application.Json) };
            var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
            request.Headers.Add(TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(SignatureHeader, Signature(secret, timestamp, body));
            request.Headers.Add(EventHeader, BillingNotificationContent.EventName);
            request.Headers.Add(DeliveryHeader, delivery);
            request.Headers.UserAgent.ParseAdd("PsaPortal-Webhook/1.0");
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode is not (HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect)
                || response.Headers.Location is not { } location
                || hop >= MaxRedirects)
            {
                return response;
            }

            var next = new Uri(url, location);
            if (next.GetLeftPart(UriPartial.Authority) != url.GetLeftPart(UriPartial.Authority))
            {
                return response;
            }

            response.Dispose();
            url = next;
        }
    }

    private static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    private static string Attempts(int count) => count == 1 ? "1 attempt" : $"{count} attempts";
}
