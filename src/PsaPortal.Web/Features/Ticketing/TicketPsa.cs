using PsaPortal.Integrations;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Psa;

namespace PsaPortal.Web.Features.Ticketing;

/// <summary>
/// One PSA's side of ticketing: find a ticket by the external reference written on it, create it, bring it up to date
/// with the incident and close it, confirming the closure by reading the ticket back. The engine around it is the same
/// for both PSAs.
/// </summary>
public interface ITicketPsa
{
    PsaVendor Vendor { get; }

    /// <summary>The ticket carrying <paramref name="reference"/>, or null when the PSA has none.</summary>
    Task<PsaTicket?> FindAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Sends one creation; never sent again by the client when its outcome is unknown.</summary>
    Task<PsaTicket> CreateAsync(TicketIncident incident, long companyId, string reference, CancellationToken cancellationToken);

    /// <summary>ConnectWise adds a note; Autotask sets the update status, the priority and the description.</summary>
    Task UpdateAsync(long ticketId, TicketIncident incident, CancellationToken cancellationToken);

    /// <summary>Sets the configured closed status and reads the ticket back; null when it is closed, else why not.</summary>
    Task<string?> CloseAsync(long ticketId, CancellationToken cancellationToken);

    /// <summary>A link that opens the ticket in the PSA.</summary>
    Task<string?> UrlAsync(long ticketId, CancellationToken cancellationToken);
}

/// <summary>Which PSA priority a severity maps to: its own mapping, else the default priority.</summary>
public static class TicketPriorities
{
    public static long? For(TicketingSettings settings, Platform.IncidentSeverity severity) => severity switch
    {
        Platform.IncidentSeverity.Low => settings.LowPriorityId,
        Platform.IncidentSeverity.Medium => settings.MediumPriorityId,
        Platform.IncidentSeverity.High => settings.HighPriorityId,
        Platform.IncidentSeverity.Critical => settings.CriticalPriorityId,
        _ => null,
    } ?? settings.DefaultPriorityId;
}

internal sealed class ConnectWiseTicketPsa(IConnectWiseApi api, TicketingSettings settings, string siteUrl, string companyId, Uri? portalUrl) : ITicketPsa
{
    public PsaVendor Vendor => PsaVendor.ConnectWise;

    public async Task<PsaTicket?> FindAsync(string reference, CancellationToken cancellationToken) =>
        await api.ListTicketsAsync(ConnectWiseCondition.Field("externalXRef").EqualTo(reference), cancellationToken).FirstOrDefaultAsync(cancellationToken);

    public Task<PsaTicket> CreateAsync(TicketIncident incident, long companyId, string reference, CancellationToken cancellationToken) =>
        api.CreateTicketAsync(new PsaTicketDraft(
            TicketContent.Summary(incident, Vendor),
            companyId,
            TicketContent.Description(incident, portalUrl, Vendor),
            BoardId: settings.BoardId,
            PriorityId: TicketPriorities.For(settings, incident.Severity),
            StatusId: null, // the board's default status
            SourceId: settings.SourceId,
            ExternalReference: reference), cancellationToken);

    public async Task UpdateAsync(long ticketId, TicketIncident incident, CancellationToken cancellationToken) =>
        await api.AddTicketNoteAsync(ticketId, TicketContent.UpdateNote(incident, portalUrl), internalNote: false, cancellationToken);

    public async Task<string?> CloseAsync(long ticketId, CancellationToken cancellationToken)
    {
        var closedStatus = settings.ClosedStatusId ?? throw new InvalidOperationException("The ticketing settings name no closed status.");
        await api.UpdateTicketAsync(ticketId, new PsaTicketChange(StatusId: closedStatus), cancellationToken);
        var ticket = await api.GetTicketAsync(ticketId, cancellationToken);
        return ticket.IsClosed
            ? null
            : $"ConnectWise kept ticket {ticketId} open after it was set to \"{settings.ClosedStatusName ?? closedStatus.ToString(System.Globalization.CultureInfo.InvariantCulture)}\" " +
              $"(it is \"{ticket.StatusName}\"). Check the status workflow of the board \"{settings.BoardName}\" in ConnectWise (System > Setup Tables > Service Board > Statuses), then Retry.";
    }

    public Task<string?> UrlAsync(long ticketId, CancellationToken cancellationToken) =>
        Task.FromResult<string?>(TicketContent.ConnectWiseTicketUrl(siteUrl, companyId, ticketId));
}

internal sealed class AutotaskTicketPsa(IAutotaskApi api, TicketingSettings settings, Uri? portalUrl) : ITicketPsa
{
    public PsaVendor Vendor => PsaVendor.Autotask;

    public async Task<PsaTicket?> FindAsync(string reference, CancellationToken cancellationToken) =>
        await api.QueryTicketsAsync(AutotaskFilter.Where("externalID").Equal(reference), cancellationToken).FirstOrDefaultAsync(cancellationToken);

    public Task<PsaTicket> CreateAsync(TicketIncident incident, long companyId, string reference, CancellationToken cancellationToken) =>
        api.CreateTicketAsync(new PsaTicketDraft(
            TicketContent.Summary(incident, Vendor),
            companyId,
            TicketContent.Description(incident, portalUrl, Vendor),
            BoardId: settings.QueueId,
            PriorityId: TicketPriorities.For(settings, incident.Severity),
            StatusId: settings.NewStatusId,
            ExternalReference: reference), cancellationToken);

    public async Task UpdateAsync(long ticketId, TicketIncident incident, CancellationToken cancellationToken) =>
        await api.UpdateTicketAsync(ticketId, new PsaTicketChange(
            StatusId: settings.UpdatedStatusId,
            PriorityId: TicketPriorities.For(settings, incident.Severity),
            Description: TicketContent.Description(incident, portalUrl, Vendor)), cancellationToken);

    public async Task<string?> CloseAsync(long ticketId, CancellationToken cancellationToken)
    {
        var closedStatus = settings.AutotaskClosedStatusId ?? throw new InvalidOperationException("The ticketing settings name no closed status.");

        // The client reads the ticket back after the PATCH; that read is the confirmation.
        var ticket = await api.UpdateTicketAsync(ticketId, new PsaTicketChange(StatusId: closedStatus), cancellationToken);
        return ticket.StatusId == closedStatus
            ? null
            : $"Autotask kept ticket {ticketId} at status {ticket.StatusId} after it was set to \"{settings.AutotaskClosedStatusName ?? closedStatus.ToString(System.Globalization.CultureInfo.InvariantCulture)}\". " +
              "Check the ticket's workflow rules in Autotask, then Retry.";
    }

    public async Task<string?> UrlAsync(long ticketId, CancellationToken cancellationToken) =>
        TicketContent.AutotaskTicketUrl(await api.GetWebUrlAsync(cancellationToken), ticketId);
}
