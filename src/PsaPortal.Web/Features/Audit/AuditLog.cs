using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Live;

namespace PsaPortal.Web.Features.Audit;

/// <summary>The person (or the portal) doing something worth auditing.</summary>
public sealed record Actor(string? Id, string Name)
{
    public static readonly Actor Portal = new(null, "PsaPortal");

    public static Actor From(ClaimsPrincipal user) =>
        new(user.FindFirstValue(ClaimTypes.NameIdentifier), user.Identity?.Name ?? "unknown user");
}

/// <summary>Published after an entry is stored, so open audit views refresh themselves.</summary>
public sealed record AuditRecorded(Guid OrganizationId, DateTimeOffset OccurredAt, string Action, string ActorName, string? Subject)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "audit.recorded";
}

public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, int TotalCount);

/// <summary>Writes and reads the audit trail; every read is confined to one organization.</summary>
public sealed class AuditLog(IDbContextFactory<PortalDbContext> dbFactory, IPortalEventStream events, TimeProvider time)
{
    public async Task RecordAsync(Guid organizationId, Actor actor, string action, string? subject = null, string? details = null,
        CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entry = new AuditEntry
        {
            OrganizationId = organizationId,
            At = time.GetUtcNow(),
            ActorId = actor.Id,
            ActorName = Truncate(actor.Name, 256)!,
            Action = Truncate(action, AuditEntry.ActionMaxLength)!,
            Subject = Truncate(subject, AuditEntry.TextMaxLength),
            Details = Truncate(details, AuditEntry.TextMaxLength),
        };
        db.AuditEntries.Add(entry);
        await db.SaveChangesAsync(cancellationToken);
        events.Publish(new AuditRecorded(organizationId, entry.At, entry.Action, entry.ActorName, entry.Subject));
    }

    /// <summary>
    /// The trail of the signed-in Admin's own organization, newest first; <paramref name="search"/> matches action,
    /// subject, details or actor. Anyone else gets an empty page: the service checks, not only the page that shows it.
    /// </summary>
    public Task<AuditPage> QueryAsync(ClaimsPrincipal user, int skip, int take, string? search = null,
        CancellationToken cancellationToken = default) =>
        user.GetOrganizationId() is { } organizationId && user.IsInRole(PortalRoles.Admin)
            ? QueryOrganizationAsync(organizationId, skip, take, search, cancellationToken)
            : Task.FromResult(new AuditPage([], 0));

    /// <summary>One organization's trail, for trusted callers that have already established the organization.</summary>
    internal async Task<AuditPage> QueryOrganizationAsync(Guid organizationId, int skip, int take, string? search = null,
        CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.AuditEntries.AsNoTracking().Where(e => e.OrganizationId == organizationId);
        if (!string.IsNullOrWhiteSpace(search))
        {
            var term = SearchTerms.Clean(search);
            query = query.Where(e => e.Action.Contains(term) || e.ActorName.Contains(term)
                || (e.Subject != null && e.Subject.Contains(term)) || (e.Details != null && e.Details.Contains(term)));
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(e => e.Id).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 500)).ToListAsync(cancellationToken);
        return new AuditPage(items, total);
    }

    private static string? Truncate(string? value, int maxLength) =>
        value is null || value.Length <= maxLength ? value : value[..(maxLength - 1)] + "…";
}

public static class AuditFeature
{
    public static IHostApplicationBuilder AddAuditFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AuditLog>();
        return builder;
    }
}
