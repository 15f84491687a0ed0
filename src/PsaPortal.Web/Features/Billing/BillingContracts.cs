using System.Security.Claims;
using PsaPortal.Integrations;

namespace PsaPortal.Web.Features.Billing;

// The seams between the billing engine, its pages and its notifications. The engine (BillingRuns) implements
// IBillingRuns and IBillingRunQueries; the notifier implements IBillingFailureNotifier and is called by the engine.

/// <summary>What a request to start something came to: accepted (with the run it made) or why not, in words for the user.</summary>
public sealed record BillingRequestResult(bool Accepted, string Message, Guid? RunId = null)
{
    public static BillingRequestResult Refused(string message) => new(false, message);
}

/// <summary>A schedule as a person edits it.</summary>
public sealed record BillingScheduleInput(BillingFrequency Frequency, TimeOnly TimeOfDay, int DayOfMonth, string TimeZone, bool Enabled);

/// <summary>
/// Starting billing runs on behalf of a signed-in user. Admins and Full Members may; Sales users are refused with a
/// message. Every method confines itself to the user's organization, audits what it starts, and never starts a second
/// run of an integration beside one that is queued or running: it refuses with a clear message instead.
/// </summary>
public interface IBillingRuns
{
    Task<BillingRequestResult> SyncNowAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default);

    /// <summary>A dry run: the same plan, every row Planned (or Failed with the reason), nothing written.</summary>
    Task<BillingRequestResult> PreviewAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default);

    /// <summary>Applies exactly the plan of a finished preview; refused if the PSA changed under a row since (that row fails with why).</summary>
    Task<BillingRequestResult> ApplyPreviewAsync(ClaimsPrincipal user, Guid previewRunId, CancellationToken cancellationToken = default);

    /// <summary>Recomputes one failed row's tenant's live count and syncs only that row, as a new run.</summary>
    Task<BillingRequestResult> RetryItemAsync(ClaimsPrincipal user, Guid runId, long itemId, CancellationToken cancellationToken = default);

    /// <summary>Retries every failed row of a run in one new run.</summary>
    Task<BillingRequestResult> RetryFailedAsync(ClaimsPrincipal user, Guid runId, CancellationToken cancellationToken = default);

    Task<BillingRequestResult> CancelAsync(ClaimsPrincipal user, Guid runId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<BillingSchedule>> GetSchedulesAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default);

    /// <summary>Adds a schedule (or replaces the one with <paramref name="scheduleId"/>) and stores its Quartz trigger in the integration's group.</summary>
    Task<BillingRequestResult> SaveScheduleAsync(ClaimsPrincipal user, PsaVendor vendor, long? scheduleId, BillingScheduleInput input, CancellationToken cancellationToken = default);

    Task<BillingRequestResult> DeleteScheduleAsync(ClaimsPrincipal user, PsaVendor vendor, long scheduleId, CancellationToken cancellationToken = default);
}

/// <summary>A page of rows and how many match in all.</summary>
public sealed record BillingPage<T>(IReadOnlyList<T> Rows, int Count);

/// <summary>Reading runs and their rows, for the pages; everything is confined to one organization.</summary>
public interface IBillingRunQueries
{
    Task<BillingPage<BillingRun>> ListRunsAsync(Guid organizationId, Guid integrationId, int skip, int take, CancellationToken cancellationToken = default);

    Task<BillingRun?> GetRunAsync(Guid organizationId, Guid runId, CancellationToken cancellationToken = default);

    /// <param name="orderBy">A Radzen grid order expression over <see cref="BillingRunItem"/> properties, e.g. "TenantName desc"; null for tenant name.</param>
    Task<BillingPage<BillingRunItem>> ListItemsAsync(
        Guid organizationId, Guid runId, BillingOutcome? outcome, string? search, int skip, int take, string? orderBy, CancellationToken cancellationToken = default);

    /// <summary>The run's rows (optionally one outcome) as CSV, formula-injection neutralised.</summary>
    Task WriteCsvAsync(Guid organizationId, Guid runId, BillingOutcome? outcome, Stream output, CancellationToken cancellationToken = default);
}

/// <summary>Tells the integration's chosen contacts that an apply run ended with failures (e-mail and/or signed webhook).</summary>
public interface IBillingFailureNotifier
{
    /// <summary>Called once per run that ends Failed or CompletedWithFailures; never throws for a delivery problem (it logs and records it).</summary>
    Task NotifyAsync(BillingRun run, IReadOnlyList<BillingRunItem> failedItems, CancellationToken cancellationToken = default);
}
