using Microsoft.AspNetCore.DataProtection;

namespace PsaPortal.Web.Features.Integrations;

/// <summary>
/// Encrypts PSA secrets with ASP.NET Core Data Protection before they are stored. The key ring is kept in the data
/// folder (one node) — every node of a cluster must share it, or none can read the others' secrets.
/// </summary>
public sealed class IntegrationSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("PsaPortal.Integrations.Secrets.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
