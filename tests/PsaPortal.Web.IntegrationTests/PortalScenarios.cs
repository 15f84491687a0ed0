using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Components.Layout;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.SystemLogs;
using PsaPortal.Web.Features.Users;

namespace PsaPortal.Web.IntegrationTests;

/// <summary>
/// What a person does in the first minutes with a fresh portal, run against each database provider
/// (<see cref="SqlitePortalScenarios"/>, <see cref="PostgreSqlPortalScenarios"/>) through the real HTTP pipeline.
/// </summary>
public abstract class PortalScenarios : IAsyncLifetime
{
    protected const string AdminEmail = "owner@msp.example";
    protected const string AdminPassword = "Correct-Horse-42";

    private PortalFactory _factory = null!;

    protected PortalBrowser Browser { get; private set; } = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync()
    {
        _factory = new PortalFactory(await CreateDatabaseAsync());
        Browser = _factory.NewBrowser();
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task FreshPortal_AnyPage_RedirectsToSetup()
    {
        var (response, _) = await Browser.GetAsync("/billing");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/setup", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Setup_ValidInput_CreatesAdminWhoSeesDashboard()
    {
        var (setup, _) = await Browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, setup.StatusCode);

        var (dashboard, document) = await Browser.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Equal("Dashboard", document.QuerySelector("h1")?.TextContent.Trim());
        Assert.Equal(AdminEmail, document.QuerySelector("[data-testid=signed-in-user]")?.TextContent.Trim());
        Assert.Contains("Northwind MSP", document.QuerySelector("[data-testid=organization-name]")?.TextContent);
        Assert.Contains("Not linked yet — link ConnectWise or Autotask", document.Body!.TextContent);
    }

    [Fact]
    public async Task Setup_SecondAttempt_IsRefusedAndCreatesNothing()
    {
        await Browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);
        var stranger = _factory.NewBrowser();

        var (page, document) = await stranger.GetAsync("/setup");
        var refusedPost = await PostSetupDirectlyAsync(stranger, "Intruder", "intruder@evil.example");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.NotNull(document.QuerySelector("[data-testid=already-set-up]"));
        Assert.Null(document.QuerySelector("form"));
        Assert.Equal(HttpStatusCode.Conflict, refusedPost);
        await using var db = await _factory.CreateDbContextAsync();
        Assert.Equal(["Northwind MSP"], await db.Organizations.Select(o => o.Name).ToListAsync());
        Assert.False(await db.Users.AnyAsync(u => u.Email == "intruder@evil.example"));
    }

    [Theory]
    [InlineData("Northwind", "not-an-email", AdminPassword, AdminPassword, "Enter a valid email address.")]
    [InlineData("Northwind", AdminEmail, "short", "short", "A password has 12 to 256 characters.")]
    [InlineData("Northwind", AdminEmail, AdminPassword, "Different-Horse-42", "The two passwords differ.")]
    [InlineData("Northwind", AdminEmail, "alllowercaseletters", "alllowercaseletters", "Passwords must have at least one digit")]
    [InlineData("<script>alert(1)</script>", AdminEmail, AdminPassword, AdminPassword, "cannot contain control characters, < or >")]
    [InlineData("", AdminEmail, AdminPassword, AdminPassword, "Enter the organization's name.")]
    public async Task Setup_BadInput_SaysWhatIsWrongAndStoresNothing(string organization, string email, string password, string confirm, string expected)
    {
        var (_, document) = await Browser.SubmitFormAsync("/setup", "setup", new Dictionary<string, string>
        {
            ["Input.OrganizationName"] = organization,
            ["Input.Email"] = email,
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = confirm,
        });

        Assert.Contains(expected, document.Body!.TextContent);
        await using var db = await _factory.CreateDbContextAsync();
        Assert.False(await db.Organizations.AnyAsync());
        Assert.False(await db.Users.AnyAsync());
    }

    [Fact]
    public async Task SignIn_WrongPassword_SaysSoThenLocksOutAfterFiveFailures()
    {
        await Browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);
        var visitor = _factory.NewBrowser();

        var (_, first) = await visitor.SignInAsync(AdminEmail, "Wrong-Password-1");
        for (var attempt = 2; attempt <= 5; attempt++)
        {
            await visitor.SignInAsync(AdminEmail, $"Wrong-Password-{attempt}");
        }

        var (lockedResponse, locked) = await visitor.SignInAsync(AdminEmail, AdminPassword);

        Assert.Equal(LoginPage.InvalidCredentialsMessage, first.QuerySelector("[data-testid=login-error]")?.TextContent.Trim());
        Assert.Equal(LoginPage.LockedOutMessage, locked.QuerySelector("[data-testid=login-error]")?.TextContent.Trim());
        Assert.Equal(HttpStatusCode.OK, lockedResponse.StatusCode);
        var (dashboard, _) = await visitor.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, dashboard.StatusCode);
    }

    [Fact]
    public async Task SignIn_RightPassword_OpensTheRequestedPage()
    {
        await Browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);
        var visitor = _factory.NewBrowser();

        var (anonymous, _) = await visitor.GetAsync("/billing");
        var (signIn, _) = await visitor.SubmitFormAsync(anonymous.Headers.Location!.PathAndQuery(), "login", new Dictionary<string, string>
        {
            ["Input.Email"] = AdminEmail,
            ["Input.Password"] = AdminPassword,
        });

        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/account/login?ReturnUrl=%2Fbilling", anonymous.Headers.Location!.PathAndQuery());
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/billing", signIn.Headers.Location!.PathAndQuery());
    }

    [Fact]
    public async Task SignIn_ReturnUrlToAnotherSite_GoesToDashboardInstead()
    {
        await Browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);
        var visitor = _factory.NewBrowser();

        var (signIn, _) = await visitor.SubmitFormAsync("/account/login?ReturnUrl=%2F%2Fevil.example%2F", "login", new Dictionary<string, string>
        {
            ["Input.Email"] = AdminEmail,
            ["Input.Password"] = AdminPassword,
        });

        Assert.Equal("http://localhost/", signIn.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task EveryNavigationEntry_SignedInAdmin_RendersItsPage()
    {
        await Browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);

        foreach (var (text, _, path) in NavMenu.Entries.Append(("Users", "", "users")))
        {
            var (response, document) = await Browser.GetAsync("/" + path);

            Assert.True(response.StatusCode == HttpStatusCode.OK, $"/{path} answered {(int)response.StatusCode}");
            Assert.Equal(text, document.QuerySelector("h1")?.TextContent.Trim());
        }
    }

    [Fact]
    public async Task SalesUser_AdminOnlyPage_Gets403PageAndNoUsersLink()
    {
        await Browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);
        var password = await AddUserAsync("sales@msp.example", PortalRoles.Sales);
        var sales = _factory.NewBrowser();
        await sales.SignInAsync("sales@msp.example", password);

        var (usersPage, _) = await sales.GetAsync("/users");
        var (denied, document) = await sales.GetAsync(usersPage.Headers.Location!.PathAndQuery());
        var (_, dashboard) = await sales.GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, usersPage.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.NotNull(document.QuerySelector("[data-testid=access-denied]"));
        Assert.Null(dashboard.QuerySelector("a[href='users']"));
    }

    [Fact]
    public async Task UnknownPage_Gets404Page()
    {
        await Browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);

        var (response, document) = await Browser.GetAsync("/no-such-page");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotNull(document.QuerySelector("[data-testid=not-found]"));
    }

    [Fact]
    public async Task BuiltInSandbox_NotEnabled_IsNotThere()
    {
        await Browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);

        var response = await Browser.Client.GetAsync("/sandbox/connectwise/login/companyinfo/sandbox");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task HealthEndpoints_Anonymous_ReportLiveAndReady()
    {
        var live = await Browser.Client.GetAsync("/health/live");
        var ready = await Browser.Client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UserDirectory_TwoOrganizations_NeitherSeesNorTouchesTheOther()
    {
        await Browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);
        var directory = _factory.Services.GetRequiredService<UserDirectory>();
        var northwind = await _factory.OrganizationIdAsync("Northwind MSP");
        var contoso = await _factory.AddOrganizationAsync("Contoso IT");
        await directory.AddAsync(contoso, Actor.Portal, "admin@contoso.example", PortalRoles.Admin);
        var contosoAdmin = (await directory.ListAsync(contoso)).Single();

        var northwindUsers = await directory.ListAsync(northwind);
        var removal = await directory.RemoveAsync(northwind, new Actor("someone-else", "someone@northwind.example"), contosoAdmin.Id);
        var unlock = await directory.UnlockAsync(northwind, Actor.Portal, contosoAdmin.Id);

        Assert.Equal([AdminEmail], northwindUsers.Select(u => u.Email));
        Assert.False(removal.Succeeded);
        Assert.False(unlock.Succeeded);
        Assert.Equal("That user does not exist in your organization.", removal.Message);
        Assert.Single(await directory.ListAsync(contoso));
    }

    [Fact]
    public async Task AuditLog_UserChanges_AreRecordedNewestFirstAndStayInTheirOrganization()
    {
        await Browser.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);
        var northwind = await _factory.OrganizationIdAsync("Northwind MSP");
        var contoso = await _factory.AddOrganizationAsync("Contoso IT");
        var audit = _factory.Services.GetRequiredService<AuditLog>();
        var directory = _factory.Services.GetRequiredService<UserDirectory>();
        var owner = new Actor("owner-id", AdminEmail);
        await directory.AddAsync(northwind, owner, "sales@msp.example", PortalRoles.Sales);
        await audit.RecordAsync(contoso, Actor.Portal, "Something at Contoso");

        var page = await audit.QueryOrganizationAsync(northwind, skip: 0, take: 10);
        var searched = await audit.QueryOrganizationAsync(northwind, skip: 0, take: 10, search: "sales@");

        Assert.Equal(["User added", "Organization set up"], page.Items.Select(e => e.Action));
        Assert.Equal(2, page.TotalCount);
        Assert.Equal(AdminEmail, page.Items[0].ActorName);
        Assert.Equal("sales@msp.example", page.Items[0].Subject);
        Assert.True(page.Items[0].At >= page.Items[1].At);
        Assert.Equal(["User added"], searched.Items.Select(e => e.Action));
        Assert.DoesNotContain(page.Items, e => e.OrganizationId != northwind);
    }

    [Fact]
    public async Task CleanUpSystemLogsJob_Nightly_DeletesOnlyEntriesOlderThanRetention()
    {
        var organizationId = await _factory.AddOrganizationAsync("Northwind MSP");
        await using (var db = await _factory.CreateDbContextAsync())
        {
            foreach (var age in new[] { 45, 31, 29, 0 })
            {
                db.SystemLog.Add(new SystemLogEntry
                {
                    OrganizationId = organizationId, StartedAt = DateTimeOffset.UtcNow.AddDays(-age), Vendor = "ConnectWise",
                    Operation = $"age {age}", Method = "GET", Url = "https://api-na.myconnectwise.net/", CorrelationId = "c",
                });
            }

            await db.SaveChangesAsync();
        }

        var job = ActivatorUtilities.CreateInstance<CleanUpSystemLogsJob>(_factory.Services);
        await job.Execute(null!, CancellationToken.None);

        await using var check = await _factory.CreateDbContextAsync();
        Assert.Equal(["age 0", "age 29"], await check.SystemLog.Select(e => e.Operation).OrderBy(o => o).ToListAsync());
    }

    private async Task<string> AddUserAsync(string email, string role)
    {
        var added = await _factory.Services.GetRequiredService<UserDirectory>().AddAsync(await _factory.OrganizationIdAsync("Northwind MSP"), Actor.Portal, email, role);
        Assert.True(added.Succeeded, added.Message);
        return added.Password!;
    }

    // A POST that skips the form: the page must refuse it on the server, not merely hide the form.
    private static async Task<HttpStatusCode> PostSetupDirectlyAsync(PortalBrowser browser, string organization, string email)
    {
        var (_, login) = await browser.GetAsync("/account/login");
        var token = login.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var response = await browser.Client.PostAsync("/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "setup",
            ["__RequestVerificationToken"] = token,
            ["Input.OrganizationName"] = organization,
            ["Input.Email"] = email,
            ["Input.Password"] = AdminPassword,
            ["Input.ConfirmPassword"] = AdminPassword,
        }));
        return response.StatusCode;
    }
}

public sealed class SqlitePortalScenarios : PortalScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlPortalScenarios(PostgreSqlFixture postgres) : PortalScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() =>
        new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}

[CollectionDefinition(Name)]
public sealed class PostgreSqlCollection : ICollectionFixture<PostgreSqlFixture>
{
    public const string Name = "PostgreSQL";
}

internal static class UriExtensions
{
    public static string PathAndQuery(this Uri uri) => uri.IsAbsoluteUri ? uri.PathAndQuery : uri.OriginalString;
}
