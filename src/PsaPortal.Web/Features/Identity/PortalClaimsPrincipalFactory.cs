using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PsaPortal.Web.Data;

namespace PsaPortal.Web.Features.Identity;

/// <summary>Puts the user's organization into the cookie so every request knows whose data it may see.</summary>
internal sealed class PortalClaimsPrincipalFactory(
    UserManager<PortalUser> userManager,
    RoleManager<IdentityRole> roleManager,
    IOptions<IdentityOptions> options,
    IDbContextFactory<PortalDbContext> dbFactory)
    : UserClaimsPrincipalFactory<PortalUser, IdentityRole>(userManager, roleManager, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(PortalUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        await using var db = await dbFactory.CreateDbContextAsync();
        var organizationName = await db.Organizations
            .Where(o => o.Id == user.OrganizationId)
            .Select(o => o.Name)
            .SingleAsync();
        identity.AddClaim(new Claim(PortalClaims.OrganizationId, user.OrganizationId.ToString()));
        identity.AddClaim(new Claim(PortalClaims.OrganizationName, organizationName));
        return identity;
    }
}
