using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Errors;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.SystemLogs;
using PsaPortal.Web.Infrastructure;
using Quartz;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// Runs one billing run to its end: builds its rows (or takes the ones it was given), settles the write journal left
/// by a process that died, then per chunk of rows reads the PSA in bulk, plans each row and sends only the writes that
/// change something. Every write is committed to the journal (<see cref="BillingWrite"/>, Planned) before it is sent
/// and settled after; a write whose outcome is unknown is settled only by re-reading the PSA, never by sending it
/// again. One run per integration runs at a time in this process; the database refuses a second queued one.
/// </summary>
public sealed class BillingEngine(
    IDbContextFactory<PortalDbContext> dbFactory,
    IntegrationService integrations,
    BillingRowSource rowSource,
    IPortalEventStream events,
    IJobLog jobLog,
    IServiceProvider services,
    IOptions<BillingOptions> options,
    ClusterLocks clusterLocks,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<BillingEngine> logger)
{
    public const string JobName = "Billing Sync";

    /// <summary>Rows per re-read when settling, and rows per plan unless the PSA reads more at once (<see cref="IBillingPsa.RowsPerPlan"/>).</summary>
    public const int ChunkSize = 500;

    /// <summary>Rows a new run stores per transaction.</summary>
    private const int StoreChunkSize = 500;

    /// <summary>Writes journalled in one transaction before any of them is sent.</summary>
    public const int WritesPerBatch = 100;

    /// <summary>Rows that need no write committed in one transaction while writes are being sent.</summary>
    public const int RowsPerCommit = 1000;

    /// <summary>How often the PSA's answers (and rows that need no write) are committed while a round's writes go out.</summary>
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Settle-and-plan rounds: a write found not applied (or throttled) is planned again from fresh reads at most this often.</summary>
    public const int MaxRounds = 3;

    private static readonly TimeSpan CountsInterval = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _gates = new();
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _cancellations = new();

    /// <summary>Whether a run of the integration is executing in this process.</summary>
    public bool IsRunning(Guid integrationId) => _gates.TryGetValue(integrationId, out var gate) && gate.CurrentCount == 0;

    /// <summary>The database lock a clustered portal runs the integration's billing under (<see cref="ClusterLocks"/>).</summary>
    public static string ClusterLockName(Guid integrationId) => $"billing-run:{integrationId}";

    /// <summary>Asks a run executing in this process to stop; false when it is not executing here.</summary>
    public bool RequestCancel(Guid runId)
    {
        if (_cancellations.TryGetValue(runId, out var cancellation))
        {
            cancellation.Cancel();
            return true;
        }

        return false;
    }

    /// <summary>Runs (or resumes) the run; returns at once when it has already ended.</summary>
    public async Task RunAsync(Guid runId, CancellationToken cancellationToken)
    {
        Guid integrationId;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var found = await db.BillingRuns.AsNoTracking().Where(r => r.Id == runId).Select(r => (Guid?)r.IntegrationId).SingleOrDefaultAsync(cancellationToken);
            if (found is null)
            {
                return;
            }

            integrationId = found.Value;
        }

        var gate = _gates.GetOrAdd(integrationId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _cancellations[runId] = cancellation;
        try
        {
            // Clustered: no other node runs billing of the integration meanwhile (a run it is executing is finished or
            // left to resume by the time this returns; RunLockedAsync then reads its status afresh).
            await using var clusterLock = await clusterLocks.AcquireAsync(ClusterLockName(integrationId), cancellation.Token);
            await RunLockedAsync(runId, cancellation.Token);
        }
        finally
        {
            _cancellations.TryRemove(runId, out _);
            gate.Release();
        }
    }

    private async Task RunLockedAsync(Guid runId, CancellationToken cancellationToken)
    {
        BillingRun? run;
        Integration? integration;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            run = await db.BillingRuns.SingleOrDefaultAsync(r => r.Id == runId, cancellationToken);
            if (run is null || run.Status is not (BillingRunStatus.Queued or BillingRunStatus.Running))
            {
                return;
            }

            integration = await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.Id == run.IntegrationId, cancellationToken);
            if (run.Status == BillingRunStatus.Running)
            {
                run.Resumes++;
            }

            run.Status = BillingRunStatus.Running;
            run.StartedAt ??= time.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
        }

        if (integration is null)
        {
            return;
        }

        var context = new RunContext(run, integration);
        try
        {
            if (integration.Status != IntegrationStatus.Connected || !integration.HasCredentials)
            {
                throw new BillingRunException(BillingMessages.NotConnected(integration.Vendor));
            }

            try
            {
                context.Psa = CreatePsa(integration);
            }
            catch (CryptographicException)
            {
                throw new BillingRunException(Reference.PsaReferenceSync.CredentialsUnreadable);
            }

            // A new run's rows are stored while the first plan's PSA reads are already on their way.
            var built = await BuildRowsAsync(context, cancellationToken);
            // SQLite does its work synchronously inside the async calls: storing 20,000 rows holds a thread for seconds,
            // so it gets a thread of its own rather than one of the pool's few, which the PSA reads need now.
            var ready = Task.Factory.StartNew(() => StoreAndAnnounceAsync(context, built), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            await ProcessAsync(context, built, ready, cancellationToken);
            var counts = context.Counter!.Counts;
            await FinishAsync(context, counts.Failed > 0 ? BillingRunStatus.CompletedWithFailures : BillingRunStatus.Succeeded, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // The portal is stopping: the run stays Running and is resumed at the next start. The cancellation goes on
                // to the job, so that in a cluster Quartz hands the firing back for a node that stays up (PortalScheduler);
                // that node waits for this one's lock, released as this returns.
                await PersistCountsAsync(context, force: true);
                logger.LogInformation("Billing run {RunId} left to resume: the portal is stopping", run.Id);
                throw;
            }

            await StopRowsAsync(context, BillingMessages.Cancelled);
            await FinishAsync(context, BillingRunStatus.Cancelled, "Stopped before it finished: the run was cancelled, or the integration was disconnected or deleted.");
        }
        catch (Exception exception) when (exception is BillingRunException or PsaException or DbUpdateException && !DatabaseFailures.IsTransient(exception))
        {
            logger.LogWarning(exception, "Billing run {RunId} failed as a whole", run.Id);
            await StopRowsAsync(context, $"Not attempted: {exception.Message}");
            await FinishAsync(context, BillingRunStatus.Failed, exception.Message);
        }
    }

    private IBillingPsa CreatePsa(Integration integration) => integration.Vendor switch
    {
        PsaVendor.ConnectWise => new ConnectWiseBillingPsa(integrations.ConnectWiseApiFor(integration), dbFactory, integration.Id, options.Value.MaxConcurrentCalls, time),
        PsaVendor.Autotask => new AutotaskBillingPsa(integrations.AutotaskApiFor(integration), options.Value.MaxConcurrentCalls, time),
        _ => throw new BillingRunException($"Billing does not support {integration.Vendor}."),
    };

    /// <summary>
    /// A run asked for by a schedule, Sync now or a preview gets its rows when it first starts (in memory here, stored by
    /// <see cref="StoreAndAnnounceAsync"/>); null when the run already has its rows (a retry's, or a run being resumed).
    /// </summary>
    private async Task<List<BillingRunItem>?> BuildRowsAsync(RunContext context, CancellationToken cancellationToken)
    {
        var run = context.Run;
        if (run.Trigger is not (BillingRunTrigger.Manual or BillingRunTrigger.Scheduled))
        {
            return null;
        }

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            // Rows stored whole (the run's Total is written with their last chunk) are the run's; a store cut off part-way
            // is undone and the rows built again.
            var stored = await db.BillingRunItems.CountAsync(i => i.RunId == run.Id, cancellationToken);
            if (stored > 0 && stored == run.Total)
            {
                return null;
            }

            if (stored > 0)
            {
                await db.BillingRunItems.Where(i => i.RunId == run.Id).ExecuteDeleteAsync(cancellationToken);
            }
        }

        var rows = await rowSource.BuildAsync(context.Integration, run.Id, null, cancellationToken);
        foreach (var row in rows.Where(r => r.Outcome == BillingOutcome.Failed))
        {
            row.Attempts = 1;
        }

        return rows;
    }

    /// <summary>Stores the rows just built (if any), then starts the run's counts and tells the pages and the job log.</summary>
    private async Task StoreAndAnnounceAsync(RunContext context, List<BillingRunItem>? built)
    {
        var run = context.Run;
        if (built is not null)
        {
            // In chunks, each in a transaction of its own: on SQLite the portal has one writer at a time, and 20,000 rows
            // in one transaction held every other writer (the ingest API) for 9 s. The run's Total goes with the last
            // chunk and says the rows are complete (BuildRowsAsync).
            // No rows at all is one empty chunk, which still writes the Total.
            var chunks = built.Chunk(StoreChunkSize).DefaultIfEmpty([]).ToList();
            for (var i = 0; i < chunks.Count; i++)
            {
                await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
                db.BillingRunItems.AddRange(chunks[i]);
                if (i == chunks.Count - 1)
                {
                    run.Total = built.Count;
                    db.BillingRuns.Attach(run);
                    db.Entry(run).Property(r => r.Total).IsModified = true;
                }

                await db.SaveChangesAsync(CancellationToken.None);
            }
        }

        context.Counter = new BillingRunCounter(await OutcomesAsync(run.Id, CancellationToken.None), Stopwatch.GetTimestamp());
        await PersistCountsAsync(context, force: true);
        events.Publish(new BillingRunStarted(run.OrganizationId, time.GetUtcNow(), run.IntegrationId, run.Id, run.Vendor, run.Mode, run.Trigger,
            BillingRunStatus.Running, run.RequestedBy, context.Counter.Counts));
        jobLog.Write(run.OrganizationId, run.Vendor, JobName, LogLevelName.Information,
            $"{(run.Resumes > 0 && context.Counter.Counts.Done > 0 ? "Resumed" : "Started")} {Describe(run)} ({run.RequestedBy}): {run.Total} rows.");
    }

    /// <summary>
    /// Settle-and-plan rounds: settle the journal, plan and write the pending rows, again for rows a round left pending
    /// (a write found not applied, or throttled). The first round of a new run plans the rows while they are being
    /// stored: <paramref name="ready"/> is awaited before anything is written.
    /// </summary>
    private async Task ProcessAsync(RunContext context, List<BillingRunItem>? built, Task ready, CancellationToken cancellationToken)
    {
        var apply = context.Run.Mode == BillingRunMode.Apply;
        var limits = context.Psa!.PlanLimits;
        try
        {
            for (var round = 0; round < MaxRounds; round++)
            {
                List<BillingRunItem> pending;
                var unread = 0;
                if (round == 0 && built is not null)
                {
                    // New rows: nothing of them is journalled yet, so there is nothing to settle.
                    pending = built.Where(r => r.Outcome == BillingOutcome.Pending).ToList();
                }
                else
                {
                    await ready;
                    if (apply)
                    {
                        unread = await SettleAsync(context, cancellationToken);
                    }

                    pending = await RowsAsync(context.Run.Id, cancellationToken, BillingOutcome.Pending);
                }

                if (pending.Count == 0)
                {
                    if (unread == 0)
                    {
                        break;
                    }

                    // Nothing left to write, but writes whose outcome the PSA could not be read for: the next round reads them again.
                    continue;
                }

                await PlanAndWriteAsync(context, BillingPlans.Split(pending, limits), ready, cancellationToken);
                if (!apply)
                {
                    break;
                }
            }
        }
        finally
        {
            // Never leave the rows half stored behind a stop or a failure: what follows (stop, finish) reads them.
            await ready;
        }

        if (apply)
        {
            await SettleAsync(context, cancellationToken);
        }

        // Whatever is left could not be confirmed (or kept being throttled): say so; the journal keeps any unknown write Planned.
        var left = await RowsAsync(context.Run.Id, cancellationToken, BillingOutcome.Pending, BillingOutcome.InFlight);
        foreach (var row in left)
        {
            var reason = context.Reasons.GetValueOrDefault(row.Id) ?? "no answer";
            row.Outcome = BillingOutcome.Failed;
            row.Message = context.Accepted.ContainsKey(row.Id)
                ? BillingMessages.AcceptedNotConfirmed(context.Integration.Vendor, reason)
                : BillingMessages.NotConfirmed(context.Integration.Vendor, reason);
            row.UpdatedAt = time.GetUtcNow();
        }

        await SaveAsync(context, left, []);
    }

    /// <summary>
    /// Plans one after another, each read while the previous plan's writes are being sent: the PSA's reads and writes
    /// overlap, and its write endpoint is kept busy from the first changed row to the last (<see cref="WriteLane"/>).
    /// </summary>
    private async Task PlanAndWriteAsync(RunContext context, List<BillingRunItem[]> plans, Task ready, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lane = new WriteLane(this, context, options.Value.MaxConcurrentCalls, stop);
        Task<IReadOnlyDictionary<BillingRunItem, PsaLineState>>? read = null;
        Exception? failure = null;
        try
        {
            var started = Stopwatch.GetTimestamp();
            read = context.Psa!.ReadAsync(plans[0], stop.Token);
            await ready;
            for (var index = 0; index < plans.Count; index++)
            {
                var states = await read!;
                var readStarted = started;
                started = Stopwatch.GetTimestamp();
                read = index + 1 < plans.Count ? context.Psa.ReadAsync(plans[index + 1], stop.Token) : null;
                var (done, writes) = Plan(context, plans[index], states, readStarted);
                await lane.AddAsync(done, writes);
            }
        }
        catch (Exception exception)
        {
            failure = exception;
            await stop.CancelAsync();
        }

        if (read is not null)
        {
            // A read ahead that is no longer wanted: let it end before the lane's commits are taken as final.
            await Task.WhenAny(read);
        }

        var laneFailure = await lane.CompleteAsync();
        if (Preferred(failure, laneFailure) is { } thrown)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(thrown);
        }
    }

    /// <summary>Of two failures, the one that says why: a stop that another failure caused is not the reason.</summary>
    private static Exception? Preferred(Exception? first, Exception? second) =>
        first is null || (first is OperationCanceledException && second is not null and not OperationCanceledException) ? second : first;

    /// <summary>Plans each row of a plan from the PSA state read for it: rows that need no write, and the writes to send.</summary>
    private (List<BillingRunItem> Done, List<(BillingRunItem Row, BillingWrite Write)> Writes) Plan(
        RunContext context, IReadOnlyList<BillingRunItem> rows, IReadOnlyDictionary<BillingRunItem, PsaLineState> states, long started)
    {
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var done = new List<BillingRunItem>();
        var writes = new List<(BillingRunItem Row, BillingWrite Write)>();
        var preview = context.Run.Mode == BillingRunMode.Preview;
        foreach (var row in rows)
        {
            row.Attempts++;
            row.UpdatedAt = now;
            var state = states[row];
            if (state.Error is not null)
            {
                Fail(row, state.Error);
                done.Add(row);
                continue;
            }

            if (context.Run.Trigger == BillingRunTrigger.ApplyPreview && (state.Current != row.Previous || (state.LinePsaId is null) != (row.Action == BillingAction.CreateAddition)))
            {
                Fail(row, BillingMessages.ChangedSincePreview(row.Previous, state.Current));
                done.Add(row);
                continue;
            }

            row.LinePsaId = state.LinePsaId;
            row.Previous = state.Current;
            row.Message = null;
            row.Action = state.LinePsaId is null ? BillingAction.CreateAddition : state.Current == row.New ? BillingAction.NoChange : context.Psa!.UpdateAction;
            if (preview || row.Action == BillingAction.NoChange)
            {
                row.Outcome = preview ? BillingOutcome.Planned : BillingOutcome.Unchanged;
                row.DurationMilliseconds = Elapsed(started);
                done.Add(row);
                continue;
            }

            writes.Add((row, new BillingWrite
            {
                RunId = row.RunId,
                ItemId = row.Id,
                Action = row.Action,
                AgreementPsaId = row.AgreementPsaId!.Value,
                LinePsaId = row.LinePsaId,
                PsaProductId = row.PsaProductId!.Value,
                Before = row.Previous,
                After = row.New!.Value,
                EffectiveDate = today,
                State = BillingWriteState.Planned,
                PlannedAt = now,
            }));
        }

        return (done, writes);
    }

    private Task SaveAnswersAsync(RunContext context, IReadOnlyCollection<(BillingRunItem Row, BillingWrite Write)> answered, IReadOnlyCollection<BillingRunItem> done) =>
        SaveAsync(context, [.. done, .. answered.Select(a => a.Row)], answered.Select(a => a.Write).ToList());

    /// <summary>Records what the PSA's answer says about one sent write, in memory; true when there is something to commit.</summary>
    private bool Record(RunContext context, BillingRunItem row, BillingWrite write, BillingWriteOutcome outcome, long started)
    {
        var now = time.GetUtcNow();
        row.UpdatedAt = now;
        row.DurationMilliseconds = Elapsed(started);
        switch (outcome)
        {
            case BillingWriteOutcome.Applied applied:
                write.State = BillingWriteState.Applied;
                write.ResultPsaId = applied.ResultPsaId;
                write.LinePsaId ??= applied.LinePsaId;
                write.SettledAt = now;
                row.LinePsaId ??= applied.LinePsaId;
                if (!context.Psa!.ConfirmsByReread)
                {
                    row.Outcome = BillingOutcome.Synced;
                }

                return true;
            case BillingWriteOutcome.Refused { Transient: true } refused:
                write.State = BillingWriteState.NotApplied;
                write.SettledAt = now;
                row.Outcome = BillingOutcome.Pending;
                context.Reasons[row.Id] = refused.Message;
                return true;
            case BillingWriteOutcome.Refused refused:
                write.State = BillingWriteState.NotApplied;
                write.SettledAt = now;
                Fail(row, refused.Message);
                return true;
            case BillingWriteOutcome.Unknown unknown:
                // Stays Planned: only a re-read of the PSA settles it.
                context.Reasons[row.Id] = unknown.Message;
                return false;
            default:
                return false;
        }
    }

    /// <summary>
    /// Settles the journal: every write still Planned (outcome unknown, or left by a process that died) and every
    /// applied Autotask adjustment not yet confirmed is checked against one batched re-read of the PSA.
    /// </summary>
    /// <returns>How many open writes the PSA could not be read for; they stay open for the next settle.</returns>
    private async Task<int> SettleAsync(RunContext context, CancellationToken cancellationToken)
    {
        List<(BillingRunItem Row, BillingWrite Write)> open;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var runId = context.Run.Id;
            open = (await (
                    from w in db.BillingWrites.AsNoTracking()
                    join i in db.BillingRunItems.AsNoTracking() on w.ItemId equals i.Id
                    where w.RunId == runId && (w.State == BillingWriteState.Planned || (w.State == BillingWriteState.Applied && i.Outcome == BillingOutcome.InFlight))
                    select new { w, i })
                .ToListAsync(cancellationToken)).Select(x => (x.i, x.w)).ToList();
        }

        if (open.Count == 0)
        {
            return 0;
        }

        var unread = 0;
        var rows = new List<BillingRunItem>();
        var writes = new List<BillingWrite>();
        foreach (var chunk in open.Chunk(ChunkSize))
        {
            var states = await context.Psa!.RereadAsync(chunk, cancellationToken);
            var now = time.GetUtcNow();
            foreach (var (row, write) in chunk)
            {
                var state = states[row.Id];
                if (state.Error is not null)
                {
                    unread++;
                    context.Reasons[row.Id] = state.Error;
                    if (write.State == BillingWriteState.Applied)
                    {
                        context.Accepted[row.Id] = true;
                    }

                    if (row.Outcome != BillingOutcome.InFlight)
                    {
                        row.Outcome = BillingOutcome.InFlight;
                        rows.Add(row);
                    }

                    continue;
                }

                row.UpdatedAt = now;
                if (write.State == BillingWriteState.Applied)
                {
                    // An accepted Autotask adjustment, confirmed by the re-read.
                    if (state.Current == write.After)
                    {
                        row.Outcome = BillingOutcome.Synced;
                    }
                    else
                    {
                        Fail(row, BillingMessages.UnitsChangedOutside(write.Before ?? 0, write.After, state.Current ?? 0));
                    }

                    rows.Add(row);
                    continue;
                }

                write.SettledAt = now;
                if (state.LinePsaId is not null && state.Current == write.After)
                {
                    write.State = BillingWriteState.Applied;
                    write.LinePsaId ??= state.LinePsaId;
                    write.ResultPsaId ??= write.Action == BillingAction.CreateAddition ? state.LinePsaId : null;
                    row.LinePsaId ??= state.LinePsaId;
                    row.Outcome = BillingOutcome.Synced;
                }
                else if (write.Action == BillingAction.CreateAddition && state.LinePsaId is not null)
                {
                    // The addition arrived (with another quantity since): it is not created again; the row is planned afresh as an update.
                    write.State = BillingWriteState.Applied;
                    write.ResultPsaId = state.LinePsaId;
                    write.LinePsaId = state.LinePsaId;
                    row.LinePsaId = state.LinePsaId;
                    row.Outcome = BillingOutcome.Pending;
                }
                else if (write.Action != BillingAction.Adjust || state.Current == write.Before)
                {
                    write.State = BillingWriteState.NotApplied;
                    row.Outcome = BillingOutcome.Pending;
                }
                else
                {
                    write.State = BillingWriteState.NotApplied;
                    Fail(row, BillingMessages.UnitsChangedOutside(write.Before ?? 0, write.After, state.Current ?? 0));
                }

                rows.Add(row);
                writes.Add(write);
            }
        }

        await SaveAsync(context, rows, writes);
        return unread;
    }

    /// <summary>
    /// Stores rows and journal entries in one transaction, then tells the pages. Never cancelled half-way: what a
    /// write did must be on disk before anyone hears of it.
    /// </summary>
    private async Task SaveAsync(RunContext context, IReadOnlyCollection<BillingRunItem> rows, IReadOnlyCollection<BillingWrite> writes)
    {
        if (rows.Count == 0 && writes.Count == 0)
        {
            return;
        }

        var synced = rows.Where(r => r.Outcome == BillingOutcome.Synced).Select(r => r.TenantId).Distinct().ToList();
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            db.BillingRunItems.UpdateRange(rows);
            foreach (var write in writes)
            {
                if (write.Id == 0)
                {
                    db.BillingWrites.Add(write);
                }
                else
                {
                    db.BillingWrites.Update(write);
                }
            }

            await db.SaveChangesAsync(CancellationToken.None);
            if (synced.Count > 0)
            {
                var now = time.GetUtcNow();
                foreach (var chunk in synced.Chunk(ChunkSize))
                {
                    await db.TenantMappings.Where(m => m.IntegrationId == context.Run.IntegrationId && chunk.Contains(m.TenantId))
                        .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastBilledAt, now), CancellationToken.None);
                }
            }
        }

        foreach (var row in rows)
        {
            var counts = context.Counter!.Set(row.Id, row.Outcome);
            events.Publish(new BillingRunItemChanged(context.Run.OrganizationId, time.GetUtcNow(), context.Run.IntegrationId, context.Run.Id, row.Id, row.TenantId,
                row.Action, row.Outcome, row.Previous, row.New, row.Message, row.Attempts, counts)
            {
                EstimatedSecondsLeft = context.Counter.EstimatedSecondsLeft(Stopwatch.GetTimestamp(), Stopwatch.Frequency),
            });
            if (context.Run.SourceRunId is { } source && context.Run.Trigger is BillingRunTrigger.RetryTenant or BillingRunTrigger.RetryFailed
                && row.Outcome is BillingOutcome.Synced or BillingOutcome.Unchanged or BillingOutcome.Failed)
            {
                await UpdateSourceRowAsync(context, source, row);
            }
        }

        await PersistCountsAsync(context, force: false);
    }

    /// <summary>A retry's row also settles the row it retries, so the results table the user is looking at turns with it.</summary>
    private async Task UpdateSourceRowAsync(RunContext context, Guid sourceRunId, BillingRunItem row)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var source = await db.BillingRunItems.SingleOrDefaultAsync(i => i.RunId == sourceRunId && i.TenantId == row.TenantId && i.VendorProductId == row.VendorProductId);
        if (source is null)
        {
            return;
        }

        source.Outcome = row.Outcome;
        source.Message = row.Message;
        source.Action = row.Action;
        source.Previous = row.Previous;
        source.New = row.New;
        source.LinePsaId = row.LinePsaId ?? source.LinePsaId;
        source.Attempts++;
        source.DurationMilliseconds = row.DurationMilliseconds;
        source.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(CancellationToken.None);
        var counts = await CountsAsync(db, sourceRunId, CancellationToken.None);
        var sourceRun = await db.BillingRuns.SingleAsync(r => r.Id == sourceRunId);
        sourceRun.Done = counts.Done;
        sourceRun.Synced = counts.Synced;
        sourceRun.Unchanged = counts.Unchanged;
        sourceRun.Failed = counts.Failed;
        if (sourceRun.Status == BillingRunStatus.CompletedWithFailures && counts.Failed == 0)
        {
            sourceRun.Status = BillingRunStatus.Succeeded;
        }

        await db.SaveChangesAsync(CancellationToken.None);
        events.Publish(new BillingRunItemChanged(sourceRun.OrganizationId, time.GetUtcNow(), sourceRun.IntegrationId, sourceRunId, source.Id, source.TenantId,
            source.Action, source.Outcome, source.Previous, source.New, source.Message, source.Attempts, counts));
    }

    /// <summary>The counts as the rows stand in the database (not as a run's memory has them).</summary>
    internal static async Task<BillingRunCounts> CountsAsync(PortalDbContext db, Guid runId, CancellationToken cancellationToken)
    {
        var byOutcome = await db.BillingRunItems.Where(i => i.RunId == runId).GroupBy(i => i.Outcome)
            .Select(g => new { Outcome = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        int Of(BillingOutcome outcome) => byOutcome.Where(g => g.Outcome == outcome).Sum(g => g.Count);
        return new BillingRunCounts(byOutcome.Sum(g => g.Count), byOutcome.Where(g => BillingRunCounter.IsFinal(g.Outcome)).Sum(g => g.Count),
            Of(BillingOutcome.Synced), Of(BillingOutcome.Unchanged), Of(BillingOutcome.Failed));
    }

    private async Task PersistCountsAsync(RunContext context, bool force)
    {
        if (context.Counter is null)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        if (!force && Stopwatch.GetElapsedTime(Interlocked.Read(ref context.CountsSavedAt), now) < CountsInterval)
        {
            return;
        }

        Interlocked.Exchange(ref context.CountsSavedAt, now);
        var counts = context.Counter.Counts;
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.BillingRuns.Where(r => r.Id == context.Run.Id).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Total, counts.Total)
            .SetProperty(r => r.Done, counts.Done)
            .SetProperty(r => r.Synced, counts.Synced)
            .SetProperty(r => r.Unchanged, counts.Unchanged)
            .SetProperty(r => r.Failed, counts.Failed), CancellationToken.None);
    }

    /// <summary>
    /// A stopped run's rows: those not reached end Skipped with <paramref name="message"/>, those caught in flight
    /// Failed (the next run reads the PSA before writing them). For the engine and for a Cancel of a run no process runs.
    /// </summary>
    internal static async Task EndUnfinishedRowsAsync(PortalDbContext db, Guid runId, string message, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await db.BillingRunItems.Where(i => i.RunId == runId && i.Outcome == BillingOutcome.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.Outcome, BillingOutcome.Skipped).SetProperty(i => i.Message, message).SetProperty(i => i.UpdatedAt, now), cancellationToken);
        await db.BillingRunItems.Where(i => i.RunId == runId && i.Outcome == BillingOutcome.InFlight)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.Outcome, BillingOutcome.Failed).SetProperty(i => i.Message, BillingMessages.StoppedWhileInFlight).SetProperty(i => i.UpdatedAt, now),
                cancellationToken);
    }

    private async Task StopRowsAsync(RunContext context, string message)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var runId = context.Run.Id;
        await EndUnfinishedRowsAsync(db, runId, message, time.GetUtcNow(), CancellationToken.None);
        context.Counter = new BillingRunCounter(await OutcomesAsync(runId, CancellationToken.None), Stopwatch.GetTimestamp());
    }

    private async Task FinishAsync(RunContext context, BillingRunStatus status, string? error)
    {
        var run = context.Run;
        BillingRunCounts counts;
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            counts = await CountsAsync(db, run.Id, CancellationToken.None);
            run.Status = status;
            run.Error = error is null ? null : error.Length <= BillingRunItem.MessageMaxLength ? error : error[..(BillingRunItem.MessageMaxLength - 1)] + "…";
            run.FinishedAt = time.GetUtcNow();
            (run.Total, run.Done, run.Synced, run.Unchanged, run.Failed) = (counts.Total, counts.Done, counts.Synced, counts.Unchanged, counts.Failed);
            await db.BillingRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, run.Status)
                .SetProperty(r => r.Error, run.Error)
                .SetProperty(r => r.FinishedAt, run.FinishedAt)
                .SetProperty(r => r.Total, counts.Total)
                .SetProperty(r => r.Done, counts.Done)
                .SetProperty(r => r.Synced, counts.Synced)
                .SetProperty(r => r.Unchanged, counts.Unchanged)
                .SetProperty(r => r.Failed, counts.Failed), CancellationToken.None);
        }

        jobLog.Write(run.OrganizationId, run.Vendor, JobName, status is BillingRunStatus.Succeeded ? LogLevelName.Information : LogLevelName.Warning,
            $"Finished {Describe(run)}: {status}; {counts.Synced} synced, {counts.Unchanged} unchanged, {counts.Failed} failed of {counts.Total}" + (error is null ? "." : $". {error}"));
        events.Publish(new BillingRunFinished(run.OrganizationId, time.GetUtcNow(), run.IntegrationId, run.Id, run.Vendor, run.Mode, status, counts, run.Error));

        if (run.Mode == BillingRunMode.Apply && status is BillingRunStatus.CompletedWithFailures or BillingRunStatus.Failed)
        {
            await NotifyAsync(run);
        }
    }

    private async Task NotifyAsync(BillingRun run)
    {
        var notifiers = services.GetServices<IBillingFailureNotifier>().ToList();
        if (notifiers.Count == 0)
        {
            return;
        }

        List<BillingRunItem> failed;
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            failed = await db.BillingRunItems.AsNoTracking().Where(i => i.RunId == run.Id && i.Outcome == BillingOutcome.Failed)
                .OrderBy(i => i.TenantName).ThenBy(i => i.Id).ToListAsync(CancellationToken.None);
        }

        foreach (var notifier in notifiers)
        {
            try
            {
                await notifier.NotifyAsync(run, failed, lifetime.ApplicationStopping);
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // The run ended as the portal stopped: say so plainly instead of logging the cancellation as an error.
                logger.LogWarning("Billing failure notifier {Notifier} did not send for run {RunId}: the portal was stopping", notifier.GetType().Name, run.Id);
                jobLog.Write(run.OrganizationId, run.Vendor, JobName, LogLevelName.Warning,
                    $"Failure notification for run {run.Id} was not sent: the portal was stopping as the run ended. The run's failed rows are on its page.");
            }
            catch (Exception exception)
            {
                // A notification never fails the run: it is logged and the run keeps its outcome.
                logger.LogError(exception, "Billing failure notifier {Notifier} failed for run {RunId}", notifier.GetType().Name, run.Id);
                jobLog.Write(run.OrganizationId, run.Vendor, JobName, LogLevelName.Error, $"Failure notification could not be sent: {exception.Message}");
            }
        }
    }

    private async Task<List<(long Id, BillingOutcome Outcome)>> OutcomesAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return (await db.BillingRunItems.AsNoTracking().Where(i => i.RunId == runId).Select(i => new { i.Id, i.Outcome }).ToListAsync(cancellationToken))
            .Select(i => (i.Id, i.Outcome)).ToList();
    }

    private async Task<List<BillingRunItem>> RowsAsync(Guid runId, CancellationToken cancellationToken, params BillingOutcome[] wanted)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.BillingRunItems.AsNoTracking().Where(i => i.RunId == runId && wanted.Contains(i.Outcome)).OrderBy(i => i.Id).ToListAsync(cancellationToken);
    }

    private static void Fail(BillingRunItem row, string message)
    {
        row.Outcome = BillingOutcome.Failed;
        row.Message = message.Length <= BillingRunItem.MessageMaxLength ? message : message[..(BillingRunItem.MessageMaxLength - 1)] + "…";
    }

    private static int Elapsed(long started) => (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;

    private static string Describe(BillingRun run) => run.Mode == BillingRunMode.Preview ? "preview" : run.Trigger switch
    {
        BillingRunTrigger.Scheduled => "scheduled sync",
        BillingRunTrigger.RetryTenant => "retry of one tenant",
        BillingRunTrigger.RetryFailed => "retry of the failed rows",
        BillingRunTrigger.ApplyPreview => "apply of a preview",
        _ => "sync",
    };

    /// <summary>
    /// Where a round's writes go, kept apart from the planning so the PSA's write endpoint never waits on the database
    /// or on the reads: writes are journalled (Planned, rows InFlight) in committed batches of <see cref="WritesPerBatch"/>
    /// before any of them is queued, and a sender takes them off the queue <c>Billing:MaxConcurrentCalls</c> at a time,
    /// without pausing between batches. The PSA's answers and the rows that need no write are committed every
    /// <see cref="FlushInterval"/> by a flusher. Commits go one at a time; every row's event follows its commit.
    /// </summary>
    private sealed class WriteLane
    {
        private readonly BillingEngine _engine;
        private readonly RunContext _context;
        private readonly CancellationTokenSource _stop;
        private readonly Channel<(BillingRunItem Row, BillingWrite Write)> _journalled =
            Channel.CreateBounded<(BillingRunItem Row, BillingWrite Write)>(new BoundedChannelOptions(2 * WritesPerBatch) { SingleWriter = true });
        private readonly ConcurrentQueue<(BillingRunItem Row, BillingWrite Write)> _answered = new();
        private readonly ConcurrentQueue<BillingRunItem> _done = new();
        private readonly SemaphoreSlim _commit = new(1, 1);
        private readonly CancellationTokenSource _flusherStop = new();
        private readonly Task _sender;
        private readonly Task _flusher;

        public WriteLane(BillingEngine engine, RunContext context, int maxConcurrentCalls, CancellationTokenSource stop)
        {
            (_engine, _context, _stop) = (engine, context, stop);
            _sender = Task.Run(() => StopOnFailureAsync(() => SendAllAsync(maxConcurrentCalls)));
            _flusher = Task.Run(() => StopOnFailureAsync(FlushPeriodicallyAsync));
        }

        /// <summary>Queues a plan's rows that need no write for the flusher, and journals then queues its writes.</summary>
        public async Task AddAsync(List<BillingRunItem> done, List<(BillingRunItem Row, BillingWrite Write)> writes)
        {
            foreach (var row in done)
            {
                _done.Enqueue(row);
            }

            foreach (var batch in writes.Chunk(WritesPerBatch))
            {
                _stop.Token.ThrowIfCancellationRequested();
                foreach (var (row, _) in batch)
                {
                    row.Outcome = BillingOutcome.InFlight;
                }

                await CommitAsync(() => _engine.SaveAsync(_context, batch.Select(b => b.Row).ToList(), batch.Select(b => b.Write).ToList()));
                foreach (var item in batch)
                {
                    await _journalled.Writer.WriteAsync(item, _stop.Token);
                }
            }
        }

        /// <summary>
        /// Lets the queued writes go out (or stops them, when the lane was stopped), then commits everything answered
        /// and every row that needed no write. Returns what went wrong, if anything.
        /// </summary>
        public async Task<Exception?> CompleteAsync()
        {
            _journalled.Writer.TryComplete();
            Exception? failure = null;
            try
            {
                await _sender;
            }
            catch (Exception exception)
            {
                failure = exception;
            }

            await _flusherStop.CancelAsync();
            try
            {
                await _flusher;
            }
            catch (Exception exception)
            {
                failure = Preferred(failure, exception);
            }

            try
            {
                // Stopped or not, what the PSA answered is committed; a write with no answer stays Planned for the re-read.
                while (!_answered.IsEmpty || !_done.IsEmpty)
                {
                    await FlushAsync();
                }
            }
            catch (Exception exception)
            {
                failure = Preferred(exception, failure);
            }

            _flusherStop.Dispose();
            return failure;
        }

        private async Task SendAllAsync(int maxConcurrentCalls)
        {
            var concurrency = new ParallelOptions { MaxDegreeOfParallelism = maxConcurrentCalls, CancellationToken = _stop.Token };
            await Parallel.ForEachAsync(_journalled.Reader.ReadAllAsync(_stop.Token), concurrency, async (item, token) =>
            {
                var started = Stopwatch.GetTimestamp();
                var outcome = await _context.Psa!.SendAsync(item.Write, token);
                if (_engine.Record(_context, item.Row, item.Write, outcome, started))
                {
                    _answered.Enqueue(item);
                }
            });
        }

        private async Task FlushPeriodicallyAsync()
        {
            try
            {
                while (true)
                {
                    await Task.Delay(FlushInterval, _flusherStop.Token);
                    await FlushAsync();
                }
            }
            catch (OperationCanceledException) when (_flusherStop.IsCancellationRequested)
            {
            }
        }

        /// <summary>Commits every answer so far and up to <see cref="RowsPerCommit"/> rows that need no write.</summary>
        private async Task FlushAsync()
        {
            var answered = Take(_answered, int.MaxValue);
            var done = Take(_done, RowsPerCommit);
            if (answered.Count > 0 || done.Count > 0)
            {
                await CommitAsync(() => _engine.SaveAnswersAsync(_context, answered, done));
            }
        }

        private async Task CommitAsync(Func<Task> commit)
        {
            await _commit.WaitAsync(CancellationToken.None);
            try
            {
                await commit();
            }
            finally
            {
                _commit.Release();
            }
        }

        private async Task StopOnFailureAsync(Func<Task> work)
        {
            try
            {
                await work();
            }
            catch
            {
                await _stop.CancelAsync();
                throw;
            }
        }

        private static List<T> Take<T>(ConcurrentQueue<T> queue, int most)
        {
            var taken = new List<T>();
            while (taken.Count < most && queue.TryDequeue(out var item))
            {
                taken.Add(item);
            }

            return taken;
        }
    }

    private sealed class RunContext(BillingRun run, Integration integration)
    {
        public BillingRun Run { get; } = run;

        public Integration Integration { get; } = integration;

        public IBillingPsa? Psa { get; set; }

        public BillingRunCounter? Counter { get; set; }

        /// <summary>Why a row's write could not be confirmed, for its message if it stays unconfirmed.</summary>
        public ConcurrentDictionary<long, string> Reasons { get; } = new();

        /// <summary>Rows whose write the PSA accepted (an Autotask adjustment) but whose re-read to confirm it failed.</summary>
        public ConcurrentDictionary<long, bool> Accepted { get; } = new();

        public long CountsSavedAt;
    }
}

/// <summary>The run as a whole cannot go on; the message says why, in words for the user.</summary>
public sealed class BillingRunException(string message) : Exception(message);
