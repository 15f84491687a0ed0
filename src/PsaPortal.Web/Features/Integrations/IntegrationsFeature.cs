using Microsoft.Extensions.Options;
using PsaPortal.Integrations;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Recording;
using PsaPortal.Web.Features.SystemLogs;

namespace PsaPortal.Web.Features.Integrations;

public static class IntegrationsFeature
{
    public static IHostApplicationBuilder AddIntegrationsFeature(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<PsaOptions>()
            .Bind(builder.Configuration.GetSection(PsaOptions.SectionName))
            .Validate(o => o.ConnectWiseRequestsPerMinute >= 1, "Psa:ConnectWiseRequestsPerMinute must be at least 1.")
            .ValidateOnStart();
        services.AddSingleton(new SiteAddressPolicy(allowLoopbackSandbox: builder.Configuration.GetValue<bool>("Sandbox:Enabled")));
        services.AddSingleton<IntegrationSecrets>();
        services.AddSingleton<IntegrationService>();
        services.AddSingleton<IntegrationSchedules>();
        services.AddHostedService<IntegrationSchedulesReconciler>();

        services.AddSingleton<SystemLogWriter>();
        services.AddSingleton<IPsaCallRecorder>(sp => sp.GetRequiredService<SystemLogWriter>());
        services.AddSingleton<IJobLog>(sp => sp.GetRequiredService<SystemLogWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<SystemLogWriter>());
        services.AddSingleton<SystemLogQuery>();
        builder.AddSystemLogsFeature();

        // Every PSA connection goes through the site policy's connect callback: no private or link-local host, ever.
        services.AddSingleton<IPsaClientFactory>(sp => new PsaClientFactory(
            sp.GetRequiredService<IPsaCallRecorder>(),
            new PsaClientFactoryOptions
            {
                ConnectWise = new ConnectWiseOptions { RequestsPerMinute = sp.GetRequiredService<IOptions<PsaOptions>>().Value.ConnectWiseRequestsPerMinute },
                TimeProvider = sp.GetRequiredService<TimeProvider>(),
                Metrics = sp.GetRequiredService<PsaPortal.Web.Infrastructure.PortalMetrics>(),
                PrimaryHandler = new SocketsHttpHandler
                {
                    ConnectCallback = sp.GetRequiredService<SiteAddressPolicy>().ConnectAsync,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    AutomaticDecompression = System.Net.DecompressionMethods.All,
                },
            }));
        return builder;
    }
}
