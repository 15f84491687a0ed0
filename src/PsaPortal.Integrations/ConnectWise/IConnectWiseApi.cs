using PsaPortal.Integrations.Psa;

namespace PsaPortal.Integrations.ConnectWise;

/// <summary>A ConnectWise security-role setting of the calling API member (<c>system/mySecurity</c>): None, My or All per action.</summary>
public sealed record ConnectWiseSecurityLevel(
    string ModuleIdentifier,
    string ModuleName,
    string FunctionIdentifier,
    string FunctionName,
    string Add,
    string Edit,
    string Delete,
    string Inquire);

/// <summary>
/// The ConnectWise PSA calls PsaPortal makes, for one linked integration. Lists stream page by page;
/// failures surface as <see cref="Errors.PsaException"/>.
/// </summary>
public interface IConnectWiseApi : IPsaApi
{
    Task<PsaSystemInfo> GetSystemInfoAsync(CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ConnectWiseSecurityLevel>> GetMySecurityAsync(CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaCompany> ListCompaniesAsync(ConnectWiseCondition? conditions, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaReference> ListCompanyStatusesAsync(CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaContact> ListContactsAsync(ConnectWiseCondition? conditions, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaReference> ListBoardsAsync(CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaBoardTeam> ListBoardTeamsAsync(long boardId, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaBoardStatus> ListBoardStatusesAsync(long boardId, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaReference> ListPrioritiesAsync(CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaReference> ListSourcesAsync(CancellationToken cancellationToken = default);

    Task<PsaTicket> GetTicketAsync(long ticketId, CancellationToken cancellationToken = default);

    /// <summary>Service tickets matching a conditions expression, e.g. <c>externalXRef = "psaportal-…"</c> to find a ticket this portal created.</summary>
    IAsyncEnumerable<PsaTicket> ListTicketsAsync(ConnectWiseCondition? conditions, CancellationToken cancellationToken = default);

    Task<long> AddTicketNoteAsync(long ticketId, string text, bool internalNote, CancellationToken cancellationToken = default);

    /// <summary>Moves the ticket to a closed status of its own board (status ids are per board) and checks that it closed.</summary>
    Task<PsaTicket> CloseTicketAsync(long ticketId, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaAgreement> ListAgreementsAsync(ConnectWiseCondition? conditions, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaReference> ListAgreementTypesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The additions of many agreements filtered by one conditions expression (e.g. active additions of
    /// one product). ConnectWise serves additions per agreement, so this reads the agreements a few at a
    /// time within the connection's budget and yields them in the order of <paramref name="agreementIds"/>.
    /// </summary>
    IAsyncEnumerable<PsaAgreementLine> ListAdditionsAsync(IEnumerable<long> agreementIds, ConnectWiseCondition? conditions, CancellationToken cancellationToken = default);

    /// <summary>Creates an addition. Never sent twice: look it up first when a previous attempt's outcome is unknown.</summary>
    Task<PsaAgreementLine> CreateAdditionAsync(long agreementId, PsaAdditionDraft addition, CancellationToken cancellationToken = default);

    Task<PsaAgreementLine> SetAdditionQuantityAsync(long agreementId, long additionId, decimal quantity, CancellationToken cancellationToken = default);

    Task<PsaAgreementLine> CancelAdditionAsync(long agreementId, long additionId, DateOnly cancelledDate, CancellationToken cancellationToken = default);

    IAsyncEnumerable<PsaProduct> ListCatalogAsync(ConnectWiseCondition? conditions, CancellationToken cancellationToken = default);

    Task<PsaProduct> CreateCatalogItemAsync(PsaProductDraft product, CancellationToken cancellationToken = default);

    /// <summary>Changes a catalog item's description (and customer description), price or cost with one PATCH (<c>procurement/catalog/{id}</c>).</summary>
    Task<PsaProduct> UpdateCatalogItemAsync(long catalogItemId, PsaProductChange change, CancellationToken cancellationToken = default);

    /// <summary>The documents attached to an agreement (<c>system/documents?recordType=Agreement&amp;recordId=…</c>).</summary>
    IAsyncEnumerable<PsaDocument> ListAgreementDocumentsAsync(long agreementId, CancellationToken cancellationToken = default);

    /// <summary>A document's bytes (<c>system/documents/{id}/download</c>).</summary>
    Task<byte[]> DownloadDocumentAsync(long documentId, CancellationToken cancellationToken = default);

    /// <summary>Attaches a file (e.g. an invoice-line CSV) to an agreement.</summary>
    Task<PsaDocument> UploadAgreementDocumentAsync(long agreementId, string fileName, ReadOnlyMemory<byte> content, string? title = null, CancellationToken cancellationToken = default);
}
