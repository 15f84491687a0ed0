using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;

namespace PsaPortal.Web.Features.Identity;

public sealed record SetupResult(bool Succeeded, IReadOnlyList<string> Errors)
{
    public static readonly SetupResult AlreadySetUp =
        new(false, ["PsaPortal is already set up. Sign in with an existing account, or ask an Admin of your organization to add you."]);
}

/// <summary>
/// First run: while no user exists, the portal sends everyone to /setup, which creates the first organization and its Admin.
/// Once a user exists, setup is refused for good.
/// </summary>
public sealed class SetupService(IServiceScopeFactory scopeFactory, TimeProvider time)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _isSetUp;

    public async Task<bool> IsSetUpAsync(CancellationToken cancellationToken = default)
    {
        if (_isSetUp)
        {
            return true;
        }

        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        _isSetUp = await db.Users.AnyAsync(cancellationToken);
        return _isSetUp;
    }

    public async Task<SetupResult> CreateFirstAdminAsync(string organizationName, string email, string password)
    {
        await _gate.WaitAsync();
        try
        {
            if (await IsSetUpAsync())
            {
                return SetupResult.AlreadySetUp;
            }

            await using var scope = scopeFactory.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();

            var organization = new Organization { Name = organizationName.Trim(), CreatedAt = time.GetUtcNow() };
            db.Organizations.Add(organization);
            await db.SaveChangesAsync();

            var accounts = scope.ServiceProvider.GetRequiredService<UserAccounts>();
            var created = await accounts.CreateAsync(organization.Id, email.Trim(), PortalRoles.Admin, password);
            if (!created.Succeeded)
            {
                await transaction.RollbackAsync();
                return new SetupResult(false, created.Errors.Select(e => e.Description).ToList());
            }

            await transaction.CommitAsync();
            _isSetUp = true;
            await scope.ServiceProvider.GetRequiredService<AuditLog>()
                .RecordAsync(organization.Id, new Actor(null, email.Trim()), "Organization set up", organization.Name, "First Admin created");
            return new SetupResult(true, []);
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>Sends every page request to /setup until the first Admin exists.</summary>
internal sealed class SetupRedirectMiddleware(RequestDelegate next, SetupService setup)
{
    public const string SetupPath = "/setup";

    public async Task InvokeAsync(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method)
            && IsPageRequest(context.Request.Path)
            && !await setup.IsSetUpAsync(context.RequestAborted))
        {
            context.Response.Redirect(SetupPath);
            return;
        }

        await next(context);
    }

    // Only navigations to pages: assets, health probes, the Blazor hub and the setup page itself pass.
    private static bool IsPageRequest(PathString path) =>
        !path.StartsWithSegments(SetupPath)
        && !path.StartsWithSegments("/_framework")
        && !path.StartsWithSegments("/_content")
        && !path.StartsWithSegments("/_blazor")
        && !path.StartsWithSegments("/health")
        && !path.StartsWithSegments("/metrics")
        && !path.StartsWithSegments("/sandbox")
        && !path.StartsWithSegments("/api")
        && !Path.HasExtension(path.Value);
}
