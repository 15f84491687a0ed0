using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Platform;
using Quartz;

namespace PsaPortal.Web.Features.Ticketing;

/// <summary>
/// One ticketing pass for the integration its trigger belongs to. Its one-shot triggers live in the integration's trigger
/// group, so Disconnect pauses them (and interrupts a running pass) and Delete removes them.
/// </summary>
internal sealed class TicketSyncJob(TicketSync engine, ILogger<TicketSyncJob> logger) : IJob
{
    public static readonly JobKey Key = new("ticket-sync", "integrations");
    public const string IntegrationIdKey = IntegrationSchedules.JobIntegrationIdKey;

    /// <summary>How soon a pass interrupted by a database outage is tried again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(10);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(context.MergedJobDataMap.GetString(IntegrationIdKey), out var integrationId))
        {
            return;
        }

        try
        {
            await engine.RunAsync(integrationId, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Ticketing pass stopped: the integration was disconnected or deleted, or the portal is stopping");
        }
        catch (Exception exception) when (DatabaseFailures.IsTransient(exception))
        {
            // The database went away mid-pass: rows keep their committed state (a Creating ticket is looked up before it
            // is created again), and a pass is asked for again shortly rather than waiting for the next incident.
            logger.LogWarning(exception, "Ticketing pass of {IntegrationId} interrupted: the database is unavailable; trying again in {Delay}", integrationId, RetryDelay);
            await engine.RequestAsync(integrationId, DateTimeOffset.UtcNow + RetryDelay, CancellationToken.None);
        }
        catch (Exception exception)
        {
            // Rows keep their state; the next request (or the next start) picks them up again.
            logger.LogError(exception, "Ticketing pass of {IntegrationId} failed", integrationId);
        }
    }
}

/// <summary>
/// Starts ticketing passes: at start-up for every integration whose ticketing is on (unfinished rows are picked up
/// again, incidents that arrived while the portal was down are admitted), and whenever platform data arrives (the
/// ingest API, CSV imports, the demo generator all publish <see cref="PlatformDataChanged"/>).
/// </summary>
internal sealed class TicketSyncStartup(TicketSync engine, IPortalEventStream events, ILogger<TicketSyncStartup> logger) : IHostedService, IDisposable
{
    private IDisposable? _subscription;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = events.SubscribeAll(async e =>
        {
            if (e is PlatformDataChanged changed)
            {
                await engine.RequestForOrganizationAsync(changed.OrganizationId);
            }
        });

        var enabled = await engine.EnabledIntegrationsAsync(null, cancellationToken);
        foreach (var integrationId in enabled)
        {
            await engine.RequestAsync(integrationId, null, cancellationToken);
        }

        if (enabled.Count > 0)
        {
            logger.LogInformation("Ticketing resumed for {Count} integrations", enabled.Count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        _subscription = null;
        return Task.CompletedTask;
    }

    public void Dispose() => _subscription?.Dispose();
}

public static class TicketSyncRegistration
{
    /// <summary>The ticket engine: <see cref="TicketSync"/> (also <see cref="ITicketActions"/>), its Quartz job and its start-up.</summary>
    public static IHostApplicationBuilder AddTicketSync(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TicketSyncOptions>()
            .Bind(builder.Configuration.GetSection(TicketSyncOptions.SectionName))
            .Configure(options =>
            {
                var publicUrl = builder.Configuration["Portal:PublicUrl"];
                options.PublicUrl = Uri.TryCreate(publicUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url : null;
            })
            .Validate(o => o.MaxConcurrentCalls is >= 1 and <= 32, "Ticketing:MaxConcurrentCalls must be between 1 and 32, e.g. 4.")
            .Validate(o => o.UnknownOutcomeWait >= TimeSpan.Zero, "Ticketing:UnknownOutcomeWait must not be negative, e.g. 00:00:30.")
            .ValidateOnStart();
        builder.Services.AddSingleton<TicketSync>();
        builder.Services.AddSingleton<ITicketActions>(services => services.GetRequiredService<TicketSync>());
        builder.Services.AddHostedService<TicketSyncStartup>();
        builder.AddQuartz(quartz => quartz.AddJob<TicketSyncJob>(job => job.WithIdentity(TicketSyncJob.Key).StoreDurably().RequestRecovery()));
        return builder;
    }
}
