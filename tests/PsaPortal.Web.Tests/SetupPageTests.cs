using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Tests;

public sealed class SetupPageTests : ComponentTestContext
{
    [Fact]
    public async Task Render_NoUsersYet_ShowsTheSetupForm()
    {
        var document = await RenderAsync<SetupPage>();

        var form = document.QuerySelector("form");
        Assert.NotNull(form);
        Assert.Null(form.GetAttribute("hidden"));
        var fields = form.QuerySelectorAll("input[name^='Input.']").Select(i => i.GetAttribute("name")).ToList();
        Assert.Equal(["Input.OrganizationName", "Input.Email", "Input.Password", "Input.ConfirmPassword"], fields);
        Assert.Equal("password", form.QuerySelector("input[name='Input.Password']")?.GetAttribute("type"));
        Assert.Null(document.QuerySelector("[data-testid=already-set-up]"));
    }

    [Fact]
    public async Task Render_AdminExists_ShowsAlreadySetUpAndNoForm()
    {
        await CreateUserAsync("Northwind MSP", "owner@msp.example", PortalRoles.Admin);

        var document = await RenderAsync<SetupPage>();

        Assert.Null(document.QuerySelector("form"));
        Assert.Equal(SetupResult.AlreadySetUp.Errors[0], document.QuerySelector("[data-testid=already-set-up-message]")?.TextContent.Trim());
    }
}
