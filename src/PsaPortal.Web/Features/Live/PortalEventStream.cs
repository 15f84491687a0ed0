namespace PsaPortal.Web.Features.Live;

/// <summary>
/// The live event stream: jobs and services publish, open pages and the status hub subscribe. Subscribers are
/// scoped to one organization (or, for relays, to all). This in-process implementation serves one node; a
/// cross-node one can replace it behind the same interface.
/// </summary>
public interface IPortalEventStream
{
    void Publish(PortalEvent portalEvent);

    /// <summary>Calls <paramref name="handler"/> for every event of <paramref name="organizationId"/> until disposed.</summary>
    IDisposable Subscribe(Guid organizationId, Func<PortalEvent, Task> handler);

    /// <summary>Every organization's events; for relays such as the status hub, never for pages.</summary>
    IDisposable SubscribeAll(Func<PortalEvent, Task> handler);
}

internal sealed class InProcessPortalEventStream(ILogger<InProcessPortalEventStream> logger) : IPortalEventStream
{
    private readonly Lock _gate = new();
    private Subscription[] _subscriptions = [];

    public void Publish(PortalEvent portalEvent)
    {
        // A copy-on-write array: publishing never blocks on, or is blocked by, subscribers coming and going.
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            if (subscription.OrganizationId is null || subscription.OrganizationId == portalEvent.OrganizationId)
            {
                _ = DeliverAsync(subscription, portalEvent);
            }
        }
    }

    public IDisposable Subscribe(Guid organizationId, Func<PortalEvent, Task> handler) => Add(new Subscription(this, organizationId, handler));

    public IDisposable SubscribeAll(Func<PortalEvent, Task> handler) => Add(new Subscription(this, null, handler));

    private Subscription Add(Subscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions, subscription];
        }

        return subscription;
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = _subscriptions.Where(s => s != subscription).ToArray();
        }
    }

    // One slow or failing page must not delay the publisher or the other pages.
    private async Task DeliverAsync(Subscription subscription, PortalEvent portalEvent)
    {
        try
        {
            await subscription.Handler(portalEvent);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "A subscriber failed to handle {Kind}", portalEvent.Kind);
        }
    }

    private sealed class Subscription(InProcessPortalEventStream owner, Guid? organizationId, Func<PortalEvent, Task> handler) : IDisposable
    {
        public Guid? OrganizationId { get; } = organizationId;

        public Func<PortalEvent, Task> Handler { get; } = handler;

        public void Dispose() => owner.Remove(this);
    }
}
