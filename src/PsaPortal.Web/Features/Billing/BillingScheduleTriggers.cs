using System.Globalization;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using Quartz;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// Billing schedules as Quartz cron triggers in the integration's trigger group (<see cref="IntegrationSchedules.GroupOf"/>),
/// read in the schedule's own IANA time zone: Disconnect pauses them and Delete removes them with the group. At
/// start-up Quartz is made to match the table, and every run still Queued or Running is queued again (resumed).
/// </summary>
public sealed class BillingScheduleTriggers(ISchedulerFactory schedulers, ILogger<BillingScheduleTriggers> logger)
{
    public const string TriggerPrefix = "billing-schedule-";

    public static TriggerKey KeyOf(Guid integrationId, long scheduleId) =>
        new(TriggerPrefix + scheduleId.ToString(CultureInfo.InvariantCulture), IntegrationSchedules.GroupOf(integrationId));

    /// <summary>What is wrong with a schedule as a person entered it, or null; <paramref name="zone"/> is its time zone when valid.</summary>
    public static string? Validate(BillingScheduleInput input, out TimeZoneInfo? zone)
    {
        zone = null;
        if (!Enum.IsDefined(input.Frequency))
        {
            return "Choose how often billing runs: Hourly, Daily or Monthly.";
        }

        if (input.TimeOfDay.Second != 0 || input.TimeOfDay.Millisecond != 0)
        {
            return "Schedules run on whole minutes: leave the seconds at 0.";
        }

        if (input.Frequency == BillingFrequency.Monthly && input.DayOfMonth is < 0 or > 28)
        {
            return "The day of the month must be 1 to 28, or \"Last day of the month\".";
        }

        if (string.IsNullOrWhiteSpace(input.TimeZone))
        {
            return "Choose a time zone, e.g. UTC or Europe/Berlin.";
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(input.TimeZone.Trim(), out zone) || !zone.HasIanaId)
        {
            zone = null;
            return $"\"{input.TimeZone}\" is not a time zone this server knows. Use an IANA time zone id such as UTC, Europe/Berlin or America/New_York.";
        }

        return null;
    }

    /// <summary>The Quartz cron expression (seconds first): hourly at minute M, daily at a time, monthly on a day or the last day.</summary>
    public static string CronOf(BillingFrequency frequency, TimeOnly time, int dayOfMonth) => frequency switch
    {
        BillingFrequency.Hourly => string.Create(CultureInfo.InvariantCulture, $"0 {time.Minute} * * * ?"),
        BillingFrequency.Daily => string.Create(CultureInfo.InvariantCulture, $"0 {time.Minute} {time.Hour} * * ?"),
        BillingFrequency.Monthly => string.Create(CultureInfo.InvariantCulture, $"0 {time.Minute} {time.Hour} {(dayOfMonth == 0 ? "L" : dayOfMonth.ToString(CultureInfo.InvariantCulture))} * ?"),
        _ => throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "Not a billing frequency."),
    };

    /// <summary>"Daily at 00:00 (UTC)", "Hourly at minute 15 (UTC)", "Monthly on the last day at 06:00 (Europe/Berlin)".</summary>
    public static string Describe(BillingSchedule schedule) => schedule.Frequency switch
    {
        BillingFrequency.Hourly => string.Create(CultureInfo.InvariantCulture, $"Hourly at minute {schedule.TimeOfDay.Minute} ({schedule.TimeZone})"),
        BillingFrequency.Daily => string.Create(CultureInfo.InvariantCulture, $"Daily at {schedule.TimeOfDay:HH\\:mm} ({schedule.TimeZone})"),
        _ => string.Create(CultureInfo.InvariantCulture,
            $"Monthly on {(schedule.DayOfMonth == 0 ? "the last day" : $"day {schedule.DayOfMonth}")} at {schedule.TimeOfDay:HH\\:mm} ({schedule.TimeZone})"),
    };

    /// <summary>Stores (or replaces) the schedule's trigger; a disabled schedule has none.</summary>
    public async Task ApplyAsync(BillingSchedule schedule, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = KeyOf(schedule.IntegrationId, schedule.Id);
        if (!schedule.Enabled || !TimeZoneInfo.TryFindSystemTimeZoneById(schedule.TimeZone, out var zone))
        {
            await scheduler.UnscheduleJob(key, cancellationToken);
            return;
        }

        var trigger = TriggerBuilder.Create()
            .WithIdentity(key)
            .ForJob(BillingSyncJob.Key)
            .UsingJobData(BillingSyncJob.IntegrationIdKey, schedule.IntegrationId.ToString())
            .UsingJobData(BillingSyncJob.ScheduleIdKey, schedule.Id.ToString(CultureInfo.InvariantCulture))
            .WithCronSchedule(CronOf(schedule.Frequency, schedule.TimeOfDay, schedule.DayOfMonth), cron => cron.InTimeZone(zone).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
            .Build();
        await scheduler.ScheduleTrigger(trigger, TriggerConflict.Replace, cancellationToken);
    }

    public async Task RemoveAsync(Guid integrationId, long scheduleId, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.UnscheduleJob(KeyOf(integrationId, scheduleId), cancellationToken);
    }

    /// <summary>Every schedule has its trigger and no trigger is left for a schedule that is gone.</summary>
    public async Task ReconcileAsync(IReadOnlyList<BillingSchedule> schedules, CancellationToken cancellationToken)
    {
        foreach (var schedule in schedules)
        {
            await ApplyAsync(schedule, cancellationToken);
        }

        var known = schedules.Where(s => s.Enabled).Select(s => KeyOf(s.IntegrationId, s.Id)).ToHashSet();
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        foreach (var key in await scheduler.GetTriggerKeys(GroupMatcher<TriggerKey>.GroupStartsWith("integration-"), cancellationToken))
        {
            if (key.Name.StartsWith(TriggerPrefix, StringComparison.Ordinal) && !known.Contains(key))
            {
                logger.LogInformation("Removing billing trigger {Trigger}: its schedule no longer exists", key);
                await scheduler.UnscheduleJob(key, cancellationToken);
            }
        }
    }
}

/// <summary>
/// At start-up: schedules match the table, and every run left Queued (e.g. inserted by an outside harness) or Running
/// (the process died under it) is queued again, oldest first; the engine resumes it from its rows and journal.
/// </summary>
internal sealed class BillingStartup(IDbContextFactory<PortalDbContext> dbFactory, BillingScheduleTriggers triggers, BillingRunStarter starter) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        List<BillingSchedule> schedules;
        List<(Guid IntegrationId, Guid RunId)> open;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            schedules = await db.BillingSchedules.AsNoTracking().ToListAsync(cancellationToken);
            open = (await db.BillingRuns.AsNoTracking()
                    .Where(r => r.Status == BillingRunStatus.Queued || r.Status == BillingRunStatus.Running)
                    .OrderBy(r => r.CreatedAt).Select(r => new { r.IntegrationId, r.Id }).ToListAsync(cancellationToken))
                .Select(r => (r.IntegrationId, r.Id)).ToList();
        }

        await triggers.ReconcileAsync(schedules, cancellationToken);
        foreach (var (integrationId, runId) in open)
        {
            await starter.QueueAsync(integrationId, runId, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
