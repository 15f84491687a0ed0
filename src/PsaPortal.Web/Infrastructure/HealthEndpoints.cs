using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using PsaPortal.Web.Data;

namespace PsaPortal.Web.Infrastructure;

/// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: and its database does too.</summary>
internal static class HealthEndpoints
{
    private const string ReadyTag = "ready";

    public static IHostApplicationBuilder AddPortalHealthChecks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks().AddDbContextCheck<PortalDbContext>("database", tags: [ReadyTag]);
        return builder;
    }

    public static IEndpointRouteBuilder MapPortalHealthChecks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) }).AllowAnonymous();
        return endpoints;
    }
}
