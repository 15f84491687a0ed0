using System.Globalization;
using System.Text.Json;
using PsaPortal.Integrations;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.IntegrationTests.Reference;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// A real billing run, end to end: the portal on Kestrel with its sandbox, Autotask linked and mapped from the seed
/// (<see cref="BillingWorld"/>), Sync now; the hard-case tenants fail (the future-dated contract among them) and the
/// engine's notifier reaches a real webhook receiver and a real SMTP server.
/// </summary>
public sealed class NotificationRunTests : IAsyncLifetime
{
    private const string Secret = "run-test-shared-secret-0123456789";

    private SmtpReceiver _smtp = null!;
    private WebhookReceiver _webhook = null!;
    private SandboxPortal _portal = null!;

    public async Task InitializeAsync()
    {
        _smtp = await SmtpReceiver.StartAsync();
        _webhook = await WebhookReceiver.StartAsync(Secret);
        _portal = await SandboxPortal.StartAsync(new PortalDatabase.Sqlite(), new Dictionary<string, string?>
        {
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = _smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Smtp:EnableSsl"] = "false",
            ["Smtp:From"] = "psaportal@msp.example",
            ["Portal:PublicUrl"] = "https://psaportal.msp.example/",
        });
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        await _webhook.DisposeAsync();
        await _smtp.DisposeAsync();
    }

    [Fact]
    public async Task SyncNow_AutotaskRunWithFailingTenants_WebhookAndEmailListExactlyTheFailedRows()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.Autotask);
        var saved = await _portal.Get<BillingNotificationService>().SaveAsync(_portal.Admin, PsaVendor.Autotask, new BillingNotificationInput
        {
            EmailRecipients = "finance@msp.example", WebhookUrl = _webhook.Url, Secret = WebhookSecretChange.Enter, EnteredSecret = Secret,
        });
        Assert.True(saved.Succeeded, saved.Message);

        var started = await _portal.Get<IBillingRuns>().SyncNowAsync(_portal.Admin, PsaVendor.Autotask);
        Assert.True(started.Accepted, started.Message);
        var run = await world.WaitForEndAsync(started.RunId!.Value);
        var failedRows = (await world.RowsAsync(run.Id)).Where(r => r.Outcome == BillingOutcome.Failed).ToList();

        Assert.Equal(BillingRunStatus.CompletedWithFailures, run.Status);
        var futureTenant = world.TenantOf[world.Hard.FutureDatedContractCompany];
        var futureRows = failedRows.Where(r => r.TenantId == futureTenant).ToList();
        Assert.NotEmpty(futureRows);
        Assert.All(futureRows, r => Assert.Contains("which is in the future", r.Message, StringComparison.Ordinal));

        var hook = await _webhook.NextAsync(TimeSpan.FromSeconds(60));
        Assert.True(hook.Verified, "the receiver's own HMAC check failed");
        var root = JsonDocument.Parse(hook.Body).RootElement;
        Assert.Equal((run.Id, world.IntegrationId, "Autotask", "CompletedWithFailures"),
            (root.GetProperty("runId").GetGuid(), root.GetProperty("integrationId").GetGuid(), root.GetProperty("vendor").GetString(), root.GetProperty("status").GetString()));
        Assert.Equal(failedRows.Count, root.GetProperty("counts").GetProperty("failed").GetInt32());
        Assert.Equal($"https://psaportal.msp.example/billing/runs/{run.Id}", root.GetProperty("url").GetString());
        var expected = failedRows.Select(r => (r.TenantName, r.VendorProductName, r.CompanyName, r.AgreementName, r.Message)).OrderBy(x => x.TenantName).ThenBy(x => x.VendorProductName).ToList();
        var received = root.GetProperty("failures").EnumerateArray()
            .Select(f => (f.GetProperty("tenant").GetString()!, f.GetProperty("product").GetString()!, f.GetProperty("company").GetString(), f.GetProperty("agreement").GetString(), f.GetProperty("message").GetString()))
            .OrderBy(x => x.Item1).ThenBy(x => x.Item2).ToList();
        Assert.Equal(expected, received);
        Assert.Equal(futureRows.Count, received.Count(f => f.Item1 == futureRows[0].TenantName && f.Item5 == futureRows[0].Message));

        var mail = await _smtp.NextAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(["finance@msp.example"], mail.EnvelopeTo);
        Assert.Equal($"PsaPortal: billing sync for Autotask finished with {failedRows.Count} failures", mail.Message.Subject);
        Assert.All(failedRows, r => Assert.Contains($"- {r.TenantName} · {r.VendorProductName} (company {r.CompanyName}, contract {r.AgreementName}): {r.Message}", mail.Text));
        Assert.Single(_webhook.Received);
    }

    [Fact]
    public async Task ThePortalStopping_WhileTheNotificationIsOnItsWay_SaysItWasNotSent_InsteadOfAnError()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.Autotask);
        var saved = await _portal.Get<BillingNotificationService>().SaveAsync(_portal.Admin, PsaVendor.Autotask, new BillingNotificationInput
        {
            WebhookUrl = _webhook.Url, Secret = WebhookSecretChange.Enter, EnteredSecret = Secret,
        });
        Assert.True(saved.Succeeded, saved.Message);
        _webhook.AnswerAfter(TimeSpan.FromMinutes(5));

        var started = await _portal.Get<IBillingRuns>().SyncNowAsync(_portal.Admin, PsaVendor.Autotask);
        var run = await world.WaitForEndAsync(started.RunId!.Value);
        Assert.Equal(BillingRunStatus.CompletedWithFailures, run.Status);
        // The webhook is held by the receiver (its attempt timeout is 10 s): stop the portal while it waits.
        await Task.Delay(TimeSpan.FromSeconds(1));
        _portal.Get<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().StopApplication();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!_portal.Factory.LogLines.Any(l => l.Contains($"did not send for run {run.Id}: the portal was stopping", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, "no 'the portal was stopping' warning:\n" + string.Join("\n", _portal.Factory.LogLines.Where(l => l.Contains("notif", StringComparison.OrdinalIgnoreCase))));
            await Task.Delay(50);
        }

        var line = _portal.Factory.LogLines.First(l => l.Contains($"did not send for run {run.Id}", StringComparison.Ordinal));
        Assert.StartsWith("Warning ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(_portal.Factory.LogLines, l => l.StartsWith("Error ", StringComparison.Ordinal) && l.Contains("notifi", StringComparison.OrdinalIgnoreCase));
    }
}
