using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;

namespace PsaPortal.Web.Features.Platform;

// The read side of platform data, as the ingest API returns it and the Platform data page shows it. Enum values are
// written by name so that what the platform sent is what it reads back.

public sealed record TenantView(string ExternalId, string Name, string? Domain, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record ProductView(
    string PartNumber, string Name, string? Description, decimal Cost, decimal RetailPrice, bool Recurring,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? DeletedAt);

/// <summary>A tenant's current billable count of one product.</summary>
public sealed record UsageView(string PartNumber, int Quantity, DateTimeOffset AsOf, DateTimeOffset UpdatedAt);

public sealed record UsageHistoryView(string PartNumber, int Quantity, DateTimeOffset AsOf, DateTimeOffset RecordedAt);

public sealed record IncidentView(
    string ExternalId, string TenantExternalId, string Title, string? Description, string Severity, string Status,
    DateTimeOffset DetectedAt, DateTimeOffset UpdatedAt, DateTimeOffset? ResolvedAt, DateTimeOffset ReceivedAt);

public sealed record InvoiceLineView(
    string ExternalId, string TenantExternalId, string PartNumber, string ChargeType, string BillingCycle,
    DateOnly ChargeStartDate, DateOnly ChargeEndDate, decimal Quantity, decimal UnitPrice, decimal Cost, string InvoiceMonth, DateTimeOffset UpdatedAt);

/// <summary>One page of a list: its items and how many there are in all.</summary>
public sealed record ResultPage<T>(IReadOnlyList<T> Items, int Total, int Page, int PageSize);

/// <summary>Which page of a list, from 1; <see cref="PageSize"/> at most <see cref="MaxPageSize"/>.</summary>
public sealed record PageRequest(int Page, int PageSize, DateTimeOffset? UpdatedSince = null)
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public int Skip => (Page - 1) * PageSize;
}

/// <summary>A row of the Platform data page's tenant grid: filtered and sorted in the database, usage added per page.</summary>
public sealed class TenantRow
{
    public long Id { get; init; }

    public string ExternalId { get; init; } = "";

    public string Name { get; init; } = "";

    public string? Domain { get; init; }

    public TenantStatus Status { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Products with a current count above zero, by part number.</summary>
    public IReadOnlyList<UsageView> Usage { get; set; } = [];
}

/// <summary>Reads one organization's platform data; another organization's keys are never found.</summary>
public sealed class PlatformData(IDbContextFactory<PortalDbContext> dbFactory)
{
    public async Task<ResultPage<TenantView>> ListTenantsAsync(Guid organizationId, PageRequest request, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Tenants.AsNoTracking().Where(t => t.OrganizationId == organizationId);
        if (request.UpdatedSince is { } since)
        {
            query = query.Where(t => t.UpdatedAt >= since);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderBy(t => t.Id).Skip(request.Skip).Take(request.PageSize).ToListAsync(cancellationToken);
        return new ResultPage<TenantView>(items.Select(ToView).ToList(), total, request.Page, request.PageSize);
    }

    public async Task<TenantView?> FindTenantAsync(Guid organizationId, string externalId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tenant = await db.Tenants.AsNoTracking().SingleOrDefaultAsync(t => t.OrganizationId == organizationId && t.ExternalId == externalId, cancellationToken);
        return tenant is null ? null : ToView(tenant);
    }

    public async Task<ResultPage<ProductView>> ListProductsAsync(Guid organizationId, PageRequest request, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.VendorProducts.AsNoTracking().Where(p => p.OrganizationId == organizationId);
        if (request.UpdatedSince is { } since)
        {
            query = query.Where(p => p.UpdatedAt >= since);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderBy(p => p.Id).Skip(request.Skip).Take(request.PageSize).ToListAsync(cancellationToken);
        return new ResultPage<ProductView>(items.Select(ToView).ToList(), total, request.Page, request.PageSize);
    }

    public async Task<ProductView?> FindProductAsync(Guid organizationId, string partNumber, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var product = await db.VendorProducts.AsNoTracking().SingleOrDefaultAsync(p => p.OrganizationId == organizationId && p.PartNumber == partNumber, cancellationToken);
        return product is null ? null : ToView(product);
    }

    /// <summary>The tenant's current counts, by part number; null when the organization has no such tenant.</summary>
    public async Task<IReadOnlyList<UsageView>?> CurrentUsageAsync(Guid organizationId, string externalId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tenantId = await TenantIdAsync(db, organizationId, externalId, cancellationToken);
        if (tenantId is null)
        {
            return null;
        }

        return await (from usage in db.TenantUsage.AsNoTracking()
                      join product in db.VendorProducts on usage.ProductId equals product.Id
                      where usage.TenantId == tenantId
                      orderby product.PartNumber
                      select new UsageView(product.PartNumber, usage.Quantity, usage.AsOf, usage.UpdatedAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Every stored report of the tenant, newest first; null when there is no such tenant (or product, when named).</summary>
    public async Task<ResultPage<UsageHistoryView>?> UsageHistoryAsync(Guid organizationId, string externalId, string? partNumber, PageRequest request,
        CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tenantId = await TenantIdAsync(db, organizationId, externalId, cancellationToken);
        if (tenantId is null)
        {
            return null;
        }

        var query = from history in db.TenantUsageHistory.AsNoTracking()
                    join product in db.VendorProducts on history.ProductId equals product.Id
                    where history.TenantId == tenantId
                    select new { history, product.PartNumber };
        if (partNumber is not null)
        {
            var productId = await db.VendorProducts.Where(p => p.OrganizationId == organizationId && p.PartNumber == partNumber)
                .Select(p => (long?)p.Id).SingleOrDefaultAsync(cancellationToken);
            if (productId is null)
            {
                return null;
            }

            query = query.Where(h => h.history.ProductId == productId);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(h => h.history.AsOf).ThenBy(h => h.PartNumber).Skip(request.Skip).Take(request.PageSize)
            .Select(h => new UsageHistoryView(h.PartNumber, h.history.Quantity, h.history.AsOf, h.history.RecordedAt))
            .ToListAsync(cancellationToken);
        return new ResultPage<UsageHistoryView>(items, total, request.Page, request.PageSize);
    }

    public async Task<ResultPage<IncidentView>> ListIncidentsAsync(Guid organizationId, PageRequest request, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = IncidentsOf(db, organizationId);
        if (request.UpdatedSince is { } since)
        {
            query = query.Where(x => x.Incident.UpdatedAt >= since);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderBy(x => x.Incident.Id).Skip(request.Skip).Take(request.PageSize).ToListAsync(cancellationToken);
        return new ResultPage<IncidentView>(items.Select(x => ToView(x.Incident, x.TenantExternalId)).ToList(), total, request.Page, request.PageSize);
    }

    public async Task<IncidentView?> FindIncidentAsync(Guid organizationId, string externalId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var found = await IncidentsOf(db, organizationId).SingleOrDefaultAsync(x => x.Incident.ExternalId == externalId, cancellationToken);
        return found is null ? null : ToView(found.Incident, found.TenantExternalId);
    }

    public async Task<ResultPage<InvoiceLineView>> ListInvoiceLinesAsync(Guid organizationId, DateOnly? invoiceMonth, PageRequest request,
        CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = InvoiceLinesOf(db, organizationId);
        if (invoiceMonth is { } month)
        {
            query = query.Where(x => x.Line.InvoiceMonth == month);
        }

        if (request.UpdatedSince is { } since)
        {
            query = query.Where(x => x.Line.UpdatedAt >= since);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderBy(x => x.Line.Id).Skip(request.Skip).Take(request.PageSize).ToListAsync(cancellationToken);
        return new ResultPage<InvoiceLineView>(items.Select(x => ToView(x.Line, x.TenantExternalId, x.PartNumber)).ToList(), total, request.Page, request.PageSize);
    }

    public async Task<InvoiceLineView?> FindInvoiceLineAsync(Guid organizationId, string externalId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var found = await InvoiceLinesOf(db, organizationId).SingleOrDefaultAsync(x => x.Line.ExternalId == externalId, cancellationToken);
        return found is null ? null : ToView(found.Line, found.TenantExternalId, found.PartNumber);
    }

    /// <summary>
    /// A page of the tenant grid: <paramref name="shape"/> filters and sorts (in the database), then the page's current
    /// counts above zero are added in one more query.
    /// </summary>
    public async Task<(IReadOnlyList<TenantRow> Rows, int Total)> TenantRowsAsync(Guid organizationId, int skip, int take,
        Func<IQueryable<TenantRow>, IQueryable<TenantRow>> shape, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = shape(db.Tenants.AsNoTracking().Where(t => t.OrganizationId == organizationId).Select(t => new TenantRow
        {
            Id = t.Id, ExternalId = t.ExternalId, Name = t.Name, Domain = t.Domain, Status = t.Status, UpdatedAt = t.UpdatedAt,
        }));
        var total = await query.CountAsync(cancellationToken);
        var rows = await query.Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, PageRequest.MaxPageSize)).ToListAsync(cancellationToken);
        var usage = await EnabledServicesAsync(db, rows.Select(r => r.Id).ToArray(), cancellationToken);
        foreach (var row in rows)
        {
            row.Usage = usage.GetValueOrDefault(row.Id, []);
        }

        return (rows, total);
    }

    /// <summary>Every tenant with its enabled services, in pages of <see cref="PlatformIngest.ChunkSize"/>, for the CSV export.</summary>
    public async IAsyncEnumerable<TenantRow> AllTenantRowsAsync(Guid organizationId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long after = 0;
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var rows = await db.Tenants.AsNoTracking().Where(t => t.OrganizationId == organizationId && t.Id > after).OrderBy(t => t.Id)
                .Take(PlatformIngest.ChunkSize)
                .Select(t => new TenantRow { Id = t.Id, ExternalId = t.ExternalId, Name = t.Name, Domain = t.Domain, Status = t.Status, UpdatedAt = t.UpdatedAt })
                .ToListAsync(cancellationToken);
            if (rows.Count == 0)
            {
                yield break;
            }

            var usage = await EnabledServicesAsync(db, rows.Select(r => r.Id).ToArray(), cancellationToken);
            foreach (var row in rows)
            {
                row.Usage = usage.GetValueOrDefault(row.Id, []);
                yield return row;
            }

            after = rows[^1].Id;
        }
    }

    public async Task<IReadOnlyList<ProductView>> AllProductsAsync(Guid organizationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var products = await db.VendorProducts.AsNoTracking().Where(p => p.OrganizationId == organizationId).OrderBy(p => p.PartNumber).ToListAsync(cancellationToken);
        return products.Select(ToView).ToList();
    }

    private static async Task<Dictionary<long, IReadOnlyList<UsageView>>> EnabledServicesAsync(PortalDbContext db, long[] tenantIds, CancellationToken cancellationToken)
    {
        var usage = await (from u in db.TenantUsage.AsNoTracking()
                           join product in db.VendorProducts on u.ProductId equals product.Id
                           where tenantIds.Contains(u.TenantId) && u.Quantity > 0
                           select new { u.TenantId, View = new UsageView(product.PartNumber, u.Quantity, u.AsOf, u.UpdatedAt) })
            .ToListAsync(cancellationToken);
        return usage.GroupBy(u => u.TenantId)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<UsageView>)g.Select(u => u.View).OrderBy(v => v.PartNumber, StringComparer.Ordinal).ToList());
    }

    private static Task<long?> TenantIdAsync(PortalDbContext db, Guid organizationId, string externalId, CancellationToken cancellationToken) =>
        db.Tenants.Where(t => t.OrganizationId == organizationId && t.ExternalId == externalId).Select(t => (long?)t.Id).SingleOrDefaultAsync(cancellationToken);

    // Classes with initialisers (not positional records), so that EF can filter and sort on their members.
    private sealed class IncidentWithTenant
    {
        public required Incident Incident { get; init; }

        public required string TenantExternalId { get; init; }
    }

    private static IQueryable<IncidentWithTenant> IncidentsOf(PortalDbContext db, Guid organizationId) =>
        from incident in db.Incidents.AsNoTracking()
        join tenant in db.Tenants on incident.TenantId equals tenant.Id
        where incident.OrganizationId == organizationId
        select new IncidentWithTenant { Incident = incident, TenantExternalId = tenant.ExternalId };

    private sealed class LineWithKeys
    {
        public required InvoiceLine Line { get; init; }

        public required string TenantExternalId { get; init; }

        public required string PartNumber { get; init; }
    }

    private static IQueryable<LineWithKeys> InvoiceLinesOf(PortalDbContext db, Guid organizationId) =>
        from line in db.InvoiceLines.AsNoTracking()
        join tenant in db.Tenants on line.TenantId equals tenant.Id
        join product in db.VendorProducts on line.ProductId equals product.Id
        where line.OrganizationId == organizationId
        select new LineWithKeys { Line = line, TenantExternalId = tenant.ExternalId, PartNumber = product.PartNumber };

    private static TenantView ToView(Tenant t) => new(t.ExternalId, t.Name, t.Domain, t.Status.ToString(), t.CreatedAt, t.UpdatedAt);

    private static ProductView ToView(VendorProduct p) =>
        new(p.PartNumber, p.Name, p.Description, p.Cost, p.RetailPrice, p.Recurring, p.CreatedAt, p.UpdatedAt, p.DeletedAt);

    private static IncidentView ToView(Incident i, string tenantExternalId) =>
        new(i.ExternalId, tenantExternalId, i.Title, i.Description, i.Severity.ToString(), i.Status.ToString(), i.DetectedAt, i.UpdatedAt, i.ResolvedAt, i.ReceivedAt);

    private static InvoiceLineView ToView(InvoiceLine l, string tenantExternalId, string partNumber) =>
        new(l.ExternalId, tenantExternalId, partNumber, l.ChargeType.ToString(), l.BillingCycle.ToString(), l.ChargeStartDate, l.ChargeEndDate,
            l.Quantity, l.UnitPrice, l.Cost, PlatformRules.FormatMonth(l.InvoiceMonth), l.UpdatedAt);
}
