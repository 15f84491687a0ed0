namespace PsaPortal.Integrations.Tests.Infrastructure;

/// <summary>A clock whose "now" stands still until the test moves it; timers still run in real time.</summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly DateTimeOffset _start = System.GetUtcNow();
    private long _elapsedTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _elapsedTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => _start + TimeSpan.FromTicks(Interlocked.Read(ref _elapsedTicks));
}
