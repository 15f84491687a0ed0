using Radzen.Blazor;
using PsaPortal.Integrations;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Tests.Billing;

public sealed class BillingRunPanelTests : ComponentTestContext
{
    [Fact]
    public async Task Render_RunningHalfway_ShowsProgressCountsElapsedAndTimeLeft()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);
        var run = Run(BillingRunStatus.Running, total: 200, done: 100, synced: 60, unchanged: 30, failed: 10);
        run.StartedAt = DateTimeOffset.UtcNow.AddMinutes(-2);

        var document = await RenderAsync<BillingRunPanel>(new Dictionary<string, object?> { [nameof(BillingRunPanel.Run)] = run });

        Assert.Equal("Current run", document.QuerySelector("h2")?.TextContent.Trim());
        Assert.Equal("Running", document.QuerySelector("[data-testid=run-status]")?.TextContent.Trim());
        var progress = document.QuerySelector("[data-testid=run-progress]")!;
        Assert.Equal(("100", "200"), (progress.GetAttribute("data-done"), progress.GetAttribute("data-total")));
        Assert.Equal("100 of 200 rows done (50%)", document.QuerySelector("[data-testid=run-progress-text]")?.TextContent.Trim());
        Assert.Equal("60", Count(document, "synced"));
        Assert.Equal("30", Count(document, "unchanged"));
        Assert.Equal("10", Count(document, "failed"));
        Assert.Equal("100", Count(document, "pending"));
        Assert.Null(document.QuerySelector("[data-testid=count-skipped]"));
        Assert.StartsWith("Elapsed: 2 min", document.QuerySelector("[data-testid=run-elapsed]")?.TextContent.Trim(), StringComparison.Ordinal);
        // Half the rows took two minutes: the other half should take about as long.
        Assert.StartsWith("Estimated time left: 2 min", document.QuerySelector("[data-testid=run-remaining]")?.TextContent.Trim(), StringComparison.Ordinal);
        Assert.Equal("Sync now · requested by operator@msp.example · 2026-12-01 09:30 UTC", Squash(document.QuerySelector("[data-testid=run-origin]")?.TextContent));
        Assert.NotNull(document.QuerySelector("a[href='billing/runs/" + run.Id + "']"));
    }

    [Fact]
    public async Task Render_QueuedNothingDone_SaysEstimatingAndNotStarted()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);
        var run = Run(BillingRunStatus.Queued, total: 0, done: 0, synced: 0, unchanged: 0, failed: 0);

        var document = await RenderAsync<BillingRunPanel>(new Dictionary<string, object?> { [nameof(BillingRunPanel.Run)] = run });

        Assert.Equal("Elapsed: not started", document.QuerySelector("[data-testid=run-elapsed]")?.TextContent.Trim());
        Assert.Equal("Estimated time left: estimating…", document.QuerySelector("[data-testid=run-remaining]")?.TextContent.Trim());
        Assert.Equal("0 of 0 rows done (0%)", document.QuerySelector("[data-testid=run-progress-text]")?.TextContent.Trim());
    }

    [Fact]
    public async Task Render_CancelledRun_CountsTheSkippedRowsAndShowsWhy()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);
        var run = Run(BillingRunStatus.Cancelled, total: 10, done: 10, synced: 3, unchanged: 2, failed: 1);
        (run.StartedAt, run.FinishedAt, run.Error) = (run.CreatedAt, run.CreatedAt.AddSeconds(42), "Cancelled by admin@msp.example.");

        var document = await RenderAsync<BillingRunPanel>(new Dictionary<string, object?>
        {
            [nameof(BillingRunPanel.Run)] = run,
            [nameof(BillingRunPanel.LinkToRun)] = false,
        });

        Assert.Equal("Last run", document.QuerySelector("h2")?.TextContent.Trim());
        Assert.Equal("4", Count(document, "skipped"));
        Assert.Equal("0", Count(document, "pending"));
        Assert.Equal("Elapsed: 42 s", document.QuerySelector("[data-testid=run-elapsed]")?.TextContent.Trim());
        Assert.Null(document.QuerySelector("[data-testid=run-remaining]"));
        Assert.Contains("Cancelled by admin@msp.example.", document.QuerySelector("[data-testid=run-error]")?.TextContent, StringComparison.Ordinal);
        Assert.Null(document.QuerySelector("[data-testid=open-run]"));
    }

    [Fact]
    public async Task Render_FinishedPreview_SaysNothingIsWrittenAndCountsPlannedRows()
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);
        var run = Run(BillingRunStatus.Succeeded, total: 5, done: 5, synced: 0, unchanged: 2, failed: 0);
        run.Mode = BillingRunMode.Preview;

        var document = await RenderAsync<BillingRunPanel>(new Dictionary<string, object?> { [nameof(BillingRunPanel.Run)] = run });

        Assert.Equal("Preview — nothing is written", document.QuerySelector("[data-testid=run-preview]")?.TextContent.Trim());
        Assert.Equal("3", Count(document, "planned"));
        Assert.StartsWith("Preview · requested by", Squash(document.QuerySelector("[data-testid=run-origin]")?.TextContent), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(850, "850 ms")]
    [InlineData(42_000, "42 s")]
    [InlineData(185_000, "3 min 05 s")]
    [InlineData(7_800_000, "2 h 10 min")]
    public void Duration_ReadsAsAPersonWouldSayIt(int milliseconds, string expected) =>
        Assert.Equal(expected, BillingRunPanel.Duration(TimeSpan.FromMilliseconds(milliseconds)));

    [Theory]
    [InlineData(BillingOutcome.Synced, "Synced", "rz-badge-success")]
    [InlineData(BillingOutcome.Failed, "Failed", "rz-badge-danger")]
    [InlineData(BillingOutcome.InFlight, "In flight", "rz-badge-info")]
    [InlineData(BillingOutcome.Unchanged, "Unchanged", "rz-badge-base")]
    public async Task OutcomeBadge_ColoursEachOutcome(BillingOutcome outcome, string text, string cssClass)
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);

        var document = await RenderAsync<BillingOutcomeBadge>(new Dictionary<string, object?> { [nameof(BillingOutcomeBadge.Outcome)] = outcome });

        var badge = document.QuerySelector("[data-testid=outcome]")!;
        Assert.Equal(text, badge.TextContent.Trim());
        Assert.Contains(cssClass, badge.ClassList);
    }

    public static TheoryData<BillingOutcome> Outcomes => [.. Enum.GetValues<BillingOutcome>()];

    [Theory]
    [MemberData(nameof(Outcomes))]
    public async Task OutcomeBadge_IsTheMarkupRadzenBadgeRenders(BillingOutcome outcome)
    {
        SignInAs("operator@msp.example", PortalRoles.FullMember);

        var ours = (await RenderAsync<BillingOutcomeBadge>(new Dictionary<string, object?> { [nameof(BillingOutcomeBadge.Outcome)] = outcome }))
            .QuerySelector("[data-testid=outcome]")!;
        var radzen = (await RenderAsync<RadzenBadge>(new Dictionary<string, object?>
        {
            [nameof(RadzenBadge.BadgeStyle)] = BillingOutcomeBadge.StyleOf(outcome),
            [nameof(RadzenBadge.Variant)] = BillingOutcomeBadge.VariantOf(outcome),
            [nameof(RadzenBadge.Text)] = BillingOutcomeBadge.TextOf(outcome),
        })).QuerySelector("span")!;

        Assert.Equal(radzen.LocalName, ours.LocalName);
        Assert.Equal(radzen.ClassList.Order(), ours.ClassList.Order());
        Assert.Equal(radzen.TextContent.Trim(), ours.TextContent.Trim());
        Assert.Equal(outcome.ToString(), ours.GetAttribute("data-outcome"));
    }

    [Theory]
    [InlineData(BillingFrequency.Hourly, 0, 15, 1, "UTC", "hourly at 15 minutes past the hour (UTC)")]
    [InlineData(BillingFrequency.Daily, 0, 0, 1, "UTC", "daily at 00:00 (UTC)")]
    [InlineData(BillingFrequency.Monthly, 6, 30, 0, "Europe/Amsterdam", "monthly on the last day at 06:30 (Europe/Amsterdam)")]
    [InlineData(BillingFrequency.Monthly, 23, 5, 28, "America/New_York", "monthly on day 28 at 23:05 (America/New_York)")]
    public void ScheduleDescription_NamesFrequencyTimeAndZone(BillingFrequency frequency, int hour, int minute, int day, string zone, string expected) =>
        Assert.Equal(expected, BillingScheduleDialog.Describe(new BillingScheduleInput(frequency, new TimeOnly(hour, minute), day, zone, true)));

    private static string? Count(AngleSharp.Dom.IDocument document, string outcome) =>
        document.QuerySelector($"[data-testid=count-{outcome}] [data-testid=count-value]")?.TextContent.Trim();

    private static string Squash(string? text) => string.Join(' ', (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    internal static BillingRun Run(BillingRunStatus status, int total, int done, int synced, int unchanged, int failed) => new()
    {
        OrganizationId = Guid.NewGuid(),
        IntegrationId = Guid.NewGuid(),
        Vendor = PsaVendor.ConnectWise,
        Mode = BillingRunMode.Apply,
        Trigger = BillingRunTrigger.Manual,
        RequestedBy = "operator@msp.example",
        Status = status,
        CreatedAt = new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero),
        Total = total,
        Done = done,
        Synced = synced,
        Unchanged = unchanged,
        Failed = failed,
    };
}
