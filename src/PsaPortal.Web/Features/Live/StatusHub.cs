using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Infrastructure;

namespace PsaPortal.Web.Features.Live;

/// <summary>
/// <c>/hubs/status</c>: the live event stream for tests and external watchers. Signed-in users only; each
/// connection joins its own organization's group, is told <c>ready</c>, and then receives <c>event</c> messages (a
/// <see cref="PortalEventEnvelope"/>).
/// </summary>
[Authorize]
public sealed class StatusHub : Hub
{
    public const string Path = "/hubs/status";
    public const string EventMethod = "event";

    /// <summary>Sent to a new connection once it is in its organization's group: from then on it misses no event.</summary>
    public const string ReadyMethod = "ready";

    public static string GroupOf(Guid organizationId) => $"organization:{organizationId}";

    public override async Task OnConnectedAsync()
    {
        if (Context.User?.GetOrganizationId() is not { } organizationId)
        {
            Context.Abort();
            return;
        }

        await Groups.AddToGroupAsync(Context.ConnectionId, GroupOf(organizationId));
        await base.OnConnectedAsync();
        await Clients.Caller.SendAsync(ReadyMethod);
    }
}

/// <summary>Relays every published event to its organization's group on the status hub.</summary>
internal sealed class StatusHubRelay(IPortalEventStream events, IHubContext<StatusHub> hub) : IHostedService
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = events.SubscribeAll(e =>
            hub.Clients.Group(StatusHub.GroupOf(e.OrganizationId)).SendAsync(StatusHub.EventMethod, e.ToEnvelope(), CancellationToken.None));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }
}

public static class LiveFeature
{
    public static IHostApplicationBuilder AddLiveFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSignalR();
        builder.Services.AddOptions<LiveEventsOptions>()
            .Bind(builder.Configuration.GetSection(LiveEventsOptions.SectionName))
            .Validate<IOptions<DatabaseOptions>>(
                (events, database) => events.Transport != EventTransport.PostgreSql || database.Value.Provider == DatabaseProvider.PostgreSql,
                "Events:Transport is PostgreSql but Database:Provider is not: live events travel through the portal's PostgreSQL database, so set Database:Provider=PostgreSql (or Events:Transport=InProcess for one node).")
            .ValidateOnStart();
        builder.Services.AddSingleton<InProcessPortalEventStream>();
        // Chosen when first resolved, so every configuration source (files, environment, test hosts) is honoured.
        builder.Services.AddSingleton(sp => new PostgreSqlPortalEventStream(
            sp.GetRequiredService<InProcessPortalEventStream>(), sp.GetRequiredService<PortalMetrics>(), sp.GetRequiredService<ILogger<PostgreSqlPortalEventStream>>(),
            sp.GetRequiredService<IConfiguration>().GetConnectionString(DataExtensions.ConnectionStringName)
                ?? throw new InvalidOperationException($"Events:Transport is PostgreSql but ConnectionStrings:{DataExtensions.ConnectionStringName} is not set.")));
        builder.Services.AddSingleton<IPortalEventStream>(sp => sp.GetRequiredService<IOptions<LiveEventsOptions>>().Value.Transport == EventTransport.PostgreSql
            ? sp.GetRequiredService<PostgreSqlPortalEventStream>()
            : sp.GetRequiredService<InProcessPortalEventStream>());
        builder.Services.AddHostedService<LiveEventTransportService>();
        builder.Services.AddHostedService<StatusHubRelay>();
        return builder;
    }

    public static IEndpointRouteBuilder MapLiveFeature(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHub<StatusHub>(StatusHub.Path);
        return endpoints;
    }
}
