using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.SystemLogs;
using PsaPortal.Web.IntegrationTests.Billing;
using PsaPortal.Web.IntegrationTests.Reference;
using SmtpServer.Protocol;

namespace PsaPortal.Web.IntegrationTests.Invoices;

/// <summary>
/// The Export status page's service and the export failure e-mail, against the sandbox over real HTTP with a real SMTP
/// server (<see cref="SmtpReceiver"/>): the next export as Quartz will fire it, Start export now for editors only and
/// never beside a running export, an export log never shown to another organization, and the notification contacts
/// e-mailed on failure (with ConnectWise's own words and the log's link), not on success, a refused e-mail recorded in
/// the export's log and System Logs without touching the export's outcome.
/// </summary>
public sealed class InvoiceExportStatusTests : IAsyncLifetime
{
    private const string PublicUrl = "https://psaportal.msp.example/";
    private const string Contact = "finance@msp.example";

    // ConnectWise refuses an identifier over 75 characters; the platform allows 100.
    private static readonly string TooLongPartNumber = "LONG-" + new string('X', 80);

    private SmtpReceiver _smtp = null!;
    private SandboxPortal _portal = null!;

    public async Task InitializeAsync()
    {
        _smtp = await SmtpReceiver.StartAsync();
        _portal = await SandboxPortal.StartAsync(new PortalDatabase.Sqlite(), new Dictionary<string, string?>
        {
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = _smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Smtp:EnableSsl"] = "false",
            ["Smtp:From"] = "psaportal@msp.example",
            ["Portal:PublicUrl"] = PublicUrl,
        });
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        await _smtp.DisposeAsync();
    }

    private InvoiceExportRuns Exports => _portal.Get<InvoiceExportRuns>();

    [Fact]
    public async Task NextExport_IsTheQuartzTriggersNextFireTime_DailyMonthlyAndNone()
    {
        var integrationId = await LinkAsync();
        Assert.Equal(new NextExport(null, InvoiceExportRuns.NoAutomaticExport, null), await Exports.NextExportAsync(integrationId));

        await ConfigureAsync(InvoiceExportFrequency.Daily, timeOfDay: new TimeOnly(2, 0));
        var now = DateTimeOffset.UtcNow;
        var daily = await Exports.NextExportAsync(integrationId);
        var expectedDaily = new DateTimeOffset(now.UtcDateTime.Date.AddHours(2), TimeSpan.Zero);
        expectedDaily = expectedDaily > now ? expectedDaily : expectedDaily.AddDays(1);
        Assert.Equal((expectedDaily, "Daily at 02:00 UTC", (string?)null), (daily.AtUtc, daily.Schedule, daily.PausedReason));

        await ConfigureAsync(InvoiceExportFrequency.Monthly, dayOfMonth: 5, timeOfDay: new TimeOnly(3, 0));
        now = DateTimeOffset.UtcNow;
        var monthly = await Exports.NextExportAsync(integrationId);
        var thisMonth = new DateTimeOffset(now.Year, now.Month, 5, 3, 0, 0, TimeSpan.Zero);
        var expectedMonthly = thisMonth > now ? thisMonth : thisMonth.AddMonths(1);
        Assert.Equal((expectedMonthly, "Monthly on day 5 at 03:00 UTC"), (monthly.AtUtc, monthly.Schedule));
        Assert.Equal(monthly, (await Exports.GetStatusAsync(_portal.Admin))!.Next);

        await ConfigureAsync(InvoiceExportFrequency.None);
        Assert.Null((await Exports.NextExportAsync(integrationId)).AtUtc);
    }

    [Fact]
    public async Task StartNow_Editor_RunsTheExportToTheEnd_AndTheStatusShowsItsStatistics()
    {
        Assert.Equal(InvoiceExportRuns.NotLinked, (await Exports.StartNowAsync(_portal.Admin)).Message);
        var integrationId = await LinkAsync();
        Assert.Equal(InvoiceExportRuns.ChooseAgreementType, (await Exports.StartNowAsync(_portal.Admin)).Message);
        await ConfigureAsync(InvoiceExportFrequency.None);
        await SeedProductsAsync(integrationId, withTooLong: false);

        var started = await Exports.StartNowAsync(_portal.UserIn(PortalRoles.FullMember));

        Assert.True(started.Accepted, started.Message);
        var export = await WaitForEndAsync(started.ExportId!.Value);
        Assert.Equal(InvoiceExportStatus.Succeeded, export.Status);
        Assert.Equal((InvoiceRunTrigger.Manual, "fullmember@northwind.example"), (export.Trigger, export.RequestedBy));
        Assert.Equal((1, 0, 1, 0), (export.ProductsCreated, export.ProductsUpdated, export.ProductsUnchanged, export.ProductsFailed));
        var view = (await Exports.GetStatusAsync(_portal.Admin))!;
        Assert.Equal(export.Id, view.Latest!.Id);
        Assert.Equal(InvoiceExportStatus.Succeeded, view.Latest.Status);
        Assert.NotNull(view.Latest.FinishedAt);
        Assert.Null(view.StartRefusal);
        Assert.Contains(await AuditsAsync(), a => a.Action == "Invoice export started" && a.ActorName == "fullmember@northwind.example" && a.Details == $"Export {export.Id}");
        Assert.Equal(0, _smtp.Count);
    }

    [Fact]
    public async Task StartNow_Sales_IsRefusedWithTheReason_AndSeesTheStatus()
    {
        var integrationId = await LinkAsync();
        await ConfigureAsync(InvoiceExportFrequency.Daily, timeOfDay: new TimeOnly(1, 0));
        var sales = _portal.UserIn(PortalRoles.Sales);

        var result = await Exports.StartNowAsync(sales);
        var view = await Exports.GetStatusAsync(sales);

        Assert.Equal((false, InvoiceExportRuns.EditorsOnly), (result.Accepted, result.Message));
        Assert.NotNull(view);
        Assert.False(view.CanEdit);
        Assert.Equal(InvoiceExportRuns.EditorsOnly, view.StartRefusal);
        Assert.NotNull(view.Next.AtUtc);
        await using var db = await _portal.Factory.CreateDbContextAsync();
        Assert.False(await db.InvoiceExports.AnyAsync(e => e.IntegrationId == integrationId));
    }

    [Fact]
    public async Task StartNow_TwiceAtOnceAndWhileRunning_OnlyOneExportRuns()
    {
        var integrationId = await LinkAsync();
        await ConfigureAsync(InvoiceExportFrequency.None);
        await SeedProductsAsync(integrationId, withTooLong: false);
        // Slow enough that the export is still running when the later requests come.
        _portal.Sandbox.ConnectWise.Configure(s => s with { Faults = new() { LatencyMilliseconds = 400 } });

        var both = await Task.WhenAll(Exports.StartNowAsync(_portal.Admin), Exports.StartNowAsync(_portal.UserIn(PortalRoles.FullMember)));
        var accepted = Assert.Single(both, r => r.Accepted);
        var refused = Assert.Single(both, r => !r.Accepted);
        Assert.Matches("^An export is already (queued|running)", refused.Message);
        var view = await Exports.GetStatusAsync(_portal.Admin);
        Assert.StartsWith("An export is already", view!.StartRefusal, StringComparison.Ordinal);
        var again = await Exports.StartNowAsync(_portal.Admin);
        Assert.False(again.Accepted);

        var export = await WaitForEndAsync(accepted.ExportId!.Value);
        Assert.Equal(InvoiceExportStatus.Succeeded, export.Status);
        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            Assert.Equal(1, await db.InvoiceExports.CountAsync(e => e.IntegrationId == integrationId));
        }

        _portal.Sandbox.ConnectWise.Configure(s => s with { Faults = new() });
        var next = await Exports.StartNowAsync(_portal.Admin);
        Assert.True(next.Accepted, next.Message);
        await WaitForEndAsync(next.ExportId!.Value);
    }

    [Fact]
    public async Task ScheduledExport_WhileAManualOneRuns_IsSkippedWithTheReason_AfterIt_RunsAsScheduled()
    {
        var integrationId = await LinkAsync();
        await ConfigureAsync(InvoiceExportFrequency.None);
        await SeedProductsAsync(integrationId, withTooLong: false);
        _portal.Sandbox.ConnectWise.Configure(s => s with { Faults = new() { LatencyMilliseconds = 400 } });
        var manual = await Exports.StartNowAsync(_portal.Admin);
        Assert.True(manual.Accepted, manual.Message);

        // The automatic export's trigger fires (its job data, without an export id) while the manual one runs.
        await FireScheduledExportAsync(integrationId);
        await _portal.Get<SystemLogWriter>().FlushAsync();
        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            Assert.Equal(1, await db.InvoiceExports.CountAsync(e => e.IntegrationId == integrationId));
            var skipped = await db.SystemLog.Where(e => e.OrganizationId == _portal.OrganizationId && e.Operation == CatalogExport.JobName && e.Message!.StartsWith("Scheduled export skipped: An export is already"))
                .ToListAsync();
            Assert.Single(skipped);
        }

        Assert.Equal(InvoiceExportStatus.Succeeded, (await WaitForEndAsync(manual.ExportId!.Value)).Status);
        _portal.Sandbox.ConnectWise.Configure(s => s with { Faults = new() });
        await FireScheduledExportAsync(integrationId);
        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            var scheduled = await db.InvoiceExports.AsNoTracking().SingleAsync(e => e.IntegrationId == integrationId && e.Trigger == InvoiceRunTrigger.Scheduled);
            Assert.Equal((InvoiceExportStatus.Succeeded, "Schedule"), (scheduled.Status, scheduled.RequestedBy));
        }
    }

    /// <summary>Fires the export job as the daily or monthly trigger does, and waits until the job has returned.</summary>
    private async Task FireScheduledExportAsync(Guid integrationId)
    {
        var scheduler = await _portal.Get<Quartz.ISchedulerFactory>().GetScheduler();
        var key = new Quartz.TriggerKey("test-scheduled-" + Guid.NewGuid().ToString("N"), PsaPortal.Web.Features.Integrations.IntegrationSchedules.GroupOf(integrationId));
        await scheduler.ScheduleJob(Quartz.TriggerBuilder.Create().WithIdentity(key).ForJob(InvoiceExportJob.Key)
            .UsingJobData(InvoiceExportJob.IntegrationIdKey, integrationId.ToString()).UsingJobData(InvoiceExportJob.ModeKey, InvoiceExportJob.ExportMode).StartNow().Build());
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await scheduler.GetTrigger(key) is not null
               || (await scheduler.QueryFireInstances(new Quartz.FireInstanceQuery { TriggerGroup = Quartz.GroupMatcher<Quartz.TriggerKey>.GroupEquals(key.Group), State = null }))
                   .Items.Any(f => key.Equals(f.TriggerKey)))
        {
            Assert.True(DateTime.UtcNow < deadline, "the scheduled export job did not finish in 60 s");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task StartNow_AfterAnExportThePortalLostTrackOf_ClosesItAsInterruptedAndStarts()
    {
        var integrationId = await LinkAsync();
        await ConfigureAsync(InvoiceExportFrequency.None);
        var lost = await AddRunningExportAsync(integrationId, startedAgo: TimeSpan.FromHours(1));

        var started = await Exports.StartNowAsync(_portal.Admin);

        Assert.True(started.Accepted, started.Message);
        var closed = (await Exports.GetLogAsync(_portal.Admin, lost.Id))!;
        Assert.Equal((InvoiceExportStatus.Failed, InvoiceExportRuns.Interrupted), (closed.Export.Status, closed.Export.Error));
        Assert.Equal(InvoiceExportRuns.Interrupted, Assert.Single(closed.Entries).Message);
        await WaitForEndAsync(started.ExportId!.Value);
    }

    [Fact]
    public async Task StartNow_WhileQuartzHoldsARecoveryTriggerOfTheExport_LeavesItRunning_AndRefuses()
    {
        // Arrange: the export's firing was cut off (a node died, the portal stopped) and Quartz will fire it again
        // from its recovery group, with the original trigger's data and name, as it does on recovery.
        var integrationId = await LinkAsync();
        await ConfigureAsync(InvoiceExportFrequency.None);
        var recovered = await AddRunningExportAsync(integrationId, startedAgo: TimeSpan.FromMinutes(5));

        var scheduler = await _portal.Get<Quartz.ISchedulerFactory>().GetScheduler();
        var recovery = Quartz.TriggerBuilder.Create()
            .WithIdentity("recover_node-1_1", Quartz.SchedulerConstants.DefaultRecoveryGroup)
            .ForJob(InvoiceExportJob.Key)
            .UsingJobData(InvoiceExportJob.IntegrationIdKey, integrationId.ToString())
            .UsingJobData(InvoiceExportJob.ModeKey, InvoiceExportJob.ExportMode)
            .UsingJobData(InvoiceExportJob.ExportIdKey, recovered.Id.ToString())
            .UsingJobData(Quartz.SchedulerConstants.FailedJobOriginalTriggerName, InvoiceExportRuns.ExportNowKey(integrationId, recovered.Id).Name)
            .StartAt(DateTimeOffset.UtcNow.AddHours(1))
            .Build();
        await scheduler.ScheduleJob(recovery);

        // Act
        var refused = await Exports.StartNowAsync(_portal.Admin);
        await scheduler.UnscheduleJob(recovery.Key);
        var afterRecovery = await Exports.StartNowAsync(_portal.Admin);

        // Assert
        Assert.False(refused.Accepted);
        Assert.StartsWith("An export is already running", refused.Message, StringComparison.Ordinal);
        Assert.True(afterRecovery.Accepted, afterRecovery.Message);
        var closed = (await Exports.GetLogAsync(_portal.Admin, recovered.Id))!;
        Assert.Equal((InvoiceExportStatus.Failed, InvoiceExportRuns.Interrupted), (closed.Export.Status, closed.Export.Error));
        await WaitForEndAsync(afterRecovery.ExportId!.Value);
    }

    /// <summary>An export the database says is running, started by an Admin <paramref name="startedAgo"/>.</summary>
    private async Task<InvoiceExport> AddRunningExportAsync(Guid integrationId, TimeSpan startedAgo)
    {
        var export = new InvoiceExport
        {
            OrganizationId = _portal.OrganizationId, IntegrationId = integrationId, Trigger = InvoiceRunTrigger.Manual, RequestedBy = "admin@northwind.example",
            Status = InvoiceExportStatus.Running, CreatedAt = DateTimeOffset.UtcNow - startedAgo, StartedAt = DateTimeOffset.UtcNow - startedAgo,
        };
        await using var db = await _portal.Factory.CreateDbContextAsync();
        db.InvoiceExports.Add(export);
        await db.SaveChangesAsync();
        return export;
    }

    [Fact]
    public async Task GetLog_OwnOrganization_EveryLineInOrder_AnotherOrganization_NotFound()
    {
        var integrationId = await LinkAsync();
        await ConfigureAsync(InvoiceExportFrequency.None);
        await SeedProductsAsync(integrationId, withTooLong: false);
        var export = await WaitForEndAsync((await Exports.StartNowAsync(_portal.Admin)).ExportId!.Value);
        var otherOrganization = await _portal.Factory.AddOrganizationAsync("Contoso MSP");
        var outsider = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, "test-outsider"), new Claim(ClaimTypes.Name, "admin@contoso.example"),
                new Claim(ClaimTypes.Role, PortalRoles.Admin), new Claim(PortalClaims.OrganizationId, otherOrganization.ToString()),
            ], "Test"));

        var own = await Exports.GetLogAsync(_portal.UserIn(PortalRoles.Sales), export.Id);
        var foreign = await Exports.GetLogAsync(outsider, export.Id);

        Assert.Null(foreign);
        Assert.Null(await Exports.GetLogAsync(_portal.Admin, Guid.NewGuid()));
        Assert.NotNull(own);
        // Products are exported in part-number order, each logged as it is settled.
        var expected = new[] { ("MAIL-NEW", "Catalog item created."), (SandboxSku(), "Already in the catalog as it should be: unchanged.") }
            .OrderBy(e => e.Item1, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, own.Entries.Select(e => (e.Subject, e.Message)));
        Assert.Equal(own.Entries.OrderBy(e => e.At).Select(e => e.Id), own.Entries.Select(e => e.Id));
        Assert.All(own.Entries, e => Assert.Equal(InvoiceExportLogLevel.Info, e.Level));
        Assert.Null(await Exports.GetStatusAsync(outsider));
        Assert.Equal(InvoiceExportRuns.NotLinked, (await Exports.StartNowAsync(outsider)).Message);
    }

    [Fact]
    public async Task ExportWithAFailedProduct_EmailsTheContacts_WithConnectWisesWordsAndTheLogLink()
    {
        var integrationId = await LinkAsync();
        await ConfigureAsync(InvoiceExportFrequency.None, contacts: Contact);
        await SeedProductsAsync(integrationId, withTooLong: true);

        var export = await WaitForEndAsync((await Exports.StartNowAsync(_portal.Admin)).ExportId!.Value);

        Assert.Equal(InvoiceExportStatus.CompletedWithFailures, export.Status);
        Assert.Equal((1, 1, 1), (export.ProductsCreated, export.ProductsUnchanged, export.ProductsFailed));
        var mail = await _smtp.NextAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([Contact], mail.EnvelopeTo);
        Assert.Equal("PsaPortal: ConnectWise product catalog export finished with 1 failure", mail.Message.Subject);
        var log = await WaitForLogAsync(export.Id, e => e.Subject == InvoiceExportNotifier.LogSubject);
        var failure = Assert.Single(log.Entries, e => e.Level == InvoiceExportLogLevel.Error);
        Assert.Equal(TooLongPartNumber, failure.Subject);
        Assert.Contains("The field identifier must be a string with a maximum length of 75.", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"- {failure.Subject}: {failure.Message}", mail.Text, StringComparison.Ordinal);
        Assert.Contains($"Integration: ConnectWise (company sandbox at {_portal.BaseUrl}/sandbox/connectwise)", mail.Text, StringComparison.Ordinal);
        Assert.Contains($"Export: {export.Id}", mail.Text, StringComparison.Ordinal);
        Assert.Contains("Products: 1 created, 0 updated, 1 unchanged, 1 failed", mail.Text, StringComparison.Ordinal);
        Assert.Contains($"Open the detailed log: {PublicUrl}invoices/export/{export.Id}", mail.Text, StringComparison.Ordinal);
        Assert.Contains($"href=\"{PublicUrl}invoices/export/{export.Id}\"", mail.Html, StringComparison.Ordinal);
        var sent = Assert.Single(log.Entries, e => e.Subject == InvoiceExportNotifier.LogSubject);
        Assert.Equal((InvoiceExportLogLevel.Info, $"E-mail sent to {Contact} through 127.0.0.1:{_smtp.Port}."), (sent.Level, sent.Message));
        Assert.Contains(await AuditsAsync(), a => a.Action == "Invoice export failure notification sent" && a.Subject == $"ConnectWise export {export.Id}");
        Assert.Equal(1, _smtp.Count);
    }

    [Fact]
    public async Task ExportThatSucceeds_EmailsNoOne()
    {
        var integrationId = await LinkAsync();
        await ConfigureAsync(InvoiceExportFrequency.None, contacts: Contact);
        await SeedProductsAsync(integrationId, withTooLong: false);

        var export = await WaitForEndAsync((await Exports.StartNowAsync(_portal.Admin)).ExportId!.Value);
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.Equal(InvoiceExportStatus.Succeeded, export.Status);
        Assert.Equal(0, _smtp.Count);
        var log = (await Exports.GetLogAsync(_portal.Admin, export.Id))!;
        Assert.DoesNotContain(log.Entries, e => e.Subject == InvoiceExportNotifier.LogSubject);
        Assert.DoesNotContain(await AuditsAsync(), a => a.Action.StartsWith("Invoice export failure notification", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MailServerRefuses_TheExportKeepsItsOutcome_TheRefusalIsInItsLogAndSystemLogs()
    {
        var integrationId = await LinkAsync();
        await ConfigureAsync(InvoiceExportFrequency.None, contacts: Contact);
        await SeedProductsAsync(integrationId, withTooLong: true);
        _smtp.RefuseWith(SmtpReplyCode.TransactionFailed, "5.7.1 Relaying denied for psaportal@msp.example");

        var export = await WaitForEndAsync((await Exports.StartNowAsync(_portal.Admin)).ExportId!.Value);

        Assert.Equal(InvoiceExportStatus.CompletedWithFailures, export.Status);
        var log = await WaitForLogAsync(export.Id, e => e.Subject == InvoiceExportNotifier.LogSubject);
        Assert.Equal(InvoiceExportStatus.CompletedWithFailures, log.Export.Status);
        var notice = Assert.Single(log.Entries, e => e.Subject == InvoiceExportNotifier.LogSubject);
        Assert.Equal(InvoiceExportLogLevel.Warning, notice.Level);
        Assert.StartsWith($"E-mail to {Contact} not sent through 127.0.0.1:{_smtp.Port}: ", notice.Message, StringComparison.Ordinal);
        Assert.Contains("5.7.1 Relaying denied for psaportal@msp.example", notice.Message, StringComparison.Ordinal);
        await _portal.Get<SystemLogWriter>().FlushAsync();
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var logged = await db.SystemLog.Where(e => e.OrganizationId == _portal.OrganizationId && e.Operation == InvoiceExportNotifier.JobName).ToListAsync();
        var entry = Assert.Single(logged);
        Assert.Equal((LogLevelName.Warning, $"Export {export.Id}: {notice.Message}"), (entry.Level, entry.Message));
        Assert.Contains(await AuditsAsync(), a => a.Action == "Invoice export failure notification not sent" && a.Details!.Contains("5.7.1 Relaying denied", StringComparison.Ordinal));
        Assert.Equal(0, _smtp.Count);
    }

    private async Task<Guid> LinkAsync()
    {
        var integrationId = await _portal.LinkConnectWiseAsync();
        await _portal.NextSyncFinishedAsync();
        await _portal.WaitForReferenceSyncIdleAsync(integrationId);
        return integrationId;
    }

    private async Task ConfigureAsync(InvoiceExportFrequency frequency, int dayOfMonth = 1, TimeOnly timeOfDay = default, string? contacts = null)
    {
        var type = _portal.Sandbox.ConnectWise.Data.AgreementTypes.All()[0];
        var input = new InvoiceSettingsInput(
            PsaPortal.Sandbox.Core.JsonRecords.GetId(type), DailySyncEnabled: false, ExportProducts: true, ExportQuantities: false, ExportCost: false, ExportRetailPrice: false,
            ExportUsersList: false, NotificationContacts: contacts, frequency, dayOfMonth, timeOfDay, [], [], new Dictionary<ChargeType, string?>());
        var saved = await _portal.Get<InvoiceSettingsService>().SaveAsync(_portal.Admin, input);
        Assert.True(saved.Succeeded, saved.Message);
    }

    /// <summary>The sandbox's first catalog item, whose identifier a vendor product shares (so it is found, not created).</summary>
    private string SandboxSku() => PsaPortal.Sandbox.Core.JsonRecords.GetString(_portal.Sandbox.ConnectWise.Data.Catalog.Find(1)!["identifier"])!;

    /// <summary>
    /// A product already in the catalog as it should be (mapped to catalog item 1, which gives new items their
    /// subcategory and type), a new one, and optionally one whose part number ConnectWise refuses.
    /// </summary>
    private async Task SeedProductsAsync(Guid integrationId, bool withTooLong)
    {
        var item = _portal.Sandbox.ConnectWise.Data.Catalog.Find(1)!;
        var now = DateTimeOffset.UtcNow;
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var existing = new VendorProduct
        {
            OrganizationId = _portal.OrganizationId, PartNumber = SandboxSku(), Name = PsaPortal.Sandbox.Core.JsonRecords.GetString(item["description"])!,
            Cost = 1, RetailPrice = 2, CreatedAt = now, UpdatedAt = now,
        };
        db.VendorProducts.AddRange(existing, new VendorProduct { OrganizationId = _portal.OrganizationId, PartNumber = "MAIL-NEW", Name = "Mailbox Archive", Cost = 2, RetailPrice = 4, CreatedAt = now, UpdatedAt = now });
        if (withTooLong)
        {
            db.VendorProducts.Add(new VendorProduct { OrganizationId = _portal.OrganizationId, PartNumber = TooLongPartNumber, Name = "Long part number", Cost = 1, RetailPrice = 1, CreatedAt = now, UpdatedAt = now });
        }

        await db.SaveChangesAsync();
        db.ProductMappings.Add(new ProductMapping { IntegrationId = integrationId, VendorProductId = existing.Id, PsaProductId = 1, PsaProductName = existing.Name, UpdatedAt = now });
        await db.SaveChangesAsync();
    }

    private async Task<InvoiceExport> WaitForEndAsync(Guid exportId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using (var db = await _portal.Factory.CreateDbContextAsync())
            {
                var export = await db.InvoiceExports.AsNoTracking().SingleAsync(e => e.Id == exportId);
                if (export.Status is not (InvoiceExportStatus.Queued or InvoiceExportStatus.Running))
                {
                    return export;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"export {exportId} did not finish within 60 s");
            await Task.Delay(50);
        }
    }

    /// <summary>The export's log once a line matching <paramref name="until"/> is in it (the notification is written after the export ends).</summary>
    private async Task<InvoiceExportLogView> WaitForLogAsync(Guid exportId, Func<InvoiceExportLogEntry, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var log = (await Exports.GetLogAsync(_portal.Admin, exportId))!;
            if (log.Entries.Any(until))
            {
                return log;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the log of export {exportId} did not get the expected line within 30 s");
            await Task.Delay(50);
        }
    }

    private async Task<List<AuditEntry>> AuditsAsync()
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        return await db.AuditEntries.AsNoTracking().Where(a => a.OrganizationId == _portal.OrganizationId).ToListAsync();
    }
}
