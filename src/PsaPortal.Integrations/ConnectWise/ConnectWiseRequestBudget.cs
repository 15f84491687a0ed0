using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations.ConnectWise;

/// <summary>
/// ConnectWise throttles integrations that send more than about 1,000 requests a minute. Each request
/// reserves a start time such that no window of one minute (plus <see cref="Margin"/>) holds more than the
/// connection's per-minute budget; a request beyond it waits for its slot instead of meeting 429.
/// Unlike a segmented sliding window, this holds for every window, whenever the PSA starts counting (a
/// server with fixed windows opened by the first request sees at most the budget in each), and it lets
/// concurrent callers use the whole budget: the first requests go at once, later ones one minute after the
/// request the budget's size earlier.
/// </summary>
internal sealed class ConnectWiseRequestBudget : RequestBudget
{
    /// <summary>Added to the window so a request that reaches the PSA a little late never lands in the previous window's count.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(500);

    private readonly TimeProvider _time;
    private readonly TimeSpan _window;
    private readonly DateTimeOffset[] _slots;
    private readonly Lock _gate = new();
    private long _reserved;
    private DateTimeOffset _last;
    private bool _disposed;

    public ConnectWiseRequestBudget(int requestsPerMinute, TimeSpan? window = null, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerMinute, 1);
        _time = time ?? TimeProvider.System;
        _window = (window ?? TimeSpan.FromMinutes(1)) + Margin;
        _slots = new DateTimeOffset[requestsPerMinute];
    }

    public override async ValueTask<IDisposable> AcquireAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var wait = Reserve();
        if (wait > TimeSpan.Zero)
        {
            // A cancelled waiter leaves its slot unused: the budget errs on the side of fewer requests.
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }

        return NoLease.Instance;
    }

    /// <summary>Reserves the next start time: not before now, the previous slot, or one window after the slot the budget's size earlier.</summary>
    private TimeSpan Reserve()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = _time.GetUtcNow();
            var slot = now > _last ? now : _last;
            if (_reserved >= _slots.Length)
            {
                var earliest = _slots[_reserved % _slots.Length] + _window;
                if (earliest > slot)
                {
                    slot = earliest;
                }
            }

            _slots[_reserved % _slots.Length] = slot;
            _reserved++;
            _last = slot;
            return slot - now;
        }
    }

    /// <summary>A released client's budget refuses further requests rather than quietly starting a second budget.</summary>
    public override void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }
    }

    private sealed class NoLease : IDisposable
    {
        public static readonly NoLease Instance = new();

        public void Dispose()
        {
        }
    }
}
