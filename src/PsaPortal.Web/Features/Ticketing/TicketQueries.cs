using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Ticketing;

/// <summary>What the Tickets page says above its grid: which PSAs make tickets, and how many incidents and failures there are.</summary>
public sealed record TicketOverview(IReadOnlyList<PsaVendor> LinkedVendors, IReadOnlyList<PsaVendor> TicketingVendors, int Incidents, int Failed)
{
    public bool TicketingOn => TicketingVendors.Count > 0;
}

/// <summary>
/// Reads the Tickets page: one row per incident and PSA ticket (an incident without a ticket yet is one row with no
/// state), filtered, sorted and paged in the database, confined to one organization.
/// </summary>
public sealed class TicketQueries(IDbContextFactory<PortalDbContext> dbFactory)
{
    public const int MaxPageSize = 500;

    /// <summary>The columns a page may sort by (<see cref="TicketRow"/> property names).</summary>
    public static readonly IReadOnlyList<string> SortableColumns =
    [
        nameof(TicketRow.DetectedAt), nameof(TicketRow.Title), nameof(TicketRow.IncidentExternalId), nameof(TicketRow.Severity), nameof(TicketRow.TenantName),
        nameof(TicketRow.IncidentStatus), nameof(TicketRow.Vendor), nameof(TicketRow.State), nameof(TicketRow.TicketNumber), nameof(TicketRow.Attempts),
        nameof(TicketRow.UpdatedAt),
    ];

    /// <param name="orderBy">A grid order expression over one <see cref="TicketRow"/> property ("Title", "UpdatedAt desc"); null for newest incidents first.</param>
    /// <exception cref="ArgumentException">An order expression naming anything else; the message lists what is allowed.</exception>
    public async Task<TicketPage> ListAsync(Guid organizationId, TicketFilter filter, int skip, int take, string? orderBy = null, CancellationToken cancellationToken = default)
    {
        var (column, descending) = ParseOrder(orderBy);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = Filter(Rows(db, organizationId), filter);
        var count = await rows.CountAsync(cancellationToken);
        var page = await Sort(rows, column, descending).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, MaxPageSize)).ToListAsync(cancellationToken);
        return new TicketPage(page.Select(r => r.ToRow()).ToList(), count);
    }

    /// <summary>One incident's rows (one per PSA), for a live event about a row the page does not hold yet.</summary>
    public async Task<IReadOnlyList<TicketRow>> ForIncidentAsync(Guid organizationId, long incidentId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await Rows(db, organizationId).Where(r => r.IncidentId == incidentId).OrderBy(r => r.Vendor).ToListAsync(cancellationToken);
        return rows.Select(r => r.ToRow()).ToList();
    }

    public async Task<TicketOverview> OverviewAsync(Guid organizationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integrations = await db.Integrations.AsNoTracking().Where(i => i.OrganizationId == organizationId)
            .Select(i => new { i.Vendor, Ticketing = db.TicketingSettings.Any(s => s.IntegrationId == i.Id && s.Enabled) })
            .ToListAsync(cancellationToken);
        var incidents = await db.Incidents.AsNoTracking().CountAsync(i => i.OrganizationId == organizationId, cancellationToken);
        var failed = await db.IncidentTickets.AsNoTracking().CountAsync(t => t.OrganizationId == organizationId && t.State == TicketState.Failed, cancellationToken);
        return new TicketOverview(
            integrations.Select(i => i.Vendor).Order().ToList(), integrations.Where(i => i.Ticketing).Select(i => i.Vendor).Order().ToList(), incidents, failed);
    }

    private static IQueryable<FlatRow> Rows(PortalDbContext db, Guid organizationId) =>
        from incident in db.Incidents.AsNoTracking()
        where incident.OrganizationId == organizationId
        join tenant in db.Tenants.AsNoTracking() on incident.TenantId equals tenant.Id
        join ticketOf in db.IncidentTickets.AsNoTracking() on incident.Id equals ticketOf.IncidentId into tickets
        from ticket in tickets.DefaultIfEmpty()
        join integrationOf in db.Integrations.AsNoTracking() on ticket.IntegrationId equals integrationOf.Id into integrations
        from integration in integrations.DefaultIfEmpty()
        select new FlatRow
        {
            IncidentId = incident.Id,
            IncidentExternalId = incident.ExternalId,
            Title = incident.Title,
            Severity = incident.Severity,
            IncidentStatus = incident.Status,
            TenantName = tenant.Name,
            DetectedAt = incident.DetectedAt,
            IncidentTicketId = ticket == null ? null : ticket.Id,
            Vendor = integration == null ? null : integration.Vendor,
            State = ticket == null ? null : ticket.State,
            TicketNumber = ticket == null ? null : ticket.TicketNumber,
            TicketUrl = ticket == null ? null : ticket.TicketUrl,
            Error = ticket == null ? null : ticket.Error,
            Attempts = ticket == null ? 0 : ticket.Attempts,
            UpdatedAt = ticket == null ? null : ticket.UpdatedAt,
        };

    private static IQueryable<FlatRow> Filter(IQueryable<FlatRow> rows, TicketFilter filter)
    {
        if (!string.IsNullOrWhiteSpace(filter.Search))
        {
            var term = SearchTerms.Clean(filter.Search).ToLowerInvariant();
            rows = rows.Where(r => r.Title.ToLower().Contains(term) || r.TenantName.ToLower().Contains(term) || r.IncidentExternalId.ToLower().Contains(term)
                                   || (r.TicketNumber != null && r.TicketNumber.ToLower().Contains(term)));
        }

        if (filter.FailedOnly)
        {
            rows = rows.Where(r => r.State == TicketState.Failed);
        }

        if (filter.State is { } state)
        {
            rows = rows.Where(r => r.State == state);
        }

        if (filter.Vendor is { } vendor)
        {
            rows = rows.Where(r => r.Vendor == vendor);
        }

        if (!string.IsNullOrWhiteSpace(filter.Incident))
        {
            // The portal's incident number or the platform's external id: a link in a ticket may carry either.
            var key = filter.Incident.Trim();
            var number = long.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : -1;
            rows = rows.Where(r => r.IncidentId == number || r.IncidentExternalId == key);
        }

        return rows;
    }

    private static (string? Column, bool Descending) ParseOrder(string? orderBy)
    {
        if (string.IsNullOrWhiteSpace(orderBy))
        {
            return (null, false);
        }

        var words = orderBy.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var column = words[0].Replace("np(", "", StringComparison.Ordinal).Replace(")", "", StringComparison.Ordinal).Replace("x.", "", StringComparison.Ordinal);
        if (words.Length > 2 || !SortableColumns.Contains(column, StringComparer.Ordinal) || (words.Length == 2 && words[1] is not ("asc" or "desc")))
        {
            throw new ArgumentException(
                $"Cannot sort tickets by \"{orderBy.Trim()}\": use one of {string.Join(", ", SortableColumns)}, optionally followed by asc or desc.", nameof(orderBy));
        }

        return (column, words.Length == 2 && words[1] == "desc");
    }

    private static IQueryable<FlatRow> Sort(IQueryable<FlatRow> rows, string? column, bool descending)
    {
        if (column is null)
        {
            return rows.OrderByDescending(r => r.DetectedAt).ThenByDescending(r => r.IncidentId).ThenBy(r => r.Vendor);
        }

        // Severity and state are stored as names; they sort by their meaning, not alphabetically.
        var ordered = column switch
        {
            nameof(TicketRow.Severity) => By(rows, r => r.Severity == IncidentSeverity.Critical ? 3 : r.Severity == IncidentSeverity.High ? 2 : r.Severity == IncidentSeverity.Medium ? 1 : 0, descending),
            nameof(TicketRow.State) => By(rows, StateRank, descending),
            nameof(TicketRow.Title) => By(rows, r => r.Title, descending),
            nameof(TicketRow.IncidentExternalId) => By(rows, r => r.IncidentExternalId, descending),
            nameof(TicketRow.TenantName) => By(rows, r => r.TenantName, descending),
            nameof(TicketRow.IncidentStatus) => By(rows, r => r.IncidentStatus, descending),
            nameof(TicketRow.Vendor) => By(rows, r => r.Vendor, descending),
            nameof(TicketRow.TicketNumber) => By(rows, r => r.TicketNumber, descending),
            nameof(TicketRow.Attempts) => By(rows, r => r.Attempts, descending),
            nameof(TicketRow.UpdatedAt) => By(rows, r => r.UpdatedAt, descending),
            _ => By(rows, r => r.DetectedAt, descending),
        };
        return ordered.ThenByDescending(r => r.IncidentId).ThenBy(r => r.Vendor);
    }

    // Failed first, then work in progress, then settled tickets; incidents without a ticket last.
    private static readonly Expression<Func<FlatRow, int>> StateRank = r =>
        r.State == TicketState.Failed ? 0
        : r.State == TicketState.Pending ? 1
        : r.State == TicketState.Creating ? 2
        : r.State == TicketState.UpdatePending ? 3
        : r.State == TicketState.ClosePending ? 4
        : r.State == TicketState.Open ? 5
        : r.State == TicketState.Closed ? 6
        : 7;

    private static IOrderedQueryable<FlatRow> By<TKey>(IQueryable<FlatRow> rows, Expression<Func<FlatRow, TKey>> key, bool descending) =>
        descending ? rows.OrderByDescending(key) : rows.OrderBy(key);

    // A member-initialised shape EF Core can sort and filter on; TicketRow's constructor is applied last, in memory.
    private sealed class FlatRow
    {
        public long IncidentId { get; init; }

        public string IncidentExternalId { get; init; } = "";

        public string Title { get; init; } = "";

        public IncidentSeverity Severity { get; init; }

        public IncidentStatus IncidentStatus { get; init; }

        public string TenantName { get; init; } = "";

        public DateTimeOffset DetectedAt { get; init; }

        public long? IncidentTicketId { get; init; }

        public PsaVendor? Vendor { get; init; }

        public TicketState? State { get; init; }

        public string? TicketNumber { get; init; }

        public string? TicketUrl { get; init; }

        public string? Error { get; init; }

        public int Attempts { get; init; }

        public DateTimeOffset? UpdatedAt { get; init; }

        public TicketRow ToRow() => new(
            IncidentId, IncidentExternalId, Title, Severity.ToString(), IncidentStatus.ToString(), TenantName, DetectedAt, IncidentTicketId, Vendor, State,
            TicketNumber, TicketUrl, Error, Attempts, UpdatedAt);
    }
}
