using PsaPortal.Web.Features.Billing;

namespace PsaPortal.Testing.BillingScenarios;

/// <summary>What a finished run's own record must say, whichever process (or node) ran it.</summary>
internal static class BillingRunCheck
{
    /// <summary>The run's own record: finished, one row per expected row, each with the outcome and message it must have.</summary>
    public static IEnumerable<string> Verify(BillingRun run, IReadOnlyList<ExpectedRow> rows, IReadOnlyList<BillingRunItem> items)
    {
        var expectedStatus = rows.Any(r => r.ExpectedFailure is not null) ? BillingRunStatus.CompletedWithFailures : BillingRunStatus.Succeeded;
        if (run.Status != expectedStatus)
        {
            yield return $"run {run.Id} ended {run.Status}, expected {expectedStatus}{(run.Error is null ? "" : $": {run.Error}")}";
        }

        if (run.Total != rows.Count || run.Done != rows.Count || items.Count != rows.Count)
        {
            yield return $"run {run.Id} has Total {run.Total}, Done {run.Done} and {items.Count} rows; expected {rows.Count}";
        }

        foreach (var duplicate in items.GroupBy(i => (i.TenantId, i.VendorProductId)).Where(g => g.Count() > 1))
        {
            yield return $"tenant {duplicate.Key.TenantId} product {duplicate.Key.VendorProductId} has {duplicate.Count()} rows";
        }

        var byKey = items.GroupBy(i => (i.TenantId, i.VendorProductId)).ToDictionary(g => g.Key, g => g.First());
        foreach (var row in rows)
        {
            if (!byKey.TryGetValue((row.TenantId, row.VendorProductId), out var item))
            {
                yield return $"{row}: no row in the run";
                continue;
            }

            if (row.ExpectedFailure is { } message)
            {
                if (item.Outcome != BillingOutcome.Failed || item.Message != message)
                {
                    yield return $"{row}: {item.Outcome} \"{item.Message}\", expected Failed \"{message}\"";
                }
            }
            else if (item.Outcome == BillingOutcome.Failed)
            {
                if (!row.MayFail)
                {
                    yield return $"{row}: Failed \"{item.Message}\", expected {(row.Changes ? "Synced" : "Unchanged")}";
                }
                else if (string.IsNullOrWhiteSpace(item.Message))
                {
                    yield return $"{row}: Failed without a message";
                }
            }
            else
            {
                var expected = row.Changes ? BillingOutcome.Synced : BillingOutcome.Unchanged;
                if (item.Outcome != expected)
                {
                    yield return $"{row}: {item.Outcome}, expected {expected}{(item.Message is null ? "" : $" (\"{item.Message}\")")}";
                }
                else if (item.New != row.Count)
                {
                    yield return $"{row}: the row records New {item.New}, expected {row.Count}";
                }
            }
        }

        var counted = (Synced: items.Count(i => i.Outcome == BillingOutcome.Synced), Unchanged: items.Count(i => i.Outcome == BillingOutcome.Unchanged), Failed: items.Count(i => i.Outcome == BillingOutcome.Failed));
        if ((run.Synced, run.Unchanged, run.Failed) != counted)
        {
            yield return $"run {run.Id} counts synced {run.Synced}, unchanged {run.Unchanged}, failed {run.Failed}; its rows say {counted.Synced}, {counted.Unchanged}, {counted.Failed}";
        }
    }
}
