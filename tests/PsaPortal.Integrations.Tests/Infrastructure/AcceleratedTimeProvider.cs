using System.Diagnostics;

namespace PsaPortal.Integrations.Tests.Infrastructure;

/// <summary>
/// A clock that runs <c>factor</c> times faster than real time: timestamps, "now" and timers all
/// agree, so retry delays, Retry-After waits and breaker durations keep their proportions but tests stay fast.
/// </summary>
public sealed class AcceleratedTimeProvider(double factor) : TimeProvider
{
    private readonly DateTimeOffset _start = System.GetUtcNow();
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();

    public double Factor => factor;

    public override DateTimeOffset GetUtcNow() => _start + Stopwatch.GetElapsedTime(_startTimestamp) * factor;

    public override long GetTimestamp() => _startTimestamp + (long)((Stopwatch.GetTimestamp() - _startTimestamp) * factor);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new ScaledTimer(System.CreateTimer(callback, state, Scale(dueTime), Scale(period)), this);

    private TimeSpan Scale(TimeSpan value) => value == Timeout.InfiniteTimeSpan || value <= TimeSpan.Zero ? value : value / factor;

    private sealed class ScaledTimer(ITimer inner, AcceleratedTimeProvider owner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(owner.Scale(dueTime), owner.Scale(period));

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
