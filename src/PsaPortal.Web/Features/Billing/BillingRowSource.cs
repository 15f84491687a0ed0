using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Mapping;

namespace PsaPortal.Web.Features.Billing;

/// <summary>One (tenant, vendor product) pair a run is limited to, e.g. the failed rows a retry retries.</summary>
public readonly record struct BillingRowKey(long TenantId, long VendorProductId);

/// <summary>
/// Builds a run's rows from the mappings and the live counts: every export-enabled tenant mapping of the integration
/// times each product the tenant reports usage for, New being the tenant's live count. A tenant whose mapping cannot
/// be billed yet (no company a person chose, no agreement or contract, a product without a PSA product) gets Failed
/// rows that say exactly what to do, so nothing export-enabled is silently left out.
/// </summary>
public sealed class BillingRowSource(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    /// <param name="only">Limits the rows to these pairs (a retry); null for every row of the integration.</param>
    public async Task<List<BillingRunItem>> BuildAsync(Integration integration, Guid runId, IReadOnlyCollection<BillingRowKey>? only, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tenantIds = only?.Select(k => k.TenantId).Distinct().ToList();
        var mappings = db.TenantMappings.AsNoTracking().Where(m => m.IntegrationId == integration.Id && m.ExportEnabled);
        if (tenantIds is not null)
        {
            mappings = mappings.Where(m => tenantIds.Contains(m.TenantId));
        }

        var lines = await (
                from m in mappings
                join t in db.Tenants on m.TenantId equals t.Id
                join u in db.TenantUsage on t.Id equals u.TenantId
                join p in db.VendorProducts on u.ProductId equals p.Id
                where t.OrganizationId == integration.OrganizationId && p.DeletedAt == null
                select new
                {
                    m.TenantId,
                    TenantName = t.Name,
                    m.Origin,
                    m.CompanyPsaId,
                    m.CompanyName,
                    m.AgreementPsaId,
                    m.AgreementName,
                    ProductId = p.Id,
                    ProductName = p.Name,
                    u.Quantity,
                })
            .ToListAsync(cancellationToken);
        var products = await db.ProductMappings.AsNoTracking().Where(p => p.IntegrationId == integration.Id)
            .ToDictionaryAsync(p => p.VendorProductId, cancellationToken);

        var wanted = only?.ToHashSet();
        var now = time.GetUtcNow();
        var vendor = integration.Vendor;
        var rows = new List<BillingRunItem>(lines.Count);
        foreach (var line in lines.OrderBy(l => l.TenantName, StringComparer.OrdinalIgnoreCase).ThenBy(l => l.TenantId).ThenBy(l => l.ProductName, StringComparer.Ordinal))
        {
            if (wanted is not null && !wanted.Contains(new BillingRowKey(line.TenantId, line.ProductId)))
            {
                continue;
            }

            products.TryGetValue(line.ProductId, out var product);
            var row = new BillingRunItem
            {
                RunId = runId,
                TenantId = line.TenantId,
                TenantName = Clip(line.TenantName),
                VendorProductId = line.ProductId,
                VendorProductName = Clip(line.ProductName),
                CompanyPsaId = line.Origin == MappingOrigin.Person ? line.CompanyPsaId : null,
                CompanyName = line.Origin == MappingOrigin.Person ? ClipOrNull(line.CompanyName) : null,
                AgreementPsaId = line.AgreementPsaId,
                AgreementName = ClipOrNull(line.AgreementName),
                PsaProductId = product?.PsaProductId,
                PsaProductName = product?.PsaProductId is null ? null : ClipOrNull(product.PsaProductName),
                New = line.Quantity,
                Outcome = BillingOutcome.Pending,
                UpdatedAt = now,
            };
            var problem = line.Origin switch
            {
                MappingOrigin.Suggested => BillingMessages.SuggestionNotAccepted(vendor),
                _ when line.Origin != MappingOrigin.Person || line.CompanyPsaId is null => BillingMessages.NoCompany(vendor),
                _ when line.AgreementPsaId is null => BillingMessages.NoAgreement(vendor),
                _ when product?.PsaProductId is null => BillingMessages.ProductNotMapped(vendor, line.ProductName),
                _ => null,
            };
            if (problem is not null)
            {
                row.Outcome = BillingOutcome.Failed;
                row.Message = problem;
            }

            rows.Add(row);
        }

        return rows;
    }

    internal static string Clip(string value) => value.Length <= BillingRunItem.NameMaxLength ? value : value[..(BillingRunItem.NameMaxLength - 1)] + "…";

    internal static string? ClipOrNull(string? value) => value is null ? null : Clip(value);
}
