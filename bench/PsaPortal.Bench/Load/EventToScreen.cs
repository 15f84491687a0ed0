using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace PsaPortal.Bench.Load;

/// <summary>
/// Event-to-screen latency of a billing run's progress. The portal publishes BillingRunItemChanged with the run's done
/// count after every row; this records, in the benchmark's own subscription (subscribed before any page, so it runs
/// first in Publish), the moment each done count was first published. A session's screen "shows" done count N once a
/// render batch carries a done count ≥ N: on the run page the <c>data-done</c> attribute of the progress bar (exact);
/// on the dashboard, whose tile writes "Syncing… 1,234 of 20,000 rows done." as separate text frames, the largest
/// number in the batch's strings that the portal has already published as a done count (the other counts in the batch
/// — synced, unchanged, failed — never exceed done, and the pending count is only accepted once that many rows are
/// done, which means done itself is larger by then). Every published count is then one sample: the time from its
/// publication to the first batch at that session showing it or a later count — the pages redraw on a timer
/// (run page 200 ms, dashboard 500 ms), so most counts are superseded before they are drawn, and their latency
/// is the wait until the screen caught up with them.
/// </summary>
internal sealed class EventToScreen
{
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<BlazorSession, Watermark> _sessions = new();
    private readonly ConcurrentDictionary<string, List<double>> _samples = new();
    private RunTimeline? _current;

    public Guid? CurrentRun => _current?.RunId;

    /// <summary>LOAD_DEBUG=1 prints what each batch showed.</summary>
    private static readonly bool Debug = Environment.GetEnvironmentVariable("LOAD_DEBUG") == "1";

    /// <summary>Done counts published over every run.</summary>
    public int PublishedCount => _published;

    private int _published;

    /// <summary>A run began (its done counts start again from zero).</summary>
    public void RunStarted(Guid runId, int total)
    {
        lock (_gate)
        {
            // Its first rows may have been published before Sync now returned.
            if (_current?.RunId != runId)
            {
                _current = new RunTimeline(runId, total);
            }
        }
    }

    /// <summary>The portal published a run's done count (called synchronously in the publisher's thread).</summary>
    public void Published(Guid runId, int done, int total)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            if (_current is null || _current.RunId != runId)
            {
                _current = new RunTimeline(runId, total);
            }

            _current.Publish(done, now);
            if (Debug)
            {
                Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} published done {done} of {total}");
            }

            _published++;
        }
    }

    /// <summary>
    /// A batch reached <paramref name="session"/> (a page of kind <paramref name="page"/>) at <paramref name="arrived"/>.
    /// While the page is still opening (<paramref name="measuring"/> false) its batches only set what the screen shows:
    /// the first render of a page shows counts published long before, which is page load, not event delivery.
    /// </summary>
    public void BatchArrived(BlazorSession session, string page, long arrived, RenderBatchReader batch, bool measuring)
    {
        RunTimeline? run;
        lock (_gate)
        {
            run = _current;
        }

        if (run is null)
        {
            return;
        }

        var shown = page == "run"
            ? batch.Attributes.Where(a => a.Name == "data-done" && int.TryParse(a.Value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                .Select(a => int.Parse(a.Value!, CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max()
            : batch.Strings.Select(s => int.TryParse(s.Trim(), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var n) ? n : -1)
                .Where(n => n >= 0 && run.WasPublished(n)).DefaultIfEmpty(-1).Max();
        if (Debug)
        {
            Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {session.Name} {page} measuring={measuring} shown={shown} strings=[{string.Join("|", batch.Strings.Where(x => x.Any(char.IsDigit)).Take(12))}] " +
                $"attributes=[{string.Join("|", batch.Attributes.Where(x => x.Name.StartsWith("data-", StringComparison.Ordinal)).Select(x => $"{x.Name}={x.Value}").Take(6))}]");
        }

        if (shown < 0)
        {
            return;
        }

        var mark = _sessions.GetOrAdd(session, _ => new Watermark());
        if (mark.RunId != run.RunId)
        {
            (mark.RunId, mark.Shown) = (run.RunId, 0);
        }

        if (shown <= mark.Shown)
        {
            return;
        }

        if (!measuring)
        {
            mark.Shown = shown;
            return;
        }

        var list = _samples.GetOrAdd(page, _ => []);
        lock (list)
        {
            foreach (var published in run.PublishedBetween(mark.Shown + 1, shown))
            {
                list.Add(Stopwatch.GetElapsedTime(published, arrived).TotalMilliseconds);
            }
        }

        mark.Shown = shown;
    }

    /// <summary>A session moved to another page: its next screen starts from nothing.</summary>
    public void Reset(BlazorSession session) => _sessions.TryRemove(session, out _);

    public IReadOnlyDictionary<string, List<double>> Samples => _samples;

    private sealed class Watermark
    {
        public Guid RunId { get; set; }

        public int Shown { get; set; }
    }

    private sealed class RunTimeline(Guid runId, int total)
    {
        private readonly Lock _gate = new();
        private long[] _publishedAt = new long[Math.Max(total, 0) + 2];
        private int _max;

        public Guid RunId { get; } = runId;

        public void Publish(int done, long timestamp)
        {
            lock (_gate)
            {
                if (done >= _publishedAt.Length)
                {
                    Array.Resize(ref _publishedAt, done * 2 + 2);
                }

                if (done > 0 && _publishedAt[done] == 0)
                {
                    _publishedAt[done] = timestamp;
                }

                _max = Math.Max(_max, done);
            }
        }

        public bool WasPublished(int done)
        {
            lock (_gate)
            {
                return done > 0 && done <= _max && done < _publishedAt.Length && _publishedAt[done] != 0;
            }
        }

        /// <summary>The publication moments of the done counts in [from, to] that were published (each once).</summary>
        public List<long> PublishedBetween(int from, int to)
        {
            lock (_gate)
            {
                var moments = new List<long>();
                for (var done = Math.Max(from, 1); done <= Math.Min(to, _publishedAt.Length - 1); done++)
                {
                    if (_publishedAt[done] != 0)
                    {
                        moments.Add(_publishedAt[done]);
                    }
                }

                return moments;
            }
        }
    }
}
