using Microsoft.AspNetCore.Identity;
using PsaPortal.Web.Data;

namespace PsaPortal.Web.Features.Identity;

/// <summary>Creates the three roles; registered before the demo seeder, which needs them.</summary>
internal sealed class RoleSeeder(IServiceScopeFactory scopeFactory) : IDatabaseSeeder
{
    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in PortalRoles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                await roles.CreateAsync(new IdentityRole(role));
            }
        }
    }
}
