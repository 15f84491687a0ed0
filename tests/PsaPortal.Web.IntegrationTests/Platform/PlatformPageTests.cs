using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Users;

namespace PsaPortal.Web.IntegrationTests.Platform;

/// <summary>The Platform data page and the API keys tab as each role gets them from the server.</summary>
public sealed class PlatformPageTests : IAsyncLifetime
{
    private const string AdminEmail = "owner@msp.example";
    private const string AdminPassword = "Correct-Horse-42";

    private PortalFactory _factory = null!;
    private PortalBrowser _admin = null!;

    public async Task InitializeAsync()
    {
        _factory = new PortalFactory(new PortalDatabase.Sqlite());
        _admin = _factory.NewBrowser();
        await _admin.SetUpAsync("Northwind MSP", AdminEmail, AdminPassword);
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task PlatformPage_Admin_HasTheFourTabsAndTheImportForm()
    {
        var (response, document) = await _admin.GetAsync("/platform");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Platform data", document.QuerySelector("h1")?.TextContent.Trim());
        Assert.Equal(["Tenants", "Products", "Import", "Export"],
            document.QuerySelectorAll("[data-testid=platform-tabs] .rz-tabview-nav li").Select(t => t.TextContent.Trim()));
        Assert.NotNull(document.QuerySelector("a[href='platform']"));
    }

    [Fact]
    public async Task PlatformPage_Sales_IsReadOnly()
    {
        var sales = await SignInAsync("sales@msp.example", PortalRoles.Sales);

        var (response, document) = await sales.GetAsync("/platform");
        var (settings, settingsDocument) = await sales.GetAsync("/settings");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Platform data", document.QuerySelector("h1")?.TextContent.Trim());
        Assert.Equal(HttpStatusCode.OK, settings.StatusCode);
        Assert.DoesNotContain("API keys", settingsDocument.QuerySelectorAll(".rz-tabview-nav li").Select(t => t.TextContent.Trim()));
    }

    [Fact]
    public async Task SettingsPage_AdminSeesApiKeysTab_FullMemberDoesNot()
    {
        var member = await SignInAsync("member@msp.example", PortalRoles.FullMember);

        var (_, admin) = await _admin.GetAsync("/settings");
        var (_, other) = await member.GetAsync("/settings");

        Assert.Contains("API keys", admin.QuerySelectorAll(".rz-tabview-nav li").Select(t => t.TextContent.Trim()));
        Assert.DoesNotContain("API keys", other.QuerySelectorAll(".rz-tabview-nav li").Select(t => t.TextContent.Trim()));
    }

    private async Task<PortalBrowser> SignInAsync(string email, string role)
    {
        var organizationId = await _factory.OrganizationIdAsync("Northwind MSP");
        var added = await _factory.Services.GetRequiredService<UserDirectory>().AddAsync(organizationId, Actor.Portal, email, role);
        Assert.True(added.Succeeded, added.Message);
        var browser = _factory.NewBrowser();
        await browser.SignInAsync(email, added.Password!);
        return browser;
    }
}
