using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using PsaPortal.Integrations.Autotask.Models;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations.Autotask;

/// <summary>
/// <see cref="IAutotaskApi"/> over an <see cref="HttpClient"/> whose handlers add authentication,
/// resilience and call recording (built by <see cref="PsaClientFactory"/>). Owns the zone: discovered
/// by username on first use, cached, and re-resolved once when a call answers 401 (databases move
/// between zones). Keeps the hourly threshold reading fresh for the request budget.
/// </summary>
internal sealed class AutotaskApi : IAutotaskApi
{
    private static readonly AutotaskJsonContext Json = AutotaskJsonContext.Default;
    private static readonly TimeSpan ThresholdRefresh = TimeSpan.FromMinutes(10);
    private const int RecurringServiceContract = 7;

    private readonly HttpClient _http;
    private readonly AutotaskConnection _connection;
    private readonly AutotaskOptions _options;
    private readonly AutotaskRequestBudget _budget;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _zoneLock = new(1, 1);
    private readonly SemaphoreSlim _thresholdLock = new(1, 1);
    private Uri? _apiRoot;
    private Uri? _webUrl;

    public AutotaskApi(HttpClient http, AutotaskConnection connection, AutotaskOptions options, AutotaskRequestBudget budget, TimeProvider time, IPsaConnectionHealth health)
    {
        _http = http;
        _connection = connection;
        _options = options;
        _budget = budget;
        _time = time;
        Health = health;
    }

    public PsaVendor Vendor => PsaVendor.Autotask;

    public IPsaConnectionHealth Health { get; }

    /// <summary>The zone's REST root (…/ATServicesRest/V1.0/), once discovered.</summary>
    internal Uri? ApiRoot => Volatile.Read(ref _apiRoot);

    public async Task<AutotaskThreshold> GetThresholdInformationAsync(CancellationToken cancellationToken = default)
    {
        var call = new AutotaskCall("GetThresholdInformation", "ThresholdInformation", "query");
        var reading = await GetAsync(call, "ThresholdInformation", Json.AtThresholdInformation, refreshThreshold: false, cancellationToken).ConfigureAwait(false);
        var threshold = new AutotaskThreshold(reading.ExternalRequestThreshold, reading.RequestThresholdTimeframe, reading.CurrentTimeframeRequestCount);
        _budget.Observe(threshold);
        return threshold;
    }

    public async Task<AutotaskEntityAccess> GetEntityInformationAsync(string entity, CancellationToken cancellationToken = default)
    {
        var call = new AutotaskCall("GetEntityInformation", entity, "read the information of", entity);
        var info = (await GetAsync(call, $"{Segment(entity)}/entityInformation", Json.AtEntityInformation, refreshThreshold: true, cancellationToken).ConfigureAwait(false)).Info
            ?? throw new PsaException(Vendor, PsaErrorKind.NotFound, $"Autotask returned no entity information for {entity}.");
        return new AutotaskEntityAccess(entity, info.CanQuery, info.CanCreate, info.CanUpdate, info.UserAccessForQuery ?? "None", info.UserAccessForCreate ?? "None", info.UserAccessForUpdate ?? "None");
    }

    public async Task<IReadOnlyList<AutotaskFieldInfo>> GetFieldsAsync(string entity, CancellationToken cancellationToken = default)
    {
        var call = new AutotaskCall("GetFields", entity, "read the fields of", entity);
        var fields = await GetAsync(call, $"{Segment(entity)}/entityInformation/fields", Json.AtFieldInformation, refreshThreshold: true, cancellationToken).ConfigureAwait(false);
        return [.. (fields.Fields ?? []).Select(f => new AutotaskFieldInfo(f.Name, f.DataType ?? "string", f.IsRequired, f.IsReadOnly,
            [.. (f.PicklistValues ?? []).OrderBy(p => p.SortOrder).Select(p => new AutotaskPicklistValue(p.Value, p.Label ?? p.Value, p.IsDefaultValue, p.IsActive))]))];
    }

    public async Task<long> CountAsync(string entity, AutotaskFilter? filter, CancellationToken cancellationToken = default)
    {
        var call = new AutotaskCall("Count", entity, "query");
        long total = 0;
        foreach (var query in Split(filter))
        {
            var result = await SendJsonAsync(call, HttpMethod.Post, $"{Segment(entity)}/query/count", () => Content(query, Json.AtQuery), Json.AtCountResult, retrySafe: true, cancellationToken).ConfigureAwait(false);
            total += result.QueryCount;
        }

        return total;
    }

    public IAsyncEnumerable<PsaCompany> ListCompaniesAsync(CancellationToken cancellationToken = default) => QueryCompaniesAsync(null, cancellationToken);

    public IAsyncEnumerable<PsaCompany> QueryCompaniesAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default) =>
        QueryAsync(new AutotaskCall("QueryCompanies", "Companies", "query"), filter, Json.AtQueryResultAtCompany, cancellationToken)
            .Select(c => new PsaCompany(c.Id, c.CompanyName ?? string.Empty, c.CompanyNumber, null, c.IsActive != false, c.WebAddress));

    public async Task<Uri?> GetWebUrlAsync(CancellationToken cancellationToken = default)
    {
        await ZoneAsync(known: null, cancellationToken).ConfigureAwait(false);
        return Volatile.Read(ref _webUrl);
    }

    public async Task<PsaTicket> GetTicketAsync(long ticketId, CancellationToken cancellationToken = default)
    {
        var call = new AutotaskCall("GetTicket", "Tickets", "query", $"ticket {ticketId}");
        var result = await GetAsync(call, $"Tickets/{ticketId}", Json.AtItemResultAtTicket, refreshThreshold: true, cancellationToken).ConfigureAwait(false);

        // Autotask answers a missing id with 200 and a null item.
        return ToTicket(result.Item ?? throw new PsaException(Vendor, PsaErrorKind.NotFound, $"Autotask could not find ticket {ticketId}. It may have been deleted or merged."));
    }

    public IAsyncEnumerable<PsaTicket> QueryTicketsAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default) =>
        QueryAsync(new AutotaskCall("QueryTickets", "Tickets", "query"), filter, Json.AtQueryResultAtTicket, cancellationToken).Select(ToTicket);

    public async Task<PsaTicket> CreateTicketAsync(PsaTicketDraft ticket, CancellationToken cancellationToken = default)
    {
        if (ticket.StatusId is null || ticket.PriorityId is null)
        {
            throw new PsaException(Vendor, PsaErrorKind.Validation, "Autotask needs a status and a priority for a new ticket. Choose them in the ticketing settings.");
        }

        var body = new AtTicket
        {
            CompanyID = ticket.CompanyId,
            Title = ticket.Summary,
            Description = ticket.Description,
            QueueID = ticket.BoardId,
            Status = (int)ticket.StatusId.Value,
            Priority = (int)ticket.PriorityId.Value,
            ContactID = ticket.ContactId,
            Source = ticket.SourceId is { } source ? (int)source : null,
            ExternalID = ticket.ExternalReference,
        };
        var call = new AutotaskCall("CreateTicket", "Tickets", "create", "the new ticket");
        var created = await SendJsonAsync(call, HttpMethod.Post, "Tickets", () => Content(body, Json.AtTicket), Json.AtCreateResult, retrySafe: false, cancellationToken).ConfigureAwait(false);
        return await GetTicketAsync(created.ItemId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<PsaTicket> UpdateTicketAsync(long ticketId, PsaTicketChange change, CancellationToken cancellationToken = default)
    {
        var body = new AtTicket
        {
            Id = ticketId,
            Title = change.Summary,
            Status = change.StatusId is { } status ? (int)status : null,
            Priority = change.PriorityId is { } priority ? (int)priority : null,
            Description = change.Description,
        };
        var call = new AutotaskCall("UpdateTicket", "Tickets", "update", $"ticket {ticketId}");

        // PATCH is sparse and goes to the collection with the id in the body; sending it twice changes nothing.
        await SendJsonAsync(call, HttpMethod.Patch, "Tickets", () => Content(body, Json.AtTicket), Json.AtCreateResult, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return await GetTicketAsync(ticketId, cancellationToken).ConfigureAwait(false);
    }

    public Task<PsaTicket> SetTicketStatusAsync(long ticketId, int status, CancellationToken cancellationToken = default) =>
        UpdateTicketAsync(ticketId, new PsaTicketChange(StatusId: status), cancellationToken);

    public IAsyncEnumerable<PsaAgreement> ListAgreementsAsync(long companyId, CancellationToken cancellationToken = default) =>
        QueryContractsAsync(AutotaskFilter.Where("companyID").Equal(companyId), cancellationToken);

    public IAsyncEnumerable<PsaAgreement> QueryContractsAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default) =>
        QueryAsync(new AutotaskCall("QueryContracts", "Contracts", "query"), filter, Json.AtQueryResultAtContract, cancellationToken)
            .Select(c => new PsaAgreement(c.Id, c.CompanyID ?? 0, c.ContractName ?? string.Empty, ContractTypeName(c.ContractType), ToDate(c.StartDate), ToDate(c.EndDate),
                c.Status == 1 ? "Active" : "Inactive", IsCancelled: false));

    public IAsyncEnumerable<PsaAgreementLine> ListAgreementLinesAsync(IReadOnlyCollection<long> agreementIds, CancellationToken cancellationToken = default) =>
        agreementIds.Count == 0 ? AsyncEnumerable.Empty<PsaAgreementLine>() : QueryContractServicesAsync(AutotaskFilter.Where("contractID").In(agreementIds), cancellationToken);

    public IAsyncEnumerable<PsaAgreementLine> QueryContractServicesAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default) =>
        QueryAsync(new AutotaskCall("QueryContractServices", "ContractServices", "query"), filter, Json.AtQueryResultAtContractService, cancellationToken)
            .Select(s => new PsaAgreementLine(s.Id, s.ContractID ?? 0, s.ServiceID ?? 0, null, null, s.UnitPrice, s.UnitCost, null, null, s.InvoiceDescription));

    public IAsyncEnumerable<PsaServiceUnits> QueryContractServiceUnitsAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default) =>
        QueryAsync(new AutotaskCall("QueryContractServiceUnits", "ContractServiceUnits", "query"), filter, Json.AtQueryResultAtContractServiceUnit, cancellationToken)
            .Select(u => new PsaServiceUnits(u.Id, u.ContractID ?? 0, u.ContractServiceID ?? 0, u.ServiceID ?? 0, ToDate(u.StartDate) ?? default, ToDate(u.EndDate) ?? default, u.Units ?? 0));

    public async Task<long> CreateContractServiceAdjustmentAsync(PsaUnitAdjustment adjustment, CancellationToken cancellationToken = default)
    {
        var body = new AtContractServiceAdjustment(adjustment.ContractId, adjustment.ContractServiceId, adjustment.EffectiveDate.ToDateTime(TimeOnly.MinValue), adjustment.UnitChange);
        var call = new AutotaskCall("CreateContractServiceAdjustment", "ContractServiceAdjustments", "create",
            $"the unit change of {adjustment.UnitChange} on contract service {adjustment.ContractServiceId}");
        var created = await SendJsonAsync(call, HttpMethod.Post, "ContractServiceAdjustments", () => Content(body, Json.AtContractServiceAdjustment), Json.AtCreateResult, retrySafe: false, cancellationToken)
            .ConfigureAwait(false);
        return created.ItemId;
    }

    public IAsyncEnumerable<PsaProduct> QueryServicesAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default) =>
        QueryAsync(new AutotaskCall("QueryServices", "Services", "query"), filter, Json.AtQueryResultAtService, cancellationToken)
            .Select(s => new PsaProduct(s.Id, s.Name ?? string.Empty, s.Description ?? s.Name ?? string.Empty, s.UnitPrice, s.UnitCost, s.IsActive == false));

    public IAsyncEnumerable<PsaResource> QueryResourcesAsync(AutotaskFilter? filter, CancellationToken cancellationToken = default) =>
        QueryAsync(new AutotaskCall("QueryResources", "Resources", "query"), filter, Json.AtQueryResultAtResource, cancellationToken)
            .Select(r => new PsaResource(r.Id, r.UserName ?? string.Empty, r.Email, r.FirstName ?? string.Empty, r.LastName ?? string.Empty, r.IsActive != false));

    /// <summary>
    /// Runs a query (POST, safe to resend) and follows <c>pageDetails.nextPageUrl</c> with the same
    /// method and body. An <c>in</c> over more values than Autotask accepts becomes several queries.
    /// </summary>
    private async IAsyncEnumerable<T> QueryAsync<T>(AutotaskCall call, AutotaskFilter? filter, JsonTypeInfo<AtQueryResult<T>> type, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var query in Split(filter))
        {
            var body = JsonSerializer.Serialize(query, Json.AtQuery);
            string? next = $"{call.Entity}/query";
            while (next is not null)
            {
                var target = next;
                var page = await SendJsonAsync(call, HttpMethod.Post, target, () => new StringContent(body, Encoding.UTF8, "application/json"), type, retrySafe: true, cancellationToken).ConfigureAwait(false);
                foreach (var item in page.Items ?? [])
                {
                    yield return item;
                }

                next = page.PageDetails?.NextPageUrl;
            }
        }
    }

    /// <summary>The query models to run: one, or one per chunk of each top-level <c>in</c> that is longer than Autotask allows.</summary>
    private List<AtQuery> Split(AutotaskFilter? filter)
    {
        IReadOnlyList<AutotaskFilter> items = filter is null ? [AutotaskFilter.Where("id").Exists()]
            : filter.Op == "and" && filter.Field is null ? filter.Items
            : [filter];
        var expanded = new List<IReadOnlyList<AutotaskFilter>> { items };
        var limit = _options.MaxInValues;
        for (var index = 0; index < items.Count; index++)
        {
            var item = items[index];
            if (item.Values is not { } values || values.Count <= limit)
            {
                continue;
            }

            var chunks = values.Chunk(limit).Select(chunk => item.WithValues(chunk)).ToList();
            var position = index;
            expanded = item.Op == "in"
                ? [.. expanded.SelectMany(query => chunks.Select(chunk => Replace(query, position, [chunk])))]
                : [.. expanded.Select(query => Replace(query, position, chunks))];
        }

        return [.. expanded.Select(query =>
        {
            EnsureNestedListsFit(query, limit);
            return new AtQuery { Filter = [.. query.Select(f => f.ToModel())], MaxRecords = _options.PageSize };
        })];
    }

    private static List<AutotaskFilter> Replace(IReadOnlyList<AutotaskFilter> query, int position, IReadOnlyList<AutotaskFilter> replacements)
    {
        var copy = query.ToList();
        copy.RemoveAt(position);
        copy.InsertRange(position, replacements);
        return copy;
    }

    private static void EnsureNestedListsFit(IEnumerable<AutotaskFilter> filters, int limit)
    {
        foreach (var filter in filters)
        {
            foreach (var nested in filter.Items)
            {
                if (nested.Values?.Count > limit)
                {
                    throw new ArgumentException($"An '{nested.Op}' on {nested.Field} inside an and/or group has {nested.Values.Count} values; Autotask allows {limit}. Put long lists at the top level, where PsaPortal splits them.");
                }

                EnsureNestedListsFit([nested], limit);
            }
        }
    }

    private async Task<T> GetAsync<T>(AutotaskCall call, string relative, JsonTypeInfo<T> type, bool refreshThreshold, CancellationToken cancellationToken)
    {
        if (refreshThreshold)
        {
            await RefreshThresholdAsync(cancellationToken).ConfigureAwait(false);
        }

        using var response = await SendAsync(call, root => new HttpRequestMessage(HttpMethod.Get, Resolve(root, relative)), cancellationToken).ConfigureAwait(false);
        return await Read(response, type, call, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> SendJsonAsync<T>(AutotaskCall call, HttpMethod method, string relative, Func<HttpContent> content, JsonTypeInfo<T> type, bool retrySafe, CancellationToken cancellationToken)
    {
        await RefreshThresholdAsync(cancellationToken).ConfigureAwait(false);
        using var response = await SendAsync(call, root =>
        {
            var request = new HttpRequestMessage(method, Resolve(root, relative)) { Content = content() };
            request.Options.Set(PsaRequestOptions.RetrySafe, retrySafe);
            return request;
        }, cancellationToken).ConfigureAwait(false);
        return await Read(response, type, call, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads ThresholdInformation when the last reading is missing or stale, so the budget knows the hourly limit.</summary>
    private async Task RefreshThresholdAsync(CancellationToken cancellationToken)
    {
        if (_budget.ThresholdReadAt is { } readAt && _time.GetUtcNow() - readAt < ThresholdRefresh)
        {
            return;
        }

        await _thresholdLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_budget.ThresholdReadAt is not { } again || _time.GetUtcNow() - again >= ThresholdRefresh)
            {
                await GetThresholdInformationAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _thresholdLock.Release();
        }
    }

    /// <summary>Sends in the cached zone; on 401 it asks for the zone again once and resends if the database moved.</summary>
    private async Task<HttpResponseMessage> SendAsync(AutotaskCall call, Func<Uri, HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        var root = await ZoneAsync(known: null, cancellationToken).ConfigureAwait(false);
        var response = await SendOnceAsync(call, build(root), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            var rediscovered = await ZoneAsync(root, cancellationToken).ConfigureAwait(false);
            if (rediscovered != root)
            {
                response.Dispose();
                response = await SendOnceAsync(call, build(rediscovered), cancellationToken).ConfigureAwait(false);
            }
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await AutotaskErrors.ToExceptionAsync(response, call, _connection.UserName, cancellationToken).ConfigureAwait(false);
            }
        }

        return response;
    }

    private Task<HttpResponseMessage> SendOnceAsync(AutotaskCall call, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Options.Set(PsaRequestOptions.Operation, call.Operation);
        request.Options.Set(PsaRequestOptions.CorrelationId, call.CorrelationId);
        return _http.SendAsync(request, cancellationToken);
    }

    /// <summary>The cached zone root; with <paramref name="known"/> set, asks zoneInformation again unless another caller already replaced it.</summary>
    private async Task<Uri> ZoneAsync(Uri? known, CancellationToken cancellationToken)
    {
        if (known is null && ApiRoot is { } cached)
        {
            return cached;
        }

        await _zoneLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = ApiRoot;
            if (current is not null && current != known)
            {
                return current;
            }

            var call = new AutotaskCall("DiscoverZone", "ZoneInformation", "query", $"the zone of {_connection.UserName}");
            var discovery = new Uri(EnsureSlash(_connection.ZoneDiscoveryUrl), "v1.0/zoneInformation?user=" + Uri.EscapeDataString(_connection.UserName));
            var request = new HttpRequestMessage(HttpMethod.Get, discovery);
            request.Options.Set(PsaRequestOptions.Anonymous, true);
            using var response = await SendOnceAsync(call, request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw await AutotaskErrors.ToExceptionAsync(response, call, _connection.UserName, cancellationToken).ConfigureAwait(false);
            }

            var zone = await response.Content.ReadFromJsonAsync(Json.AtZoneInformation, cancellationToken).ConfigureAwait(false);
            if (!Uri.TryCreate(zone?.Url, UriKind.Absolute, out var zoneUrl) || (zoneUrl.Scheme != Uri.UriSchemeHttps && !(zoneUrl.Scheme == Uri.UriSchemeHttp && _connection.AllowInsecureHttp)))
            {
                throw new PsaException(Vendor, PsaErrorKind.Unavailable, $"Autotask's zone information for \"{_connection.UserName}\" did not name a usable https address ({zone?.Url}).");
            }

            var root = new Uri(EnsureSlash(zoneUrl), "V1.0/");
            Volatile.Write(ref _webUrl, Uri.TryCreate(zone?.WebUrl, UriKind.Absolute, out var webUrl) ? EnsureSlash(webUrl) : null);
            Volatile.Write(ref _apiRoot, root);
            return root;
        }
        finally
        {
            _zoneLock.Release();
        }
    }

    private static Uri EnsureSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");

    /// <summary>Relative paths hang off the zone root; absolute ones (nextPageUrl) are used as given.</summary>
    private static Uri Resolve(Uri root, string relative) => Uri.TryCreate(relative, UriKind.Absolute, out var absolute) && absolute.Scheme.StartsWith("http", StringComparison.Ordinal) ? absolute : new Uri(root, relative);

    private static async Task<T> Read<T>(HttpResponseMessage response, JsonTypeInfo<T> type, AutotaskCall call, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
        ?? throw new PsaException(PsaVendor.Autotask, PsaErrorKind.NotFound, $"Autotask returned nothing for {call.Subject ?? call.Operation}.", response.StatusCode);

    private static StringContent Content<T>(T value, JsonTypeInfo<T> type) => new(JsonSerializer.Serialize(value, type), Encoding.UTF8, "application/json");

    /// <summary>Entity names go into the path; only letters are valid.</summary>
    private static string Segment(string entity) =>
        entity.Length > 0 && entity.All(char.IsAsciiLetter) ? entity : throw new ArgumentException($"'{entity}' is not an Autotask entity name.", nameof(entity));

    private static PsaTicket ToTicket(AtTicket ticket) => new(
        ticket.Id ?? 0, ticket.Title ?? string.Empty, ticket.CompanyID ?? 0, ticket.QueueID, ticket.Status, null, ticket.Priority, IsClosed: ticket.CompletedDate is not null,
        ticket.ExternalID, ticket.TicketNumber);

    private static string? ContractTypeName(int? type) => type switch
    {
        null => null,
        RecurringServiceContract => "Recurring Service",
        _ => type.Value.ToString(CultureInfo.InvariantCulture),
    };

    private static DateOnly? ToDate(DateTime? value) => value is { } date ? DateOnly.FromDateTime(date) : null;
}
