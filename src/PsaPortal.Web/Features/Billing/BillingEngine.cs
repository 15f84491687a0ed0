using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Errors;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.SystemLogs;

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
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<BillingEngine> logger)
{
    public const string JobName = "Billing Sync";

    /// <summary>Rows per re-read when settling, and rows per plan unless the PSA reads more at once (<see cref="IBillingPsa.RowsPerPlan"/>).</summary>
    public const int ChunkSize = 500;

    /// <summary>Writes journalled in one transaction before any of them is sent.</summary>
    public const int WritesPerBatch = 100;

    /// <summary>Rows that need no write committed in one transaction while a batch of writes is being sent.</summary>
    public const int RowsPerCommit = 1000;

    /// <summary>Settle-and-plan rounds: a write found not applied (or throttled) is planned again from fresh reads at most this often.</summary>
    public const int MaxRounds = 3;

    private static readonly TimeSpan CountsInterval = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _gates = new();
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _cancellations = new();

    /// <summary>Whether a run of the integration is executing in this process.</summary>
    public bool IsRunning(Guid integrationId) => _gates.TryGetValue(integrationId, out var gate) && gate.CurrentCount == 0;

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

            await EnsureRowsAsync(context, cancellationToken);
            context.Counter = new BillingRunCounter(await OutcomesAsync(run.Id, cancellationToken), Stopwatch.GetTimestamp());
            await PersistCountsAsync(context, force: true);
            events.Publish(new BillingRunStarted(run.OrganizationId, time.GetUtcNow(), run.IntegrationId, run.Id, run.Vendor, run.Mode, run.Trigger,
                BillingRunStatus.Running, run.RequestedBy, context.Counter.Counts));
            jobLog.Write(run.OrganizationId, run.Vendor, JobName, LogLevelName.Information,
                $"{(run.Resumes > 0 && context.Counter.Counts.Done > 0 ? "Resumed" : "Started")} {Describe(run)} ({run.RequestedBy}): {run.Total} rows.");

            await ProcessAsync(context, cancellationToken);
            var counts = context.Counter.Counts;
            await FinishAsync(context, counts.Failed > 0 ? BillingRunStatus.CompletedWithFailures : BillingRunStatus.Succeeded, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // The portal is stopping: the run stays Running and is resumed at the next start.
                await PersistCountsAsync(context, force: true);
                logger.LogInformation("Billing run {RunId} left to resume: the portal is stopping", run.Id);
                return;
            }

            await StopRowsAsync(context, BillingMessages.Cancelled);
            await FinishAsync(context, BillingRunStatus.Cancelled, "Stopped before it finished: the run was cancelled, or the integration was disconnected or deleted.");
        }
        catch (Exception exception) when (exception is BillingRunException or PsaException or DbUpdateException)
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

    /// <summary>A run asked for by a schedule, Sync now, a preview or an outside harness gets its rows when it first starts.</summary>
    private async Task EnsureRowsAsync(RunContext context, CancellationToken cancellationToken)
    {
        var run = context.Run;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.BillingRunItems.AnyAsync(i => i.RunId == run.Id, cancellationToken))
        {
            return;
        }

        if (run.Trigger is not (BillingRunTrigger.Manual or BillingRunTrigger.Scheduled))
        {
            return;
        }

        var rows = await rowSource.BuildAsync(context.Integration, run.Id, null, cancellationToken);
        foreach (var row in rows.Where(r => r.Outcome == BillingOutcome.Failed))
        {
            row.Attempts = 1;
        }

        db.BillingRunItems.AddRange(rows);
        run.Total = rows.Count;
        db.BillingRuns.Attach(run);
        db.Entry(run).Property(r => r.Total).IsModified = true;
        await db.SaveChangesAsync(CancellationToken.None);
    }

    private async Task ProcessAsync(RunContext context, CancellationToken cancellationToken)
    {
        var apply = context.Run.Mode == BillingRunMode.Apply;
        var rowsPerPlan = context.Psa!.RowsPerPlan;
        for (var round = 0; round < MaxRounds; round++)
        {
            if (apply)
            {
                await SettleAsync(context, cancellationToken);
            }

            var pending = await RowsAsync(context.Run.Id, cancellationToken, BillingOutcome.Pending);
            if (pending.Count == 0)
            {
                break;
            }

            foreach (var chunk in pending.Chunk(Math.Min(rowsPerPlan, pending.Count)))
            {
                await PlanAsync(context, chunk, cancellationToken);
                if (apply)
                {
                    await SettleAsync(context, cancellationToken);
                }
            }

            if (!apply)
            {
                break;
            }
        }

        if (apply)
        {
            await SettleAsync(context, cancellationToken);
        }

        // Whatever is left could not be confirmed (or kept being throttled): say so; the journal keeps any unknown write Planned.
        var left = await RowsAsync(context.Run.Id, cancellationToken, BillingOutcome.Pending, BillingOutcome.InFlight);
        foreach (var row in left)
        {
            row.Outcome = BillingOutcome.Failed;
            row.Message = BillingMessages.NotConfirmed(context.Integration.Vendor, context.Reasons.GetValueOrDefault(row.Id) ?? "no answer");
            row.UpdatedAt = time.GetUtcNow();
        }

        await SaveAsync(context, left, []);
    }

    /// <summary>Reads the rows' PSA state in bulk, plans each row, records the rows that need no write and sends the rest.</summary>
    private async Task PlanAsync(RunContext context, IReadOnlyList<BillingRunItem> rows, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var states = await context.Psa!.ReadAsync(rows, cancellationToken);
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var done = new List<BillingRunItem>();
        var writes = new List<(BillingRunItem Row, BillingWrite Write)>();
        var preview = context.Run.Mode == BillingRunMode.Preview;
        foreach (var row in rows)
        {
            row.Attempts++;
            row.UpdatedAt = now;
            var state = states[row.Id];
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
            row.Action = state.LinePsaId is null ? BillingAction.CreateAddition : state.Current == row.New ? BillingAction.NoChange : context.Psa.UpdateAction;
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

        await WriteAllAsync(context, writes, done, cancellationToken);
    }

    /// <summary>
    /// Sends the writes in batches of <see cref="WritesPerBatch"/>, each batch journalled (Planned, its rows InFlight)
    /// in one committed transaction before any of its writes is sent. The database work is kept off the PSA's path:
    /// while one batch is being sent (up to <c>Billing:MaxConcurrentCalls</c> at a time), the previous batch's answers
    /// and a share of the rows that need no write are committed, then the next batch is journalled. Commits go one
    /// after another, never two at once, and every row's event is published only after its commit.
    /// </summary>
    private async Task WriteAllAsync(RunContext context, List<(BillingRunItem Row, BillingWrite Write)> writes, List<BillingRunItem> done, CancellationToken cancellationToken)
    {
        var batches = writes.Chunk(WritesPerBatch).ToList();
        var doneChunks = new Queue<BillingRunItem[]>(done.Chunk(RowsPerCommit));
        if (batches.Count == 0)
        {
            while (doneChunks.TryDequeue(out var chunk))
            {
                await SaveAsync(context, chunk, []);
            }

            return;
        }

        var concurrency = new ParallelOptions { MaxDegreeOfParallelism = options.Value.MaxConcurrentCalls, CancellationToken = cancellationToken };
        await JournalAsync(context, batches[0]);
        var answered = new List<(BillingRunItem Row, BillingWrite Write)>();
        var journalled = true;
        for (var index = 0; index < batches.Count; index++)
        {
            if (index > 0 && !journalled)
            {
                // Stopped before the batch was journalled: none of it may be sent.
                throw new OperationCanceledException(cancellationToken);
            }

            var previous = answered;
            var next = index + 1 < batches.Count ? batches[index + 1] : null;
            var doneChunk = doneChunks.TryDequeue(out var chunk) ? chunk : [];
            var background = Task.Run(async () =>
            {
                // The previous batch's answers and some unchanged rows, then the next batch's journal, all before the next batch is sent.
                await SaveAnswersAsync(context, previous, doneChunk);
                if (next is null || cancellationToken.IsCancellationRequested)
                {
                    return false;
                }

                await JournalAsync(context, next);
                return true;
            }, CancellationToken.None);

            var current = new ConcurrentQueue<(BillingRunItem Row, BillingWrite Write)>();
            try
            {
                await Parallel.ForEachAsync(batches[index], concurrency, async (item, token) =>
                {
                    var started = Stopwatch.GetTimestamp();
                    var outcome = await context.Psa!.SendAsync(item.Write, token);
                    if (Record(context, item.Row, item.Write, outcome, started))
                    {
                        current.Enqueue(item);
                    }
                });
            }
            finally
            {
                // Stopped or not, what the PSA answered is committed (a write with no answer stays Planned for the re-read).
                journalled = await background;
                answered = [.. current];
                if (cancellationToken.IsCancellationRequested || index == batches.Count - 1)
                {
                    await SaveAnswersAsync(context, answered, []);
                    answered = [];
                }
            }
        }

        while (doneChunks.TryDequeue(out var rest))
        {
            await SaveAsync(context, rest, []);
        }
    }

    /// <summary>Journals a batch of writes (Planned) with their rows InFlight in one transaction; nothing of it is sent before this returns.</summary>
    private async Task JournalAsync(RunContext context, IReadOnlyList<(BillingRunItem Row, BillingWrite Write)> batch)
    {
        foreach (var (row, _) in batch)
        {
            row.Outcome = BillingOutcome.InFlight;
        }

        await SaveAsync(context, batch.Select(b => b.Row).ToList(), batch.Select(b => b.Write).ToList());
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
    private async Task SettleAsync(RunContext context, CancellationToken cancellationToken)
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
            return;
        }

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
                    context.Reasons[row.Id] = state.Error;
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

    /// <summary>Rows not reached are Skipped; rows whose write was in flight fail with why (their journal entry stays Planned).</summary>
    private async Task StopRowsAsync(RunContext context, string message)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var runId = context.Run.Id;
        var now = time.GetUtcNow();
        await db.BillingRunItems.Where(i => i.RunId == runId && i.Outcome == BillingOutcome.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.Outcome, BillingOutcome.Skipped).SetProperty(i => i.Message, message).SetProperty(i => i.UpdatedAt, now), CancellationToken.None);
        await db.BillingRunItems.Where(i => i.RunId == runId && i.Outcome == BillingOutcome.InFlight)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.Outcome, BillingOutcome.Failed).SetProperty(i => i.Message, BillingMessages.StoppedWhileInFlight).SetProperty(i => i.UpdatedAt, now),
                CancellationToken.None);
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

    private sealed class RunContext(BillingRun run, Integration integration)
    {
        public BillingRun Run { get; } = run;

        public Integration Integration { get; } = integration;

        public IBillingPsa? Psa { get; set; }

        public BillingRunCounter? Counter { get; set; }

        /// <summary>Why a row's write could not be confirmed, for its message if it stays unconfirmed.</summary>
        public ConcurrentDictionary<long, string> Reasons { get; } = new();

        public long CountsSavedAt;
    }
}

/// <summary>The run as a whole cannot go on; the message says why, in words for the user.</summary>
public sealed class BillingRunException(string message) : Exception(message);
