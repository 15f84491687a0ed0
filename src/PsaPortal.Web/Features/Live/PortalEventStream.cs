using System.Diagnostics;
using PsaPortal.Web.Infrastructure;

namespace PsaPortal.Web.Features.Live;

/// <summary>
/// The live event stream: jobs and services publish, open pages and the status hub subscribe. Subscribers are
/// scoped to one organization (or, for relays, to all). <see cref="InProcessPortalEventStream"/> serves one node and is
/// the one place that hands events to subscribers; <see cref="PostgreSqlPortalEventStream"/> (<c>Events:Transport</c> =
/// <c>PostgreSql</c>) carries them to the other nodes and hands what arrives to its node's in-process stream.
/// </summary>
public interface IPortalEventStream
{
    void Publish(PortalEvent portalEvent);

    /// <summary>Calls <paramref name="handler"/> for every event of <paramref name="organizationId"/> until disposed.</summary>
    IDisposable Subscribe(Guid organizationId, Func<PortalEvent, Task> handler);

    /// <summary>Every organization's events; for relays such as the status hub, never for pages.</summary>
    IDisposable SubscribeAll(Func<PortalEvent, Task> handler);
}

internal sealed class InProcessPortalEventStream(ILogger<InProcessPortalEventStream> logger, PortalMetrics metrics) : IPortalEventStream
{
    private readonly Lock _gate = new();
    private Subscription[] _subscriptions = [];

    /// <summary>An event published on this node: counted once here (so a cluster counts it once) and delivered.</summary>
    public void Publish(PortalEvent portalEvent)
    {
        var published = Stopwatch.GetTimestamp();
        metrics.EventPublished(portalEvent);
        DeliverToSubscribers(portalEvent);
        // Local delivery is the subscribers' handlers started (up to their first await) on the publisher's thread.
        metrics.EventDelivered(remote: false, Stopwatch.GetElapsedTime(published).TotalMilliseconds);
    }

    /// <summary>
    /// Hands an event to this node's subscribers. <paramref name="latencyMilliseconds"/> is how long ago it was published
    /// (for events from another node, measured on the wall clock by the transport).
    /// </summary>
    public void DeliverRemote(PortalEvent portalEvent, double latencyMilliseconds)
    {
        metrics.EventDelivered(remote: true, latencyMilliseconds);
        DeliverToSubscribers(portalEvent);
    }

    private void DeliverToSubscribers(PortalEvent portalEvent)
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
