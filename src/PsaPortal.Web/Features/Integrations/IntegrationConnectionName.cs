using PsaPortal.Integrations;

namespace PsaPortal.Web.Features.Integrations;

/// <summary>
/// The name the portal gives each PSA connection: it carries the organization, so that every call record the client
/// makes can be filed under that organization's System Logs, and nothing secret.
/// </summary>
public static class IntegrationConnectionName
{
    public static string For(Guid organizationId, PsaVendor vendor) => $"{organizationId:N}:{vendor}";

    public static bool TryParse(string connectionName, out Guid organizationId)
    {
        var separator = connectionName.IndexOf(':', StringComparison.Ordinal);
        organizationId = default;
        return separator > 0 && Guid.TryParseExact(connectionName[..separator], "N", out organizationId);
    }
}
