using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Dashboard;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Tests.Billing;

namespace PsaPortal.Web.Tests.Dashboard;

public sealed class LastSyncToPsaTileTests : ComponentTestContext
{
    [Fact]
    public async Task Render_NoRunYet_SaysNoSyncYet()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);

        var document = await RenderAsync<LastSyncToPsaTile>();

        Assert.Equal("No sync yet", document.QuerySelector("[data-testid=last-sync-psa]")?.TextContent.Trim());
        Assert.Null(document.QuerySelector("[data-testid=billing-failures]"));
    }

    [Fact]
    public async Task Render_FinishedTwoHoursAgoWithFailures_ShowsRelativeTimeAndLinksTheFailuresToTheRun()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);
        var run = BillingRunPanelTests.Run(BillingRunStatus.CompletedWithFailures, total: 12, done: 12, synced: 8, unchanged: 1, failed: 3);
        run.FinishedAt = DateTimeOffset.UtcNow.AddHours(-2).AddMinutes(-1);

        var document = await RenderAsync<LastSyncToPsaTile>(new Dictionary<string, object?> { [nameof(LastSyncToPsaTile.LastRun)] = run });

        Assert.Equal("2 hours ago", document.QuerySelector("[data-testid=last-sync-psa]")?.TextContent.Trim());
        Assert.EndsWith("(UTC)", document.QuerySelector(".viewer-time-exact")?.TextContent.Trim(), StringComparison.Ordinal);
        var link = document.QuerySelector("[data-testid=billing-failures-link]")!;
        Assert.Equal("3 tenants failed — see the run", link.TextContent.Trim());
        Assert.Equal($"billing/runs/{run.Id}", link.GetAttribute("href"));
    }

    [Fact]
    public async Task Render_AllSyncedAndAnotherRunGoing_ShowsTheCountsAndTheLiveProgress()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);
        var last = BillingRunPanelTests.Run(BillingRunStatus.Succeeded, total: 1_500, done: 1_500, synced: 1_200, unchanged: 300, failed: 0);
        last.FinishedAt = DateTimeOffset.UtcNow.AddMinutes(-5);
        var running = BillingRunPanelTests.Run(BillingRunStatus.Running, total: 1_500, done: 420, synced: 400, unchanged: 20, failed: 0);

        var document = await RenderAsync<LastSyncToPsaTile>(new Dictionary<string, object?>
        {
            [nameof(LastSyncToPsaTile.LastRun)] = last,
            [nameof(LastSyncToPsaTile.Running)] = running,
        });

        Assert.Equal("5 minutes ago", document.QuerySelector("[data-testid=last-sync-psa]")?.TextContent.Trim());
        Assert.Equal("1,200 synced, 300 unchanged.", document.QuerySelector("[data-testid=billing-summary]")?.TextContent.Trim());
        Assert.Equal("Syncing… 420 of 1,500 rows done.", string.Join(' ', document.QuerySelector("[data-testid=billing-sync-running]")!.TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task Render_RunFailedAsAWhole_SaysWhy()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);
        var run = BillingRunPanelTests.Run(BillingRunStatus.Failed, total: 4, done: 0, synced: 0, unchanged: 0, failed: 0);
        (run.FinishedAt, run.Error) = (DateTimeOffset.UtcNow, "ConnectWise refused the API keys (401).");

        var document = await RenderAsync<LastSyncToPsaTile>(new Dictionary<string, object?> { [nameof(LastSyncToPsaTile.LastRun)] = run });

        Assert.Contains("Failed: ConnectWise refused the API keys (401).", document.QuerySelector("[data-testid=billing-run-error]")?.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecentRuns_ListsEachRunWithStatusCountsAndALink()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);
        var failed = BillingRunPanelTests.Run(BillingRunStatus.CompletedWithFailures, total: 12, done: 12, synced: 10, unchanged: 0, failed: 2);
        (failed.StartedAt, failed.FinishedAt) = (failed.CreatedAt, failed.CreatedAt.AddSeconds(75));
        var retry = BillingRunPanelTests.Run(BillingRunStatus.Running, total: 2, done: 1, synced: 1, unchanged: 0, failed: 0);
        retry.Trigger = BillingRunTrigger.RetryFailed;

        var document = await RenderAsync<RecentBillingRuns>(new Dictionary<string, object?> { [nameof(RecentBillingRuns.Runs)] = new List<BillingRun> { retry, failed } });

        var rows = document.QuerySelectorAll("[data-testid=recent-run]");
        Assert.Equal(2, rows.Length);
        Assert.Contains("Retry all failed", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Equal("Running", rows[0].QuerySelector("[data-testid=run-status]")?.TextContent.Trim());
        Assert.Equal("12 / 12, 2 failed", rows[1].QuerySelector("[data-testid=recent-run-counts]")?.TextContent.Trim());
        Assert.Contains("1 min 15 s", rows[1].TextContent, StringComparison.Ordinal);
        Assert.Equal($"billing/runs/{failed.Id}", rows[1].QuerySelector("a")?.GetAttribute("href"));
    }

    [Fact]
    public async Task RecentRuns_None_SaysSo()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);

        var document = await RenderAsync<RecentBillingRuns>();

        Assert.Equal("No billing runs yet.", document.QuerySelector("[data-testid=recent-runs-empty]")?.TextContent.Trim());
    }
}
