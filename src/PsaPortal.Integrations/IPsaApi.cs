using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations;

/// <summary>
/// What every PSA offers, in PSA-neutral terms: features that do not care which PSA is linked (company
/// matching, ticketing, reading billing lines) work against this; vendor-specific setup uses
/// <see cref="ConnectWise.IConnectWiseApi"/> or <see cref="Autotask.IAutotaskApi"/>.
/// </summary>
public interface IPsaApi
{
    PsaVendor Vendor { get; }

    /// <summary>Whether calls on this connection currently flow or are paused after repeated failures.</summary>
    IPsaConnectionHealth Health { get; }

    IAsyncEnumerable<PsaCompany> ListCompaniesAsync(CancellationToken cancellationToken = default);

    /// <summary>Agreements (ConnectWise) or contracts (Autotask) of one company.</summary>
    IAsyncEnumerable<PsaAgreement> ListAgreementsAsync(long companyId, CancellationToken cancellationToken = default);

    /// <summary>Additions (ConnectWise) or contract services (Autotask) of the given agreements.</summary>
    IAsyncEnumerable<PsaAgreementLine> ListAgreementLinesAsync(IReadOnlyCollection<long> agreementIds, CancellationToken cancellationToken = default);

    Task<PsaTicket> CreateTicketAsync(PsaTicketDraft ticket, CancellationToken cancellationToken = default);

    Task<PsaTicket> UpdateTicketAsync(long ticketId, PsaTicketChange change, CancellationToken cancellationToken = default);
}
