namespace PsaPortal.Web.Features.Ticketing;

public static class TicketingFeature
{
    /// <summary>Ticketing: its settings, the Tickets page's reads, and the engine with its job and start-up (<see cref="TicketSyncRegistration.AddTicketSync"/>).</summary>
    public static IHostApplicationBuilder AddTicketingFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TicketingSettingsService>();
        builder.Services.AddSingleton<ITicketingSettings>(services => services.GetRequiredService<TicketingSettingsService>());
        builder.Services.AddSingleton<TicketQueries>();
        builder.AddTicketSync();
        return builder;
    }
}
