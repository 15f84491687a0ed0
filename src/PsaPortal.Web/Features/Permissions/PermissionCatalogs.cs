using PsaPortal.Integrations;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Permissions;
using Quartz;

namespace PsaPortal.Web.Features.Permissions;

public static class PermissionCatalogs
{
    /// <summary>What a PSA user needs, from the Integrations catalogs, so the page's list and the checks cannot drift.</summary>
    public static IReadOnlyList<PermissionCheck> ChecksOf(PsaVendor vendor) => vendor switch
    {
        PsaVendor.ConnectWise => ConnectWisePermissionCatalog.AllChecks,
        PsaVendor.Autotask => AutotaskPermissionCatalog.AllChecks,
        _ => [],
    };

    public static IHostApplicationBuilder AddPermissionsFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PermissionVerification>();
        builder.AddQuartz(quartz => quartz.AddJob<VerifyPermissionsJob>(job => job.WithIdentity(VerifyPermissionsJob.Key).StoreDurably().RequestRecovery()));
        return builder;
    }
}
