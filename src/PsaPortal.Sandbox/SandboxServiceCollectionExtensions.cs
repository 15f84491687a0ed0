using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using PsaPortal.Sandbox.Hosting;

namespace PsaPortal.Sandbox;

public static class SandboxServiceCollectionExtensions
{
    /// <summary>Registers the sandbox state (<see cref="PsaSandbox"/>, a singleton) and its snapshot loader/saver.</summary>
    public static IServiceCollection AddPsaSandbox(this IServiceCollection services, Action<SandboxOptions>? configure = null)
    {
        var builder = services.AddOptions<SandboxOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => new PsaSandbox(
            provider.GetRequiredService<IOptions<SandboxOptions>>().Value,
            provider.GetRequiredService<TimeProvider>()));
        services.AddHostedService<SandboxSnapshotService>();
        return services;
    }
}
