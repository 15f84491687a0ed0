using PsaPortal.Web.Features.Live;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// Stops a run this node executes when Cancel was pressed on another node: <see cref="BillingRuns.CancelAsync"/> there
/// publishes <see cref="BillingRunCancelRequested"/>, which the live event stream carries across nodes
/// (<c>Events:Transport=PostgreSql</c>). On one node the request never leaves the process and nothing here runs.
/// </summary>
internal sealed class BillingCancelRelay(IPortalEventStream events, BillingEngine engine, ILogger<BillingCancelRelay> logger) : IHostedService
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = events.SubscribeAll(portalEvent =>
        {
            if (portalEvent is BillingRunCancelRequested request && engine.RequestCancel(request.RunId))
            {
                logger.LogInformation("Billing run {RunId} cancelled by {RequestedBy} on another node", request.RunId, request.RequestedBy);
            }

            return Task.CompletedTask;
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }
}
