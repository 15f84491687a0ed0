using System.Net;
using System.Net.Sockets;
using Microsoft.Playwright;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using System.Security.Claims;

namespace PsaPortal.Testing;

/// <summary>
/// The portal on a real Kestrel port (demo mode, embedded SQLite, the built-in sandbox) and Debian's Chromium driven
/// by Playwright, for browser tests and live-update benchmarks. Playwright never downloads a browser here: the
/// chromium command is used (./build.sh test installs it).
/// </summary>
public class LivePortal : IAsyncLifetime
{
    public const string DemoPassword = "Demo-Password-2026";

    private PortalFactory _factory = null!;
    private IPlaywright _playwright = null!;

    public string BaseUrl { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    public static string ScreenshotDirectory { get; } =
        Environment.GetEnvironmentVariable("PSAPORTAL_SCREENSHOTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        var port = LoopbackPort.Free();
        _factory = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?>
        {
            ["Demo:Enabled"] = "true",
            ["Demo:Password"] = DemoPassword,
            ["Sandbox:Enabled"] = "true",
            // The sandbox's own tests cover its snapshot; here it would only race the temporary folder's removal.
            ["Sandbox:SnapshotPath"] = "",
        });
        _factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        _factory.StartServer();
        BaseUrl = $"http://127.0.0.1:{port}";

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = FindChromium(),
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await _factory.DisposeAsync();
    }

    /// <summary>A fresh browser context (own cookies) with a page that records console errors and uncaught exceptions.</summary>
    public Task<(IPage Page, List<string> Errors)> NewPageAsync() => NewPageAsync(Browser, BaseUrl);

    /// <summary>
    /// The same on any portal address, e.g. a portal a test starts and restarts itself; <paramref name="viewport"/>
    /// defaults to 1366×820.
    /// </summary>
    public static async Task<(IPage Page, List<string> Errors)> NewPageAsync(IBrowser browser, string baseUrl, ViewportSize? viewport = null)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = viewport ?? new ViewportSize { Width = 1366, Height = 820 },
            TimezoneId = "Europe/Amsterdam",
        });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add($"console: {message.Text}");
            }
        };
        page.PageError += (_, error) => errors.Add($"page error: {error}");
        return (page, errors);
    }

    /// <summary>A fresh organization with one user per role (password <see cref="DemoPassword"/>), so tests do not share state.</summary>
    public async Task<TestOrganization> CreateOrganizationAsync()
    {
        var name = $"Org {Guid.NewGuid():N}"[..12];
        var domain = $"{Guid.NewGuid():N}.example"[..20];
        var organizationId = await _factory.AddOrganizationAsync(name);
        await using var scope = _factory.Services.CreateAsyncScope();
        var accounts = scope.ServiceProvider.GetRequiredService<UserAccounts>();
        var result = new TestOrganization(organizationId, name, $"admin@{domain}", $"operator@{domain}", $"sales@{domain}");
        foreach (var (email, role) in new[] { (result.Admin, PortalRoles.Admin), (result.Operator, PortalRoles.FullMember), (result.Sales, PortalRoles.Sales) })
        {
            var created = await accounts.CreateAsync(organizationId, email, role, DemoPassword);
            if (!created.Succeeded)
            {
                throw new InvalidOperationException(string.Join(" ", created.Errors.Select(e => e.Description)));
            }
        }

        return result;
    }

    public T GetService<T>() where T : notnull => _factory.Services.GetRequiredService<T>();

    public PortalFactory Factory => _factory;

    /// <summary>The organization's Admin as services see a signed-in user, for calling them without a browser.</summary>
    public static ClaimsPrincipal AdminOf(TestOrganization organization) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, "test-admin"),
            new Claim(ClaimTypes.Name, organization.Admin),
            new Claim(ClaimTypes.Role, PortalRoles.Admin),
            new Claim(PortalClaims.OrganizationId, organization.Id.ToString()),
        ],
        "Test"));

    /// <summary>Links ConnectWise for the organization to the built-in sandbox with the given API member keys.</summary>
    public async Task LinkConnectWiseAsync(TestOrganization organization, string publicKey, string privateKey)
    {
        var admin = AdminOf(organization);
        var linked = await GetService<IntegrationService>().SaveConnectWiseAsync(admin, new ConnectWiseLinkForm
        {
            SiteUrl = $"{BaseUrl}/sandbox/connectwise", CompanyId = "sandbox", PublicKey = publicKey, PrivateKey = privateKey,
        });
        if (!linked.Succeeded)
        {
            throw new InvalidOperationException(linked.Message);
        }
    }

    public static async Task SignInAsync(IPage page, string email, string password = DemoPassword)
    {
        await page.GotoAsync("/account/login");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", password);
        await page.ClickAsync("[data-testid=sign-in]");
        // Either the portal lets the user in, or the sign-in page says why not: report that instead of a bare timeout.
        var signedIn = page.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal), new() { Timeout = 60_000 });
        var refused = page.Locator("[data-testid=login-error]").WaitForAsync(new() { Timeout = 60_000 });
        if (await Task.WhenAny(signedIn, refused) == refused && !refused.IsFaulted)
        {
            throw new InvalidOperationException($"Sign-in as {email} was refused: {await page.InnerTextAsync("[data-testid=login-error]")}");
        }

        await signedIn;
        await WaitForCircuitAsync(page);
    }

    /// <summary>Clicks before the circuit is live are lost; the layout renders this marker only once it is.</summary>
    public static async Task WaitForCircuitAsync(IPage page)
    {
        await page.Locator("[data-testid=interactive]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });

    /// <summary>A screenshot of one element, for parts of a page that fall below the fold.</summary>
    public static Task ScreenshotAsync(ILocator element, string name) =>
        element.ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png") });

    public static string FindChromium()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser" };
        return candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && File.Exists(c))
            ?? throw new InvalidOperationException(
                "Chromium was not found at /usr/bin/chromium (or CHROMIUM_PATH). Install Debian's chromium package " +
                "(apt-get install -y chromium); ./build.sh test does this for you.");
    }
}

public sealed record TestOrganization(Guid Id, string Name, string Admin, string Operator, string Sales);
