using AngleSharp.Dom;
using Microsoft.AspNetCore.Components;
using PsaPortal.Web.Components.Layout;
using PsaPortal.Web.Features.Identity;
using Radzen.Blazor;

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

    [Theory]
    [InlineData("", "Dashboard")]
    [InlineData("billing", "Billing")]
    [InlineData("billing/runs/5f0e7c1a-2b8e-4c4e-9a51-0a4c1e0b7d21?page=2", "Billing")]
    [InlineData("system-logs#latest", "System Logs")]
    [InlineData("users", "Users")]
    [InlineData("billingx", null)]
    [InlineData("no-such-page", null)]
    public async Task Navigation_MarksOnlyTheCurrentPagesEntry(string path, string? current)
    {
        SignInAs("owner@msp.example", PortalRoles.Admin);

        var document = await RenderAsync<MainLayout>(PageBody, path);

        var marked = document.QuerySelectorAll("[data-testid=main-navigation] a[aria-current=page]").ToList();
        Assert.Equal(current is null ? [] : [current], marked.Select(a => a.QuerySelector(".rz-navigation-item-text")!.TextContent));
        Assert.All(marked, a => Assert.Contains("active", a.ClassList));
        Assert.Equal(marked.Count, document.QuerySelectorAll("[data-testid=main-navigation] a.active").Length);
        Assert.Equal(marked.Count, document.QuerySelectorAll("[data-testid=main-navigation] .rz-navigation-item-wrapper-active").Length);
    }

    [Fact]
    public async Task Navigation_IsTheMarkupRadzenPanelMenuRenders()
    {
        SignInAs("owner@msp.example", PortalRoles.Admin);
        var ours = (await RenderAsync<NavMenu>(path: "billing")).QuerySelector("[data-testid=main-navigation]")!;
        var radzen = (await RenderAsync<RadzenPanelMenu>(new Dictionary<string, object?>
        {
            [nameof(RadzenPanelMenu.DisplayStyle)] = Radzen.MenuItemDisplayStyle.IconAndText,
            [nameof(RadzenPanelMenu.ChildContent)] = (RenderFragment)(b =>
            {
                b.OpenComponent<RadzenPanelMenuItem>(0);
                b.AddAttribute(1, nameof(RadzenPanelMenuItem.Text), "Billing");
                b.AddAttribute(2, nameof(RadzenPanelMenuItem.Icon), "receipt_long");
                b.AddAttribute(3, nameof(RadzenPanelMenuItem.Path), "billing");
                b.CloseComponent();
            }),
        }, "billing")).QuerySelector("ul")!;

        static IElement Billing(IElement menu) => menu.QuerySelectorAll("li").Single(li => li.TextContent.Contains("Billing", StringComparison.Ordinal));
        Assert.Equal(Classes(radzen), Classes(ours));
        foreach (var selector in new[] { "", ".rz-navigation-item-wrapper", "a", "a > i", "a > span" })
        {
            var theirs = selector.Length == 0 ? Billing(radzen) : Billing(radzen).QuerySelector(selector);
            var mine = selector.Length == 0 ? Billing(ours) : Billing(ours).QuerySelector(selector);
            Assert.True(theirs is not null && mine is not null, $"'{selector}' in both menus");
            Assert.Equal(Classes(theirs), Classes(mine));
            Assert.Equal((theirs.GetAttribute("style") ?? "").Replace(" ", ""), (mine.GetAttribute("style") ?? "").Replace(" ", ""));
        }

        Assert.Equal("receipt_long", Billing(ours).QuerySelector("a > i")!.TextContent);
        Assert.Equal("billing", Billing(ours).QuerySelector("a")!.GetAttribute("href"));
    }

    private static IEnumerable<string> Classes(IElement element) => element.ClassList.Order(StringComparer.Ordinal);
}
