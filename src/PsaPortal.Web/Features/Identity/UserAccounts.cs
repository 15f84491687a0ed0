using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;

namespace PsaPortal.Web.Features.Identity;

/// <summary>Creates portal users the one way every caller (setup, demo seed, Users page) must: in an organization, with one role.</summary>
public sealed class UserAccounts(UserManager<PortalUser> userManager, TimeProvider time)
{
    public async Task<IdentityResult> CreateAsync(Guid organizationId, string email, string role, string password)
    {
        if (!PortalRoles.All.Contains(role))
        {
            return IdentityResult.Failed(new IdentityError { Code = "UnknownRole", Description = $"'{role}' is not a role. Choose Admin, Full Member or Sales." });
        }

        var user = new PortalUser
        {
            UserName = email,
            Email = email,
            EmailConfirmed = true,
            OrganizationId = organizationId,
            CreatedAt = time.GetUtcNow(),
        };
        var created = await userManager.CreateAsync(user, password);
        return created.Succeeded ? await userManager.AddToRoleAsync(user, role) : created;
    }

    /// <summary>A password that satisfies the portal's rules, for demo users and users an Admin adds.</summary>
    public static string GeneratePassword()
    {
        const string lower = "abcdefghijkmnpqrstuvwxyz";
        const string upper = "ABCDEFGHJKLMNPQRSTUVWXYZ";
        const string digits = "23456789";
        const string all = lower + upper + digits;
        Span<char> chars = stackalloc char[16];
        chars[0] = lower[RandomNumberGenerator.GetInt32(lower.Length)];
        chars[1] = upper[RandomNumberGenerator.GetInt32(upper.Length)];
        chars[2] = digits[RandomNumberGenerator.GetInt32(digits.Length)];
        for (var i = 3; i < chars.Length; i++)
        {
            chars[i] = all[RandomNumberGenerator.GetInt32(all.Length)];
        }

        RandomNumberGenerator.Shuffle(chars);
        return new string(chars);
    }
}
