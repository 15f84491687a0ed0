using Microsoft.Extensions.Options;
using Quartz;

namespace PsaPortal.Web.Features.SystemLogs;

/// <summary>The <c>SystemLogs</c> configuration section.</summary>
public sealed class SystemLogOptions
{
    public const string SectionName = "SystemLogs";

    /// <summary>How many days of PSA call records are kept; older ones are deleted every night.</summary>
    public int RetentionDays { get; set; } = 30;
}

/// <summary>Deletes System Logs older than the retention period; runs daily at 03:00 UTC.</summary>
internal sealed class CleanUpSystemLogsJob(SystemLogQuery logs, IOptions<SystemLogOptions> options, TimeProvider time, ILogger<CleanUpSystemLogsJob> logger) : IJob
{
    public static readonly JobKey Key = new("clean-up-system-logs", "system-logs");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var days = Math.Max(1, options.Value.RetentionDays);
        var deleted = await logs.DeleteOlderThanAsync(time.GetUtcNow().AddDays(-days), cancellationToken);
        logger.LogInformation("Deleted {Count} System Logs entries older than {Days} days", deleted, days);
    }
}

public static class SystemLogsFeature
{
    public static IHostApplicationBuilder AddSystemLogsFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<SystemLogOptions>(builder.Configuration.GetSection(SystemLogOptions.SectionName));
        builder.AddQuartz(quartz =>
        {
            quartz.AddJob<CleanUpSystemLogsJob>(job => job.WithIdentity(CleanUpSystemLogsJob.Key).StoreDurably());
            quartz.AddTrigger(trigger => trigger
                .ForJob(CleanUpSystemLogsJob.Key)
                .WithIdentity("clean-up-system-logs-nightly", "system-logs")
                .WithCronSchedule("0 0 3 * * ?", cron => cron.InTimeZone(TimeZoneInfo.Utc)));
        });
        return builder;
    }
}
