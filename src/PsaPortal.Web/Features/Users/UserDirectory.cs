using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Features.Users;

public sealed record UserRow(string Id, string Email, string Role, DateTimeOffset? LockedUntil, DateTimeOffset CreatedAt);

public sealed record UserChangeResult(bool Succeeded, string Message, string? Password = null)
{
    public static UserChangeResult Failed(string message) => new(false, message);
}

/// <summary>
/// The Users page's service. Every call names the organization and touches only its users, so an id from another
/// organization behaves exactly like an id that does not exist. A scope per call keeps no DbContext alive in a circuit.
/// </summary>
public sealed class UserDirectory(IServiceScopeFactory scopeFactory, AuditLog audit, TimeProvider time)
{
    public const string EmailRequired = "Enter an email.";
    public const string EmailTooLong = "An email has at most 256 characters.";
    public const string EmailInvalid = "Enter a valid email address, such as name@msp.example.";

    /// <summary>
    /// The dialog checks the address in the browser; the service checks it again, because the column holds 256
    /// characters and an address is shown, audited and used to sign in: one plain address, nothing invisible, no
    /// character Identity would refuse in a user name with a message about user names.
    /// </summary>
    public static string? EmailProblem(string email)
    {
        if (email.Length == 0)
        {
            return EmailRequired;
        }

        if (email.Length > 256)
        {
            return EmailTooLong;
        }

        var at = email.LastIndexOf('@');
        // The characters Identity allows in a user name (the address is the user name).
        var plain = email.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '@' or '+');
        return plain && at > 0 && email.IndexOf('@') == at && email.IndexOf('.', at) > at + 1 && !email.EndsWith('.') && System.Net.Mail.MailAddress.TryCreate(email, out var parsed) && parsed.Address == email
            ? null
            : EmailInvalid;
    }

    public const string AdminsOnly = "Only Admins can manage users.";

    // What the Users page calls: the organization and the actor come from the signed-in user, and only an Admin gets
    // past AdminOf, so the service refuses even a caller that skipped the page's [Authorize(Roles = Admin)].
    public Task<IReadOnlyList<UserRow>> ListAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default) =>
        AdminOf(user) is { } organizationId ? ListAsync(organizationId, cancellationToken) : Task.FromResult<IReadOnlyList<UserRow>>([]);

    public Task<UserChangeResult> AddAsync(ClaimsPrincipal user, string email, string role) =>
        AdminOf(user) is { } organizationId ? AddAsync(organizationId, Actor.From(user), email, role) : Task.FromResult(UserChangeResult.Failed(AdminsOnly));

    public Task<UserChangeResult> UnlockAsync(ClaimsPrincipal user, string userId) =>
        AdminOf(user) is { } organizationId ? UnlockAsync(organizationId, Actor.From(user), userId) : Task.FromResult(UserChangeResult.Failed(AdminsOnly));

    public Task<UserChangeResult> RemoveAsync(ClaimsPrincipal user, string userId) =>
        AdminOf(user) is { } organizationId ? RemoveAsync(organizationId, Actor.From(user), userId) : Task.FromResult(UserChangeResult.Failed(AdminsOnly));

    /// <summary>The Admin's organization, or null for anyone else: the one check every user-management call passes.</summary>
    private static Guid? AdminOf(ClaimsPrincipal user) =>
        user.IsInRole(PortalRoles.Admin) ? user.GetOrganizationId() : null;

    // The overloads below trust their caller with the organization and the actor (seeding and tests); pages call the
    // ClaimsPrincipal ones above.
    internal async Task<IReadOnlyList<UserRow>> ListAsync(Guid organizationId, CancellationToken cancellationToken = default)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var rows = await (
                from user in db.Users.AsNoTracking()
                where user.OrganizationId == organizationId
                join userRole in db.UserRoles on user.Id equals userRole.UserId into userRoles
                from userRole in userRoles.DefaultIfEmpty()
                join role in db.Roles on userRole.RoleId equals role.Id into roles
                from role in roles.DefaultIfEmpty()
                select new { user.Id, user.Email, Role = role.Name, user.LockoutEnd, user.CreatedAt })
            .ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        return rows
            .Select(r => new UserRow(r.Id, r.Email ?? "", r.Role ?? "", r.LockoutEnd > now ? r.LockoutEnd : null, r.CreatedAt))
            .OrderBy(r => r.Email, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    internal async Task<UserChangeResult> AddAsync(Guid organizationId, Actor actor, string email, string role)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var password = UserAccounts.GeneratePassword();
        email = email.Trim();
        if (EmailProblem(email) is { } problem)
        {
            return UserChangeResult.Failed(problem);
        }

        var result = await scope.ServiceProvider.GetRequiredService<UserAccounts>().CreateAsync(organizationId, email, role, password);
        if (!result.Succeeded)
        {
            return UserChangeResult.Failed(string.Join(" ", result.Errors.Select(e => e.Description)));
        }

        await audit.RecordAsync(organizationId, actor, "User added", email, $"Role: {role}");
        return new UserChangeResult(true, $"{email} was added as {role}.", password);
    }

    internal async Task<UserChangeResult> UnlockAsync(Guid organizationId, Actor actor, string userId)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await FindInOrganizationAsync(users, organizationId, userId);
        if (user is null)
        {
            return UserChangeResult.Failed("That user does not exist in your organization.");
        }

        await users.SetLockoutEndDateAsync(user, null);
        await users.ResetAccessFailedCountAsync(user);
        await audit.RecordAsync(organizationId, actor, "User unlocked", user.Email);
        return new UserChangeResult(true, $"{user.Email} can sign in again.");
    }

    internal async Task<UserChangeResult> RemoveAsync(Guid organizationId, Actor actor, string userId)
    {
        if (userId == actor.Id)
        {
            return UserChangeResult.Failed("You cannot remove yourself. Ask another Admin.");
        }

        await using var scope = scopeFactory.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await FindInOrganizationAsync(users, organizationId, userId);
        if (user is null)
        {
            return UserChangeResult.Failed("That user does not exist in your organization.");
        }

        var result = await users.DeleteAsync(user);
        if (!result.Succeeded)
        {
            return UserChangeResult.Failed(string.Join(" ", result.Errors.Select(e => e.Description)));
        }

        await audit.RecordAsync(organizationId, actor, "User removed", user.Email);
        return new UserChangeResult(true, $"{user.Email} was removed.");
    }

    private static async Task<PortalUser?> FindInOrganizationAsync(UserManager<PortalUser> users, Guid organizationId, string userId)
    {
        var user = await users.FindByIdAsync(userId);
        return user?.OrganizationId == organizationId ? user : null;
    }
}
