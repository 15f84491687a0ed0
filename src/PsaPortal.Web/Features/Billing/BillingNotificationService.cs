using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Web.Features.Billing;

/// <summary>An integration's failure notification settings as the panel shows them; the webhook secret is never in it.</summary>
public sealed record BillingNotificationView(
    Guid IntegrationId,
    PsaVendor Vendor,
    string EmailRecipients,
    string WebhookUrl,
    bool HasWebhookSecret,
    bool EmailEnabled,
    bool CanEdit,
    DateTimeOffset? UpdatedAt,
    string? UpdatedBy);

/// <summary>What Save does with the webhook's signing secret.</summary>
public enum WebhookSecretChange
{
    /// <summary>Keep the stored one (a new webhook gets a generated one).</summary>
    Keep,

    /// <summary>Replace it with a new random one, shown once.</summary>
    Generate,

    /// <summary>Use the one typed in <see cref="BillingNotificationInput.EnteredSecret"/>.</summary>
    Enter,
}

/// <summary>The panel's form.</summary>
public sealed class BillingNotificationInput
{
    public string? EmailRecipients { get; set; }

    public string? WebhookUrl { get; set; }

    public WebhookSecretChange Secret { get; set; }

    public string? EnteredSecret { get; set; }
}

/// <summary>The outcome of Save or Send test; <see cref="RevealedSecret"/> is set once, when a secret was generated.</summary>
public sealed record BillingNotificationResult(bool Succeeded, string Message, string? RevealedSecret = null)
{
    public static BillingNotificationResult Failed(string message) => new(false, message);
}

/// <summary>
/// Reads and saves who hears about failed billing runs, per integration, and sends a sample notification on request.
/// Admins and Full Members change them; Sales users read them. Every change is audited; the webhook secret is stored
/// only as Data Protection ciphertext and leaves the server only in the one answer that generated it.
/// </summary>
public sealed class BillingNotificationService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IntegrationSecrets secrets,
    BillingNotificationSender sender,
    IOptions<SmtpOptions> smtp,
    IOptions<BillingNotificationOptions> options,
    AuditLog audit,
    TimeProvider time)
{
    public const string EditorsOnly = "Sales users cannot change billing notifications.";
    public const string TestEditorsOnly = "Sales users cannot send test notifications.";
    public const string NothingToTest = "Nothing to test: add e-mail recipients or a webhook URL and save them first.";
    public const string SecretNeedsWebhook = "A webhook secret needs a webhook URL: enter the URL too, or leave the secret empty.";

    public async Task<BillingNotificationView?> GetAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default)
    {
        var organizationId = user.GetOrganizationId() ?? Guid.Empty;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integrationId = await IntegrationIdAsync(db, organizationId, vendor, cancellationToken);
        if (integrationId is null)
        {
            return null;
        }

        var settings = await db.BillingNotificationSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integrationId, cancellationToken);
        return new BillingNotificationView(integrationId.Value, vendor, settings?.EmailRecipients ?? "", settings?.WebhookUrl ?? "",
            settings?.ProtectedWebhookSecret is not null, smtp.Value.Enabled, IsEditor(user), settings?.UpdatedAt, settings?.UpdatedBy);
    }

    public async Task<BillingNotificationResult> SaveAsync(ClaimsPrincipal user, PsaVendor vendor, BillingNotificationInput input, CancellationToken cancellationToken = default)
    {
        if (!IsEditor(user))
        {
            return BillingNotificationResult.Failed(EditorsOnly);
        }

        var (recipients, recipientsError) = BillingNotificationRules.Recipients(input.EmailRecipients);
        if (recipientsError is not null)
        {
            return BillingNotificationResult.Failed(recipientsError);
        }

        var (url, urlError) = BillingNotificationRules.WebhookUrl(input.WebhookUrl);
        if (urlError is not null)
        {
            return BillingNotificationResult.Failed(urlError);
        }

        var entered = input.Secret == WebhookSecretChange.Enter ? input.EnteredSecret ?? "" : null;
        if (entered is not null)
        {
            if (url is null)
            {
                return BillingNotificationResult.Failed(SecretNeedsWebhook);
            }

            if (BillingNotificationRules.Secret(entered) is { } secretError)
            {
                return BillingNotificationResult.Failed(secretError);
            }
        }

        var (organizationId, actor) = (user.GetOrganizationId() ?? Guid.Empty, Actor.From(user));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integrationId = await IntegrationIdAsync(db, organizationId, vendor, cancellationToken);
        if (integrationId is null)
        {
            return BillingNotificationResult.Failed($"{vendor.DisplayName()} is not linked.");
        }

        var settings = await db.BillingNotificationSettings.SingleOrDefaultAsync(s => s.IntegrationId == integrationId, cancellationToken);
        if (settings is null)
        {
            settings = new BillingNotificationSettings { IntegrationId = integrationId.Value };
            db.BillingNotificationSettings.Add(settings);
        }

        var recipientsText = recipients.Count == 0 ? null : string.Join(", ", recipients);
        var urlText = url?.OriginalString.Trim();
        string? revealed = null;
        string secretChange;
        if (url is null)
        {
            secretChange = settings.ProtectedWebhookSecret is null ? "" : "secret removed";
            settings.ProtectedWebhookSecret = null;
        }
        else if (entered is not null)
        {
            settings.ProtectedWebhookSecret = secrets.Protect(entered);
            secretChange = "secret replaced with one typed in";
        }
        else if (input.Secret == WebhookSecretChange.Generate || settings.ProtectedWebhookSecret is null)
        {
            secretChange = settings.ProtectedWebhookSecret is null ? "secret generated" : "secret replaced with a generated one";
            revealed = BillingNotificationRules.NewSecret();
            settings.ProtectedWebhookSecret = secrets.Protect(revealed);
        }
        else
        {
            secretChange = "";
        }

        var changed = settings.EmailRecipients != recipientsText || settings.WebhookUrl != urlText || secretChange.Length > 0;
        if (!changed)
        {
            return new BillingNotificationResult(true, "Nothing changed.");
        }

        (settings.EmailRecipients, settings.WebhookUrl) = (recipientsText, urlText);
        (settings.UpdatedAt, settings.UpdatedBy) = (time.GetUtcNow(), actor.Name);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return BillingNotificationResult.Failed("These settings were saved by someone else at the same moment. Reload the page and save again.");
        }

        var described = $"E-mail: {recipientsText ?? "none"}; webhook: {(urlText is null ? "none" : BillingNotificationRules.Origin(urlText))}" +
                        (secretChange.Length > 0 ? $" ({secretChange})" : "");
        await audit.RecordAsync(organizationId, actor, "Billing notifications changed", vendor.DisplayName(), described, cancellationToken);
        return revealed is null
            ? new BillingNotificationResult(true, "Failure notifications saved.")
            : new BillingNotificationResult(true, "Failure notifications saved. A new webhook signing secret was generated: copy it into your receiver now, it is shown only this once.", revealed);
    }

    /// <summary>Sends a sample failed run to the saved recipients and webhook; the message says exactly how each went.</summary>
    public async Task<BillingNotificationResult> SendTestAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default)
    {
        if (!IsEditor(user))
        {
            return BillingNotificationResult.Failed(TestEditorsOnly);
        }

        var (organizationId, actor) = (user.GetOrganizationId() ?? Guid.Empty, Actor.From(user));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integrationId = await IntegrationIdAsync(db, organizationId, vendor, cancellationToken);
        if (integrationId is null)
        {
            return BillingNotificationResult.Failed($"{vendor.DisplayName()} is not linked.");
        }

        var settings = await db.BillingNotificationSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integrationId, cancellationToken);
        if (settings is null || (string.IsNullOrWhiteSpace(settings.EmailRecipients) && string.IsNullOrWhiteSpace(settings.WebhookUrl)))
        {
            return BillingNotificationResult.Failed(NothingToTest);
        }

        var (run, failed) = SampleRun(organizationId, integrationId.Value, vendor, actor.Name);
        var content = new BillingNotificationContent(run, failed, options.Value.PublicUrl, time.GetUtcNow(), test: true);
        var deliveries = await sender.DeliverAsync(organizationId, vendor, settings, content, cancellationToken);
        var message = string.Join(" ", deliveries.Select(d => d.Message));
        await audit.RecordAsync(organizationId, actor, "Billing notification test sent", vendor.DisplayName(), message, cancellationToken);
        return new BillingNotificationResult(deliveries.All(d => d.Delivered), message);
    }

    /// <summary>A made-up run with two failures worded as real ones are, so the receiver sees the real shape.</summary>
    internal (BillingRun Run, IReadOnlyList<BillingRunItem> Failed) SampleRun(Guid organizationId, Guid integrationId, PsaVendor vendor, string requestedBy)
    {
        var now = time.GetUtcNow();
        var run = new BillingRun
        {
            OrganizationId = organizationId, IntegrationId = integrationId, Vendor = vendor, Mode = BillingRunMode.Apply, Trigger = BillingRunTrigger.Manual,
            RequestedBy = requestedBy, Status = BillingRunStatus.CompletedWithFailures, CreatedAt = now, StartedAt = now, FinishedAt = now,
            Total = 3, Done = 3, Synced = 1, Failed = 2,
        };
        var start = DateOnly.FromDateTime(now.UtcDateTime).AddMonths(1);
        BillingRunItem[] failed = vendor == PsaVendor.Autotask
            ?
            [
                Sample(run, "Sample Tenant A", "Endpoint Detection & Response", "Sample Company A", "Managed Services - Sample Company A",
                    $"Contract \"Managed Services - Sample Company A\" has a start date of {start:yyyy-MM-dd}, which is in the future. Billing cannot be synced until the contract period has begun — update the contract start date in Autotask or wait until the contract is active."),
                Sample(run, "Sample Tenant B", "DNS Filtering", "Sample Company B", "Managed Services - Sample Company B",
                    "Duplicate service found — the mapped Autotask Service appears 2 times on this contract. Remove the duplicate in Autotask by deleting it (if not yet invoiced) or setting its units to 0 with a past-dated removal, then retry."),
            ]
            :
            [
                Sample(run, "Sample Tenant A", "Endpoint Detection & Response", "Sample Company A", "Managed Services",
                    "Multiple agreements contain the mapped product for this company. Only one agreement per company should have the product. Resolve in ConnectWise."),
                Sample(run, "Sample Tenant B", "DNS Filtering", "Sample Company B", "Security Bundle",
                    "ConnectWise refused the change: the agreement is cancelled."),
            ];
        return (run, failed);
    }

    private static BillingRunItem Sample(BillingRun run, string tenant, string product, string company, string agreement, string message) => new()
    {
        RunId = run.Id, TenantName = tenant, VendorProductName = product, CompanyName = company, AgreementName = agreement,
        Outcome = BillingOutcome.Failed, Message = message,
    };

    private static bool IsEditor(ClaimsPrincipal user) =>
        user.GetOrganizationId() is not null && user.IsEditor();

    private static Task<Guid?> IntegrationIdAsync(PortalDbContext db, Guid organizationId, PsaVendor vendor, CancellationToken cancellationToken) =>
        db.Integrations.Where(i => i.OrganizationId == organizationId && i.Vendor == vendor).Select(i => (Guid?)i.Id).SingleOrDefaultAsync(cancellationToken);
}
