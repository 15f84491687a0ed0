using System.Collections.Concurrent;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;

namespace PsaPortal.Sandbox.ConnectWise;

/// <summary>
/// One simulated ConnectWise PSA site: its data, API members, runtime settings and request log.
/// Tests running in-process use this object directly; everything here is also reachable over HTTP
/// through the control API under <c>{prefix}/connectwise/_sandbox</c>.
/// </summary>
public sealed class ConnectWiseSandbox
{
    public const string CompanyId = ConnectWiseErrors.SiteCompanyId;

    /// <summary>The clientId registered for the sandbox integration (any GUID is accepted unless <see cref="ConnectWiseSettings.AcceptAnyClientId"/> is off).</summary>
    public const string SeededClientId = "5f0c3a8e-6d1b-4c2a-9e47-3b8f2d6a1c90";

    private readonly ConcurrentDictionary<string, ConnectWiseApiMember> _membersByPublicKey = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Lock _rateGate = new();
    private ConnectWiseSettings _settings;
    private long _faultsAppliedAtTicks;
    private DateTimeOffset _rateWindowStart;
    private int _rateWindowCount;

    public ConnectWiseSandbox(ConnectWiseSettings settings, TimeProvider time, int requestLogCapacity)
    {
        _settings = settings;
        _time = time;
        _faultsAppliedAtTicks = time.GetUtcNow().UtcTicks;
        RequestLog = new RequestLog(requestLogCapacity);
        foreach (var member in ConnectWiseApiMember.Seeded)
        {
            AddApiMember(member);
        }
    }

    public ConnectWiseSettings Settings => Volatile.Read(ref _settings);

    /// <summary>When the current <see cref="FaultSettings"/> were applied (sandbox clock); a throttle storm counts from here.</summary>
    public DateTimeOffset FaultsAppliedAt => new(Interlocked.Read(ref _faultsAppliedAtTicks), TimeSpan.Zero);

    public ConnectWiseData Data { get; } = new();

    public RequestLog RequestLog { get; }

    public IReadOnlyCollection<ConnectWiseApiMember> ApiMembers => [.. _membersByPublicKey.Values.OrderBy(m => m.Id)];

    public void Configure(Func<ConnectWiseSettings, ConnectWiseSettings> change)
    {
        ConnectWiseSettings current, next;
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

        // A new limit starts a fresh window: counts taken under the old limit would otherwise decide the first Retry-After.
        if (next.RateLimitPerMinute != current.RateLimitPerMinute)
        {
            ResetRateLimit();
        }
    }

    public void AddApiMember(ConnectWiseApiMember member) => _membersByPublicKey[member.PublicKey] = member;

    public void Seed(SandboxSeedData seed) => ConnectWiseSeeder.Seed(Data, seed);

    internal ConnectWiseApiMember? FindMember(string publicKey) => _membersByPublicKey.GetValueOrDefault(publicKey);

    /// <summary>
    /// Counts a request against the per-minute window, which opens with the first request and runs on
    /// the sandbox clock; returns the seconds to wait when over the limit.
    /// </summary>
    internal int? TryConsumeRateLimit()
    {
        var limit = Settings.RateLimitPerMinute;
        if (limit <= 0)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        lock (_rateGate)
        {
            if (now - _rateWindowStart >= TimeSpan.FromMinutes(1))
            {
                _rateWindowStart = now;
                _rateWindowCount = 0;
            }

            if (_rateWindowCount >= limit)
            {
                var wait = _rateWindowStart.AddMinutes(1) - now;
                return Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            }

            _rateWindowCount++;
            return null;
        }
    }

    internal void ResetRateLimit()
    {
        lock (_rateGate)
        {
            _rateWindowCount = 0;
            _rateWindowStart = default;
        }
    }
}
