using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;

namespace PsaPortal.Web.Features.Identity;

/// <summary>
/// Lockout applies to every user: Identity only locks users whose LockoutEnabled is set, which it sets when it creates
/// them (Lockout.AllowedForNewUsers). This switches it on at start-up for any row that lacks it, e.g. one written
/// before that option or by hand, so no account can be guessed at without limit.
/// </summary>
internal sealed class LockoutSeeder(IDbContextFactory<PortalDbContext> contexts, ILogger<LockoutSeeder> logger) : IDatabaseSeeder
{
    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var changed = await db.Users.Where(u => !u.LockoutEnabled).ExecuteUpdateAsync(u => u.SetProperty(x => x.LockoutEnabled, true), cancellationToken);
        if (changed > 0)
        {
            logger.LogInformation("Lockout switched on for {Count} users that did not have it", changed);
        }
    }
}
