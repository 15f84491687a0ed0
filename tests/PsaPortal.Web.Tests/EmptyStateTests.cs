using PsaPortal.Web.Components.Shared;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Tests;

public sealed class EmptyStateTests : ComponentTestContext
{
    [Fact]
    public async Task NotLinkedYet_Render_SaysWhatIsMissingAndWhereToFixIt()
    {
        SignInAs("owner@msp.example", PortalRoles.Admin);

        var document = await RenderAsync<NotLinkedYet>(new Dictionary<string, object?> { [nameof(NotLinkedYet.What)] = "Billing runs" });

        var state = document.QuerySelector("[data-testid=empty-state]");
        Assert.NotNull(state);
        Assert.Contains("Not linked yet — link ConnectWise or Autotask", state.TextContent);
        Assert.Contains("Billing runs", state.TextContent);
        Assert.Contains("Go to Integrations", state.QuerySelector("button")?.TextContent);
    }
}
