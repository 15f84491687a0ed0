using PsaPortal.Web.Features.Dashboard;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Web.Tests.Dashboard;

public sealed class LastSyncToPlatformTileTests : ComponentTestContext
{
    [Fact]
    public async Task Render_NeverSynced_SaysNoSyncYetAndOffersRefresh()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);

        var document = await RenderAsync<LastSyncToPlatformTile>(new Dictionary<string, object?>
        {
            [nameof(LastSyncToPlatformTile.SyncedAt)] = null,
            [nameof(LastSyncToPlatformTile.CanRefresh)] = true,
        });

        Assert.Equal("No sync yet", document.QuerySelector("[data-testid=last-sync-platform]")?.TextContent.Trim());
        Assert.False(document.QuerySelector("[data-testid=refresh-reference]")!.HasAttribute("disabled"));
        Assert.Null(document.QuerySelector("[data-testid=reference-sync-errors]"));
    }

    [Fact]
    public async Task Render_SyncedTwoHoursAgo_ShowsTheRelativeTimeWithTheZoneNamed()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);

        var document = await RenderAsync<LastSyncToPlatformTile>(new Dictionary<string, object?>
        {
            [nameof(LastSyncToPlatformTile.SyncedAt)] = DateTimeOffset.UtcNow.AddHours(-2).AddMinutes(-5),
            [nameof(LastSyncToPlatformTile.CanRefresh)] = true,
        });

        Assert.Equal("2 hours ago", document.QuerySelector("[data-testid=last-sync-platform]")?.TextContent.Trim());
        Assert.EndsWith("(UTC)", document.QuerySelector(".viewer-time-exact")?.TextContent.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_LastAttemptFailedForOneKind_ShowsTheKindAndThePsasMessage()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);
        const string message = "ConnectWise refused: the API member may not read Service Desk > Priority.";

        var document = await RenderAsync<LastSyncToPlatformTile>(new Dictionary<string, object?>
        {
            [nameof(LastSyncToPlatformTile.SyncedAt)] = DateTimeOffset.UtcNow.AddDays(-1),
            [nameof(LastSyncToPlatformTile.Failures)] = new List<PsaReferenceSyncState>
            {
                new() { Kind = PsaReferenceKind.Priority, Error = message, LastAttemptAt = DateTimeOffset.UtcNow },
            },
        });

        var errors = document.QuerySelectorAll("[data-testid=reference-sync-error]");
        var error = Assert.Single(errors);
        Assert.Equal("Priority", error.GetAttribute("data-kind"));
        Assert.Equal($"Priority: {message}", error.TextContent.Trim());
        Assert.Contains("Last attempt failed for one kind", document.QuerySelector("[data-testid=reference-sync-errors]")!.TextContent);
    }

    [Fact]
    public async Task Render_SalesUser_RefreshIsDisabledAndSaysWhy()
    {
        SignInAs("sales@msp.example", PortalRoles.Sales);

        var document = await RenderAsync<LastSyncToPlatformTile>(new Dictionary<string, object?>
        {
            [nameof(LastSyncToPlatformTile.CanRefresh)] = false,
        });

        var refresh = document.QuerySelector("[data-testid=refresh-reference]")!;
        Assert.True(refresh.HasAttribute("disabled"));
        Assert.Equal(ReferenceSyncJobs.SalesRefused, refresh.GetAttribute("title"));
    }

    [Fact]
    public async Task Render_Running_ShowsProgressAndDisablesRefresh()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);

        var document = await RenderAsync<LastSyncToPlatformTile>(new Dictionary<string, object?>
        {
            [nameof(LastSyncToPlatformTile.CanRefresh)] = true,
            [nameof(LastSyncToPlatformTile.IsRunning)] = true,
            [nameof(LastSyncToPlatformTile.Progress)] = "3 of 9",
        });

        Assert.Equal("Refreshing… 3 of 9 kinds done.", document.QuerySelector("[data-testid=reference-sync-running]")?.TextContent.Trim());
        Assert.True(document.QuerySelector("[data-testid=refresh-reference]")!.HasAttribute("disabled"));
    }
}
