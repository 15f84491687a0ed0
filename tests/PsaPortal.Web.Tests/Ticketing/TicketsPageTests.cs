using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Ticketing;

namespace PsaPortal.Web.Tests.Ticketing;

public sealed class TicketsPageTests : ComponentTestContext
{
    [Fact]
    public async Task Render_NoPsaLinked_SaysTicketingIsOffAndWhereToStart()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);

        var document = await RenderAsync<TicketsPage>();

        Assert.Equal("Tickets", document.QuerySelector("h1")?.TextContent.Trim());
        var empty = document.QuerySelector("[data-testid=empty-state]")!;
        Assert.Contains("Ticketing is off — link a PSA under Integrations, then turn it on under Integrations → ConnectWise or Autotask → Ticketing", empty.TextContent, StringComparison.Ordinal);
        Assert.Contains("Go to Integrations", empty.TextContent, StringComparison.Ordinal);
        Assert.Null(document.QuerySelector("[data-testid=tickets-grid]"));
    }

    [Theory]
    [InlineData(null, "No ticket", "None", "rz-badge-light")]
    [InlineData(TicketState.Pending, "Pending", "Pending", "rz-badge-info")]
    [InlineData(TicketState.UpdatePending, "Updating", "UpdatePending", "rz-badge-info")]
    [InlineData(TicketState.ClosePending, "Closing", "ClosePending", "rz-badge-info")]
    [InlineData(TicketState.Open, "Open", "Open", "rz-badge-success")]
    [InlineData(TicketState.Closed, "Closed", "Closed", "rz-badge-dark")]
    [InlineData(TicketState.Failed, "Failed", "Failed", "rz-badge-danger")]
    public async Task StateBadge_EachState_SaysItInWordsAndColour(TicketState? state, string text, string dataState, string styleClass)
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);

        var document = await RenderAsync<TicketStateBadge>(new Dictionary<string, object?> { [nameof(TicketStateBadge.State)] = state });

        var badge = document.QuerySelector("[data-testid=ticket-state]")!;
        Assert.Equal((text, dataState), (badge.TextContent.Trim(), badge.GetAttribute("data-state")));
        Assert.Contains(styleClass, badge.ClassList);
        Assert.False(string.IsNullOrEmpty(badge.GetAttribute("title")));
    }

    [Theory]
    [InlineData("https://na.myconnectwise.net/v4_6_release/services/system_io/Service/fv_sr100_request.rails?service_recid=42&companyName=acme", true)]
    [InlineData("https://ww5.autotask.net/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID=7", true)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("data:text/html,hello", false)]
    [InlineData("/relative/path", false)]
    [InlineData(null, false)]
    public void LinkOf_OnlyWebAddressesBecomeLinks(string? url, bool linked)
    {
        Assert.Equal(linked, TicketsPage.LinkOf(url) is not null);
    }
}
