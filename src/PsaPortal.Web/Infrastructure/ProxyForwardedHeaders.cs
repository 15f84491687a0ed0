using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.Extensions.Options;

namespace PsaPortal.Web.Infrastructure;

/// <summary>
/// The <c>Proxy</c> section: the reverse proxies whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> the portal
/// believes. Empty (the default) believes none, so a client cannot choose its own address for the sign-in limit.
/// Each key takes a list: an array in JSON, or one comma-separated value (<c>Proxy__KnownNetworks=172.18.0.0/16</c>).
/// </summary>
public sealed class PortalProxyOptions
{
    public const string SectionName = "Proxy";

    /// <summary>Proxy addresses, e.g. <c>10.0.0.5</c>.</summary>
    public IReadOnlyList<IPAddress> KnownProxies { get; set; } = [];

    /// <summary>Networks the proxies are in, in CIDR notation, e.g. <c>172.18.0.0/16</c>.</summary>
    public IReadOnlyList<IPNetwork> KnownNetworks { get; set; } = [];

    /// <summary>Entries of either key that did not parse, each with the key's name; start-up refuses while any remain.</summary>
    internal List<string> Errors { get; } = [];

    public bool Enabled => KnownProxies.Count > 0 || KnownNetworks.Count > 0;
}

/// <summary>
/// ASP.NET Core's forwarded headers middleware, on only when <c>Proxy:KnownProxies</c> or <c>Proxy:KnownNetworks</c>
/// names the proxy: then the client address (sign-in rate limit, logs) and the scheme (Secure cookies, HSTS) are the
/// ones the proxy saw. Only the last hop's entry is taken (the framework's default limit of one), which is the one the
/// trusted proxy wrote; what a client put in front of it is ignored. <c>X-Forwarded-Host</c> is never believed.
/// </summary>
public static class ProxyForwardedHeaders
{
    public static IHostApplicationBuilder AddPortalForwardedHeaders(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PortalProxyOptions>()
            .Configure<IConfiguration>((options, configuration) =>
            {
                var section = configuration.GetSection(PortalProxyOptions.SectionName);
                var proxies = new List<IPAddress>();
                foreach (var text in Entries(section, nameof(PortalProxyOptions.KnownProxies)))
                {
                    // IPAddress alone would read "10" as 0.0.0.10.
                    if (IPAddress.TryParse(text, out var address) && (text.Contains('.') || text.Contains(':')))
                    {
                        proxies.Add(address);
                    }
                    else
                    {
                        options.Errors.Add($"Proxy:KnownProxies: '{text}' is not an IP address (e.g. 10.0.0.5).");
                    }
                }

                var networks = new List<IPNetwork>();
                foreach (var text in Entries(section, nameof(PortalProxyOptions.KnownNetworks)))
                {
                    if (IPNetwork.TryParse(text, out var network))
                    {
                        networks.Add(network);
                    }
                    else
                    {
                        options.Errors.Add($"Proxy:KnownNetworks: '{text}' is not a network in CIDR notation (e.g. 172.18.0.0/16).");
                    }
                }

                options.KnownProxies = proxies;
                options.KnownNetworks = networks;
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<PortalProxyOptions>, ProxyOptionsValidator>();

        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<PortalProxyOptions>>((options, proxy) =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Exactly the proxies named: not the framework's default of loopback.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var address in proxy.Value.KnownProxies)
            {
                options.KnownProxies.Add(address);
            }

            foreach (var network in proxy.Value.KnownNetworks)
            {
                options.KnownIPNetworks.Add(network);
            }
        });
        return builder;
    }

    /// <summary>First in the pipeline, so everything after it (headers, HSTS, cookies, the rate limiter) sees the client.</summary>
    public static IApplicationBuilder UsePortalForwardedHeaders(this IApplicationBuilder app) =>
        app.ApplicationServices.GetRequiredService<IOptions<PortalProxyOptions>>().Value.Enabled
            ? app.UseForwardedHeaders()
            : app;

    private static string[] Entries(IConfigurationSection section, string key)
    {
        var entry = section.GetSection(key);
        return entry.Value is { } single
            ? single.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : entry.GetChildren().Select(child => child.Value?.Trim() ?? "").Where(text => text.Length > 0).ToArray();
    }

    private sealed class ProxyOptionsValidator : IValidateOptions<PortalProxyOptions>
    {
        public ValidateOptionsResult Validate(string? name, PortalProxyOptions options) =>
            options.Errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(options.Errors);
    }
}
