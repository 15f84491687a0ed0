namespace PsaPortal.Bench;

/// <summary>The largest managed heap seen: every 50 ms as it is, or every second after a full collection (live data only).</summary>
internal sealed class HeapSampler : IDisposable
{
    private readonly Timer _timer;
    private readonly bool _live;
    private long _peak;

    public HeapSampler(bool live)
    {
        _live = live;
        _peak = GC.GetTotalMemory(forceFullCollection: live);
        _timer = new Timer(_ => Observe(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(live ? 1000 : 50));
    }

    public long Peak
    {
        get
        {
            Observe();
            return Interlocked.Read(ref _peak);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Observe()
    {
        var now = GC.GetTotalMemory(forceFullCollection: _live);
        long seen;
        while (now > (seen = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, seen) != seen)
        {
        }
    }
}
