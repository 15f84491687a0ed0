using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using PsaPortal.Sandbox;
using PsaPortal.Web.Components;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Permissions;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Reference;
using PsaPortal.Web.Features.Ticketing;
using Quartz;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Users;
using PsaPortal.Web.Infrastructure;
using Radzen;

namespace PsaPortal.Web;

/// <summary>Composition of the portal: what Program.cs adds and maps, in one readable place.</summary>
public static class PortalApplication
{
    public const string SandboxPathPrefix = "/sandbox";

    /// <summary>
    /// <c>--demo</c> turns on demo data and the built-in PSA sandbox; it is taken out of the arguments before
    /// configuration reads them.
    /// </summary>
    public static string[] ApplyCommandLineSwitches(string[] args, out IReadOnlyDictionary<string, string?> switches)
    {
        var demo = args.Contains("--demo", StringComparer.OrdinalIgnoreCase);
        switches = demo
            ? new Dictionary<string, string?> { ["Demo:Enabled"] = "true", ["Sandbox:Enabled"] = "true" }
            : new Dictionary<string, string?>();
        return args.Where(a => !a.Equals("--demo", StringComparison.OrdinalIgnoreCase)).ToArray();
    }

    public static IHostApplicationBuilder AddPortal(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        // First: hosted services start in registration order, and the database's (migrations, seeders) must run before
        // Data Protection's, which reads the key ring, on PostgreSQL a table the migrations create.
        builder.AddPortalData();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddRadzenComponents();
        builder.Services.AddRadzenCookieThemeService(options =>
        {
            options.Name = "PsaPortal.Theme";
            options.Duration = TimeSpan.FromDays(365);
            // Written by Radzen's script, so it cannot be HttpOnly; it holds only a theme name, which App.razor checks.
            options.SameSite = CookieSameSiteMode.Lax;
        });
        builder.Services.AddDataProtection().SetApplicationName("PsaPortal");
        // The key ring lives beside the SQLite file so a restart can still read cookies and stored PSA secrets; on
        // PostgreSQL it is a table of the database, so every node of a cluster reads and writes the same ring.
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider, ILoggerFactory>((options, services, loggers) =>
            options.XmlRepository = services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider == DatabaseProvider.PostgreSql
                ? new DatabaseKeyRing(services, LegacyKeyDirectory(services), loggers)
                : new FileSystemXmlRepository(new DirectoryInfo(Path.Combine(services.GetDataDirectory(), "keys")), loggers));

        builder.AddPortalHealthChecks();
        builder.AddIdentityFeature();
        builder.AddPortalForwardedHeaders();
        builder.AddPortalRateLimiting();
        builder.AddDemoPlatformData();
        builder.AddUsersFeature();
        builder.AddAuditFeature();
        builder.AddPortalMetrics();
        builder.AddLiveFeature();
        builder.AddIntegrationsFeature();
        builder.AddPermissionsFeature();
        builder.AddPlatformFeature();
        builder.AddApiFeature();
        builder.AddMappingFeature();
        builder.AddReferenceFeature();
        builder.AddBillingFeature();
        builder.AddBillingNotifications();
        builder.AddTicketingFeature();
        builder.AddInvoicesFeature();
        builder.AddPortalScheduler();
        builder.AddBuiltInSandbox();
        return builder;
    }

    /// <summary>Where the key ring was kept before it moved into the PostgreSQL database (not created when missing).</summary>
    private static string LegacyKeyDirectory(IServiceProvider services) => Path.Combine(services.DataDirectoryPath(), "keys");

    /// <summary>
    /// With <c>Sandbox:Enabled</c>, the ConnectWise and Autotask simulators answer under <c>/sandbox</c> in this same
    /// process, so a newcomer can link a PSA with no PSA at hand. Its state is kept beside the database. Off by default.
    /// </summary>
    private static void AddBuiltInSandbox(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Sandbox");
        if (!section.GetValue<bool>("Enabled"))
        {
            return;
        }

        builder.Services.AddPsaSandbox(options => section.Bind(options));
        builder.Services.AddOptions<SandboxOptions>().Configure<IServiceProvider>((options, services) =>
            options.SnapshotPath ??= Path.Combine(services.GetDataDirectory(), "sandbox.json"));
    }

    public static WebApplication UsePortal(this WebApplication app)
    {
        // Before anything reads the client's address or scheme; off unless Proxy:KnownProxies/KnownNetworks names the proxy.
        app.UsePortalForwardedHeaders();
        // First, so every response carries them, error pages included (docs/security.md).
        app.UseSecurityHeaders();
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
            app.UseHsts();
        }

        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        // A person's browser gets the not-found page; hubs, health probes and API clients get the bare status code.
        app.Use((context, next) =>
        {
            if (!HttpMethods.IsGet(context.Request.Method) || !context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.Ordinal))
            {
                context.Features.Get<IStatusCodePagesFeature>()?.Enabled = false;
            }

            return next(context);
        });
        app.UseMiddleware<SetupRedirectMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.UsePortalRateLimiting();

        app.MapStaticAssets().AllowAnonymous();
        app.MapBlazorWebScript();
        app.MapPortalHealthChecks();
        app.MapIdentityFeature();
        app.MapLiveFeature();
        app.MapPortalMetrics();
        app.MapApiFeature();
        app.MapPlatformFeature();
        app.MapBillingEndpoints();
        if (app.Services.GetService<PsaSandbox>() is not null)
        {
            app.MapPsaSandbox(SandboxPathPrefix);
        }

        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
