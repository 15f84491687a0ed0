using System.Security.Claims;

namespace PsaPortal.Web.Features.Identity;

/// <summary>The three roles of DESIGN.md. Sales is read-only.</summary>
public static class PortalRoles
{
    public const string Admin = "Admin";
    public const string FullMember = "Full Member";
    public const string Sales = "Sales";

    public static readonly IReadOnlyList<string> All = [Admin, FullMember, Sales];

    /// <summary>For <c>[Authorize(Roles = ...)]</c>: the roles that may change things.</summary>
    public const string Editors = Admin + "," + FullMember;
}

/// <summary>Claims the portal adds to a signed-in user.</summary>
public static class PortalClaims
{
    public const string OrganizationId = "psaportal:organization_id";
    public const string OrganizationName = "psaportal:organization_name";

    public static Guid? GetOrganizationId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(OrganizationId), out var id) ? id : null;

    public static string? GetOrganizationName(this ClaimsPrincipal user) => user.FindFirstValue(OrganizationName);

    /// <summary>Whether the user may change things: Admins and Full Members (<see cref="PortalRoles.Editors"/>); Sales only reads.</summary>
    public static bool IsEditor(this ClaimsPrincipal user) => user.IsInRole(PortalRoles.Admin) || user.IsInRole(PortalRoles.FullMember);
}
