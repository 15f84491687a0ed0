using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;

namespace PsaPortal.Web.Features.SystemLogs;

public sealed record SystemLogFilter(string? Vendor = null, LogLevelName? Level = null, DateTimeOffset? From = null, DateTimeOffset? To = null, string? Text = null);

public sealed record SystemLogPage(IReadOnlyList<SystemLogEntry> Items, int TotalCount);

/// <summary>Reads System Logs for one organization, newest first, filtered and paged in the database.</summary>
public sealed class SystemLogQuery(IDbContextFactory<PortalDbContext> dbFactory)
{
    public async Task<SystemLogPage> QueryAsync(Guid organizationId, SystemLogFilter filter, int skip, int take, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.SystemLog.AsNoTracking().Where(e => e.OrganizationId == organizationId);
        if (!string.IsNullOrEmpty(filter.Vendor))
        {
            query = query.Where(e => e.Vendor == filter.Vendor);
        }

        if (filter.Level is { } level)
        {
            query = query.Where(e => e.Level == level);
        }

        if (filter.From is { } from)
        {
            query = query.Where(e => e.StartedAt >= from);
        }

        if (filter.To is { } to)
        {
            query = query.Where(e => e.StartedAt <= to);
        }

        if (!string.IsNullOrWhiteSpace(filter.Text))
        {
            var text = SearchTerms.Clean(filter.Text);
            query = query.Where(e => e.Operation.Contains(text) || (e.Url != null && e.Url.Contains(text))
                || (e.CorrelationId != null && e.CorrelationId.Contains(text)) || (e.Message != null && e.Message.Contains(text))
                || (e.Failure != null && e.Failure.Contains(text)));
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(e => e.Id).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 500)).ToListAsync(cancellationToken);
        return new SystemLogPage(items, total);
    }

    /// <summary>Deletes entries older than <paramref name="cutoff"/>; returns how many went.</summary>
    public async Task<int> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.SystemLog.Where(e => e.StartedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
    }
}
