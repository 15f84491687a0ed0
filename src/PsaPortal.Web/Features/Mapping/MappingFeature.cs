namespace PsaPortal.Web.Features.Mapping;

public static class MappingFeature
{
    public static IHostApplicationBuilder AddMappingFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<MappingService>();
        return builder;
    }
}
