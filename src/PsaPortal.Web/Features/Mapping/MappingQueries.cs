using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Web.Features.Mapping;

/// <summary>
/// Tenants left-joined with their mapping in one integration, with what the PSA cache says of each: the query the grid
/// pages through and the checks read, so filtering and sorting by state happen in the database.
/// </summary>
internal static class MappingQueries
{
    /// <summary>The row data the grid and the checks share: tenant, mapping (absent → nulls) and what the cache says of it.</summary>
    internal sealed class RowData
    {
        public long TenantId { get; init; }

        public string ExternalId { get; init; } = "";

        public string TenantName { get; init; } = "";

        public string? TenantDomain { get; init; }

        public long? CompanyPsaId { get; init; }

        public string? CompanyName { get; init; }

        public MappingOrigin? Origin { get; init; }

        public double? SuggestionScore { get; init; }

        public string? SuggestionKind { get; init; }

        public long? AgreementPsaId { get; init; }

        public string? AgreementName { get; init; }

        public bool? ExportEnabled { get; init; }

        public DateTimeOffset? LastBilledAt { get; init; }

        public bool CompanyKnown { get; init; }

        public bool AgreementFits { get; init; }
    }

    public static IQueryable<RowData> Rows(PortalDbContext db, Guid organizationId, Integration integration)
    {
        var integrationId = integration.Id;
        var companies = db.PsaReferenceItems.Where(r => r.IntegrationId == integrationId && r.Kind == PsaReferenceKind.Company);
        var targets = BillingTargets(db, integration);
        return from t in db.Tenants.AsNoTracking()
               where t.OrganizationId == organizationId && t.Status != TenantStatus.Deleted
               join m in db.TenantMappings.Where(m => m.IntegrationId == integrationId) on t.Id equals m.TenantId into ms
               from m in ms.DefaultIfEmpty()
               select new RowData
               {
                   TenantId = t.Id,
                   ExternalId = t.ExternalId,
                   TenantName = t.Name,
                   TenantDomain = t.Domain,
                   CompanyPsaId = m == null ? null : m.CompanyPsaId,
                   CompanyName = m == null ? null : m.CompanyName,
                   Origin = m == null ? null : m.Origin,
                   SuggestionScore = m == null ? null : m.SuggestionScore,
                   SuggestionKind = m == null ? null : m.SuggestionKind,
                   AgreementPsaId = m == null ? null : m.AgreementPsaId,
                   AgreementName = m == null ? null : m.AgreementName,
                   ExportEnabled = m == null ? null : m.ExportEnabled,
                   LastBilledAt = m == null ? null : m.LastBilledAt,
                   CompanyKnown = m != null && m.CompanyPsaId != null && companies.Any(c => c.PsaId == m.CompanyPsaId),
                   AgreementFits = m == null || m.AgreementPsaId == null
                       || targets.Any(a => a.PsaId == m.AgreementPsaId && a.ParentPsaId == m.CompanyPsaId),
               };
    }

    /// <summary>Cached agreements (ConnectWise) or recurring-service contracts (Autotask) of the integration.</summary>
    public static IQueryable<PsaReferenceItem> BillingTargets(PortalDbContext db, Integration integration)
    {
        var integrationId = integration.Id;
        var kind = MappingTerms.For(integration.Vendor).AgreementKind;
        var targets = db.PsaReferenceItems.Where(r => r.IntegrationId == integrationId && r.Kind == kind);
        return integration.Vendor == PsaVendor.Autotask ? targets.Where(r => r.Type == MappingRules.RecurringServiceContractType) : targets;
    }

    // The four states as predicates, so filtering and sorting by state happen in the database.
    private static readonly Expression<Func<RowData, bool>> IsUnmapped = r => r.Origin == null || r.Origin == MappingOrigin.None;
    private static readonly Expression<Func<RowData, bool>> IsSuggested = r => r.Origin == MappingOrigin.Suggested;
    private static readonly Expression<Func<RowData, bool>> IsIncomplete = r => r.Origin == MappingOrigin.Person
        && (!r.CompanyKnown || !r.AgreementFits || (r.ExportEnabled == true && r.AgreementPsaId == null));
    private static readonly Expression<Func<RowData, bool>> IsMapped = r => r.Origin == MappingOrigin.Person
        && r.CompanyKnown && r.AgreementFits && !(r.ExportEnabled == true && r.AgreementPsaId == null);

    public static IQueryable<RowData> ApplyFilter(IQueryable<RowData> rows, MappingFilter filter) => filter switch
    {
        MappingFilter.Unmapped => rows.Where(IsUnmapped),
        MappingFilter.Suggested => rows.Where(IsSuggested),
        MappingFilter.Mapped => rows.Where(IsMapped),
        MappingFilter.Incomplete => rows.Where(IsIncomplete),
        _ => rows,
    };

    public static IQueryable<RowData> Sort(IQueryable<RowData> rows, MappingSort sort, bool descending)
    {
        // Rows without the value sort last either way; providers disagree on where NULL goes.
        var ordered = sort switch
        {
            MappingSort.Domain => By(rows.OrderBy(r => r.TenantDomain == null), r => r.TenantDomain, descending),
            MappingSort.Company => By(rows.OrderBy(r => r.CompanyName == null), r => r.CompanyName, descending),
            MappingSort.Agreement => By(rows.OrderBy(r => r.AgreementName == null), r => r.AgreementName, descending),
            MappingSort.Score => By(rows.OrderBy(r => r.SuggestionScore == null), r => r.SuggestionScore, descending),
            MappingSort.Export => By(rows, r => r.ExportEnabled == true, descending),
            // Unmapped, Suggested, Mapped, Incomplete: the order of MappingState.
            MappingSort.State => By(rows, r => r.Origin == null || r.Origin == MappingOrigin.None ? 0
                : r.Origin == MappingOrigin.Suggested ? 1
                : !r.CompanyKnown || !r.AgreementFits || (r.ExportEnabled == true && r.AgreementPsaId == null) ? 3 : 2, descending),
            _ => By(rows, r => r.TenantName, descending),
        };
        return ordered.ThenBy(r => r.TenantName).ThenBy(r => r.TenantId);
    }

    private static IOrderedQueryable<RowData> By<TKey>(IQueryable<RowData> rows, Expression<Func<RowData, TKey>> key, bool descending) =>
        descending ? rows.OrderByDescending(key) : rows.OrderBy(key);

    private static IOrderedQueryable<RowData> By<TKey>(IOrderedQueryable<RowData> rows, Expression<Func<RowData, TKey>> key, bool descending) =>
        descending ? rows.ThenByDescending(key) : rows.ThenBy(key);

    public static async Task<TenantMappingRow?> RowOfAsync(PortalDbContext db, Guid organizationId, Integration integration, long tenantId, CancellationToken cancellationToken)
    {
        var row = await Rows(db, organizationId, integration).Where(r => r.TenantId == tenantId).SingleOrDefaultAsync(cancellationToken);
        return row is null ? null : ToRow(row, integration.Vendor, MappingTerms.For(integration.Vendor));
    }

    public static TenantMappingRow ToRow(RowData r, PsaVendor vendor, MappingTerms terms)
    {
        var origin = r.Origin ?? MappingOrigin.None;
        var problem = origin != MappingOrigin.Person ? null
            : !r.CompanyKnown ? $"Company \"{r.CompanyName}\" is no longer in {vendor}. Refresh PSA data, or choose another company."
            : !r.AgreementFits ? $"{terms.AgreementTitle} \"{r.AgreementName}\" is not one of \"{r.CompanyName}\"'s {terms.Agreements} in {vendor}. Choose another."
            : r.ExportEnabled == true && r.AgreementPsaId is null ? $"Export is on, but no {terms.Agreement} is chosen."
            : null;
        var state = origin switch
        {
            MappingOrigin.None => MappingState.Unmapped,
            MappingOrigin.Suggested => MappingState.Suggested,
            _ => problem is null ? MappingState.Mapped : MappingState.Incomplete,
        };
        return new TenantMappingRow(r.TenantId, r.ExternalId, r.TenantName, r.TenantDomain, r.CompanyPsaId, r.CompanyName, origin, r.SuggestionScore,
            r.SuggestionKind, r.AgreementPsaId, r.AgreementName, r.ExportEnabled == true, r.LastBilledAt, state, problem);
    }
}
