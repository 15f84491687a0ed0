using System.Security.Claims;
using AngleSharp;
using AngleSharp.Dom;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Tests;

/// <summary>
/// Renders a component to HTML with the framework's own <see cref="HtmlRenderer"/> and hands it back as an AngleSharp
/// document. It stands in for bUnit, which cannot restore here (docs/adr/0005-component-tests-without-bunit.md): the
/// portal's real services on a throwaway SQLite file, plus a signed-in user of the test's choosing. Interaction
/// (clicks, dialogs, live updates) is tested in Chromium by PsaPortal.EndToEnd.Tests.
/// </summary>
public abstract class ComponentTestContext : IAsyncLifetime
{
    private static readonly IBrowsingContext Parser = BrowsingContext.New(Configuration.Default);
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"psaportal-component-{Guid.NewGuid():N}");
    private readonly TestAuthenticationStateProvider _authentication = new();
    private WebApplication _app = null!;

    protected IServiceProvider Services => _app.Services;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Configuration["Storage:DataDirectory"] = _dataDirectory;
        builder.Logging.ClearProviders();
        builder.AddPortal();
        builder.Services.Replace(ServiceDescriptor.Scoped<NavigationManager, TestNavigationManager>());
        builder.Services.Replace(ServiceDescriptor.Scoped<AuthenticationStateProvider>(_ => _authentication));
        builder.Services.Replace(ServiceDescriptor.Scoped<AntiforgeryStateProvider, TestAntiforgeryStateProvider>());
        _app = builder.Build();
        // Migrate and seed the roles as the portal does at start-up, without starting a web server.
        foreach (var initializer in _app.Services.GetServices<IHostedService>().OfType<DatabaseInitializer>())
        {
            await initializer.StartAsync(CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    protected void SignInAs(string email, string role, string organization = "Northwind MSP") =>
        _authentication.User = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, email),
                new Claim(ClaimTypes.NameIdentifier, Guid.NewGuid().ToString()),
                new Claim(ClaimTypes.Role, role),
                new Claim(PortalClaims.OrganizationId, Guid.NewGuid().ToString()),
                new Claim(PortalClaims.OrganizationName, organization),
            ],
            authenticationType: "Test"));

    /// <summary>Renders the component as on the page at <paramref name="path"/> (relative to the portal's base; the home page by default).</summary>
    protected async Task<IDocument> RenderAsync<TComponent>(IDictionary<string, object?>? parameters = null, string path = "")
        where TComponent : IComponent
    {
        await using var scope = Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<NavigationManager>().NavigateTo(path);
        await using var renderer = new HtmlRenderer(scope.ServiceProvider, scope.ServiceProvider.GetRequiredService<ILoggerFactory>());
        var html = await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<TComponent>(
                parameters is null ? ParameterView.Empty : ParameterView.FromDictionary(parameters));
            return output.ToHtmlString();
        });
        return await Parser.OpenAsync(request => request.Content(html));
    }

    protected async Task CreateUserAsync(string organizationName, string email, string role)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var organization = new Organization { Name = organizationName, CreatedAt = DateTimeOffset.UtcNow };
        db.Organizations.Add(organization);
        await db.SaveChangesAsync();
        var result = await scope.ServiceProvider.GetRequiredService<UserAccounts>()
            .CreateAsync(organization.Id, email, role, UserAccounts.GeneratePassword());
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
    }

    private sealed class TestAuthenticationStateProvider : AuthenticationStateProvider
    {
        public ClaimsPrincipal User { get; set; } = new(new ClaimsIdentity());

        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(User));
    }

    private sealed class TestNavigationManager : NavigationManager
    {
        public TestNavigationManager() => Initialize("http://localhost/", "http://localhost/");

        protected override void NavigateToCore(string uri, NavigationOptions options) => Uri = ToAbsoluteUri(uri).ToString();
    }

    private sealed class TestAntiforgeryStateProvider : AntiforgeryStateProvider
    {
        public override AntiforgeryRequestToken GetAntiforgeryToken() => new("test-token", "__RequestVerificationToken");
    }
}
