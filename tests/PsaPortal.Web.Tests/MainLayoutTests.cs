using Microsoft.AspNetCore.Components;
using PsaPortal.Web.Components.Layout;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Tests;

public sealed class MainLayoutTests : ComponentTestContext
{
    private static readonly Dictionary<string, object?> PageBody = new()
    {
        [nameof(LayoutComponentBase.Body)] = (RenderFragment)(b => b.AddMarkupContent(0, "<p id=\"page\">page body</p>")),
    };

    [Fact]
    public async Task Render_Admin_ShowsEveryNavigationEntryAndUsers()
    {
        SignInAs("owner@msp.example", PortalRoles.Admin);

        var document = await RenderAsync<MainLayout>(PageBody);

        var links = document.QuerySelectorAll("[data-testid=main-navigation] .rz-navigation-item-text").Select(a => a.TextContent.Trim()).ToList();
        Assert.Equal(
            ["Dashboard", "Integrations", "Platform data", "Mapping", "Billing", "Tickets", "Invoices", "System Logs", "Settings", "Users"],
            links);
        Assert.NotNull(document.QuerySelector("#page"));
    }

    [Theory]
    [InlineData(PortalRoles.FullMember)]
    [InlineData(PortalRoles.Sales)]
    public async Task Render_NonAdmin_HidesUsers(string role)
    {
        SignInAs("someone@msp.example", role);

        var document = await RenderAsync<MainLayout>(PageBody);

        var links = document.QuerySelectorAll("[data-testid=main-navigation] .rz-navigation-item-text").Select(a => a.TextContent.Trim()).ToList();
        Assert.DoesNotContain("Users", links);
        Assert.Contains("Dashboard", links);
    }

    [Fact]
    public async Task Render_SignedInUser_ShowsWhoAndWhereWithSignOut()
    {
        SignInAs("owner@msp.example", PortalRoles.Admin, organization: "Contoso IT");

        var document = await RenderAsync<MainLayout>(PageBody);

        Assert.Equal("owner@msp.example", document.QuerySelector("[data-testid=signed-in-user]")?.TextContent.Trim());
        Assert.Equal("Contoso IT", document.QuerySelector("[data-testid=organization-name]")?.TextContent.Trim());
        var signOut = document.QuerySelector("form[action='account/logout']");
        Assert.NotNull(signOut);
        Assert.Equal("post", signOut.GetAttribute("method"));
        Assert.NotNull(signOut.QuerySelector("input[name=__RequestVerificationToken][value=test-token]"));
    }
}
