using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using PsaPortal.Integrations.ConnectWise.Models;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations.ConnectWise;

/// <summary>
/// <see cref="IConnectWiseApi"/> over an <see cref="HttpClient"/> whose handlers add authentication,
/// resilience and call recording (built by <see cref="PsaClientFactory"/>). Owns the site's codebase:
/// discovered through <c>login/companyinfo</c> on first use and rediscovered once when ConnectWise
/// says a call could not be routed (cloud upgrades move tenants to a new codebase).
/// </summary>
internal sealed partial class ConnectWiseApi : IConnectWiseApi, IConnectWiseProbe
{
    private const string ServiceTickets = "Service > Service Tickets";
    private const string ServiceBoards = "Service > Service Boards";
    private const string Agreements = "Finance > Agreements";
    private const string CompanyMaintenance = "Company > Company Maintenance";
    private const string ProductCatalog = "Procurement > Product Catalog";

    private static readonly ConnectWiseJsonContext Json = ConnectWiseJsonContext.Default;

    private readonly HttpClient _http;
    private readonly ConnectWiseConnection _connection;
    private readonly ConnectWiseOptions _options;
    private readonly Uri _site;
    private readonly SemaphoreSlim _discovery = new(1, 1);
    private string? _codebase;

    public ConnectWiseApi(HttpClient http, ConnectWiseConnection connection, ConnectWiseOptions options, IPsaConnectionHealth health)
    {
        _http = http;
        _connection = connection;
        _options = options;
        _site = ConnectWiseSite.Normalize(connection.SiteUrl, connection.AllowInsecureHttp);
        Health = health;
    }

    public PsaVendor Vendor => PsaVendor.ConnectWise;

    public IPsaConnectionHealth Health { get; }

    /// <summary>The codebase in use (e.g. <c>v2025_1/</c>), once discovered.</summary>
    internal string? Codebase => Volatile.Read(ref _codebase);

    public async Task<PsaSystemInfo> GetSystemInfoAsync(CancellationToken cancellationToken = default)
    {
        var info = await GetAsync(new ConnectWiseCall("GetSystemInfo", "System > API access"), "system/info", Json.CwSystemInfo, cancellationToken).ConfigureAwait(false);
        return new PsaSystemInfo(info.Version ?? string.Empty, info.IsCloud ?? false, info.CloudRegion);
    }

    public async Task<IReadOnlyList<ConnectWiseSecurityLevel>> GetMySecurityAsync(CancellationToken cancellationToken = default)
    {
        var levels = new List<ConnectWiseSecurityLevel>();
        await foreach (var row in ListAsync(new ConnectWiseCall("GetMySecurity", "System > My Security"), "system/mySecurity", null, Json.ListCwSecuritySetting, forwardOnly: false, cancellationToken).ConfigureAwait(false))
        {
            levels.Add(new ConnectWiseSecurityLevel(row.ModuleIdentifier ?? string.Empty, row.ModuleName ?? string.Empty, row.ModuleFunctionIdentifier ?? string.Empty,
                row.ModuleFunctionName ?? string.Empty, row.AddLevel ?? "None", row.EditLevel ?? "None", row.DeleteLevel ?? "None", row.InquireLevel ?? "None"));
        }

        return levels;
    }

    public IAsyncEnumerable<PsaCompany> ListCompaniesAsync(CancellationToken cancellationToken = default) => ListCompaniesAsync(null, cancellationToken);

    public async IAsyncEnumerable<PsaCompany> ListCompaniesAsync(ConnectWiseCondition? conditions, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var company in ListAsync(new ConnectWiseCall("ListCompanies", CompanyMaintenance), "company/companies", conditions, Json.ListCwCompany, forwardOnly: true, cancellationToken).ConfigureAwait(false))
        {
            yield return new PsaCompany(company.Id, company.Name ?? string.Empty, company.Identifier, company.Status?.Name, company.DeletedFlag != true, company.Website);
        }
    }

    public async IAsyncEnumerable<PsaReference> ListCompanyStatusesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var status in ListAsync(new ConnectWiseCall("ListCompanyStatuses", CompanyMaintenance), "company/companies/statuses", null, Json.ListCwCompanyStatus, forwardOnly: false, cancellationToken).ConfigureAwait(false))
        {
            yield return new PsaReference(status.Id, status.Name ?? string.Empty, status.DefaultFlag == true, status.InactiveFlag == true);
        }
    }

    public async IAsyncEnumerable<PsaContact> ListContactsAsync(ConnectWiseCondition? conditions, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var contact in ListAsync(new ConnectWiseCall("ListContacts", "Company > Contacts"), "company/contacts", conditions, Json.ListCwContact, forwardOnly: true, cancellationToken).ConfigureAwait(false))
        {
            yield return new PsaContact(contact.Id, contact.Company?.Id, contact.FirstName ?? string.Empty, contact.LastName ?? string.Empty, contact.InactiveFlag != true);
        }
    }

    public async IAsyncEnumerable<PsaReference> ListBoardsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var board in ListAsync(new ConnectWiseCall("ListBoards", ServiceBoards), "service/boards", null, Json.ListCwBoard, forwardOnly: false, cancellationToken).ConfigureAwait(false))
        {
            yield return new PsaReference(board.Id, board.Name ?? string.Empty, IsInactive: board.InactiveFlag == true);
        }
    }

    public async IAsyncEnumerable<PsaBoardTeam> ListBoardTeamsAsync(long boardId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var call = new ConnectWiseCall("ListBoardTeams", ServiceBoards, $"service board {boardId}");
        await foreach (var team in ListAsync(call, $"service/boards/{boardId}/teams", null, Json.ListCwBoardTeam, forwardOnly: false, cancellationToken).ConfigureAwait(false))
        {
            yield return new PsaBoardTeam(team.Id, team.BoardId ?? boardId, team.Name ?? string.Empty, team.DefaultFlag == true);
        }
    }

    public async IAsyncEnumerable<PsaBoardStatus> ListBoardStatusesAsync(long boardId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var call = new ConnectWiseCall("ListBoardStatuses", ServiceBoards, $"service board {boardId}");
        await foreach (var status in ListAsync(call, $"service/boards/{boardId}/statuses", null, Json.ListCwBoardStatus, forwardOnly: false, cancellationToken).ConfigureAwait(false))
        {
            yield return new PsaBoardStatus(status.Id, status.Board?.Id ?? boardId, status.Name ?? string.Empty, status.ClosedStatus == true, status.DefaultFlag == true,
                status.Inactive == true, status.SortOrder ?? 0);
        }
    }

    public async IAsyncEnumerable<PsaReference> ListPrioritiesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var priority in ListAsync(new ConnectWiseCall("ListPriorities", "Service > Priority"), "service/priorities", null, Json.ListCwPriority, forwardOnly: false, cancellationToken).ConfigureAwait(false))
        {
            yield return new PsaReference(priority.Id, priority.Name ?? string.Empty, priority.DefaultFlag == true);
        }
    }

    public async IAsyncEnumerable<PsaReference> ListSourcesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var source in ListAsync(new ConnectWiseCall("ListSources", "Service > Sources"), "service/sources", null, Json.ListCwSource, forwardOnly: false, cancellationToken).ConfigureAwait(false))
        {
            yield return new PsaReference(source.Id, source.Name ?? string.Empty, source.DefaultFlag == true);
        }
    }

    public async Task<PsaTicket> GetTicketAsync(long ticketId, CancellationToken cancellationToken = default) =>
        ToTicket(await GetAsync(new ConnectWiseCall("GetTicket", ServiceTickets, $"ticket {ticketId}"), $"service/tickets/{ticketId}", Json.CwTicket, cancellationToken).ConfigureAwait(false));

    public async IAsyncEnumerable<PsaTicket> ListTicketsAsync(ConnectWiseCondition? conditions, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var ticket in ListAsync(new ConnectWiseCall("ListTickets", ServiceTickets), "service/tickets", conditions, Json.ListCwTicket, forwardOnly: true, cancellationToken).ConfigureAwait(false))
        {
            yield return ToTicket(ticket);
        }
    }

    public async Task<PsaTicket> CreateTicketAsync(PsaTicketDraft ticket, CancellationToken cancellationToken = default)
    {
        var body = new CwTicket
        {
            Summary = ticket.Summary,
            Company = CwReference.ById(ticket.CompanyId),
            Board = CwReference.ById(ticket.BoardId),
            Status = CwReference.ById(ticket.StatusId),
            Priority = CwReference.ById(ticket.PriorityId),
            Source = CwReference.ById(ticket.SourceId),
            Contact = CwReference.ById(ticket.ContactId),
            InitialDescription = ticket.Description,
            ExternalXRef = ticket.ExternalReference,
        };
        var call = new ConnectWiseCall("CreateTicket", ServiceTickets, "the new ticket");
        return ToTicket(await SendJsonAsync(call, HttpMethod.Post, "service/tickets", () => Content(body, Json.CwTicket), Json.CwTicket, cancellationToken).ConfigureAwait(false));
    }

    public async Task<PsaTicket> UpdateTicketAsync(long ticketId, PsaTicketChange change, CancellationToken cancellationToken = default)
    {
        var operations = new List<CwPatchOperation>();
        if (change.Summary is not null)
        {
            operations.Add(new CwPatchOperation("replace", "summary", change.Summary));
        }

        if (change.StatusId is { } statusId)
        {
            operations.Add(new CwPatchOperation("replace", "status", CwReference.ById(statusId)));
        }

        if (change.PriorityId is { } priorityId)
        {
            operations.Add(new CwPatchOperation("replace", "priority", CwReference.ById(priorityId)));
        }

        return operations.Count == 0 ? await GetTicketAsync(ticketId, cancellationToken).ConfigureAwait(false) : await PatchTicketAsync(ticketId, operations, cancellationToken).ConfigureAwait(false);
    }

    public async Task<long> AddTicketNoteAsync(long ticketId, string text, bool internalNote, CancellationToken cancellationToken = default)
    {
        var note = new CwServiceNote
        {
            Text = text,
            DetailDescriptionFlag = !internalNote,
            InternalAnalysisFlag = internalNote,
        };
        var call = new ConnectWiseCall("AddTicketNote", ServiceTickets, $"a note on ticket {ticketId}");
        var created = await SendJsonAsync(call, HttpMethod.Post, $"service/tickets/{ticketId}/notes", () => Content(note, Json.CwServiceNote), Json.CwServiceNote, cancellationToken).ConfigureAwait(false);
        return created.Id ?? 0;
    }

    public async Task<PsaTicket> CloseTicketAsync(long ticketId, CancellationToken cancellationToken = default)
    {
        var ticket = await GetTicketAsync(ticketId, cancellationToken).ConfigureAwait(false);
        if (ticket.IsClosed)
        {
            return ticket;
        }

        var boardId = ticket.BoardId ?? throw new PsaException(Vendor, PsaErrorKind.Validation, $"ConnectWise ticket {ticketId} has no service board, so PsaPortal cannot tell which status closes it.");
        var closedStatus = await ListBoardStatusesAsync(boardId, cancellationToken)
            .Where(s => s.IsClosed && !s.IsInactive)
            .OrderBy(s => s.SortOrder)
            .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new PsaException(Vendor, PsaErrorKind.Validation, $"Service board {boardId} has no active closed status. Add one in ConnectWise (Setup Tables > Service Board > Statuses) so PsaPortal can close tickets.");
        var closed = await PatchTicketAsync(ticketId, [new CwPatchOperation("replace", "status", CwReference.ById(closedStatus.Id))], cancellationToken).ConfigureAwait(false);
        if (!closed.IsClosed)
        {
            // ConnectWise answers 200 and leaves the ticket open when the current status does not allow closing.
            throw new PsaException(Vendor, PsaErrorKind.Validation, $"ConnectWise kept ticket {ticketId} open after it was set to \"{closedStatus.Name}\". Check the status workflow of the board in ConnectWise.");
        }

        return closed;
    }

    public IAsyncEnumerable<PsaAgreement> ListAgreementsAsync(long companyId, CancellationToken cancellationToken = default) =>
        ListAgreementsAsync(ConnectWiseCondition.Field("company/id").EqualTo(companyId), cancellationToken);

    public async IAsyncEnumerable<PsaAgreement> ListAgreementsAsync(ConnectWiseCondition? conditions, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var agreement in ListAsync(new ConnectWiseCall("ListAgreements", Agreements), "finance/agreements", conditions, Json.ListCwAgreement, forwardOnly: true, cancellationToken).ConfigureAwait(false))
        {
            yield return new PsaAgreement(agreement.Id, agreement.Company?.Id ?? 0, agreement.Name ?? string.Empty, agreement.Type?.Name, ToDate(agreement.StartDate), ToDate(agreement.EndDate),
                agreement.AgreementStatus, agreement.CancelledFlag == true);
        }
    }

    public async IAsyncEnumerable<PsaReference> ListAgreementTypesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var type in ListAsync(new ConnectWiseCall("ListAgreementTypes", Agreements), "finance/agreements/types", null, Json.ListCwAgreementType, forwardOnly: false, cancellationToken).ConfigureAwait(false))
        {
            yield return new PsaReference(type.Id, type.Name ?? string.Empty, type.DefaultFlag == true, type.InactiveFlag == true);
        }
    }

    public IAsyncEnumerable<PsaAgreementLine> ListAgreementLinesAsync(IReadOnlyCollection<long> agreementIds, CancellationToken cancellationToken = default) =>
        ListAdditionsAsync(agreementIds, null, cancellationToken);

    public async IAsyncEnumerable<PsaAgreementLine> ListAdditionsAsync(IEnumerable<long> agreementIds, ConnectWiseCondition? conditions, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var batch in agreementIds.Distinct().Chunk(Math.Max(1, _options.ParallelReads)))
        {
            var reads = batch.Select(agreementId => ListAsync(
                    new ConnectWiseCall("ListAdditions", Agreements, $"agreement {agreementId}"), $"finance/agreements/{agreementId}/additions", conditions, Json.ListCwAddition, forwardOnly: true, cancellationToken)
                .Select(addition => ToLine(addition, agreementId))
                .ToListAsync(cancellationToken).AsTask()).ToList();
            // Awaited together so that a failure in one read never leaves the others unobserved.
            foreach (var line in (await Task.WhenAll(reads).ConfigureAwait(false)).SelectMany(batchLines => batchLines))
            {
                yield return line;
            }
        }
    }

    public async Task<PsaAgreementLine> CreateAdditionAsync(long agreementId, PsaAdditionDraft addition, CancellationToken cancellationToken = default)
    {
        var body = new CwAddition
        {
            Product = CwReference.ById(addition.ProductId),
            Quantity = addition.Quantity,
            BillCustomer = "Billable",
            EffectiveDate = ToDateTime(addition.EffectiveDate),
            UnitPrice = addition.UnitPrice,
            UnitCost = addition.UnitCost,
            InvoiceDescription = addition.InvoiceDescription,
        };
        var call = new ConnectWiseCall("CreateAddition", Agreements, $"the new addition on agreement {agreementId}");
        var created = await SendJsonAsync(call, HttpMethod.Post, $"finance/agreements/{agreementId}/additions", () => Content(body, Json.CwAddition), Json.CwAddition, cancellationToken).ConfigureAwait(false);
        return ToLine(created, agreementId);
    }

    public Task<PsaAgreementLine> SetAdditionQuantityAsync(long agreementId, long additionId, decimal quantity, CancellationToken cancellationToken = default) =>
        PatchAdditionAsync(agreementId, additionId, new CwPatchOperation("replace", "quantity", quantity), cancellationToken);

    public Task<PsaAgreementLine> CancelAdditionAsync(long agreementId, long additionId, DateOnly cancelledDate, CancellationToken cancellationToken = default) =>
        PatchAdditionAsync(agreementId, additionId, new CwPatchOperation("replace", "cancelledDate", FormatDate(cancelledDate)), cancellationToken);

    public async IAsyncEnumerable<PsaProduct> ListCatalogAsync(ConnectWiseCondition? conditions, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in ListAsync(new ConnectWiseCall("ListCatalog", ProductCatalog), "procurement/catalog", conditions, Json.ListCwCatalogItem, forwardOnly: true, cancellationToken).ConfigureAwait(false))
        {
            yield return ToProduct(item);
        }
    }

    public async Task<PsaProduct> CreateCatalogItemAsync(PsaProductDraft product, CancellationToken cancellationToken = default)
    {
        var body = new CwCatalogItem
        {
            Identifier = product.Identifier,
            Description = product.Description,
            CustomerDescription = product.CustomerDescription ?? product.Description,
            Subcategory = CwReference.ById(product.SubcategoryId),
            Type = CwReference.ById(product.TypeId),
            ProductClass = "Agreement",
            Price = product.Price,
            Cost = product.Cost,
        };
        var call = new ConnectWiseCall("CreateCatalogItem", ProductCatalog, $"catalog item {product.Identifier}");
        return ToProduct(await SendJsonAsync(call, HttpMethod.Post, "procurement/catalog", () => Content(body, Json.CwCatalogItem), Json.CwCatalogItem, cancellationToken).ConfigureAwait(false));
    }

    public async Task<PsaProduct> UpdateCatalogItemAsync(long catalogItemId, PsaProductChange change, CancellationToken cancellationToken = default)
    {
        var operations = new List<CwPatchOperation>();
        if (change.Description is { } description)
        {
            operations.Add(new CwPatchOperation("replace", "description", description));
            operations.Add(new CwPatchOperation("replace", "customerDescription", description));
        }

        if (change.Price is { } price)
        {
            operations.Add(new CwPatchOperation("replace", "price", price));
        }

        if (change.Cost is { } cost)
        {
            operations.Add(new CwPatchOperation("replace", "cost", cost));
        }

        var call = new ConnectWiseCall("UpdateCatalogItem", ProductCatalog, $"catalog item {catalogItemId}");
        if (operations.Count == 0)
        {
            return ToProduct(await GetAsync(call, $"procurement/catalog/{catalogItemId}", Json.CwCatalogItem, cancellationToken).ConfigureAwait(false));
        }

        return ToProduct(await SendJsonAsync(call, HttpMethod.Patch, $"procurement/catalog/{catalogItemId}", () => Content(operations, Json.ListCwPatchOperation), Json.CwCatalogItem, cancellationToken)
            .ConfigureAwait(false));
    }

    public async IAsyncEnumerable<PsaDocument> ListAgreementDocumentsAsync(long agreementId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var call = new ConnectWiseCall("ListAgreementDocuments", "System > Documents", $"documents of agreement {agreementId}");
        var path = "system/documents?recordType=Agreement&recordId=" + agreementId.ToString(CultureInfo.InvariantCulture) + "&pageSize=" + _options.PageSize.ToString(CultureInfo.InvariantCulture);
        foreach (var document in await GetAsync(call, path, Json.ListCwDocumentInfo, cancellationToken).ConfigureAwait(false))
        {
            yield return new PsaDocument(document.Id, document.Title ?? document.FileName ?? string.Empty, document.FileName ?? string.Empty);
        }
    }

    public async Task<byte[]> DownloadDocumentAsync(long documentId, CancellationToken cancellationToken = default)
    {
        var call = new ConnectWiseCall("DownloadDocument", "System > Documents", $"document {documentId}");
        var (response, _) = await SendAsync(call, root => Request(HttpMethod.Get, root, $"system/documents/{documentId}/download", forwardOnly: false), cancellationToken).ConfigureAwait(false);
        using (response)
        {
            return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<PsaDocument> UploadAgreementDocumentAsync(long agreementId, string fileName, ReadOnlyMemory<byte> content, string? title = null, CancellationToken cancellationToken = default)
    {
        HttpContent Form()
        {
            var file = new ByteArrayContent(content.ToArray());
            file.Headers.ContentType = new MediaTypeHeaderValue(fileName.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? "text/csv" : "application/octet-stream");
            return new MultipartFormDataContent
            {
                { new StringContent("Agreement"), "recordType" },
                { new StringContent(agreementId.ToString(CultureInfo.InvariantCulture)), "recordId" },
                { new StringContent(title ?? fileName), "title" },
                { file, "file", fileName },
            };
        }

        var call = new ConnectWiseCall("UploadAgreementDocument", "System > Documents", $"document {fileName} for agreement {agreementId}");
        var document = await SendJsonAsync(call, HttpMethod.Post, "system/documents", Form, Json.CwDocumentInfo, cancellationToken).ConfigureAwait(false);
        return new PsaDocument(document.Id, document.Title ?? title ?? fileName, document.FileName ?? fileName);
    }

    public async Task ProbeAsync(string collectionPath, string area, CancellationToken cancellationToken)
    {
        var call = new ConnectWiseCall("ProbePermission", area, collectionPath);
        var (response, _) = await SendAsync(call, root => Request(HttpMethod.Get, root, collectionPath + "?pageSize=1&fields=id", forwardOnly: false), cancellationToken).ConfigureAwait(false);
        response.Dispose();
    }

    private async Task<PsaTicket> PatchTicketAsync(long ticketId, List<CwPatchOperation> operations, CancellationToken cancellationToken)
    {
        var call = new ConnectWiseCall("UpdateTicket", ServiceTickets, $"ticket {ticketId}");
        return ToTicket(await SendJsonAsync(call, HttpMethod.Patch, $"service/tickets/{ticketId}", () => Content(operations, Json.ListCwPatchOperation), Json.CwTicket, cancellationToken).ConfigureAwait(false));
    }

    private async Task<PsaAgreementLine> PatchAdditionAsync(long agreementId, long additionId, CwPatchOperation operation, CancellationToken cancellationToken)
    {
        var call = new ConnectWiseCall("UpdateAddition", Agreements, $"addition {additionId} on agreement {agreementId}");
        var updated = await SendJsonAsync(call, HttpMethod.Patch, $"finance/agreements/{agreementId}/additions/{additionId}", () => Content(new List<CwPatchOperation> { operation }, Json.ListCwPatchOperation),
            Json.CwAddition, cancellationToken).ConfigureAwait(false);
        return ToLine(updated, agreementId);
    }

    /// <summary>
    /// Walks a collection page by page through the Link header's <c>next</c>. Forward-only paging
    /// (keyed on id) is used for sets that may be large or change while being read.
    /// </summary>
    private async IAsyncEnumerable<T> ListAsync<T>(ConnectWiseCall call, string path, ConnectWiseCondition? conditions, JsonTypeInfo<List<T>> type, bool forwardOnly,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = new StringBuilder(path).Append("?pageSize=").Append(_options.PageSize.ToString(CultureInfo.InvariantCulture));
        if (conditions is not null)
        {
            query.Append("&conditions=").Append(Uri.EscapeDataString(conditions.Text));
        }

        string? next = query.ToString();
        while (next is not null)
        {
            var relative = next;
            var (response, root) = await SendAsync(call, apiRoot => Request(HttpMethod.Get, apiRoot, relative, forwardOnly), cancellationToken).ConfigureAwait(false);
            List<T>? page;
            using (response)
            {
                page = await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false);
                next = NextLink(response, root);
            }

            foreach (var item in page ?? [])
            {
                yield return item;
            }
        }
    }

    private static string? NextLink(HttpResponseMessage response, Uri apiRoot)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        foreach (Match match in LinkPattern().Matches(string.Join(",", values)))
        {
            if (!match.Groups["rel"].Value.Equals("next", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            // Kept relative to the API root so a codebase rediscovery mid-walk still reaches the right site.
            var url = match.Groups["url"].Value;
            var root = apiRoot.AbsoluteUri;
            return url.StartsWith(root, StringComparison.OrdinalIgnoreCase) ? url[root.Length..] : url;
        }

        return null;
    }

    [GeneratedRegex("<(?<url>[^>]+)>\\s*;\\s*rel=\"?(?<rel>[A-Za-z]+)\"?", RegexOptions.CultureInvariant)]
    private static partial Regex LinkPattern();

    private async Task<T> GetAsync<T>(ConnectWiseCall call, string relative, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        var (response, _) = await SendAsync(call, root => Request(HttpMethod.Get, root, relative, forwardOnly: false), cancellationToken).ConfigureAwait(false);
        using (response)
        {
            return await Read(response, type, call, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <param name="content">Builds the body; a resend after codebase rediscovery needs a fresh one.</param>
    private async Task<T> SendJsonAsync<T>(ConnectWiseCall call, HttpMethod method, string relative, Func<HttpContent> content, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        var (response, _) = await SendAsync(call, root =>
        {
            var request = Request(method, root, relative, forwardOnly: false);
            request.Content = content();
            return request;
        }, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            return await Read(response, type, call, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<T> Read<T>(HttpResponseMessage response, JsonTypeInfo<T> type, ConnectWiseCall call, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
        ?? throw new PsaException(PsaVendor.ConnectWise, PsaErrorKind.NotFound, $"ConnectWise returned nothing for {call.Subject ?? call.Operation}.", response.StatusCode);

    /// <summary>Sends on the current codebase; on ConnectWise's "cannot route" 404 it rediscovers the codebase once and resends.</summary>
    private async Task<(HttpResponseMessage Response, Uri ApiRoot)> SendAsync(ConnectWiseCall call, Func<Uri, HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        var codebase = await CodebaseAsync(cancellationToken).ConfigureAwait(false);
        var root = ApiRoot(codebase);
        var response = await SendOnceAsync(call, build(root), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound && await IsCodebaseInvalidAsync(response, cancellationToken).ConfigureAwait(false))
        {
            var rediscovered = await RediscoverAsync(codebase, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(rediscovered, codebase, StringComparison.OrdinalIgnoreCase))
            {
                response.Dispose();
                root = ApiRoot(rediscovered);
                response = await SendOnceAsync(call, build(root), cancellationToken).ConfigureAwait(false);
            }
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await ConnectWiseErrors.ToExceptionAsync(response, call, cancellationToken).ConfigureAwait(false);
            }
        }

        return (response, root);
    }

    private Task<HttpResponseMessage> SendOnceAsync(ConnectWiseCall call, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Options.Set(PsaRequestOptions.Operation, call.Operation);
        request.Options.Set(PsaRequestOptions.CorrelationId, call.CorrelationId);
        return _http.SendAsync(request, cancellationToken);
    }

    private static async Task<bool> IsCodebaseInvalidAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Contains(ConnectWiseErrors.CodebaseInvalidText, StringComparison.OrdinalIgnoreCase);

    private Uri ApiRoot(string codebase) => new(_site, codebase + "apis/3.0/");

    private async Task<string> CodebaseAsync(CancellationToken cancellationToken) =>
        Codebase ?? await RediscoverAsync(known: null, cancellationToken).ConfigureAwait(false);

    /// <summary>Asks <c>login/companyinfo</c> for the codebase unless another caller already replaced <paramref name="known"/>.</summary>
    private async Task<string> RediscoverAsync(string? known, CancellationToken cancellationToken)
    {
        await _discovery.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = Codebase;
            if (current is not null && !string.Equals(current, known, StringComparison.OrdinalIgnoreCase))
            {
                return current;
            }

            var call = new ConnectWiseCall("DiscoverCodebase", "the site", $"company {_connection.CompanyId}");
            var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_site, "login/companyinfo/" + Uri.EscapeDataString(_connection.CompanyId)));
            request.Options.Set(PsaRequestOptions.Anonymous, true);
            using var response = await SendOnceAsync(call, request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new PsaException(Vendor, response.StatusCode == HttpStatusCode.NotFound ? PsaErrorKind.NotFound : PsaErrorKind.Unavailable,
                    $"PsaPortal could not read the company information of {_site.Host} ({(int)response.StatusCode}). Check the site URL.", response.StatusCode);
            }

            var info = await ReadCompanyInfoAsync(response, cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrWhiteSpace(info?.Codebase))
            {
                throw new PsaException(Vendor, PsaErrorKind.Unauthorized,
                    $"ConnectWise at {_site.Host} does not know the Company ID \"{_connection.CompanyId}\". Check the Company ID you sign in with.", response.StatusCode);
            }

            var codebase = info.Codebase.Trim().Trim('/') + "/";
            Volatile.Write(ref _codebase, codebase);
            return codebase;
        }
        finally
        {
            _discovery.Release();
        }
    }

    private static async Task<CwCompanyInfo?> ReadCompanyInfoAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(Json.CwCompanyInfo, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static HttpRequestMessage Request(HttpMethod method, Uri apiRoot, string relative, bool forwardOnly)
    {
        var request = new HttpRequestMessage(method, new Uri(apiRoot, relative));
        if (forwardOnly)
        {
            request.Headers.TryAddWithoutValidation("pagination-type", "forward-only");
        }

        return request;
    }

    private static StringContent Content<T>(T value, JsonTypeInfo<T> type) =>
        new(JsonSerializer.Serialize(value, type), Encoding.UTF8, "application/json");

    private static PsaTicket ToTicket(CwTicket ticket) => new(
        ticket.Id ?? 0, ticket.Summary ?? string.Empty, ticket.Company?.Id ?? 0, ticket.Board?.Id, ticket.Status?.Id, ticket.Status?.Name, ticket.Priority?.Id, ticket.ClosedFlag == true,
        ticket.ExternalXRef, ticket.Id?.ToString(CultureInfo.InvariantCulture));

    private static PsaAgreementLine ToLine(CwAddition addition, long agreementId) => new(
        addition.Id ?? 0, addition.AgreementId ?? agreementId, addition.Product?.Id ?? 0, addition.Product?.Identifier, addition.Quantity, addition.UnitPrice, addition.UnitCost,
        ToDate(addition.EffectiveDate), ToDate(addition.CancelledDate), addition.Description, addition.InvoiceDescription);

    private static PsaProduct ToProduct(CwCatalogItem item) => new(
        item.Id ?? 0, item.Identifier ?? string.Empty, item.Description ?? string.Empty, item.Price, item.Cost, item.InactiveFlag == true, item.Subcategory?.Id, item.Type?.Id);

    private static DateOnly? ToDate(DateTimeOffset? value) => value is { } date ? DateOnly.FromDateTime(date.UtcDateTime) : null;

    private static DateTimeOffset ToDateTime(DateOnly date) => new(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    private static string FormatDate(DateOnly date) => date.ToString("yyyy-MM-dd'T00:00:00Z'", CultureInfo.InvariantCulture);
}
