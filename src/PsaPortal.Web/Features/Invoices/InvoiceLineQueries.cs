using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Invoices;

/// <summary>One row of the Invoices tab: an invoice line, its mapping, its dates and name as they go to ConnectWise, and its posting state.</summary>
public sealed record InvoiceLineRow(
    long Id,
    string ExternalId,
    string TenantName,
    string ProductName,
    string PartNumber,
    ChargeType ChargeType,
    BillingCycle BillingCycle,
    DateOnly InvoiceMonth,
    decimal Quantity,
    decimal UnitPrice,
    decimal Cost,
    DateOnly PlatformStartDate,
    DateOnly PlatformEndDate,
    ComputedCharge Charge,
    InvoiceMappingState Mapping,
    string? MappingReason,
    string? CompanyName,
    string? AgreementName,
    InvoiceLineSyncState State,
    string? Message,
    long? AdditionPsaId,
    DateTimeOffset? PostedAt,
    string? OverriddenBy);

/// <summary>The Invoices tab's lines of one invoice month and the months there are.</summary>
public sealed record InvoiceLinePage(Guid? IntegrationId, bool AgreementTypeChosen, IReadOnlyList<DateOnly> Months, DateOnly? Month, IReadOnlyList<InvoiceLineRow> Rows);

/// <summary>Reads the Invoices tab: one row per invoice line of the organization for its ConnectWise integration.</summary>
public sealed class InvoiceLineQueries(IDbContextFactory<PortalDbContext> dbFactory)
{
    /// <param name="month">The invoice month to show (any day of it); null: the newest month with lines.</param>
    /// <param name="notFullyMappedOnly">Only lines that are not fully mapped.</param>
    public async Task<InvoiceLinePage> GetAsync(ClaimsPrincipal user, DateOnly? month = null, bool notFullyMappedOnly = false, CancellationToken cancellationToken = default)
    {
        var organizationId = user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.OrganizationId == organizationId && i.Vendor == PsaVendor.ConnectWise, cancellationToken);
        var months = await db.InvoiceLines.AsNoTracking().Where(l => l.OrganizationId == organizationId)
            .Select(l => l.InvoiceMonth).Distinct().OrderByDescending(m => m).ToListAsync(cancellationToken);
        var chosen = month is { } m ? months.FirstOrDefault(x => x.Year == m.Year && x.Month == m.Month) : months.FirstOrDefault();
        if (months.Count == 0 || chosen == default)
        {
            return new InvoiceLinePage(integration?.Id, false, months, null, []);
        }

        var lines = await (
            from line in db.InvoiceLines.AsNoTracking()
            where line.OrganizationId == organizationId && line.InvoiceMonth == chosen
            join tenant in db.Tenants on line.TenantId equals tenant.Id
            join product in db.VendorProducts on line.ProductId equals product.Id
            orderby tenant.Name, product.PartNumber, line.ExternalId
            select new { Line = line, TenantName = tenant.Name, ProductName = product.Name, product.PartNumber })
            .ToListAsync(cancellationToken);

        var integrationId = integration?.Id ?? Guid.Empty;
        var settings = await db.InvoiceSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integrationId, cancellationToken);
        var rules = integration is null ? ChargeRuleSet.None : await InvoiceSettingsService.LoadRulesAsync(db, integrationId, cancellationToken);
        var tenantIds = lines.Select(l => l.Line.TenantId).Distinct().ToList();
        var productIds = lines.Select(l => l.Line.ProductId).Distinct().ToList();
        var lineIds = lines.Select(l => l.Line.Id).ToList();
        var tenantMappings = await db.TenantMappings.AsNoTracking().Where(t => t.IntegrationId == integrationId && tenantIds.Contains(t.TenantId))
            .ToDictionaryAsync(t => t.TenantId, cancellationToken);
        var productMappings = await db.ProductMappings.AsNoTracking().Where(p => p.IntegrationId == integrationId && productIds.Contains(p.VendorProductId))
            .ToDictionaryAsync(p => p.VendorProductId, cancellationToken);
        var syncs = await db.InvoiceLineSyncs.AsNoTracking().Where(s => s.IntegrationId == integrationId && lineIds.Contains(s.InvoiceLineId))
            .ToDictionaryAsync(s => s.InvoiceLineId, cancellationToken);

        var rows = new List<InvoiceLineRow>(lines.Count);
        foreach (var item in lines)
        {
            var line = item.Line;
            var tenantMapping = tenantMappings.GetValueOrDefault(line.TenantId);
            var productMapping = productMappings.GetValueOrDefault(line.ProductId);
            var sync = syncs.GetValueOrDefault(line.Id);
            // Only a person's mapping counts, as in the posting engine: a suggestion waits for someone to accept it.
            var mapping = InvoiceMapping.StateOf(tenantMapping is { Origin: MappingOrigin.Person } ? tenantMapping.CompanyPsaId : null, tenantMapping?.AgreementPsaId, productMapping?.PsaProductId);
            if (notFullyMappedOnly && mapping == InvoiceMappingState.FullyMapped)
            {
                continue;
            }

            var charge = sync is { State: InvoiceLineSyncState.Posted, PostedStartDate: { } postedStart, PostedEndDate: { } postedEnd }
                ? ChargeDateRules.Compute(line, rules, sync.StartDateOverride, sync.EndDateOverride) with { StartDate = postedStart, EndDate = postedEnd, ChargeTypeName = sync.PostedChargeTypeName ?? ChargeDateRules.PlatformName(line.ChargeType) }
                : ChargeDateRules.Compute(line, rules, sync?.StartDateOverride, sync?.EndDateOverride);
            rows.Add(new InvoiceLineRow(line.Id, line.ExternalId, item.TenantName, item.ProductName, item.PartNumber, line.ChargeType, line.BillingCycle,
                line.InvoiceMonth, line.Quantity, line.UnitPrice, line.Cost, line.ChargeStartDate, line.ChargeEndDate, charge, mapping,
                InvoiceMapping.Reason(mapping, item.TenantName, item.ProductName), tenantMapping?.CompanyName, tenantMapping?.AgreementName,
                sync?.State ?? InvoiceLineSyncState.Pending, sync?.Message, sync?.AdditionPsaId, sync?.PostedAt, sync?.OverriddenBy));
        }

        return new InvoiceLinePage(integration?.Id, settings?.AgreementTypeId is not null, months, chosen, rows);
    }
}
