using System.Collections.Concurrent;

namespace PsaPortal.Sandbox.Core;

/// <summary>One call the sandbox answered. <see cref="Status"/> is 0 when the sandbox reset the connection; <see cref="Route"/> is the matched route template.</summary>
public sealed record RequestLogEntry(
    long Sequence,
    DateTimeOffset StartedAt,
    string Method,
    string Path,
    string Query,
    string Route,
    int Status,
    double ElapsedMilliseconds,
    double InjectedDelayMilliseconds,
    string? User);

/// <summary>
/// The calls one vendor instance answered, newest last, bounded so a long benchmark cannot exhaust
/// memory. Tests and benchmarks read it to count calls.
/// </summary>
public sealed class RequestLog
{
    private readonly ConcurrentQueue<RequestLogEntry> _entries = new();
    private readonly int _capacity;
    private long _sequence;

    public RequestLog(int capacity) => _capacity = Math.Max(1, capacity);

    public long TotalCount => Interlocked.Read(ref _sequence);

    public void Add(DateTimeOffset startedAt, string method, string path, string query, string route, int status, double elapsedMilliseconds, double injectedDelayMilliseconds, string? user)
    {
        var entry = new RequestLogEntry(Interlocked.Increment(ref _sequence), startedAt, method, path, query, route, status, elapsedMilliseconds, injectedDelayMilliseconds, user);
        _entries.Enqueue(entry);
        while (_entries.Count > _capacity && _entries.TryDequeue(out _))
        {
        }
    }

    public IReadOnlyList<RequestLogEntry> Entries() => [.. _entries];

    public void Clear() => _entries.Clear();
}
