using System.Diagnostics;

namespace PsaPortal.Bench.Load;

/// <summary>
/// One process's working set (its resident set, RSS, as <see cref="Process.WorkingSet64"/> reads it from /proc after
/// <see cref="Process.Refresh"/>) and CPU (user + system time, <see cref="Process.TotalProcessorTime"/>), every second from
/// construction to <see cref="Stop"/>: another process (the portal's) as well as this one. Each sample also splits the
/// resident set as the kernel counts it in /proc/&lt;pid&gt;/status: anonymous memory (the managed heap, native
/// allocations, thread stacks), file pages (mapped assemblies and native libraries) and shared memory (on .NET, the
/// JIT's code under W^X, whose pages are mapped twice).
/// </summary>
internal sealed class ProcessSampler : IDisposable
{
    private readonly Process _process;
    private readonly Timer _timer;
    private readonly List<long> _workingSets = [];
    private readonly List<ResidentSplit> _splits = [];
    private readonly Lock _gate = new();
    private readonly TimeSpan _cpuAtStart;
    private readonly long _startedAt;
    private TimeSpan _lastCpu;
    private long _lastAt;
    private double _cpuMax;
    private bool _stopped;

    public ProcessSampler(int processId)
    {
        _process = Process.GetProcessById(processId);
        _cpuAtStart = _lastCpu = _process.TotalProcessorTime;
        _startedAt = _lastAt = Stopwatch.GetTimestamp();
        _timer = new Timer(_ => Sample(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>CPU time used from construction to the last sample.</summary>
    public TimeSpan Cpu { get; private set; }

    /// <summary>From construction to the last sample.</summary>
    public TimeSpan Elapsed { get; private set; }

    /// <summary>Cores used on average: <see cref="Cpu"/> ÷ <see cref="Elapsed"/>.</summary>
    public double CoresAverage => Elapsed > TimeSpan.Zero ? Cpu / Elapsed : 0;

    /// <summary>Cores used in the busiest second.</summary>
    public double CoresMax => _cpuMax;

    /// <summary>Working set in MiB: min, average, max over the samples (zeros before the first).</summary>
    public (long Min, long Average, long Max) WorkingSet
    {
        get
        {
            lock (_gate)
            {
                return _workingSets.Count == 0
                    ? (0, 0, 0)
                    : (_workingSets.Min() / 1024 / 1024, (long)_workingSets.Average() / 1024 / 1024, _workingSets.Max() / 1024 / 1024);
            }
        }
    }

    /// <summary>The resident set split, in MiB, averaged over the samples and at the sample with the largest working set.</summary>
    public (ResidentSplit Average, ResidentSplit AtMax) Split
    {
        get
        {
            lock (_gate)
            {
                if (_splits.Count == 0)
                {
                    return (default, default);
                }

                var average = new ResidentSplit(
                    (long)_splits.Average(s => s.Anonymous),
                    (long)_splits.Average(s => s.File),
                    (long)_splits.Average(s => s.Shared));
                return (average, _splits[_workingSets.IndexOf(_workingSets.Max())]);
            }
        }
    }

    public int Samples
    {
        get
        {
            lock (_gate)
            {
                return _workingSets.Count;
            }
        }
    }

    /// <summary>Takes a last sample and stops.</summary>
    public void Stop()
    {
        _timer.Change(Timeout.Infinite, Timeout.Infinite);
        Sample();
        lock (_gate)
        {
            _stopped = true;
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _process.Dispose();
    }

    private void Sample()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            try
            {
                _process.Refresh();
                var now = Stopwatch.GetTimestamp();
                var cpu = _process.TotalProcessorTime;
                _cpuMax = Math.Max(_cpuMax, (cpu - _lastCpu) / Stopwatch.GetElapsedTime(_lastAt, now));
                (_lastCpu, _lastAt) = (cpu, now);
                (Cpu, Elapsed) = (cpu - _cpuAtStart, Stopwatch.GetElapsedTime(_startedAt, now));
                _workingSets.Add(_process.WorkingSet64);
                _splits.Add(ResidentSplit.Read(_process.Id));
            }
            catch (InvalidOperationException)
            {
                // The process has exited: its figures end with the last sample.
                _stopped = true;
            }
        }
    }
}

/// <summary>A resident set split as /proc/&lt;pid&gt;/status counts it (RssAnon, RssFile, RssShmem), in MiB; zeros where /proc is not.</summary>
internal readonly record struct ResidentSplit(long Anonymous, long File, long Shared)
{
    public static ResidentSplit Read(int processId)
    {
        long anonymous = 0, file = 0, shared = 0;
        try
        {
            foreach (var line in System.IO.File.ReadLines($"/proc/{processId}/status"))
            {
                if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                {
                    anonymous = Kilobytes(line);
                }
                else if (line.StartsWith("RssFile:", StringComparison.Ordinal))
                {
                    file = Kilobytes(line);
                }
                else if (line.StartsWith("RssShmem:", StringComparison.Ordinal))
                {
                    shared = Kilobytes(line);
                }
            }
        }
        catch (IOException)
        {
            // Not Linux, or the process has exited: no split.
        }

        return new ResidentSplit(anonymous / 1024, file / 1024, shared / 1024);
    }

    public override string ToString() => $"anonymous {Anonymous} MB, files {File} MB, shared {Shared} MB";

    private static long Kilobytes(string line) =>
        long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
}
