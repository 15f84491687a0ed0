namespace PsaPortal.Integrations;

/// <summary>
/// When one cached client was last used and how many of its requests are running, so the cache only
/// releases clients nobody is using. Once released, the client refuses every further request: quietly
/// rebuilding it would give one connection two budgets and two breakers.
/// </summary>
internal sealed class PsaClientUsage(PsaVendor vendor, TimeProvider time)
{
    private readonly Lock _gate = new();
    private int _inFlight;
    private DateTimeOffset _lastUsed = time.GetUtcNow();
    private bool _released;

    public DateTimeOffset LastUsed
    {
        get
        {
            lock (_gate)
            {
                return _lastUsed;
            }
        }
    }

    /// <summary>Marks a lookup of the client as use; false once the client is released.</summary>
    public bool TryTouch()
    {
        lock (_gate)
        {
            if (!_released)
            {
                _lastUsed = time.GetUtcNow();
            }

            return !_released;
        }
    }

    public void BeginRequest()
    {
        lock (_gate)
        {
            if (_released)
            {
                throw new ObjectDisposedException($"{vendor} client", "This client was released after going unused; ask IPsaClientFactory for the client again.");
            }

            _inFlight++;
            _lastUsed = time.GetUtcNow();
        }
    }

    public void EndRequest()
    {
        lock (_gate)
        {
            _inFlight--;
            _lastUsed = time.GetUtcNow();
        }
    }

    /// <summary>Releases the client if no request is running and it has not been used since <paramref name="unusedSince"/>.</summary>
    public bool TryRelease(DateTimeOffset unusedSince)
    {
        lock (_gate)
        {
            if (_released || _inFlight > 0 || _lastUsed > unusedSince)
            {
                return false;
            }

            _released = true;
            return true;
        }
    }
}

/// <summary>The outermost handler of a cached client: counts its requests for <see cref="PsaClientUsage"/>.</summary>
internal sealed class PsaClientUsageHandler(PsaClientUsage usage) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        usage.BeginRequest();
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            usage.EndRequest();
        }
    }
}
