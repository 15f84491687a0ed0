using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.SystemLogs;
using SmtpServer.Protocol;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// The failure notifier against real receivers: a real SMTP server and a webhook receiver on Kestrel that checks the
/// signature with its own HMAC code. The portal runs on SQLite; the run and its failed rows are handed to the sender
/// the way the billing engine hands them over.
/// </summary>
public sealed class NotificationSenderTests : IAsyncLifetime
{
    private const string Secret = "receiver-shared-secret-0123456789";
    private const string PublicUrl = "https://psaportal.msp.example";

    private SmtpReceiver _smtp = null!;
    private WebhookReceiver _webhook = null!;
    private PortalFactory _factory = null!;
    private Guid _organizationId;
    private Guid _integrationId;

    public async Task InitializeAsync()
    {
        _smtp = await SmtpReceiver.StartAsync();
        _webhook = await WebhookReceiver.StartAsync(Secret);
        _factory = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?>
        {
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = _smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smtp:EnableSsl"] = "false",
            ["Smtp:From"] = "psaportal@msp.example",
            ["Smtp:TimeoutSeconds"] = "10",
            ["Portal:PublicUrl"] = PublicUrl,
            ["BillingNotifications:WebhookRetryDelay"] = "00:00:00.100",
            ["BillingNotifications:WebhookAttemptTimeout"] = "00:00:05",
        });
        _organizationId = await _factory.AddOrganizationAsync("Northwind MSP");
        await using var db = await _factory.CreateDbContextAsync();
        var integration = new Integration { OrganizationId = _organizationId, Vendor = PsaVendor.ConnectWise, Status = IntegrationStatus.Connected, UpdatedAt = DateTimeOffset.UtcNow };
        db.Integrations.Add(integration);
        await db.SaveChangesAsync();
        _integrationId = integration.Id;
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _webhook.DisposeAsync();
        await _smtp.DisposeAsync();
    }

    private BillingNotificationSender Sender => _factory.Services.GetRequiredService<BillingNotificationSender>();

    private BillingNotificationService Settings => _factory.Services.GetRequiredService<BillingNotificationService>();

    [Fact]
    public async Task NotifyAsync_RunWithFailures_EmailsEveryRecipientTheFailedTenantsAndTheirMessages()
    {
        await SaveAsync("finance@msp.example, Ops@msp.example", webhookUrl: null);
        var (run, failed) = Run(failures: 3);

        await _factory.Services.GetRequiredService<IBillingFailureNotifier>().NotifyAsync(run, failed);

        var mail = await _smtp.NextAsync();
        Assert.Equal(["finance@msp.example", "Ops@msp.example"], mail.EnvelopeTo);
        Assert.Equal(["finance@msp.example", "Ops@msp.example"], mail.Message.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("psaportal@msp.example", mail.Message.From.Mailboxes.Single().Address);
        Assert.Equal("PsaPortal: billing sync for ConnectWise finished with 3 failures", mail.Message.Subject);
        foreach (var item in failed)
        {
            Assert.Contains($"- {item.TenantName} · {item.VendorProductName} (company {item.CompanyName}, agreement {item.AgreementName}): {item.Message}", mail.Text);
            Assert.Contains(System.Net.WebUtility.HtmlEncode(item.Message!), mail.Html);
        }

        Assert.Contains($"Open the run: {PublicUrl}/billing/runs/{run.Id}", mail.Text);
        Assert.Contains($"href=\"{PublicUrl}/billing/runs/{run.Id}\"", mail.Html);
        Assert.Contains("Rows: 10 in all: 7 synced, 0 unchanged, 3 failed", mail.Text);
        // A tenant name with markup arrives encoded in the HTML part.
        Assert.Contains("Tenant &lt;3&gt; &amp; Co", mail.Html);
        Assert.DoesNotContain("Tenant <3> & Co", mail.Html);

        Assert.Contains(await SystemLogAsync(), e => e.Operation == BillingNotificationSender.JobName && e.Level == LogLevelName.Information
            && e.Message == $"E-mail sent to finance@msp.example, Ops@msp.example through 127.0.0.1:{_smtp.Port}.");
        Assert.Contains(await AuditAsync(), e => e.Action == "Billing failure notification sent" && e.ActorName == "PsaPortal"
            && e.Details!.StartsWith("E-mail sent to finance@msp.example", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NotifyAsync_MoreThan200Failures_EmailListsTheFirst200AndCountsTheRest_WebhookCarriesAll()
    {
        await SaveAsync("finance@msp.example", _webhook.Url);
        var (run, failed) = Run(failures: 205);

        await Sender.NotifyAsync(run, failed);

        var mail = await _smtp.NextAsync();
        Assert.Equal("PsaPortal: billing sync for ConnectWise finished with 205 failures", mail.Message.Subject);
        Assert.Contains("Tenant 200 ", mail.Text);
        Assert.DoesNotContain("Tenant 201 ", mail.Text);
        Assert.Contains("…and 5 more (the run page lists every row).", mail.Text);
        Assert.Contains("…and 5 more", mail.Html);
        var hook = await _webhook.NextAsync();
        using var json = JsonDocument.Parse(hook.Body);
        Assert.Equal(205, json.RootElement.GetProperty("failures").GetArrayLength());
    }

    [Fact]
    public async Task NotifyAsync_Webhook_PostsSignedJsonTheReceiverVerifies()
    {
        await SaveAsync(null, _webhook.Url);
        var (run, failed) = Run(failures: 2);
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        await Sender.NotifyAsync(run, failed);

        var hook = await _webhook.NextAsync();
        Assert.True(hook.Verified, $"signature {hook.Signature} over timestamp {hook.Timestamp} did not verify");
        Assert.InRange(long.Parse(hook.Timestamp!, System.Globalization.CultureInfo.InvariantCulture), before - 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Equal("billing.run.failed", hook.Event);
        Assert.Equal("/hook", hook.Path);
        var root = JsonDocument.Parse(hook.Body).RootElement;
        Assert.Equal("billing.run.failed", root.GetProperty("event").GetString());
        Assert.Equal(run.Id, root.GetProperty("runId").GetGuid());
        Assert.Equal(_integrationId, root.GetProperty("integrationId").GetGuid());
        Assert.Equal("ConnectWise", root.GetProperty("vendor").GetString());
        Assert.Equal("CompletedWithFailures", root.GetProperty("status").GetString());
        Assert.Equal((10, 10, 8, 0, 2), (root.GetProperty("counts").GetProperty("total").GetInt32(), root.GetProperty("counts").GetProperty("done").GetInt32(),
            root.GetProperty("counts").GetProperty("synced").GetInt32(), root.GetProperty("counts").GetProperty("unchanged").GetInt32(),
            root.GetProperty("counts").GetProperty("failed").GetInt32()));
        Assert.Equal(run.FinishedAt, root.GetProperty("occurredAt").GetDateTimeOffset());
        Assert.Equal($"{PublicUrl}/billing/runs/{run.Id}", root.GetProperty("url").GetString());
        var failures = root.GetProperty("failures").EnumerateArray().ToList();
        Assert.Equal(failed.Select(i => (i.TenantName, i.VendorProductName, i.CompanyName, i.AgreementName, i.Message)),
            failures.Select(f => (f.GetProperty("tenant").GetString()!, f.GetProperty("product").GetString()!, f.GetProperty("company").GetString(),
                f.GetProperty("agreement").GetString(), f.GetProperty("message").GetString())));
        Assert.Contains(await SystemLogAsync(), e => e.Message == $"Webhook delivered to {_webhook.BaseUrl}: HTTP 200 OK.");
        Assert.Single(_webhook.Received);
    }

    [Fact]
    public async Task NotifyAsync_ReceiverAnswers500Then200_RetriesTheSameDeliveryAndSucceeds()
    {
        await SaveAsync(null, _webhook.Url);
        _webhook.AnswerWith(500);
        var (run, failed) = Run(failures: 1);

        await Sender.NotifyAsync(run, failed);

        var first = await _webhook.NextAsync();
        var second = await _webhook.NextAsync();
        Assert.True(first.Verified && second.Verified);
        Assert.Equal(first.Delivery, second.Delivery);
        Assert.Equal(first.Body, second.Body);
        Assert.Contains(await SystemLogAsync(), e => e.Level == LogLevelName.Information
            && e.Message == $"Webhook delivered to {_webhook.BaseUrl}: HTTP 200 OK after 2 attempts.");
    }

    [Fact]
    public async Task NotifyAsync_ReceiverAlways503_GivesUpAfterThreeRetriesAndSaysSo()
    {
        await SaveAsync(null, _webhook.Url);
        _webhook.AnswerWith(503, 503, 503, 503, 503);
        var (run, failed) = Run(failures: 1);

        await Sender.NotifyAsync(run, failed);

        Assert.Equal(4, _webhook.Received.Count);
        Assert.Contains(await SystemLogAsync(), e => e.Level == LogLevelName.Warning
            && e.Message == $"Webhook not delivered to {_webhook.BaseUrl}: HTTP 503 Service Unavailable after 4 attempts.");
    }

    [Fact]
    public async Task NotifyAsync_FirstAttemptTimesOut_RetriesAndDelivers()
    {
        await SaveAsync(null, _webhook.Url);
        _webhook.AnswerAfter(TimeSpan.FromSeconds(30));
        var (run, failed) = Run(failures: 1);

        await Sender.NotifyAsync(run, failed);

        Assert.Equal(2, _webhook.Received.Count);
        Assert.Contains(await SystemLogAsync(), e => e.Level == LogLevelName.Information
            && e.Message == $"Webhook delivered to {_webhook.BaseUrl}: HTTP 200 OK after 2 attempts.");
    }

    [Fact]
    public async Task NotifyAsync_PortalSignsWithAnotherSecret_ReceiverRefusesAndNothingIsRetried()
    {
        await SaveAsync(null, _webhook.Url, secret: "not-the-receivers-secret-0000000");
        var (run, failed) = Run(failures: 1);

        await Sender.NotifyAsync(run, failed);

        var arrival = Assert.Single(_webhook.Received);
        Assert.False(arrival.Verified);
        Assert.False(WebhookReceiver.Verify(Secret, arrival.Timestamp, arrival.Body, arrival.Signature, DateTimeOffset.UtcNow));
        Assert.True(WebhookReceiver.Verify("not-the-receivers-secret-0000000", arrival.Timestamp, arrival.Body, arrival.Signature, DateTimeOffset.UtcNow));
        // A replayed request outside the window fails even with the right secret.
        Assert.False(WebhookReceiver.Verify("not-the-receivers-secret-0000000", arrival.Timestamp, arrival.Body, arrival.Signature, DateTimeOffset.UtcNow.AddMinutes(6)));
        Assert.Contains(await SystemLogAsync(), e => e.Level == LogLevelName.Warning
            && e.Message == $"Webhook not delivered to {_webhook.BaseUrl}: HTTP 401 Unauthorized.");
    }

    [Fact]
    public async Task NotifyAsync_RedirectToAnotherHost_IsNotFollowed()
    {
        await using var elsewhere = await WebhookReceiver.StartAsync(Secret);
        await SaveAsync(null, _webhook.Url);
        _webhook.RedirectTo(307, elsewhere.Url);
        var (run, failed) = Run(failures: 1);

        await Sender.NotifyAsync(run, failed);

        Assert.Single(_webhook.Received);
        Assert.Empty(elsewhere.Received);
        Assert.Contains(await SystemLogAsync(), e => e.Message ==
            $"Webhook not delivered to {_webhook.BaseUrl}: HTTP 307 Temporary Redirect, a redirect to {elsewhere.BaseUrl}. PsaPortal follows only 307 and 308 redirects on the same host; set the receiver's final address.");
    }

    [Fact]
    public async Task NotifyAsync_RedirectOnTheSameHost_IsFollowedWithTheSignedPost()
    {
        await SaveAsync(null, _webhook.Url);
        _webhook.RedirectTo(308, "/moved-hook");
        var (run, failed) = Run(failures: 1);

        await Sender.NotifyAsync(run, failed);

        Assert.Equal(["/hook", "/moved-hook"], _webhook.Received.Select(r => r.Path));
        Assert.All(_webhook.Received, r => Assert.True(r.Verified));
        Assert.Contains(await SystemLogAsync(), e => e.Message == $"Webhook delivered to {_webhook.BaseUrl}: HTTP 200 OK.");
    }

    [Fact]
    public async Task NotifyAsync_SmtpServerRefuses_RecordsItsExactWordsAndStillPostsTheWebhook()
    {
        await SaveAsync("finance@msp.example", _webhook.Url);
        _smtp.RefuseWith(SmtpReplyCode.TransactionFailed, "5.7.1 Relaying denied for psaportal@msp.example");
        var (run, failed) = Run(failures: 1);

        await Sender.NotifyAsync(run, failed);

        Assert.True((await _webhook.NextAsync()).Verified);
        var logged = await SystemLogAsync();
        var email = Assert.Single(logged, e => e.Message!.StartsWith("E-mail", StringComparison.Ordinal));
        Assert.Equal(LogLevelName.Warning, email.Level);
        Assert.StartsWith($"E-mail to finance@msp.example not sent through 127.0.0.1:{_smtp.Port}: ", email.Message);
        Assert.Contains("5.7.1 Relaying denied for psaportal@msp.example", email.Message);
        Assert.Contains("(SMTP status 554 TransactionFailed)", email.Message);
        Assert.Equal(0, _smtp.Count);
        Assert.Contains(await AuditAsync(), e => e.Action == "Billing failure notification sent" && e.Details!.Contains("5.7.1 Relaying denied", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NotifyAsync_PrivateUrlWrittenPastTheSettings_IsCheckedAgainAndNotCalled()
    {
        await SaveAsync(null, _webhook.Url);
        await using (var db = await _factory.CreateDbContextAsync())
        {
            await db.BillingNotificationSettings.ExecuteUpdateAsync(s => s.SetProperty(x => x.WebhookUrl, "https://10.255.255.1/hook"));
        }

        var (run, failed) = Run(failures: 1);

        await Sender.NotifyAsync(run, failed);

        Assert.Contains(await SystemLogAsync(), e => e.Level == LogLevelName.Warning
            && e.Message == $"Webhook to https://10.255.255.1 not sent: {BillingNotificationRules.UrlPrivate}");
        Assert.Empty(_webhook.Received);
    }

    [Fact]
    public async Task NotifyAsync_PreviewOrSucceededRun_SendsNothing()
    {
        await SaveAsync("finance@msp.example", _webhook.Url);
        var (preview, failed) = Run(failures: 1);
        preview.Mode = BillingRunMode.Preview;
        var (succeeded, _) = Run(failures: 0);
        succeeded.Status = BillingRunStatus.Succeeded;

        await Sender.NotifyAsync(preview, failed);
        await Sender.NotifyAsync(succeeded, []);

        Assert.Empty(_webhook.Received);
        Assert.Equal(0, _smtp.Count);
    }

    [Fact]
    public async Task SendTest_Editor_SendsASampleAndReportsEachChannelsExactOutcome()
    {
        await SaveAsync("finance@msp.example", _webhook.Url);
        _webhook.AnswerWith(503, 503, 503, 503);

        var result = await Settings.SendTestAsync(UserIn(PortalRoles.FullMember), PsaVendor.ConnectWise);

        Assert.False(result.Succeeded);
        Assert.Equal($"E-mail sent to finance@msp.example through 127.0.0.1:{_smtp.Port}. " +
                     $"Webhook not delivered to {_webhook.BaseUrl}: HTTP 503 Service Unavailable after 4 attempts.", result.Message);
        var mail = await _smtp.NextAsync();
        Assert.Equal("[Test] PsaPortal: billing sync for ConnectWise finished with 2 failures", mail.Message.Subject);
        Assert.Contains("Multiple agreements contain the mapped product for this company.", mail.Text);
        Assert.True(JsonDocument.Parse(_webhook.Received.First().Body).RootElement.GetProperty("test").GetBoolean());
        Assert.Contains(await AuditAsync(), e => e.Action == "Billing notification test sent" && e.ActorName == "fullmember@northwind.example");

        _webhook.AnswerWith(204);
        var again = await Settings.SendTestAsync(UserIn(PortalRoles.Admin), PsaVendor.ConnectWise);
        Assert.True(again.Succeeded, again.Message);
        Assert.EndsWith($"Webhook delivered to {_webhook.BaseUrl}: HTTP 204 No Content.", again.Message);
    }

    [Fact]
    public async Task SendTest_Sales_IsRefusedAndSendsNothing()
    {
        await SaveAsync("finance@msp.example", _webhook.Url);

        var result = await Settings.SendTestAsync(UserIn(PortalRoles.Sales), PsaVendor.ConnectWise);

        Assert.Equal((false, BillingNotificationService.TestEditorsOnly), (result.Succeeded, result.Message));
        Assert.Empty(_webhook.Received);
        Assert.Equal(0, _smtp.Count);
    }

    [Fact]
    public void Content_WithoutPublicUrl_OmitsTheLinkAndSaysWhy()
    {
        var (run, failed) = Run(failures: 1);
        run.Vendor = PsaVendor.Autotask;

        var content = new BillingNotificationContent(run, failed, publicUrl: null, DateTimeOffset.UtcNow);

        Assert.Contains("Link: " + BillingNotificationContent.NoLink, content.Text());
        Assert.DoesNotContain("/billing/runs/", content.Text() + content.Html() + content.WebhookJson());
        Assert.Contains("(company Company 1, contract Contract 1)", content.Text());
        Assert.Equal("PsaPortal: billing sync for Autotask finished with 1 failure", content.Subject);
    }

    // ---------------------------------------------------------------- helpers

    private async Task SaveAsync(string? recipients, string? webhookUrl, string secret = Secret)
    {
        var saved = await Settings.SaveAsync(UserIn(PortalRoles.Admin), PsaVendor.ConnectWise, new BillingNotificationInput
        {
            EmailRecipients = recipients,
            WebhookUrl = webhookUrl,
            Secret = webhookUrl is null ? WebhookSecretChange.Keep : WebhookSecretChange.Enter,
            EnteredSecret = webhookUrl is null ? null : secret,
        });
        Assert.True(saved.Succeeded, saved.Message);
    }

    private (BillingRun Run, IReadOnlyList<BillingRunItem> Failed) Run(int failures)
    {
        var finished = DateTimeOffset.UtcNow.AddSeconds(-5);
        var run = new BillingRun
        {
            OrganizationId = _organizationId, IntegrationId = _integrationId, Vendor = PsaVendor.ConnectWise, Mode = BillingRunMode.Apply,
            Trigger = BillingRunTrigger.Scheduled, RequestedBy = "Schedule: Daily at 00:00 UTC", Status = BillingRunStatus.CompletedWithFailures,
            CreatedAt = finished.AddMinutes(-1), StartedAt = finished.AddMinutes(-1), FinishedAt = new DateTimeOffset(finished.Ticks - finished.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero),
            Total = Math.Max(10, failures), Done = Math.Max(10, failures), Synced = Math.Max(10, failures) - failures, Failed = failures,
        };
        var items = Enumerable.Range(1, failures).Select(n => new BillingRunItem
        {
            RunId = run.Id, TenantId = n, TenantName = n == 3 ? "Tenant <3> & Co" : $"Tenant {n} ", VendorProductName = "Endpoint Detection & Response",
            CompanyName = $"Company {n}", AgreementName = $"{(n % 2 == 0 ? "Agreement" : "Contract")} {n}", Outcome = BillingOutcome.Failed,
            Message = n % 2 == 0
                ? "Multiple agreements contain the mapped product for this company. Only one agreement per company should have the product. Resolve in ConnectWise."
                : $"ConnectWise refused the change for tenant {n}: agreement is cancelled.",
        }).ToList();
        return (run, items);
    }

    private ClaimsPrincipal UserIn(string role) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, $"test-{role}"),
            new Claim(ClaimTypes.Name, $"{role.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()}@northwind.example"),
            new Claim(ClaimTypes.Role, role),
            new Claim(PortalClaims.OrganizationId, _organizationId.ToString()),
        ],
        "Test"));

    private async Task<List<SystemLogEntry>> SystemLogAsync()
    {
        await _factory.Services.GetRequiredService<SystemLogWriter>().FlushAsync();
        await using var db = await _factory.CreateDbContextAsync();
        return await db.SystemLog.Where(e => e.OrganizationId == _organizationId).ToListAsync();
    }

    private async Task<List<AuditEntry>> AuditAsync() =>
        [.. (await _factory.Services.GetRequiredService<AuditLog>().QueryOrganizationAsync(_organizationId, 0, 100)).Items];
}
