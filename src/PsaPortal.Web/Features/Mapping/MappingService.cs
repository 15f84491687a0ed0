using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Mapping.Suggestions;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Reference;
using static PsaPortal.Web.Features.Mapping.MappingQueries;
using static PsaPortal.Web.Features.Mapping.MappingRules;

namespace PsaPortal.Web.Features.Mapping;

/// <summary>
/// Maps an organization's tenants to PSA companies and agreements (ConnectWise) or recurring-service contracts
/// (Autotask), and its vendor products to PSA products or services, per integration (docs/adr/0007-mapping-model.md).
/// Pages and jobs call it; every read and write is confined to the user's organization, Sales users only read, and
/// every change is audited. Pickers and checks read the local copy of the PSA's reference data.
/// </summary>
public sealed class MappingService(IDbContextFactory<PortalDbContext> dbFactory, AuditLog audit, TimeProvider time)
{
    public const string SalesRefused = "Sales users cannot change mappings.";
    public const string IntegrationNotFound = "That integration does not exist in your organization.";
    public const string TenantNotFound = "That tenant does not exist in your organization.";
    public const string ProductNotFound = "That product does not exist in your organization.";
    public const string ConcurrentChange = "Someone changed this mapping at the same moment; the page shows the current state, try again.";
    public const int MaxPageSize = 100;
    public const int MaxPickerSize = 50;

    // ---------------------------------------------------------------- reads

    /// <summary>The organization's PSA integrations, with how fresh each one's cached reference data is.</summary>
    public async Task<IReadOnlyList<MappingIntegration>> IntegrationsAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        var organizationId = OrganizationOf(user);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Integrations.AsNoTracking()
            .Where(i => i.OrganizationId == organizationId)
            .OrderBy(i => i.Vendor)
            .Select(i => new MappingIntegration(i.Id, i.Vendor, i.Status, i.ReferenceSyncedAt,
                db.PsaReferenceItems.Count(r => r.IntegrationId == i.Id && r.Kind == PsaReferenceKind.Company)))
            .ToListAsync(cancellationToken);
    }

    /// <summary>One page of tenants with their mapping: filtered, searched, sorted and paged in the database.</summary>
    public async Task<TenantMappingPage> ListAsync(ClaimsPrincipal user, Guid integrationId, MappingQuery query, CancellationToken cancellationToken = default)
    {
        var organizationId = OrganizationOf(user);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, organizationId, integrationId, cancellationToken);
        if (integration is null)
        {
            return new TenantMappingPage([], 0);
        }

        var rows = ApplyFilter(Rows(db, organizationId, integration), query.Filter);
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = SearchTerms.Clean(query.Search).ToLower(CultureInfo.InvariantCulture);
            rows = rows.Where(r => r.TenantName.ToLower().Contains(term) || r.ExternalId.ToLower().Contains(term)
                || (r.TenantDomain != null && r.TenantDomain.ToLower().Contains(term))
                || (r.CompanyName != null && r.CompanyName.ToLower().Contains(term)));
        }

        var total = await rows.CountAsync(cancellationToken);
        var page = await Sort(rows, query.Sort, query.Descending)
            .Skip(Math.Max(0, query.Skip))
            .Take(Math.Clamp(query.Take, 1, MaxPageSize))
            .ToListAsync(cancellationToken);
        var terms = MappingTerms.For(integration.Vendor);
        return new TenantMappingPage(page.Select(r => ToRow(r, integration.Vendor, terms)).ToList(), total);
    }

    /// <summary>The company picker: cached PSA companies whose name or identifier contains <paramref name="text"/>, by name.</summary>
    public async Task<PsaPickPage> SearchCompaniesAsync(ClaimsPrincipal user, Guid integrationId, string? text, int skip = 0, int take = MaxPickerSize,
        CancellationToken cancellationToken = default)
    {
        var organizationId = OrganizationOf(user);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await FindIntegrationAsync(db, organizationId, integrationId, cancellationToken) is null)
        {
            return new PsaPickPage([], 0);
        }

        var companies = db.PsaReferenceItems.AsNoTracking().Where(r => r.IntegrationId == integrationId && r.Kind == PsaReferenceKind.Company);
        if (!string.IsNullOrWhiteSpace(text))
        {
            var term = SearchTerms.Clean(text).ToLower(CultureInfo.InvariantCulture);
            companies = companies.Where(r => r.SearchText.Contains(term));
        }

        var total = await companies.CountAsync(cancellationToken);
        var items = await companies.OrderBy(r => r.Name).ThenBy(r => r.PsaId)
            .Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, MaxPickerSize))
            .Select(r => new { r.PsaId, r.Name, r.Code, r.Domain, r.IsActive })
            .ToListAsync(cancellationToken);
        return new PsaPickPage(items.Select(c => new PsaPick(c.PsaId, c.Name, Detail(c.Code, c.Domain, c.IsActive ? null : "inactive"))).ToList(), total);
    }

    /// <summary>The agreements (ConnectWise) or recurring-service contracts (Autotask) of one cached company.</summary>
    public async Task<IReadOnlyList<PsaPick>> AgreementsOfAsync(ClaimsPrincipal user, Guid integrationId, long companyPsaId, CancellationToken cancellationToken = default) =>
        (await AgreementsOfAsync(user, integrationId, [companyPsaId], cancellationToken)).GetValueOrDefault(companyPsaId) ?? [];

    /// <summary>The agreements or contracts of several companies at once (one grid page's), by company.</summary>
    public async Task<IReadOnlyDictionary<long, IReadOnlyList<PsaPick>>> AgreementsOfAsync(ClaimsPrincipal user, Guid integrationId,
        IReadOnlyCollection<long> companyPsaIds, CancellationToken cancellationToken = default)
    {
        var organizationId = OrganizationOf(user);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, organizationId, integrationId, cancellationToken);
        if (integration is null || companyPsaIds.Count == 0)
        {
            return new Dictionary<long, IReadOnlyList<PsaPick>>();
        }

        var agreements = await BillingTargets(db, integration).AsNoTracking()
            .Where(r => r.ParentPsaId != null && companyPsaIds.Contains(r.ParentPsaId.Value))
            .OrderBy(r => r.Name).ThenBy(r => r.PsaId)
            .Select(r => new { Company = r.ParentPsaId!.Value, r.PsaId, r.Name, r.Type, r.StartDate, r.EndDate, r.IsActive })
            .ToListAsync(cancellationToken);
        return agreements.GroupBy(a => a.Company).ToDictionary(g => g.Key, IReadOnlyList<PsaPick> (g) =>
            g.Select(a => new PsaPick(a.PsaId, a.Name, Detail(a.Type, Period(a.StartDate, a.EndDate), a.IsActive ? null : "inactive"))).ToList());
    }

    /// <summary>Active ConnectWise catalog products or Autotask services, by name.</summary>
    public async Task<IReadOnlyList<PsaPick>> PsaProductsAsync(ClaimsPrincipal user, Guid integrationId, CancellationToken cancellationToken = default)
    {
        var organizationId = OrganizationOf(user);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, organizationId, integrationId, cancellationToken);
        if (integration is null)
        {
            return [];
        }

        var kind = MappingTerms.For(integration.Vendor).ProductKind;
        var products = await db.PsaReferenceItems.AsNoTracking()
            .Where(r => r.IntegrationId == integrationId && r.Kind == kind && r.IsActive)
            .OrderBy(r => r.Name).ThenBy(r => r.PsaId)
            .Select(r => new { r.PsaId, r.Name, r.Code })
            .ToListAsync(cancellationToken);
        return products.Select(p => new PsaPick(p.PsaId, p.Name, p.Code)).ToList();
    }

    /// <summary>Every vendor product with its PSA product, and a suggestion for the unmapped ones.</summary>
    public async Task<IReadOnlyList<ProductMappingRow>> ListProductsAsync(ClaimsPrincipal user, Guid integrationId, CancellationToken cancellationToken = default)
    {
        var organizationId = OrganizationOf(user);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, organizationId, integrationId, cancellationToken);
        if (integration is null)
        {
            return [];
        }

        var products = await (
                from p in db.VendorProducts.AsNoTracking()
                where p.OrganizationId == organizationId && p.DeletedAt == null
                join m in db.ProductMappings.Where(m => m.IntegrationId == integrationId) on p.Id equals m.VendorProductId into ms
                from m in ms.DefaultIfEmpty()
                orderby p.PartNumber
                select new { p.Id, p.PartNumber, p.Name, PsaProductId = m == null ? null : m.PsaProductId, PsaProductName = m == null ? null : m.PsaProductName })
            .ToListAsync(cancellationToken);
        var kind = MappingTerms.For(integration.Vendor).ProductKind;
        var psaProducts = await db.PsaReferenceItems.AsNoTracking()
            .Where(r => r.IntegrationId == integrationId && r.Kind == kind)
            .Select(r => new PsaProductCandidate(r.PsaId, r.Name, r.Code, r.IsActive))
            .ToListAsync(cancellationToken);
        var known = psaProducts.Select(p => p.PsaId).ToHashSet();
        var taken = products.Where(p => p.PsaProductId is not null).Select(p => p.PsaProductId!.Value).ToHashSet();
        return products.Select(p => new ProductMappingRow(p.Id, p.PartNumber, p.Name, p.PsaProductId, p.PsaProductName,
                p.PsaProductId is { } id && !known.Contains(id),
                p.PsaProductId is null ? SuggestProduct(p.PartNumber, p.Name, psaProducts, taken) : null))
            .ToList();
    }

    // ---------------------------------------------------------------- tenant mapping changes

    /// <summary>Maps the tenant to a cached company, as a person's choice. A different company clears the agreement and export.</summary>
    public Task<MappingResult> SetCompanyAsync(ClaimsPrincipal user, Guid integrationId, long tenantId, long companyPsaId, bool confirmed = false,
        CancellationToken cancellationToken = default) =>
        ChangeAsync(user, integrationId, tenantId, confirmed, async (context, mapping) =>
        {
            var company = await context.Db.PsaReferenceItems.AsNoTracking()
                .SingleOrDefaultAsync(r => r.IntegrationId == integrationId && r.Kind == PsaReferenceKind.Company && r.PsaId == companyPsaId, cancellationToken);
            if (company is null)
            {
                return Change.Refuse($"That company is not in the {context.Integration.Vendor} data PsaPortal holds. Refresh PSA data and choose again.");
            }

            var sameCompany = mapping.CompanyPsaId == company.PsaId;
            var acceptsSuggestion = sameCompany && mapping.Origin == MappingOrigin.Suggested;
            return Change.Apply(moves: !sameCompany, m =>
            {
                if (!sameCompany)
                {
                    m.AgreementPsaId = null;
                    m.AgreementName = null;
                    m.ExportEnabled = false;
                }

                if (!acceptsSuggestion && !(sameCompany && m.Origin == MappingOrigin.Person))
                {
                    m.SuggestionScore = null;
                    m.SuggestionKind = null;
                }

                m.CompanyPsaId = company.PsaId;
                m.CompanyName = company.Name;
                m.Origin = MappingOrigin.Person;
            }, $"Company set to \"{company.Name}\".");
        }, cancellationToken);

    /// <summary>Sets (or, with null, clears) the agreement or contract; it must be one of the mapped company's.</summary>
    public Task<MappingResult> SetAgreementAsync(ClaimsPrincipal user, Guid integrationId, long tenantId, long? agreementPsaId, bool confirmed = false,
        CancellationToken cancellationToken = default) =>
        ChangeAsync(user, integrationId, tenantId, confirmed, async (context, mapping) =>
        {
            var terms = context.Terms;
            if (mapping.Origin != MappingOrigin.Person || mapping.CompanyPsaId is null)
            {
                return Change.Refuse(mapping.Origin == MappingOrigin.Suggested
                    ? $"Accept or change the suggested company before choosing an {terms.Agreement}."
                    : $"Choose the tenant's company before choosing an {terms.Agreement}.");
            }

            if (agreementPsaId is null)
            {
                return Change.Apply(moves: mapping.AgreementPsaId is not null, m =>
                {
                    m.AgreementPsaId = null;
                    m.AgreementName = null;
                    m.ExportEnabled = false;
                }, $"{terms.AgreementTitle} cleared; export is off.");
            }

            var agreement = await context.Db.PsaReferenceItems.AsNoTracking()
                .SingleOrDefaultAsync(r => r.IntegrationId == integrationId && r.Kind == terms.AgreementKind && r.PsaId == agreementPsaId, cancellationToken);
            if (agreement is null)
            {
                return Change.Refuse($"That {terms.Agreement} is not in the {context.Integration.Vendor} data PsaPortal holds. Refresh PSA data and choose again.");
            }

            if (agreement.ParentPsaId != mapping.CompanyPsaId)
            {
                return Change.Refuse($"{terms.AgreementTitle} \"{agreement.Name}\" does not belong to \"{mapping.CompanyName}\". Choose one of that company's {terms.Agreements}.");
            }

            if (context.Integration.Vendor == PsaVendor.Autotask && !IsRecurringServiceContract(agreement.Type))
            {
                return Change.Refuse($"Contract \"{agreement.Name}\" is not a Recurring Service contract; billing needs one.");
            }

            if (await SharedAgreementConflictAsync(context.Db, context.Integration, mapping.TenantId, agreement.PsaId, agreement.Name, cancellationToken) is { } conflict)
            {
                return Change.Refuse(conflict);
            }

            return Change.Apply(moves: mapping.AgreementPsaId != agreement.PsaId, m =>
            {
                m.AgreementPsaId = agreement.PsaId;
                m.AgreementName = agreement.Name;
            }, $"{terms.AgreementTitle} set to \"{agreement.Name}\".");
        }, cancellationToken);

    /// <summary>Turns billing export on or off; on only for a complete mapping that shares no agreement and product with another tenant.</summary>
    public Task<MappingResult> SetExportAsync(ClaimsPrincipal user, Guid integrationId, long tenantId, bool enabled, CancellationToken cancellationToken = default) =>
        ChangeAsync(user, integrationId, tenantId, confirmed: true, async (context, mapping) =>
        {
            if (!enabled)
            {
                return Change.Apply(moves: false, m => m.ExportEnabled = false, "Export disabled.");
            }

            var terms = context.Terms;
            if (mapping.Origin != MappingOrigin.Person)
            {
                return Change.Refuse(mapping.Origin == MappingOrigin.Suggested
                    ? $"Accept the suggested company and choose an {terms.Agreement} before enabling export."
                    : $"Choose the tenant's company and {terms.Agreement} before enabling export.");
            }

            var row = await RowOfAsync(context.Db, context.Integration.OrganizationId, context.Integration, mapping.TenantId, cancellationToken);
            if (row?.Problem is { } problem)
            {
                return Change.Refuse($"Export cannot be enabled while the mapping is incomplete: {problem}");
            }

            if (mapping.AgreementPsaId is not { } agreementPsaId)
            {
                return Change.Refuse($"Choose an {terms.Agreement} for this tenant before enabling export.");
            }

            if (await SharedAgreementConflictAsync(context.Db, context.Integration, mapping.TenantId, agreementPsaId, mapping.AgreementName, cancellationToken) is { } conflict)
            {
                return Change.Refuse(conflict);
            }

            return Change.Apply(moves: false, m => m.ExportEnabled = true, "Export enabled.");
        }, cancellationToken);

    /// <summary>Back to Unmapped: company, agreement and export cleared. A rejected suggestion stays remembered.</summary>
    public Task<MappingResult> ClearAsync(ClaimsPrincipal user, Guid integrationId, long tenantId, bool confirmed = false, CancellationToken cancellationToken = default) =>
        ChangeAsync(user, integrationId, tenantId, confirmed, (_, mapping) => Task.FromResult(Change.Apply(moves: mapping.CompanyPsaId is not null, m =>
        {
            m.CompanyPsaId = null;
            m.CompanyName = null;
            m.AgreementPsaId = null;
            m.AgreementName = null;
            m.ExportEnabled = false;
            m.Origin = MappingOrigin.None;
            m.SuggestionScore = null;
            m.SuggestionKind = null;
        }, "Mapping cleared.")), cancellationToken);

    // ---------------------------------------------------------------- suggestions

    /// <summary>
    /// Proposes the best-matching cached company for every tenant without one (Origin None). Never touches a row a person
    /// mapped, nor one already suggested, and never proposes again the company a person rejected for that tenant.
    /// </summary>
    public async Task<MappingResult> SuggestAsync(ClaimsPrincipal user, Guid integrationId, CancellationToken cancellationToken = default)
    {
        if (RefuseSales(user) is { } refused)
        {
            return refused;
        }

        var (organizationId, actor) = (OrganizationOf(user), Actor.From(user));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, organizationId, integrationId, cancellationToken);
        if (integration is null)
        {
            return MappingResult.Refused(IntegrationNotFound);
        }

        var candidates = await db.PsaReferenceItems.AsNoTracking()
            .Where(r => r.IntegrationId == integrationId && r.Kind == PsaReferenceKind.Company && r.IsActive)
            .Select(r => new CompanyCandidate(r.PsaId, r.Name, r.Domain))
            .ToListAsync(cancellationToken);
        if (candidates.Count == 0)
        {
            return MappingResult.Refused($"PsaPortal holds no {integration.Vendor} companies yet. Refresh PSA data first.");
        }

        var open = await (
                from t in db.Tenants.AsNoTracking()
                where t.OrganizationId == organizationId && t.Status != TenantStatus.Deleted
                join m in db.TenantMappings.Where(m => m.IntegrationId == integrationId) on t.Id equals m.TenantId into ms
                from m in ms.DefaultIfEmpty()
                where m == null || m.Origin == MappingOrigin.None
                select new { t.Id, t.Name, t.Domain, Rejected = m == null ? null : m.RejectedCompanyPsaId })
            .ToListAsync(cancellationToken);

        var rejected = open.ToDictionary(t => t.Id, t => t.Rejected);
        var proposals = new CompanyMatcher(candidates).SuggestAll(open.Select(t => (t.Id, t.Name, (string?)t.Domain)))
            .Where(s => s.Value.CompanyId != rejected[s.Key])
            .ToDictionary(s => s.Key, s => s.Value);

        var now = time.GetUtcNow();
        try
        {
            foreach (var batch in proposals.Keys.Chunk(500))
            {
                var existing = await db.TenantMappings.Where(m => m.IntegrationId == integrationId && batch.Contains(m.TenantId))
                    .ToDictionaryAsync(m => m.TenantId, cancellationToken);
                foreach (var tenantId in batch)
                {
                    if (!existing.TryGetValue(tenantId, out var mapping))
                    {
                        mapping = new TenantMapping { IntegrationId = integrationId, TenantId = tenantId };
                        db.TenantMappings.Add(mapping);
                    }
                    else if (mapping.Origin != MappingOrigin.None)
                    {
                        // Mapped by someone while the matcher ran: theirs stands.
                        proposals.Remove(tenantId);
                        continue;
                    }

                    var suggestion = proposals[tenantId];
                    mapping.Origin = MappingOrigin.Suggested;
                    mapping.CompanyPsaId = suggestion.CompanyId;
                    mapping.CompanyName = suggestion.CompanyName;
                    mapping.SuggestionScore = Math.Round(suggestion.Score, 4);
                    mapping.SuggestionKind = suggestion.Kind.ToString();
                    mapping.UpdatedAt = now;
                    mapping.UpdatedBy = actor.Name;
                }

                await db.SaveChangesAsync(cancellationToken);
                db.ChangeTracker.Clear();
            }
        }
        catch (DbUpdateException)
        {
            return MappingResult.Refused(ConcurrentChange);
        }

        var message = $"Suggested a company for {proposals.Count} of {open.Count} unmapped tenants.";
        await audit.RecordAsync(organizationId, actor, "Mapping suggestions made", integration.Vendor.ToString(), message, cancellationToken);
        return MappingResult.Done(message);
    }

    /// <summary>Accepts the suggestions of the given tenants (rows that are not Suggested are left alone).</summary>
    public Task<MappingResult> AcceptAsync(ClaimsPrincipal user, Guid integrationId, IReadOnlyCollection<long> tenantIds, CancellationToken cancellationToken = default) =>
        DecideAsync(user, integrationId, accept: true, q => q.Where(m => tenantIds.Contains(m.TenantId)), null, cancellationToken);

    /// <summary>Accepts every suggestion scoring at least <paramref name="minimumScore"/> (0 to 1).</summary>
    public Task<MappingResult> AcceptAboveAsync(ClaimsPrincipal user, Guid integrationId, double minimumScore, CancellationToken cancellationToken = default) =>
        DecideAsync(user, integrationId, accept: true, q => q.Where(m => m.SuggestionScore >= minimumScore), minimumScore, cancellationToken);

    /// <summary>Rejects the suggestions of the given tenants: they go back to Unmapped and Suggest will not propose the same company again.</summary>
    public Task<MappingResult> RejectAsync(ClaimsPrincipal user, Guid integrationId, IReadOnlyCollection<long> tenantIds, CancellationToken cancellationToken = default) =>
        DecideAsync(user, integrationId, accept: false, q => q.Where(m => tenantIds.Contains(m.TenantId)), null, cancellationToken);

    public Task<MappingResult> RejectAboveAsync(ClaimsPrincipal user, Guid integrationId, double minimumScore, CancellationToken cancellationToken = default) =>
        DecideAsync(user, integrationId, accept: false, q => q.Where(m => m.SuggestionScore >= minimumScore), minimumScore, cancellationToken);

    // ---------------------------------------------------------------- product mappings

    /// <summary>Maps a vendor product to a PSA product (or, with null, unmaps it). One PSA product per vendor product.</summary>
    public async Task<MappingResult> SetProductAsync(ClaimsPrincipal user, Guid integrationId, long vendorProductId, long? psaProductId,
        CancellationToken cancellationToken = default)
    {
        if (RefuseSales(user) is { } refused)
        {
            return refused;
        }

        var (organizationId, actor) = (OrganizationOf(user), Actor.From(user));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, organizationId, integrationId, cancellationToken);
        if (integration is null)
        {
            return MappingResult.Refused(IntegrationNotFound);
        }

        var product = await db.VendorProducts.AsNoTracking().SingleOrDefaultAsync(p => p.Id == vendorProductId && p.OrganizationId == organizationId && p.DeletedAt == null, cancellationToken);
        if (product is null)
        {
            return MappingResult.Refused(ProductNotFound);
        }

        var terms = MappingTerms.For(integration.Vendor);
        PsaReferenceItem? psaProduct = null;
        if (psaProductId is not null)
        {
            psaProduct = await db.PsaReferenceItems.AsNoTracking()
                .SingleOrDefaultAsync(r => r.IntegrationId == integrationId && r.Kind == terms.ProductKind && r.PsaId == psaProductId, cancellationToken);
            if (psaProduct is null)
            {
                return MappingResult.Refused($"That {terms.Product} is not in the {integration.Vendor} data PsaPortal holds. Refresh PSA data and choose again.");
            }

            var other = await (
                    from m in db.ProductMappings
                    where m.IntegrationId == integrationId && m.PsaProductId == psaProductId && m.VendorProductId != vendorProductId
                    join p in db.VendorProducts on m.VendorProductId equals p.Id
                    select p.PartNumber)
                .FirstOrDefaultAsync(cancellationToken);
            if (other is not null)
            {
                return MappingResult.Refused($"\"{psaProduct.Name}\" already bills {other}. Each vendor product needs its own {integration.Vendor} {terms.Product}.");
            }

            if (await SharedProductConflictAsync(db, integration, product, psaProduct.Name, cancellationToken) is { } conflict)
            {
                return MappingResult.Refused(conflict);
            }
        }

        var mapping = await db.ProductMappings.SingleOrDefaultAsync(m => m.IntegrationId == integrationId && m.VendorProductId == vendorProductId, cancellationToken);
        var oldName = mapping?.PsaProductName;
        if (mapping is null)
        {
            mapping = new ProductMapping { IntegrationId = integrationId, VendorProductId = vendorProductId };
            db.ProductMappings.Add(mapping);
        }

        mapping.PsaProductId = psaProduct?.PsaId;
        mapping.PsaProductName = psaProduct?.Name;
        mapping.UpdatedAt = time.GetUtcNow();
        mapping.UpdatedBy = actor.Name;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return MappingResult.Refused(ConcurrentChange);
        }

        await audit.RecordAsync(organizationId, actor, "Product mapping changed", $"{product.PartNumber} ({integration.Vendor})",
            $"{terms.Product}: {Quote(oldName)} → {Quote(psaProduct?.Name)}", cancellationToken);
        return MappingResult.Done(psaProduct is null ? $"{product.PartNumber} is no longer mapped." : $"{product.PartNumber} bills as \"{psaProduct.Name}\".");
    }

    /// <summary>Applies the suggestion of every unmapped vendor product; refusals are reported, the rest applied.</summary>
    public async Task<MappingResult> AcceptProductSuggestionsAsync(ClaimsPrincipal user, Guid integrationId, CancellationToken cancellationToken = default)
    {
        if (RefuseSales(user) is { } refused)
        {
            return refused;
        }

        // Another organization's integration id must be refused as not found, not answered "Mapped 0 products".
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (await FindIntegrationAsync(db, OrganizationOf(user), integrationId, cancellationToken) is null)
            {
                return MappingResult.Refused(IntegrationNotFound);
            }
        }

        var applied = 0;
        var problems = new List<string>();
        foreach (var row in (await ListProductsAsync(user, integrationId, cancellationToken)).Where(r => r.Suggestion is not null))
        {
            var result = await SetProductAsync(user, integrationId, row.VendorProductId, row.Suggestion!.PsaId, cancellationToken);
            if (result.Succeeded)
            {
                applied++;
            }
            else
            {
                problems.Add($"{row.PartNumber}: {result.Message}");
            }
        }

        var message = $"Mapped {applied} product{(applied == 1 ? "" : "s")} as suggested.";
        return problems.Count == 0 ? MappingResult.Done(message) : new MappingResult(applied > 0, $"{message} {string.Join(" ", problems)}");
    }

    // ---------------------------------------------------------------- machinery

    private sealed record ChangeContext(PortalDbContext Db, Integration Integration, MappingTerms Terms);

    /// <summary>What a change decided: refuse with a message, or apply <see cref="Mutate"/> (which moves the billing target when <see cref="Moves"/>).</summary>
    private sealed record Change(string? Refusal, bool Moves, Action<TenantMapping>? Mutate, string Message)
    {
        public static Change Refuse(string message) => new(message, false, null, message);

        public static Change Apply(bool moves, Action<TenantMapping> mutate, string message) => new(null, moves, mutate, message);
    }

    /// <summary>
    /// Every single-tenant change: role, organization and tenant checks; the decision; the remap warning when a billed
    /// tenant's target moves; the write; the audit entry with old → new.
    /// </summary>
    private async Task<MappingResult> ChangeAsync(ClaimsPrincipal user, Guid integrationId, long tenantId, bool confirmed,
        Func<ChangeContext, TenantMapping, Task<Change>> decide, CancellationToken cancellationToken)
    {
        if (RefuseSales(user) is { } refused)
        {
            return refused;
        }

        var (organizationId, actor) = (OrganizationOf(user), Actor.From(user));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, organizationId, integrationId, cancellationToken);
        if (integration is null)
        {
            return MappingResult.Refused(IntegrationNotFound);
        }

        var tenant = await db.Tenants.AsNoTracking().SingleOrDefaultAsync(t => t.Id == tenantId && t.OrganizationId == organizationId, cancellationToken);
        if (tenant is null)
        {
            return MappingResult.Refused(TenantNotFound);
        }

        var mapping = await db.TenantMappings.SingleOrDefaultAsync(m => m.IntegrationId == integrationId && m.TenantId == tenantId, cancellationToken);
        if (mapping is null)
        {
            mapping = new TenantMapping { IntegrationId = integrationId, TenantId = tenantId };
            db.TenantMappings.Add(mapping);
        }

        var before = Describe(mapping);
        var change = await decide(new ChangeContext(db, integration, MappingTerms.For(integration.Vendor)), mapping);
        if (change.Refusal is not null)
        {
            return MappingResult.Refused(change.Refusal);
        }

        var billedRemap = change.Moves && mapping.LastBilledAt is { } billedAt && mapping.AgreementPsaId is not null;
        if (billedRemap && !confirmed)
        {
            return MappingResult.Confirm(RemapWarning(integration.Vendor, tenant.Name, mapping.AgreementName, mapping.LastBilledAt!.Value));
        }

        change.Mutate!(mapping);
        if (billedRemap)
        {
            // The new target has not been billed yet; the next remap of it needs no warning until billing writes to it.
            mapping.LastBilledAt = null;
        }

        var after = Describe(mapping);
        if (before == after)
        {
            return MappingResult.Done(change.Message);
        }

        mapping.UpdatedAt = time.GetUtcNow();
        mapping.UpdatedBy = actor.Name;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return MappingResult.Refused(ConcurrentChange);
        }

        await audit.RecordAsync(organizationId, actor, billedRemap ? "Billed tenant remapped" : "Tenant mapping changed",
            $"{tenant.Name} ({integration.Vendor})", $"{before} → {after}", cancellationToken);
        return MappingResult.Done(change.Message);
    }

    private async Task<MappingResult> DecideAsync(ClaimsPrincipal user, Guid integrationId, bool accept,
        Func<IQueryable<TenantMapping>, IQueryable<TenantMapping>> select, double? minimumScore, CancellationToken cancellationToken)
    {
        if (RefuseSales(user) is { } refused)
        {
            return refused;
        }

        if (minimumScore is < 0 or > 1 || (minimumScore is { } score && double.IsNaN(score)))
        {
            return MappingResult.Refused("A minimum score is between 0 and 100%.");
        }

        var (organizationId, actor) = (OrganizationOf(user), Actor.From(user));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await FindIntegrationAsync(db, organizationId, integrationId, cancellationToken);
        if (integration is null)
        {
            return MappingResult.Refused(IntegrationNotFound);
        }

        // Tenants of other organizations never reach here: their mappings belong to their own integrations.
        var suggested = select(db.TenantMappings.Where(m => m.IntegrationId == integrationId && m.Origin == MappingOrigin.Suggested));
        var now = time.GetUtcNow();
        var count = accept
            ? await suggested.ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Origin, MappingOrigin.Person)
                .SetProperty(m => m.UpdatedAt, now)
                .SetProperty(m => m.UpdatedBy, actor.Name), cancellationToken)
            : await suggested.ExecuteUpdateAsync(s => s
                .SetProperty(m => m.RejectedCompanyPsaId, m => m.CompanyPsaId)
                .SetProperty(m => m.Origin, MappingOrigin.None)
                .SetProperty(m => m.CompanyPsaId, (long?)null)
                .SetProperty(m => m.CompanyName, (string?)null)
                .SetProperty(m => m.SuggestionScore, (double?)null)
                .SetProperty(m => m.SuggestionKind, (string?)null)
                .SetProperty(m => m.UpdatedAt, now)
                .SetProperty(m => m.UpdatedBy, actor.Name), cancellationToken);

        var verb = accept ? "Accepted" : "Rejected";
        var scope = minimumScore is { } minimum ? string.Create(CultureInfo.InvariantCulture, $" scoring at least {minimum * 100:0.#}%") : "";
        var message = count == 0
            ? $"There was no suggestion{scope} to {(accept ? "accept" : "reject")}."
            : $"{verb} {count} suggestion{(count == 1 ? "" : "s")}{scope}.";
        if (count > 0)
        {
            await audit.RecordAsync(organizationId, actor, accept ? "Mapping suggestions accepted" : "Mapping suggestions rejected",
                integration.Vendor.ToString(), message, cancellationToken);
        }

        return count == 0 ? MappingResult.Refused(message) : MappingResult.Done(message);
    }

    private static string Describe(TenantMapping m) =>
        $"company {Quote(m.CompanyName)} ({m.Origin}), {Quote(m.AgreementName)}, export {(m.ExportEnabled ? "on" : "off")}";

    private static string Quote(string? value) => value is null ? "(none)" : $"\"{value}\"";

    private static string? Detail(params string?[] parts)
    {
        var present = parts.Where(p => !string.IsNullOrWhiteSpace(p)).ToList();
        return present.Count == 0 ? null : string.Join(" · ", present);
    }

    private static string? Period(DateOnly? start, DateOnly? end) => (start, end) switch
    {
        (null, null) => null,
        ({ } s, null) => $"from {s:yyyy-MM-dd}",
        (null, { } e) => $"until {e:yyyy-MM-dd}",
        ({ } s, { } e) => $"{s:yyyy-MM-dd} – {e:yyyy-MM-dd}",
    };

    private static MappingResult? RefuseSales(ClaimsPrincipal user) =>
        user.IsEditor() ? null : MappingResult.Refused(SalesRefused);

    private static Task<Integration?> FindIntegrationAsync(PortalDbContext db, Guid organizationId, Guid integrationId, CancellationToken cancellationToken) =>
        db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.Id == integrationId && i.OrganizationId == organizationId, cancellationToken);

    private static Guid OrganizationOf(ClaimsPrincipal user) =>
        user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");
}
