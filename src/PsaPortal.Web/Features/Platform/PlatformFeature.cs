using System.Globalization;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Features.Platform;

public static class PlatformFeature
{
    public const string TenantExportPath = "/platform/export/tenants.csv";

    public static IHostApplicationBuilder AddPlatformFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PlatformIngest>();
        // Its writer drains the queue of validated batches, and stops with the host.
        builder.Services.AddHostedService(services => services.GetRequiredService<PlatformIngest>());
        builder.Services.AddSingleton<PlatformData>();
        builder.Services.AddSingleton<PlatformImport>();
        return builder;
    }

    /// <summary>The tenant export, for any signed-in user of the organization (the portal's cookie; a GET that changes nothing).</summary>
    public static IEndpointRouteBuilder MapPlatformFeature(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(TenantExportPath, async (HttpContext http, PlatformData data, TimeProvider time) =>
        {
            if (http.User.GetOrganizationId() is not { } organizationId)
            {
                http.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            }

            http.Response.ContentType = "text/csv; charset=utf-8";
            http.Response.Headers.ContentDisposition =
                $"attachment; filename=\"tenants-{time.GetUtcNow().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}.csv\"";
            http.Response.Headers.CacheControl = "no-store";
            await PlatformCsv.WriteTenantsAsync(http.Response.Body, data.AllTenantRowsAsync(organizationId, http.RequestAborted), http.RequestAborted);
        }).RequireAuthorization();
        return endpoints;
    }
}
