using System.Collections.Concurrent;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;

namespace PsaPortal.Sandbox.Autotask;

/// <summary>
/// One simulated Autotask database: its entities, API users, zone, request threshold, thread limits
/// and request log. Tests running in-process use this object directly; the same knobs are reachable
/// over HTTP under <c>{prefix}/autotask/_sandbox</c>.
/// </summary>
public sealed class AutotaskSandbox
{
    private readonly ConcurrentDictionary<string, AutotaskApiUser> _users = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _threads = new(StringComparer.OrdinalIgnoreCase);
    private readonly Queue<DateTimeOffset> _requestTimes = new();
    private readonly Lock _thresholdGate = new();
    private readonly TimeProvider _time;
    private AutotaskSettings _settings;
    private long _faultsAppliedAtTicks;

    public AutotaskSandbox(AutotaskSettings settings, TimeProvider time, int requestLogCapacity)
    {
        _settings = settings;
        _time = time;
        _faultsAppliedAtTicks = time.GetUtcNow().UtcTicks;
        RequestLog = new RequestLog(requestLogCapacity);
        foreach (var user in AutotaskApiUser.Seeded)
        {
            AddApiUser(user);
        }
    }

    public AutotaskSettings Settings => Volatile.Read(ref _settings);

    /// <summary>When the current <see cref="FaultSettings"/> were applied (sandbox clock); a throttle storm counts from here.</summary>
    public DateTimeOffset FaultsAppliedAt => new(Interlocked.Read(ref _faultsAppliedAtTicks), TimeSpan.Zero);

    public AutotaskData Data { get; } = new();

    public RequestLog RequestLog { get; }

    public IReadOnlyCollection<AutotaskApiUser> ApiUsers => [.. _users.Values.OrderBy(u => u.ResourceId)];

    /// <summary>Tracking identifiers the database accepts in <c>ApiIntegrationCode</c>.</summary>
    public ConcurrentDictionary<string, bool> IntegrationCodes { get; } = new(StringComparer.Ordinal) { [AutotaskApiUser.SeededIntegrationCode] = true };

    internal AutotaskPagingCache Paging { get; } = new();

    public void Configure(Func<AutotaskSettings, AutotaskSettings> change)
    {
        AutotaskSettings current, next;
        do
        {
            current = Settings;
            next = change(current);
        }
        while (Interlocked.CompareExchange(ref _settings, next, current) != current);

        if (next.Faults != current.Faults)
        {
            Interlocked.Exchange(ref _faultsAppliedAtTicks, _time.GetUtcNow().UtcTicks);
        }
    }

    public void AddApiUser(AutotaskApiUser user) => _users[user.UserName] = user;

    public void Seed(SandboxSeedData seed) => AutotaskSeeder.Seed(Data, seed);

    /// <summary>Requests counted in the current rolling 60-minute window.</summary>
    public int CurrentTimeframeRequestCount
    {
        get
        {
            lock (_thresholdGate)
            {
                Expire(_time.GetUtcNow());
                return _requestTimes.Count;
            }
        }
    }

    public void ResetThreshold()
    {
        lock (_thresholdGate)
        {
            _requestTimes.Clear();
        }
    }

    internal AutotaskApiUser? FindUser(string userName) => _users.GetValueOrDefault(userName);

    /// <summary>Counts one request; returns the usage ratio before it, or null when the threshold is already used up.</summary>
    internal double? TryCountRequest()
    {
        var threshold = Settings.HourlyThreshold;
        var now = _time.GetUtcNow();
        lock (_thresholdGate)
        {
            Expire(now);
            if (threshold > 0 && _requestTimes.Count >= threshold)
            {
                return null;
            }

            var ratio = threshold > 0 ? (double)_requestTimes.Count / threshold : 0;
            _requestTimes.Enqueue(now);
            return ratio;
        }
    }

    internal bool TryEnterThread(string key, int limit)
    {
        var count = _threads.AddOrUpdate(key, 1, (_, current) => current + 1);
        if (limit > 0 && count > limit)
        {
            ExitThread(key);
            return false;
        }

        return true;
    }

    internal void ExitThread(string key) => _threads.AddOrUpdate(key, 0, (_, current) => Math.Max(0, current - 1));

    private void Expire(DateTimeOffset now)
    {
        while (_requestTimes.Count > 0 && now - _requestTimes.Peek() >= TimeSpan.FromMinutes(60))
        {
            _requestTimes.Dequeue();
        }
    }
}

/// <summary>
/// Open query cursors behind <c>pageDetails.nextPageUrl</c>. The vendor keeps recent pages on the
/// server too; here the newest 1,000 cursors are kept and older ones expire.
/// </summary>
internal sealed class AutotaskPagingCache
{
    private const int Capacity = 1000;
    private readonly ConcurrentDictionary<string, AutotaskCursor> _cursors = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public string Add(AutotaskCursor cursor)
    {
        var key = Guid.NewGuid().ToString("N");
        _cursors[key] = cursor;
        _order.Enqueue(key);
        while (_order.Count > Capacity && _order.TryDequeue(out var old))
        {
            _cursors.TryRemove(old, out _);
        }

        return key;
    }

    public AutotaskCursor? Find(string key) => _cursors.GetValueOrDefault(key);
}

/// <summary>Where the next page of a query starts.</summary>
internal sealed record AutotaskCursor(string Entity, AutotaskFilter Filter, IReadOnlyList<string[]>? IncludeFields, int PageSize, long AfterId, long[] PreviousIds);
