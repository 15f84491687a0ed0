using System.Globalization;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.SystemLogs;
using Quartz;

namespace PsaPortal.Web.Features.Invoices;

/// <summary>
/// The invoice triggers of each ConnectWise integration, in the integration's own trigger group (Disconnect pauses
/// them, Delete removes them): the Automated Daily Invoice Line Sync at midnight UTC when it is on, the daily or
/// monthly product catalog export, and one-shot "sync these lines now" / "start export now" triggers.
/// </summary>
public sealed class InvoiceScheduleTriggers(ISchedulerFactory schedulers)
{
    public const string DailyLineSyncTrigger = "invoice-line-sync";
    public const string ExportTrigger = "invoice-export";

    /// <summary>Stores (or removes) the integration's daily line sync and export triggers to match its settings. Call after saving settings.</summary>
    public async Task ApplyAsync(InvoiceSettings settings, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var group = IntegrationSchedules.GroupOf(settings.IntegrationId);
        var lineKey = new TriggerKey(DailyLineSyncTrigger, group);
        if (settings.DailySyncEnabled)
        {
            await scheduler.ScheduleTrigger(Cron(lineKey, settings.IntegrationId, InvoiceExportJob.DailyLinesMode, "0 0 0 * * ?"), TriggerConflict.Replace, cancellationToken);
        }
        else
        {
            await scheduler.UnscheduleJob(lineKey, cancellationToken);
        }

        var exportKey = new TriggerKey(ExportTrigger, group);
        var time = settings.ExportTimeOfDay;
        var cron = settings.ExportFrequency switch
        {
            InvoiceExportFrequency.Daily => string.Create(CultureInfo.InvariantCulture, $"0 {time.Minute} {time.Hour} * * ?"),
            InvoiceExportFrequency.Monthly => string.Create(CultureInfo.InvariantCulture, $"0 {time.Minute} {time.Hour} {Math.Clamp(settings.ExportDayOfMonth, 1, 28)} * ?"),
            _ => null,
        };
        if (cron is null)
        {
            await scheduler.UnscheduleJob(exportKey, cancellationToken);
        }
        else
        {
            await scheduler.ScheduleTrigger(Cron(exportKey, settings.IntegrationId, InvoiceExportJob.ExportMode, cron), TriggerConflict.Replace, cancellationToken);
        }
    }

    public async Task RunLinesNowAsync(Guid integrationId, IReadOnlyCollection<long>? lineIds, string requestedBy, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var trigger = TriggerBuilder.Create()
            .WithIdentity("invoice-lines-now-" + Guid.NewGuid().ToString("N"), IntegrationSchedules.GroupOf(integrationId))
            .ForJob(InvoiceExportJob.Key)
            .UsingJobData(InvoiceExportJob.IntegrationIdKey, integrationId.ToString())
            .UsingJobData(InvoiceExportJob.ModeKey, InvoiceExportJob.LinesMode)
            .UsingJobData(InvoiceExportJob.LineIdsKey, lineIds is null ? string.Empty : string.Join(',', lineIds.Select(id => id.ToString(CultureInfo.InvariantCulture))))
            .UsingJobData(InvoiceExportJob.RequestedByKey, requestedBy)
            .StartNow()
            .Build();
        await scheduler.ScheduleTrigger(trigger, TriggerConflict.Replace, cancellationToken);
    }

    public async Task RunExportNowAsync(Guid integrationId, Guid exportId, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var trigger = TriggerBuilder.Create()
            .WithIdentity("invoice-export-now-" + exportId.ToString("N"), IntegrationSchedules.GroupOf(integrationId))
            .ForJob(InvoiceExportJob.Key)
            .UsingJobData(InvoiceExportJob.IntegrationIdKey, integrationId.ToString())
            .UsingJobData(InvoiceExportJob.ModeKey, InvoiceExportJob.ExportMode)
            .UsingJobData(InvoiceExportJob.ExportIdKey, exportId.ToString())
            .StartNow()
            .Build();
        await scheduler.ScheduleTrigger(trigger, TriggerConflict.Replace, cancellationToken);
    }

    private static ITrigger Cron(TriggerKey key, Guid integrationId, string mode, string cron) => TriggerBuilder.Create()
        .WithIdentity(key)
        .ForJob(InvoiceExportJob.Key)
        .UsingJobData(InvoiceExportJob.IntegrationIdKey, integrationId.ToString())
        .UsingJobData(InvoiceExportJob.ModeKey, mode)
        .WithCronSchedule(cron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
        .Build();
}

public static class InvoicePostingFeature
{
    /// <summary>The posting engine (IInvoiceLineSync), the product catalog export, their Quartz job and triggers.</summary>
    public static IHostApplicationBuilder AddInvoicePosting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<InvoiceScheduleTriggers>();
        builder.Services.AddSingleton<InvoiceLinePoster>();
        builder.Services.AddSingleton<IInvoiceLineSync>(services => services.GetRequiredService<InvoiceLinePoster>());
        builder.Services.AddSingleton<CatalogExport>();
        builder.Services.AddHostedService<InvoiceScheduleStartup>();
        builder.AddQuartz(quartz => quartz.AddJob<InvoiceExportJob>(job => job.WithIdentity(InvoiceExportJob.Key).StoreDurably().RequestRecovery()));
        return builder;
    }
}

/// <summary>At start-up the invoice triggers match the InvoiceSettings table.</summary>
internal sealed class InvoiceScheduleStartup(IDbContextFactory<PortalDbContext> dbFactory, InvoiceScheduleTriggers triggers) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        foreach (var settings in await db.InvoiceSettings.AsNoTracking().ToListAsync(cancellationToken))
        {
            await triggers.ApplyAsync(settings, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Runs invoice work for the integration its trigger belongs to: the daily line sync (only when the toggle is still on;
/// lines not fully mapped are skipped and stay for review), a "sync these lines" request, or a catalog export.
/// </summary>
internal sealed class InvoiceExportJob(
    InvoiceLinePoster poster,
    CatalogExport export,
    InvoiceExportRuns runs,
    IJobLog jobLog,
    IDbContextFactory<PortalDbContext> dbFactory,
    ILogger<InvoiceExportJob> logger) : IJob
{
    public static readonly JobKey Key = new("invoice-export", "integrations");
    public const string IntegrationIdKey = IntegrationSchedules.JobIntegrationIdKey;
    public const string ModeKey = "mode";
    public const string LineIdsKey = "lineIds";
    public const string ExportIdKey = "exportId";
    public const string RequestedByKey = "requestedBy";
    public const string DailyLinesMode = "daily-lines";
    public const string LinesMode = "lines";
    public const string ExportMode = "export";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var data = context.MergedJobDataMap;
        try
        {
            var integrationId = Guid.Parse(data.GetString(IntegrationIdKey)!);
            switch (data.GetString(ModeKey))
            {
                case DailyLinesMode:
                    await RunDailyLineSyncAsync(integrationId, cancellationToken);
                    break;
                case LinesMode:
                    var ids = data.GetString(LineIdsKey);
                    await poster.PostAsync(integrationId, string.IsNullOrEmpty(ids) ? null : [.. ids.Split(',').Select(id => long.Parse(id, CultureInfo.InvariantCulture))], cancellationToken);
                    break;
                case ExportMode:
                    if (Guid.TryParse(data.GetString(ExportIdKey), out var id))
                    {
                        await export.RunAsync(integrationId, id, cancellationToken);
                        break;
                    }

                    // The schedule fired: never a second export beside one queued or running ("Start export now").
                    var (started, active) = await runs.StartScheduledAsync(integrationId, cancellationToken);
                    if (started is not null)
                    {
                        await export.RunAsync(integrationId, started.Id, cancellationToken);
                    }
                    else if (context.Recovering && active!.Trigger == InvoiceRunTrigger.Scheduled)
                    {
                        // Clustered Quartz re-fired the schedule's firing of a node that died: that node's export is
                        // the one to finish (the export compares each product with the catalog, so running it again is safe).
                        await export.RunAsync(integrationId, active.Id, cancellationToken);
                    }
                    else
                    {
                        jobLog.Write(active!.OrganizationId, PsaVendor.ConnectWise, CatalogExport.JobName, LogLevelName.Information, InvoiceExportRuns.ScheduledSkipped(active));
                    }

                    break;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Invoice job stopped: the integration was disconnected or deleted, or the portal is stopping");
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Invoice job failed");
        }
    }

    /// <summary>The daily sync's own path: nothing unless the toggle is on; then every fully mapped line not yet posted.</summary>
    public async Task<InvoicePostingSummary> RunDailyLineSyncAsync(Guid integrationId, CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (!await db.InvoiceSettings.AnyAsync(s => s.IntegrationId == integrationId && s.DailySyncEnabled, cancellationToken))
            {
                return new InvoicePostingSummary(false, "Automated Daily Invoice Line Sync is off.");
            }
        }

        return await poster.PostAsync(integrationId, null, cancellationToken);
    }
}
