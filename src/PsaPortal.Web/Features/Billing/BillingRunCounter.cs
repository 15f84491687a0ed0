namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// A run's counts kept in memory while it runs (every row's outcome, so a change of outcome moves exactly one count),
/// seeded from the database so a resumed run continues where its rows are. Thread-safe: writes finish concurrently.
/// </summary>
public sealed class BillingRunCounter
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, BillingOutcome> _outcomes;
    private readonly long _startedAt;
    private readonly int _doneAtStart;
    private int _done;
    private int _synced;
    private int _unchanged;
    private int _failed;

    public BillingRunCounter(IEnumerable<(long Id, BillingOutcome Outcome)> rows, long startedAt)
    {
        _outcomes = rows.ToDictionary(r => r.Id, r => r.Outcome);
        foreach (var outcome in _outcomes.Values)
        {
            Count(outcome, +1);
        }

        _doneAtStart = _done;
        _startedAt = startedAt;
    }

    /// <summary>Planned (a preview's), Synced, Unchanged, Failed and Skipped rows are done.</summary>
    public static bool IsFinal(BillingOutcome outcome) =>
        outcome is BillingOutcome.Planned or BillingOutcome.Synced or BillingOutcome.Unchanged or BillingOutcome.Failed or BillingOutcome.Skipped;

    public BillingRunCounts Counts
    {
        get
        {
            lock (_gate)
            {
                return new BillingRunCounts(_outcomes.Count, _done, _synced, _unchanged, _failed);
            }
        }
    }

    /// <summary>Records the row's new outcome and returns the counts after it.</summary>
    public BillingRunCounts Set(long rowId, BillingOutcome outcome)
    {
        lock (_gate)
        {
            if (_outcomes.TryGetValue(rowId, out var previous))
            {
                Count(previous, -1);
            }

            _outcomes[rowId] = outcome;
            Count(outcome, +1);
            return new BillingRunCounts(_outcomes.Count, _done, _synced, _unchanged, _failed);
        }
    }

    /// <summary>
    /// Seconds left at the pace of this process's part of the run so far (rows done since it picked the run up per
    /// second); null until a row is done.
    /// </summary>
    public int? EstimatedSecondsLeft(long now, long ticksPerSecond)
    {
        lock (_gate)
        {
            var doneHere = _done - _doneAtStart;
            if (doneHere <= 0)
            {
                return null;
            }

            var seconds = (double)(now - _startedAt) / ticksPerSecond;
            return (int)Math.Ceiling(seconds / doneHere * (_outcomes.Count - _done));
        }
    }

    private void Count(BillingOutcome outcome, int delta)
    {
        if (IsFinal(outcome))
        {
            _done += delta;
        }

        switch (outcome)
        {
            case BillingOutcome.Synced:
                _synced += delta;
                break;
            case BillingOutcome.Unchanged:
                _unchanged += delta;
                break;
            case BillingOutcome.Failed:
                _failed += delta;
                break;
        }
    }
}
