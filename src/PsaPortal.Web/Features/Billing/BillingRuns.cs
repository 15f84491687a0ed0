using System.Globalization;
using System.Security.Claims;
using CsvHelper;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Infrastructure;
using Radzen;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// The billing engine's front door for pages and APIs: starts runs (Sync now, preview, apply of a preview, retries)
/// on behalf of a signed-in Admin or Full Member of the integration's organization, audits each, refuses a second run
/// beside a queued or running one, keeps the schedules; and reads runs and rows for the pages (filter, search, sort and
/// paging in the database; CSV with formula injection neutralised).
/// </summary>
public sealed class BillingRuns(
    IDbContextFactory<PortalDbContext> dbFactory,
    BillingRunStarter starter,
    BillingRowSource rowSource,
    BillingEngine engine,
    BillingScheduleTriggers triggers,
    IPortalEventStream events,
    AuditLog audit,
    ClusterLocks clusterLocks,
    TimeProvider time) : IBillingRuns, IBillingRunQueries
{
    public const int MaxPageSize = 1000;

    public Task<BillingRequestResult> SyncNowAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default) =>
        StartAsync(user, vendor, BillingRunMode.Apply, "Billing sync started", cancellationToken);

    public Task<BillingRequestResult> PreviewAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default) =>
        StartAsync(user, vendor, BillingRunMode.Preview, "Billing preview started", cancellationToken);

    public async Task<BillingRequestResult> ApplyPreviewAsync(ClaimsPrincipal user, Guid previewRunId, CancellationToken cancellationToken = default)
    {
        var (source, integration, refusal) = await SourceRunAsync(user, previewRunId, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        if (source!.Mode != BillingRunMode.Preview)
        {
            return BillingRequestResult.Refused("Only a preview's plan can be applied; this run is not a preview.");
        }

        if (source.Status is not (BillingRunStatus.Succeeded or BillingRunStatus.CompletedWithFailures))
        {
            return BillingRequestResult.Refused("This preview has not finished; apply it once it has.");
        }

        List<BillingRunItem> planned;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (await db.BillingRuns.AnyAsync(r => r.SourceRunId == previewRunId && r.Trigger == BillingRunTrigger.ApplyPreview
                                                    && r.Status != BillingRunStatus.Cancelled && r.Status != BillingRunStatus.Failed, cancellationToken))
            {
                return BillingRequestResult.Refused("This preview has already been applied. Run a new preview.");
            }

            planned = await db.BillingRunItems.AsNoTracking().Where(i => i.RunId == previewRunId && i.Outcome == BillingOutcome.Planned).OrderBy(i => i.Id).ToListAsync(cancellationToken);
        }

        if (planned.Count == 0)
        {
            return BillingRequestResult.Refused("The preview planned no rows: there is nothing to apply.");
        }

        var now = time.GetUtcNow();
        var result = await starter.CreateAsync(integration!, new BillingRun
        {
            Mode = BillingRunMode.Apply, Trigger = BillingRunTrigger.ApplyPreview, SourceRunId = previewRunId, RequestedBy = Actor.From(user).Name,
        }, _ => Task.FromResult(planned.Select(p => Copy(p, now)).ToList()), queueTrigger: true, cancellationToken);
        return await AuditedAsync(user, integration!, result, "Billing preview applied", $"Preview {previewRunId}", cancellationToken);
    }

    public async Task<BillingRequestResult> RetryItemAsync(ClaimsPrincipal user, Guid runId, long itemId, CancellationToken cancellationToken = default)
    {
        var (source, integration, refusal) = await SourceRunAsync(user, runId, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        BillingRunItem? item;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            item = await db.BillingRunItems.AsNoTracking().SingleOrDefaultAsync(i => i.Id == itemId && i.RunId == runId, cancellationToken);
        }

        if (item is null)
        {
            return BillingRequestResult.Refused("That row is not part of this run.");
        }

        if (source!.Mode != BillingRunMode.Apply || item.Outcome is not (BillingOutcome.Failed or BillingOutcome.Skipped))
        {
            return BillingRequestResult.Refused("Only a failed row of a sync can be retried.");
        }

        var result = await starter.CreateAsync(integration!, new BillingRun
        {
            Mode = BillingRunMode.Apply, Trigger = BillingRunTrigger.RetryTenant, SourceRunId = runId, TenantId = item.TenantId, RequestedBy = Actor.From(user).Name,
        }, newRunId => RetryRowsAsync(integration!, newRunId, [item], cancellationToken), queueTrigger: true, cancellationToken);
        return await AuditedAsync(user, integration!, result, "Billing row retried", $"{item.TenantName} — {item.VendorProductName}", cancellationToken);
    }

    public async Task<BillingRequestResult> RetryFailedAsync(ClaimsPrincipal user, Guid runId, CancellationToken cancellationToken = default)
    {
        var (source, integration, refusal) = await SourceRunAsync(user, runId, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        if (source!.Mode != BillingRunMode.Apply)
        {
            return BillingRequestResult.Refused("A preview writes nothing, so it has nothing to retry: run a new preview.");
        }

        List<BillingRunItem> failed;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            failed = await db.BillingRunItems.AsNoTracking()
                .Where(i => i.RunId == runId && (i.Outcome == BillingOutcome.Failed || i.Outcome == BillingOutcome.Skipped)).ToListAsync(cancellationToken);
        }

        if (failed.Count == 0)
        {
            return BillingRequestResult.Refused("This run has no failed rows to retry.");
        }

        var result = await starter.CreateAsync(integration!, new BillingRun
        {
            Mode = BillingRunMode.Apply, Trigger = BillingRunTrigger.RetryFailed, SourceRunId = runId, RequestedBy = Actor.From(user).Name,
        }, newRunId => RetryRowsAsync(integration!, newRunId, failed, cancellationToken), queueTrigger: true, cancellationToken);
        return await AuditedAsync(user, integration!, result, "Billing failed rows retried", $"{failed.Count} rows of run {runId}", cancellationToken);
    }

    public async Task<BillingRequestResult> CancelAsync(ClaimsPrincipal user, Guid runId, CancellationToken cancellationToken = default)
    {
        var (run, integration, refusal) = await SourceRunAsync(user, runId, cancellationToken, requireConnected: false);
        if (refusal is not null)
        {
            return refusal;
        }

        if (run!.Status is not (BillingRunStatus.Queued or BillingRunStatus.Running))
        {
            return BillingRequestResult.Refused("This run has already ended.");
        }

        if (!engine.RequestCancel(runId))
        {
            // Not executing in this process. When no node holds the integration's run lock, nothing executes it (it is
            // queued, or waiting to be resumed) and it ends here, under the lock so no node picks it up meanwhile. When
            // another node holds it, that node is running it: a queued run behind it ends here, a running one is
            // stopped by the node that runs it (BillingCancelRelay), so no row is marked skipped while it is written.
            await using var held = await clusterLocks.TryAcquireAsync(BillingEngine.ClusterLockName(run.IntegrationId), cancellationToken);
            if (held is not null)
            {
                await EndRunAsync(user, run, onlyIfQueued: false, cancellationToken);
            }
            else if (!await EndRunAsync(user, run, onlyIfQueued: true, cancellationToken))
            {
                events.Publish(new BillingRunCancelRequested(run.OrganizationId, time.GetUtcNow(), run.IntegrationId, runId, Actor.From(user).Name));
            }
        }

        await audit.RecordAsync(run.OrganizationId, Actor.From(user), "Billing run cancelled", integration!.Vendor.ToString(), $"Run {runId}", cancellationToken);
        return new BillingRequestResult(true, "The run is being cancelled.", runId);
    }

    /// <summary>Ends a run no process is executing: its waiting rows skipped, rows caught in flight failed. False when
    /// <paramref name="onlyIfQueued"/> and the run had already left Queued.</summary>
    private async Task<bool> EndRunAsync(ClaimsPrincipal user, BillingRun run, bool onlyIfQueued, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = time.GetUtcNow();
        var error = $"Cancelled by {Actor.From(user).Name}.";
        var ended = await db.BillingRuns
            .Where(r => r.Id == run.Id && (r.Status == BillingRunStatus.Queued || (!onlyIfQueued && r.Status == BillingRunStatus.Running)))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, BillingRunStatus.Cancelled).SetProperty(r => r.Error, error).SetProperty(r => r.FinishedAt, now), cancellationToken);
        if (ended == 0)
        {
            return false;
        }

        await BillingEngine.EndUnfinishedRowsAsync(db, run.Id, BillingMessages.Cancelled, now, cancellationToken);
        var counts = await BillingEngine.CountsAsync(db, run.Id, cancellationToken);
        await db.BillingRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Total, counts.Total).SetProperty(r => r.Done, counts.Done).SetProperty(r => r.Synced, counts.Synced)
            .SetProperty(r => r.Unchanged, counts.Unchanged).SetProperty(r => r.Failed, counts.Failed), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        events.Publish(new BillingRunFinished(run.OrganizationId, now, run.IntegrationId, run.Id, run.Vendor, run.Mode, BillingRunStatus.Cancelled, counts, error));
        return true;
    }

    public async Task<IReadOnlyList<BillingSchedule>> GetSchedulesAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default)
    {
        var organizationId = user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await (
                from s in db.BillingSchedules.AsNoTracking()
                join i in db.Integrations on s.IntegrationId equals i.Id
                where i.OrganizationId == organizationId && i.Vendor == vendor
                orderby s.Id
                select s)
            .ToListAsync(cancellationToken);
    }

    public async Task<BillingRequestResult> SaveScheduleAsync(ClaimsPrincipal user, PsaVendor vendor, long? scheduleId, BillingScheduleInput input,
        CancellationToken cancellationToken = default)
    {
        var (integration, refusal) = await IntegrationAsync(user, vendor, requireConnected: false, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        if (BillingScheduleTriggers.Validate(input, out var zone) is { } invalid)
        {
            return BillingRequestResult.Refused(invalid);
        }

        BillingSchedule schedule;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (scheduleId is { } id)
            {
                var found = await db.BillingSchedules.SingleOrDefaultAsync(s => s.Id == id && s.IntegrationId == integration!.Id, cancellationToken);
                if (found is null)
                {
                    return BillingRequestResult.Refused("That schedule no longer exists.");
                }

                schedule = found;
            }
            else
            {
                schedule = new BillingSchedule { IntegrationId = integration!.Id, TimeZone = "UTC" };
                db.BillingSchedules.Add(schedule);
            }

            schedule.Frequency = input.Frequency;
            schedule.TimeOfDay = input.Frequency == BillingFrequency.Hourly ? new TimeOnly(0, input.TimeOfDay.Minute) : input.TimeOfDay;
            schedule.DayOfMonth = input.Frequency == BillingFrequency.Monthly ? input.DayOfMonth : 0;
            schedule.TimeZone = zone!.Id;
            schedule.Enabled = input.Enabled;
            schedule.UpdatedAt = time.GetUtcNow();
            schedule.UpdatedBy = Actor.From(user).Name;
            await db.SaveChangesAsync(cancellationToken);
        }

        await triggers.ApplyAsync(schedule, cancellationToken);
        var description = BillingScheduleTriggers.Describe(schedule);
        await audit.RecordAsync(integration!.OrganizationId, Actor.From(user), scheduleId is null ? "Billing schedule added" : "Billing schedule changed",
            vendor.ToString(), description + (schedule.Enabled ? "" : " (disabled)"), cancellationToken);
        return new BillingRequestResult(true, $"Saved: {description}{(schedule.Enabled ? "" : ", disabled")}.");
    }

    public async Task<BillingRequestResult> DeleteScheduleAsync(ClaimsPrincipal user, PsaVendor vendor, long scheduleId, CancellationToken cancellationToken = default)
    {
        var (integration, refusal) = await IntegrationAsync(user, vendor, requireConnected: false, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var schedule = await db.BillingSchedules.SingleOrDefaultAsync(s => s.Id == scheduleId && s.IntegrationId == integration!.Id, cancellationToken);
        if (schedule is null)
        {
            return BillingRequestResult.Refused("That schedule no longer exists.");
        }

        db.BillingSchedules.Remove(schedule);
        await db.SaveChangesAsync(cancellationToken);
        await triggers.RemoveAsync(schedule.IntegrationId, schedule.Id, cancellationToken);
        var description = BillingScheduleTriggers.Describe(schedule);
        await audit.RecordAsync(integration!.OrganizationId, Actor.From(user), "Billing schedule deleted", vendor.ToString(), description, cancellationToken);
        return new BillingRequestResult(true, $"Deleted: {description}.");
    }

    public async Task<BillingPage<BillingRun>> ListRunsAsync(Guid organizationId, Guid integrationId, int skip, int take, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var runs = db.BillingRuns.AsNoTracking().Where(r => r.OrganizationId == organizationId && r.IntegrationId == integrationId);
        var count = await runs.CountAsync(cancellationToken);
        var rows = await runs.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, MaxPageSize)).ToListAsync(cancellationToken);
        return new BillingPage<BillingRun>(rows, count);
    }

    public async Task<BillingRun?> GetRunAsync(Guid organizationId, Guid runId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.BillingRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId && r.OrganizationId == organizationId, cancellationToken);
    }

    public async Task<BillingPage<BillingRunItem>> ListItemsAsync(Guid organizationId, Guid runId, BillingOutcome? outcome, string? search, int skip, int take, string? orderBy,
        CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.BillingRuns.AnyAsync(r => r.Id == runId && r.OrganizationId == organizationId, cancellationToken))
        {
            return new BillingPage<BillingRunItem>([], 0);
        }

        var count = await Filter(db, runId, outcome, search).CountAsync(cancellationToken);
        var page = await ItemsPageQuery(db, runId, outcome, search, skip, take, orderBy).ToListAsync(cancellationToken);
        return new BillingPage<BillingRunItem>(page, count);
    }

    /// <summary>One page of a run's rows, as the results table asks for it (the tests read its query plan).</summary>
    internal static IQueryable<BillingRunItem> ItemsPageQuery(PortalDbContext db, Guid runId, BillingOutcome? outcome, string? search, int skip, int take, string? orderBy) =>
        Sort(Filter(db, runId, outcome, search), orderBy).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, MaxPageSize));

    public static readonly IReadOnlyList<string> CsvHeaders =
    [
        "tenant", "company", "agreement", "product", "psaProduct", "previous", "new", "action", "outcome", "message", "attempts", "durationMs", "updatedAt",
    ];

    public async Task WriteCsvAsync(Guid organizationId, Guid runId, BillingOutcome? outcome, Stream output, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.BillingRuns.AnyAsync(r => r.Id == runId && r.OrganizationId == organizationId, cancellationToken))
        {
            throw new InvalidOperationException("That run does not exist in this organization.");
        }

        // The same writer options as the Platform export: a value a spreadsheet would run as a formula is escaped.
        await using var writer = CsvWriter.Create(output, new CsvWriterOptions { Injection = CsvInjection.Escape, WriteByteOrderMark = true }, leaveOpen: true);
        await writer.WriteRecordAsync([.. CsvHeaders], cancellationToken);
        await foreach (var row in Sort(Filter(db, runId, outcome, null), null).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            await writer.WriteRecordAsync(
            [
                row.TenantName, row.CompanyName ?? "", row.AgreementName ?? "", row.VendorProductName, row.PsaProductName ?? "",
                Number(row.Previous), Number(row.New), row.Action.ToString(), row.Outcome.ToString(), row.Message ?? "",
                row.Attempts.ToString(CultureInfo.InvariantCulture), row.DurationMilliseconds?.ToString(CultureInfo.InvariantCulture) ?? "",
                row.UpdatedAt?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "",
            ], cancellationToken);
        }

        await writer.FlushAsync(cancellationToken);
    }

    private static IQueryable<BillingRunItem> Filter(PortalDbContext db, Guid runId, BillingOutcome? outcome, string? search)
    {
        var rows = db.BillingRunItems.AsNoTracking().Where(i => i.RunId == runId);
        if (outcome is { } wanted)
        {
            rows = rows.Where(i => i.Outcome == wanted);
        }

        if (!string.IsNullOrWhiteSpace(search))
        {
            var term = SearchTerms.Clean(search).ToLowerInvariant();
            rows = rows.Where(i => i.TenantName.ToLower().Contains(term) || i.VendorProductName.ToLower().Contains(term)
                                   || (i.CompanyName != null && i.CompanyName.ToLower().Contains(term)) || (i.AgreementName != null && i.AgreementName.ToLower().Contains(term))
                                   || (i.PsaProductName != null && i.PsaProductName.ToLower().Contains(term)) || (i.Message != null && i.Message.ToLower().Contains(term)));
        }

        return rows;
    }

    private static readonly HashSet<string> Sortable = typeof(BillingRunItem).GetProperties().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>A Radzen order expression ("TenantName desc, New") over known properties only; anything else is refused with what is allowed.</summary>
    private static IQueryable<BillingRunItem> Sort(IQueryable<BillingRunItem> rows, string? orderBy)
    {
        if (string.IsNullOrWhiteSpace(orderBy))
        {
            return rows.OrderBy(i => i.TenantName).ThenBy(i => i.VendorProductName).ThenBy(i => i.Id);
        }

        foreach (var part in orderBy.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var words = part.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var property = words.Length == 0 ? "" : words[0].Replace("np(", "", StringComparison.Ordinal).Replace(")", "", StringComparison.Ordinal).Replace("x.", "", StringComparison.Ordinal);
            var valid = words.Length is 1 or 2 && Sortable.Contains(property)
                        && (words.Length == 1 || words[1] is "asc" or "desc");
            if (!valid)
            {
                throw new ArgumentException($"Cannot sort billing rows by \"{part}\": use a row property such as TenantName, Outcome or New, optionally followed by asc or desc.", nameof(orderBy));
            }
        }

        return rows.OrderBy(orderBy);
    }

    private static string Number(decimal? value) => value?.ToString("0.####", CultureInfo.InvariantCulture) ?? "";

    private static BillingRunItem Copy(BillingRunItem planned, DateTimeOffset now) => new()
    {
        TenantId = planned.TenantId,
        TenantName = planned.TenantName,
        VendorProductId = planned.VendorProductId,
        VendorProductName = planned.VendorProductName,
        CompanyPsaId = planned.CompanyPsaId,
        CompanyName = planned.CompanyName,
        AgreementPsaId = planned.AgreementPsaId,
        AgreementName = planned.AgreementName,
        PsaProductId = planned.PsaProductId,
        PsaProductName = planned.PsaProductName,
        LinePsaId = planned.LinePsaId,
        Previous = planned.Previous,
        New = planned.New,
        Action = planned.Action,
        Outcome = BillingOutcome.Pending,
        UpdatedAt = now,
    };

    /// <summary>A retry's rows: each retried (tenant, product) rebuilt from today's mapping and live count; one that no longer exists fails with why.</summary>
    private async Task<List<BillingRunItem>> RetryRowsAsync(Integration integration, Guid runId, IReadOnlyList<BillingRunItem> retried, CancellationToken cancellationToken)
    {
        var keys = retried.Select(r => new BillingRowKey(r.TenantId, r.VendorProductId)).ToList();
        var rows = await rowSource.BuildAsync(integration, runId, keys, cancellationToken);
        var built = rows.Select(r => new BillingRowKey(r.TenantId, r.VendorProductId)).ToHashSet();
        var now = time.GetUtcNow();
        foreach (var gone in retried.Where(r => !built.Contains(new BillingRowKey(r.TenantId, r.VendorProductId))))
        {
            var row = Copy(gone, now);
            row.Action = BillingAction.None;
            row.Outcome = BillingOutcome.Failed;
            row.Message = BillingMessages.NoLongerExported(integration.Vendor);
            rows.Add(row);
        }

        foreach (var row in rows.Where(r => r.Outcome == BillingOutcome.Failed))
        {
            row.Attempts = 1;
        }

        return rows;
    }

    private async Task<BillingRequestResult> StartAsync(ClaimsPrincipal user, PsaVendor vendor, BillingRunMode mode, string action, CancellationToken cancellationToken)
    {
        var (integration, refusal) = await IntegrationAsync(user, vendor, requireConnected: true, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        var result = await starter.CreateAsync(integration!, new BillingRun
        {
            Mode = mode, Trigger = BillingRunTrigger.Manual, RequestedBy = Actor.From(user).Name,
        }, null, queueTrigger: true, cancellationToken);
        return await AuditedAsync(user, integration!, result, action, null, cancellationToken);
    }

    private async Task<BillingRequestResult> AuditedAsync(ClaimsPrincipal user, Integration integration, BillingRequestResult result, string action, string? details,
        CancellationToken cancellationToken)
    {
        if (result.Accepted)
        {
            await audit.RecordAsync(integration.OrganizationId, Actor.From(user), action, integration.Vendor.ToString(),
                details is null ? $"Run {result.RunId}" : $"Run {result.RunId}: {details}", cancellationToken);
        }

        return result;
    }

    private async Task<(Integration? Integration, BillingRequestResult? Refusal)> IntegrationAsync(ClaimsPrincipal user, PsaVendor vendor, bool requireConnected,
        CancellationToken cancellationToken)
    {
        if (!user.IsEditor())
        {
            return (null, BillingRequestResult.Refused(BillingMessages.SalesRefused));
        }

        var organizationId = user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.OrganizationId == organizationId && i.Vendor == vendor, cancellationToken);
        if (integration is null)
        {
            return (null, BillingRequestResult.Refused(BillingMessages.NotLinked(vendor)));
        }

        return requireConnected && integration.Status != IntegrationStatus.Connected
            ? (null, BillingRequestResult.Refused(BillingMessages.NotConnected(vendor)))
            : (integration, null);
    }

    /// <summary>The run (of the user's organization) a request acts on, with its integration, which must be connected.</summary>
    private async Task<(BillingRun? Run, Integration? Integration, BillingRequestResult? Refusal)> SourceRunAsync(ClaimsPrincipal user, Guid runId, CancellationToken cancellationToken,
        bool requireConnected = true)
    {
        if (!user.IsEditor())
        {
            return (null, null, BillingRequestResult.Refused(BillingMessages.SalesRefused));
        }

        var organizationId = user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await db.BillingRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId && r.OrganizationId == organizationId, cancellationToken);
        if (run is null)
        {
            return (null, null, BillingRequestResult.Refused("That billing run does not exist."));
        }

        var integration = await db.Integrations.AsNoTracking().SingleAsync(i => i.Id == run.IntegrationId, cancellationToken);
        return requireConnected && integration.Status != IntegrationStatus.Connected
            ? (null, null, BillingRequestResult.Refused(BillingMessages.NotConnected(integration.Vendor)))
            : (run, integration, null);
    }
}
