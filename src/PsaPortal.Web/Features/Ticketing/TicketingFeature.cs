namespace PsaPortal.Web.Features.Ticketing;

public static class TicketingFeature
{
    public static IHostApplicationBuilder AddTicketingFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TicketingSettingsService>();
        builder.Services.AddSingleton<ITicketingSettings>(services => services.GetRequiredService<TicketingSettingsService>());
        builder.Services.AddSingleton<TicketQueries>();
        return builder;
    }
}
