using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;

namespace PsaPortal.Web.Features.Identity;

/// <summary>The <c>Demo</c> configuration section (<c>--demo</c> on the command line sets Enabled).</summary>
public sealed class DemoOptions
{
    public const string SectionName = "Demo";

    public bool Enabled { get; set; }

    /// <summary>Password for the demo users; generated and printed once when not set.</summary>
    public string? Password { get; set; }
}

/// <summary>Seeds the demo organization and one user per role, printing their credentials once, when they are created.</summary>
internal sealed class DemoSeeder(
    IServiceScopeFactory scopeFactory,
    Microsoft.Extensions.Options.IOptions<DemoOptions> options,
    TimeProvider time,
    ILogger<DemoSeeder> logger) : IDatabaseSeeder
{
    public const string OrganizationName = "Demo MSP";

    public static readonly IReadOnlyList<(string Email, string Role)> Users =
    [
        ("admin@demo.psaportal.test", PortalRoles.Admin),
        ("operator@demo.psaportal.test", PortalRoles.FullMember),
        ("sales@demo.psaportal.test", PortalRoles.Sales),
    ];

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        if (await db.Organizations.AnyAsync(o => o.Name == OrganizationName, cancellationToken))
        {
            logger.LogInformation("Demo organization already exists; its users keep the password printed when they were created");
            return;
        }

        var organization = new Organization { Name = OrganizationName, CreatedAt = time.GetUtcNow() };
        db.Organizations.Add(organization);
        await db.SaveChangesAsync(cancellationToken);

        var password = string.IsNullOrEmpty(options.Value.Password) ? UserAccounts.GeneratePassword() : options.Value.Password;
        var accounts = scope.ServiceProvider.GetRequiredService<UserAccounts>();
        foreach (var (email, role) in Users)
        {
            var result = await accounts.CreateAsync(organization.Id, email, role, password);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException(
                    $"Demo user {email} could not be created: {string.Join(" ", result.Errors.Select(e => e.Description))}");
            }
        }

        // Printed on the console, not logged: log sinks are kept, this password is meant to be seen once.
        Console.WriteLine();
        Console.WriteLine("  PsaPortal demo users (shown once; they keep this password):");
        foreach (var (email, role) in Users)
        {
            Console.WriteLine($"    {role,-12} {email}");
        }

        Console.WriteLine($"    password     {password}");
        Console.WriteLine();
    }
}
