using System.Collections.Concurrent;

namespace PsaPortal.Integrations;

/// <summary>
/// The factory's clients by connection key. A client with a request running, or looked up or used
/// within the idle lifetime, is never released, so everyone using a connection at the same time shares
/// its budget and breaker. Lookups sweep out clients idle for longer (changed or mistyped credentials
/// leave such clients behind), and beyond the cap the least recently used idle clients go first.
/// Releasing a client disposes what it owns (its request budget's limiters).
/// </summary>
internal sealed class PsaClientCache(TimeProvider time, TimeSpan idleLifetime, int maxClients) : IDisposable
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _sweepGate = new();
    private DateTimeOffset _nextSweep = time.GetUtcNow() + SweepInterval(idleLifetime);

    public int Count => _entries.Count;

    /// <param name="create">Builds the client around the usage tracker its outermost handler must report to; returns the client and what it owns.</param>
    public T GetOrCreate<T>(PsaVendor vendor, string key, Func<PsaClientUsage, (T Client, IDisposable Owned)> create)
        where T : class
    {
        SweepIfDue();
        while (true)
        {
            var entry = _entries.GetOrAdd(key, _ => new Entry(new PsaClientUsage(vendor, time), usage => create(usage)));
            if (entry.Usage.TryTouch())
            {
                var client = (T)entry.Client;
                EnforceCap(key);
                return client;
            }

            // Released by a sweep that has not removed it yet: take it out and build a fresh one.
            _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }
    }

    public void Dispose()
    {
        foreach (var (key, entry) in _entries)
        {
            entry.Usage.TryRelease(DateTimeOffset.MaxValue);
            Remove(key, entry);
        }
    }

    private static TimeSpan SweepInterval(TimeSpan idleLifetime) => idleLifetime / 4;

    private void SweepIfDue()
    {
        var now = time.GetUtcNow();
        lock (_sweepGate)
        {
            if (now < _nextSweep)
            {
                return;
            }

            _nextSweep = now + SweepInterval(idleLifetime);
        }

        foreach (var (key, entry) in _entries)
        {
            if (entry.Usage.TryRelease(now - idleLifetime))
            {
                Remove(key, entry);
            }
        }
    }

    private void EnforceCap(string keep)
    {
        if (_entries.Count <= maxClients)
        {
            return;
        }

        foreach (var (key, entry) in _entries.Where(pair => pair.Key != keep).OrderBy(pair => pair.Value.Usage.LastUsed).ToList())
        {
            if (_entries.Count <= maxClients)
            {
                return;
            }

            if (entry.Usage.TryRelease(DateTimeOffset.MaxValue))
            {
                Remove(key, entry);
            }
        }
    }

    private void Remove(string key, Entry entry)
    {
        _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        entry.DisposeOwned();
    }

    private sealed class Entry(PsaClientUsage usage, Func<PsaClientUsage, (object Client, IDisposable Owned)> create)
    {
        private readonly Lazy<(object Client, IDisposable Owned)> _built = new(() => create(usage));

        public PsaClientUsage Usage => usage;

        public object Client => _built.Value.Client;

        /// <summary>Only a client that was built owns anything.</summary>
        public void DisposeOwned()
        {
            if (_built.IsValueCreated)
            {
                _built.Value.Owned.Dispose();
            }
        }
    }
}
