using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using PsaPortal.Web.Data;

namespace PsaPortal.Web.Features.Identity;

public static class IdentityFeature
{
    public const string LoginPath = "/account/login";
    public const string LogoutPath = "/account/logout";
    public const string AccessDeniedPath = "/account/access-denied";

    /// <summary>How often a sign-in cookie's security stamp is checked against the user's: at most this long after
    /// sign-out (or the user's removal) a copied cookie still works.</summary>
    public static readonly TimeSpan SecurityStampInterval = TimeSpan.FromMinutes(1);

    public static IHostApplicationBuilder AddIdentityFeature(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingIdentityAuthenticationStateProvider>();

        services.AddAuthentication(IdentityConstants.ApplicationScheme).AddIdentityCookies();
        // Secure by default: a page or endpoint without an explicit rule needs a signed-in user.
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());

        services.AddIdentityCore<PortalUser>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.SignIn.RequireConfirmedAccount = false;
                options.Password.RequiredLength = 12;
                options.Password.RequiredUniqueChars = 4;
                options.Password.RequireNonAlphanumeric = false;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                options.Lockout.AllowedForNewUsers = true;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders()
            .AddClaimsPrincipalFactory<PortalClaimsPrincipalFactory>();

        services.ConfigureApplicationCookie(options =>
        {
            options.Cookie.Name = "PsaPortal.Auth";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
            options.LoginPath = LoginPath;
            options.LogoutPath = LogoutPath;
            options.AccessDeniedPath = AccessDeniedPath;
        });
        // Sign-out changes the user's security stamp (below), so a copy of the sign-in cookie taken before it stops
        // working within this interval instead of living out its 8 hours; open circuits follow within
        // RevalidatingIdentityAuthenticationStateProvider's interval.
        services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = SecurityStampInterval);
        // The token cookie of every form post (sign-in, setup, sign-out): never readable by script, never sent by
        // another site, Secure whenever the portal is reached over https.
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "PsaPortal.Antiforgery";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });

        services.Configure<DemoOptions>(builder.Configuration.GetSection(DemoOptions.SectionName));
        services.AddSingleton<SetupService>();
        services.AddSingleton<IDatabaseSeeder, RoleSeeder>();
        services.AddSingleton<IDatabaseSeeder, LockoutSeeder>();
        services.AddSingleton<IDatabaseSeeder, DemoSeeder>();
        services.AddScoped<UserAccounts>();
        return builder;
    }

    public static IEndpointRouteBuilder MapIdentityFeature(this IEndpointRouteBuilder endpoints)
    {
        // The form parameter makes the endpoint validate the antiforgery token.
        endpoints.MapPost(LogoutPath, async (HttpContext http, SignInManager<PortalUser> signInManager, [FromForm] string? returnUrl) =>
        {
            // Signing out ends every session of this user, copies of the cookie included: the stamp they carry is no
            // longer the user's.
            if (await signInManager.UserManager.GetUserAsync(http.User) is { } user)
            {
                await signInManager.UserManager.UpdateSecurityStampAsync(user);
            }

            await signInManager.SignOutAsync();
            return TypedResults.LocalRedirect("~" + LoginPath);
        });
        return endpoints;
    }
}
