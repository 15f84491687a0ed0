using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Mapping;

/// <summary>
/// The mapping rules that are more than a field check (docs/adr/0007-mapping-model.md): which Autotask contracts bill,
/// "two tenants on the same agreement + product", the remap warning, and how a product's PSA match is guessed.
/// </summary>
public static class MappingRules
{
    /// <summary>
    /// The Autotask client's name for contract type 7 (the cache keeps it as the contract's type): the only kind of
    /// contract whose services carry billable units.
    /// </summary>
    public const string RecurringServiceContractType = "Recurring Service";

    public static bool IsRecurringServiceContract(string? contractType) => contractType == RecurringServiceContractType;

    /// <summary>
    /// The message when <paramref name="tenantId"/> on <paramref name="agreementPsaId"/> would bill a mapped product another
    /// tenant on the same agreement bills too; null when there is no such tenant.
    /// </summary>
    internal static async Task<string?> SharedAgreementConflictAsync(PortalDbContext db, Integration integration, long tenantId, long agreementPsaId, string? agreementName,
        CancellationToken cancellationToken)
    {
        var integrationId = integration.Id;
        var live = db.VendorProducts.Where(p => p.DeletedAt == null).Select(p => p.Id);
        var mine = from u in db.TenantUsage
                   where u.TenantId == tenantId && live.Contains(u.ProductId)
                   join pm in db.ProductMappings on u.ProductId equals pm.VendorProductId
                   where pm.IntegrationId == integrationId && pm.PsaProductId != null
                   select u.ProductId;
        var clash = await (
                from m in db.TenantMappings
                where m.IntegrationId == integrationId && m.Origin == MappingOrigin.Person && m.AgreementPsaId == agreementPsaId && m.TenantId != tenantId
                join t in db.Tenants on m.TenantId equals t.Id
                join u in db.TenantUsage on m.TenantId equals u.TenantId
                where mine.Contains(u.ProductId)
                join pm in db.ProductMappings on u.ProductId equals pm.VendorProductId
                where pm.IntegrationId == integrationId
                orderby t.Name
                select new { Tenant = t.Name, Product = pm.PsaProductName })
            .FirstOrDefaultAsync(cancellationToken);
        return clash is null ? null : SharedAgreementMessage(integration.Vendor, clash.Tenant, clash.Product ?? "", agreementName ?? "");
    }

    /// <summary>The same rule from the product's side: mapping it must not make two tenants on one agreement bill it.</summary>
    internal static async Task<string?> SharedProductConflictAsync(PortalDbContext db, Integration integration, VendorProduct product, string psaProductName,
        CancellationToken cancellationToken)
    {
        var integrationId = integration.Id;
        var productId = product.Id;
        var users = from m in db.TenantMappings
                    where m.IntegrationId == integrationId && m.Origin == MappingOrigin.Person && m.AgreementPsaId != null
                    join u in db.TenantUsage on m.TenantId equals u.TenantId
                    where u.ProductId == productId
                    join t in db.Tenants on m.TenantId equals t.Id
                    select new { m.TenantId, m.AgreementPsaId, m.AgreementName, t.Name };
        var clash = await (
                from a in users
                join b in users on a.AgreementPsaId equals b.AgreementPsaId
                where a.TenantId < b.TenantId
                orderby a.Name, b.Name
                select new { First = a.Name, Second = b.Name, a.AgreementName })
            .FirstOrDefaultAsync(cancellationToken);
        return clash is null ? null : SharedAgreementMessage(integration.Vendor, clash.First, psaProductName, clash.AgreementName ?? "", clash.Second);
    }

    /// <summary>"Two tenants on the same agreement + product": names the other tenant, the product and the agreement.</summary>
    public static string SharedAgreementMessage(PsaVendor vendor, string otherTenant, string product, string agreement, string? thisTenant = null)
    {
        var terms = MappingTerms.For(vendor);
        return $"Tenant \"{otherTenant}\" already bills \"{product}\" on {terms.Agreement} \"{agreement}\". Two tenants cannot bill the same " +
               $"{terms.Product} on one {terms.Agreement}: choose another {terms.Agreement} for {(thisTenant is null ? "this tenant" : $"\"{thisTenant}\"")}.";
    }

    /// <summary>The warning a remap of an already billed tenant needs confirmed.</summary>
    public static string RemapWarning(PsaVendor vendor, string tenant, string? agreement, DateTimeOffset lastBilledAt)
    {
        var terms = MappingTerms.For(vendor);
        return $"\"{tenant}\" was last billed to {terms.Agreement} \"{agreement}\" on {lastBilledAt.UtcDateTime:yyyy-MM-dd} (UTC). After this change " +
               $"the old {terms.Agreement}'s {terms.Addition} will no longer be updated by PsaPortal: adjust or end it in {vendor} yourself. Continue?";
    }

    internal sealed record PsaProductCandidate(long PsaId, string Name, string? Code, bool IsActive);

    /// <summary>
    /// A product's likely PSA match: the ConnectWise catalog identifier equal to the part number, or an Autotask service
    /// whose name holds the part number or is the product's own name. Never one already mapped to another product.
    /// </summary>
    internal static PsaPick? SuggestProduct(string partNumber, string name, IReadOnlyList<PsaProductCandidate> candidates, HashSet<long> taken)
    {
        var open = candidates.Where(c => c.IsActive && !taken.Contains(c.PsaId)).ToList();
        var match = open.FirstOrDefault(c => string.Equals(c.Code, partNumber, StringComparison.OrdinalIgnoreCase))
            ?? open.FirstOrDefault(c => c.Name.Contains(partNumber, StringComparison.OrdinalIgnoreCase))
            ?? open.FirstOrDefault(c => string.Equals(c.Name.Trim(), name.Trim(), StringComparison.OrdinalIgnoreCase));
        return match is null ? null : new PsaPick(match.PsaId, match.Name, match.Code);
    }
}
