namespace PsaPortal.Sandbox.Core;

/// <summary>
/// The sandbox's notion of "now": the host's <see cref="TimeProvider"/> (real time by default) plus an
/// offset that tests move forward, so time-based vendor behaviour (the ConnectWise per-minute window
/// and its Retry-After, the Autotask rolling hour, dates stamped on records) can be reached without
/// waiting. Only "now" moves: timers and injected latency still run on the host's provider.
/// </summary>
public sealed class SandboxClock(TimeProvider inner) : TimeProvider
{
    private long _offsetTicks;

    /// <summary>How far the sandbox runs ahead of the host's clock.</summary>
    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override long TimestampFrequency => inner.TimestampFrequency;

    /// <summary>Moves the sandbox's time forward; vendor time never runs backwards.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        Interlocked.Add(ref _offsetTicks, by.Ticks);
    }

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

    public override long GetTimestamp() => inner.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(callback, state, dueTime, period);
}
