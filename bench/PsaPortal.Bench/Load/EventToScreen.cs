using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace PsaPortal.Bench.Load;

/// <summary>
/// Event-to-screen latency of a billing run's progress. The portal publishes BillingRunItemChanged with the run's done
/// count after every row; the portal's process stamps each one in its own subscription (subscribed before any page, so
/// it runs first in Publish) with <see cref="Stopwatch.GetTimestamp"/> and reports it here (Load/LoadPortalHost) — on
/// Linux that clock is CLOCK_MONOTONIC, the same in both processes — and this keeps the moment each done count was first
/// published. A stamp can reach this process after a batch that shows its count, so a batch is judged only once a stamp
/// later than its arrival has come in (or a second after it arrived, when the run has stopped publishing; the printed
/// stamp delays say whether a second was ever too short). A session's screen "shows" done count N once a render batch
/// carries a done count ≥ N: on the run page the <c>data-done</c> attribute of the progress bar (exact); on the
/// dashboard, whose tile writes "Syncing… 1,234 of 20,000 rows done." as separate text frames, the largest number in the
/// batch's strings that the portal had published as a done count before the batch arrived (the other counts in the
/// batch — synced, unchanged, failed — never exceed done, and the pending count is only accepted once that many rows
/// are done, which means done itself is larger by then). Every published count is then one sample: the time from its
/// publication to the first batch at that session showing it or a later count — the pages redraw on a timer
/// (run page 200 ms, dashboard 500 ms), so most counts are superseded before they are drawn, and their latency
/// is the wait until the screen caught up with them.
/// </summary>
internal sealed class EventToScreen
{
    /// <summary>How long a batch waits for the stamps of the counts it may show when no later stamp comes.</summary>
    private static readonly long StampWait = Stopwatch.Frequency;

    private readonly Lock _gate = new();
    private readonly Queue<Pending> _pending = new();
    private long _latestStamp;
    private readonly Dictionary<BlazorSession, Watermark> _sessions = [];
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

    /// <summary>
    /// From each stamp to its arrival here (milliseconds): a count reaches the screens' bookkeeping only once its stamp
    /// has arrived, so this must stay well below the pages' redraw interval for no sample to be lost.
    /// </summary>
    public List<double> StampDelays { get; } = [];

    /// <summary>The portal published a run's done count at <paramref name="publishedAt"/> (a <see cref="Stopwatch"/> timestamp of this machine).</summary>
    public void Published(Guid runId, int done, int total, long publishedAt)
    {
        var delay = Stopwatch.GetElapsedTime(publishedAt).TotalMilliseconds;
        lock (_gate)
        {
            StampDelays.Add(delay);
            _latestStamp = Math.Max(_latestStamp, publishedAt);
            if (_current is null || _current.RunId != runId)
            {
                _current = new RunTimeline(runId, total);
            }

            _current.Publish(done, publishedAt);
            if (Debug)
            {
                Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} published done {done} of {total}");
            }

            _published++;
            JudgeReady();
        }
    }

    /// <summary>
    /// A batch reached <paramref name="session"/> (a page of kind <paramref name="page"/>) at <paramref name="arrived"/>.
    /// While the page is still opening (<paramref name="measuring"/> false) its batches only set what the screen shows:
    /// the first render of a page shows counts published long before, which is page load, not event delivery.
    /// </summary>
    public void BatchArrived(BlazorSession session, string page, long arrived, RenderBatchReader batch, bool measuring)
    {
        // What the batch may show is read now (the reader's buffer is the connection's); it is judged once the stamps are in.
        var numbers = page == "run"
            ? batch.Attributes.Where(a => a.Name == "data-done" && int.TryParse(a.Value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                .Select(a => int.Parse(a.Value!, CultureInfo.InvariantCulture)).ToArray()
            : batch.Strings.Select(s => int.TryParse(s.Trim(), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var n) ? n : -1).Where(n => n > 0).ToArray();
        if (Debug)
        {
            Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {session.Name} {page} measuring={measuring} numbers=[{string.Join("|", numbers.Take(12))}]");
        }

        lock (_gate)
        {
            if (_current is not null)
            {
                _pending.Enqueue(new Pending(session, page, arrived, numbers, measuring, _current));
                JudgeReady();
            }
        }
    }

    /// <summary>A session moved to another page: its next screen starts from nothing (after the batches already in).</summary>
    public void Reset(BlazorSession session)
    {
        lock (_gate)
        {
            _pending.Enqueue(new Pending(session, "", 0, [], false, null));
            JudgeReady();
        }
    }

    /// <summary>Judges the batches still waiting for stamps; call before reading <see cref="Samples"/>.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            while (_pending.TryDequeue(out var pending))
            {
                Judge(pending);
            }
        }
    }

    private void JudgeReady()
    {
        var now = Stopwatch.GetTimestamp();
        while (_pending.TryPeek(out var head) && (head.Run is null || head.Arrived <= _latestStamp || now - head.Arrived > StampWait))
        {
            Judge(_pending.Dequeue());
        }
    }

    private void Judge(Pending pending)
    {
        var (session, page, arrived, numbers, measuring, run) = pending;
        if (run is null)
        {
            _sessions.Remove(session);
            return;
        }

        var shown = page == "run"
            ? numbers.DefaultIfEmpty(-1).Max()
            : numbers.Where(n => run.PublishedBefore(n, arrived)).DefaultIfEmpty(-1).Max();
        if (shown < 0)
        {
            return;
        }

        if (!_sessions.TryGetValue(session, out var mark) || mark.RunId != run.RunId)
        {
            _sessions[session] = mark = new Watermark { RunId = run.RunId };
        }

        if (shown <= mark.Shown)
        {
            return;
        }

        if (measuring)
        {
            var list = _samples.GetOrAdd(page, _ => []);
            foreach (var published in run.PublishedBetween(mark.Shown + 1, shown))
            {
                list.Add(Stopwatch.GetElapsedTime(published, arrived).TotalMilliseconds);
            }
        }

        mark.Shown = shown;
    }

    public IReadOnlyDictionary<string, List<double>> Samples => _samples;

    /// <summary>A batch waiting to be judged, or (no run) a session's reset.</summary>
    private sealed record Pending(BlazorSession Session, string Page, long Arrived, int[] Numbers, bool Measuring, RunTimeline? Run);

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

        /// <summary>Whether <paramref name="done"/> was published as a done count before <paramref name="moment"/>.</summary>
        public bool PublishedBefore(int done, long moment)
        {
            lock (_gate)
            {
                return done > 0 && done <= _max && done < _publishedAt.Length && _publishedAt[done] != 0 && _publishedAt[done] <= moment;
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
