using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Api;

public sealed record ApiKeyRow(
    Guid Id, string Name, string Prefix, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt, string? RevokedBy);

/// <summary>The outcome of a key change; <see cref="Token"/> is set once, when a key is created.</summary>
public sealed record ApiKeyChange(bool Succeeded, string Message, string? Token = null)
{
    public static ApiKeyChange Failed(string message) => new(false, message);
}

public enum ApiKeyCheck
{
    Valid,
    Malformed,
    Unknown,
    Revoked,
}

/// <summary>Who an accepted token speaks for.</summary>
public sealed record ApiKeyIdentity(Guid KeyId, Guid OrganizationId, string Name, string Prefix);

/// <summary>
/// Creates, lists and revokes an organization's API keys (Admins only: the service refuses anyone else, whatever
/// page called it) and checks the tokens the API receives.
/// </summary>
public sealed class ApiKeyService(IDbContextFactory<PortalDbContext> dbFactory, AuditLog audit, TimeProvider time, ILogger<ApiKeyService> logger)
{
    public const string AdminsOnly = "Only Admins can manage API keys.";

    /// <summary>LastUsedAt is written at most this often per key, so a busy key does not write on every request.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>How long a request waits for the database to note its key's use before it goes on without.</summary>
    public static readonly TimeSpan LastUsedWait = TimeSpan.FromSeconds(2);

    public async Task<IReadOnlyList<ApiKeyRow>> ListAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (!IsAdmin(user, out var organizationId))
        {
            return [];
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.OrganizationId == organizationId).ToListAsync(cancellationToken);
        return keys.OrderBy(k => k.RevokedAt is not null).ThenByDescending(k => k.CreatedAt)
            .Select(k => new ApiKeyRow(k.Id, k.Name, ApiKeyToken.Marker + k.Prefix, k.CreatedBy, k.CreatedAt, k.LastUsedAt, k.RevokedAt, k.RevokedBy))
            .ToList();
    }

    /// <summary>Creates a key; the result carries the token, which is never available again.</summary>
    public async Task<ApiKeyChange> CreateAsync(ClaimsPrincipal user, string? name, CancellationToken cancellationToken = default)
    {
        var actor = Actor.From(user);
        if (!IsAdmin(user, out var organizationId))
        {
            return ApiKeyChange.Failed(AdminsOnly);
        }

        var errors = new List<IngestError>();
        var checkedName = PlatformRules.Name(new ItemErrors(errors, "apiKey", 0), "name", "Name", name, ApiKey.NameMaxLength);
        if (checkedName is null)
        {
            return ApiKeyChange.Failed(errors[0].Message);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.ApiKeys.AnyAsync(k => k.OrganizationId == organizationId && k.RevokedAt == null && k.Name == checkedName, cancellationToken))
        {
            return ApiKeyChange.Failed($"A key named \"{checkedName}\" already exists. Choose another name, or revoke that key first.");
        }

        var (token, prefix, hash) = ApiKeyToken.Create();
        db.ApiKeys.Add(new ApiKey
        {
            OrganizationId = organizationId, Name = checkedName, Prefix = prefix, Hash = hash, CreatedAt = time.GetUtcNow(), CreatedBy = actor.Name,
        });
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(organizationId, actor, "API key created", checkedName, $"Prefix {ApiKeyToken.Marker}{prefix}", cancellationToken);
        return new ApiKeyChange(true, $"API key \"{checkedName}\" was created.", token);
    }

    public async Task<ApiKeyChange> RevokeAsync(ClaimsPrincipal user, Guid keyId, CancellationToken cancellationToken = default)
    {
        var actor = Actor.From(user);
        if (!IsAdmin(user, out var organizationId))
        {
            return ApiKeyChange.Failed(AdminsOnly);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.OrganizationId == organizationId && k.Id == keyId, cancellationToken);
        if (key is null)
        {
            return ApiKeyChange.Failed("That API key does not exist in your organization.");
        }

        if (key.RevokedAt is not null)
        {
            return ApiKeyChange.Failed($"API key \"{key.Name}\" is already revoked.");
        }

        (key.RevokedAt, key.RevokedBy) = (time.GetUtcNow(), actor.Name);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(organizationId, actor, "API key revoked", key.Name, $"Prefix {ApiKeyToken.Marker}{key.Prefix}", cancellationToken);
        return new ApiKeyChange(true, $"API key \"{key.Name}\" was revoked. Requests with it are refused from now on.");
    }

    /// <summary>Checks a token the API received and notes that the key was used.</summary>
    public async Task<(ApiKeyCheck Check, ApiKeyIdentity? Identity)> CheckAsync(string token, CancellationToken cancellationToken = default)
    {
        if (ApiKeyToken.PrefixOf(token) is not { } prefix)
        {
            return (ApiKeyCheck.Malformed, null);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var key = await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Prefix == prefix, cancellationToken);
        if (key is null || !ApiKeyToken.Matches(token, key.Hash))
        {
            return (ApiKeyCheck.Unknown, null);
        }

        if (key.RevokedAt is not null)
        {
            return (ApiKeyCheck.Revoked, null);
        }

        var now = time.GetUtcNow();
        var staleBefore = now - LastUsedResolution;
        if (key.LastUsedAt is null || key.LastUsedAt < staleBefore)
        {
            await NoteUsedAsync(db, key.Id, staleBefore, now, cancellationToken);
        }

        return (ApiKeyCheck.Valid, new ApiKeyIdentity(key.Id, key.OrganizationId, key.Name, key.Prefix));
    }

    /// <summary>
    /// LastUsedAt is bookkeeping, and must never fail the request it notes. It is written in a transaction, so on SQLite
    /// it waits its turn among the portal's writers (a bare statement slept a thread in SQLite's busy retry and answered
    /// 500 when the file stayed locked), for <see cref="LastUsedWait"/> at most; a database that busy leaves it for the
    /// key's next request. Conditional, so concurrent requests write it once.
    /// </summary>
    private async Task NoteUsedAsync(PortalDbContext db, Guid keyId, DateTimeOffset staleBefore, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            db.Database.SetCommandTimeout(LastUsedWait);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.ApiKeys.Where(k => k.Id == keyId && (k.LastUsedAt == null || k.LastUsedAt < staleBefore))
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception e) when (DatabaseFailures.IsTransient(e))
        {
            logger.LogWarning("API key {KeyId} was used, but the database was too busy to note it within {Wait} s; its next request notes it ({Reason})",
                keyId, LastUsedWait.TotalSeconds, e.Message);
        }
    }

    private static bool IsAdmin(ClaimsPrincipal user, out Guid organizationId)
    {
        organizationId = user.GetOrganizationId() ?? Guid.Empty;
        return organizationId != Guid.Empty && user.IsInRole(PortalRoles.Admin);
    }
}
