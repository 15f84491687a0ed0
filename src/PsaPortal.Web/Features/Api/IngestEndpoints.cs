using System.Security.Claims;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Api;

/// <summary>A batch of one kind: <c>{ "items": [ … ] }</c>.</summary>
public sealed record BatchRequest<T>
{
    public required IReadOnlyList<T?> Items { get; init; }
}

/// <summary>What a batch did; the same batch sent again answers with everything unchanged.</summary>
public sealed record BatchResponse(int Created, int Updated, int Unchanged)
{
    public static BatchResponse From(IngestCounts counts) => new(counts.Created, counts.Updated, counts.Unchanged);
}

public sealed record MixedBatchResponse(BatchResponse Tenants, BatchResponse Products, BatchResponse Usage, BatchResponse Incidents, BatchResponse InvoiceLines);

public sealed record UsageResponse(string TenantExternalId, IReadOnlyList<UsageView> Items);

/// <summary>
/// The ingest API under <c>/api/v1</c>: the vendor platform pushes and reads its tenants, products, usage, incidents
/// and invoice lines. Every call is confined to the organization of the API key; another organization's keys answer
/// 404 exactly like keys that do not exist. Writes go through <see cref="PlatformIngest"/>.
/// </summary>
internal static class IngestEndpoints
{
    public const int MaxBatchItems = 5000;

    public static RouteGroupBuilder MapIngestEndpoints(this RouteGroupBuilder api)
    {
        var tenants = api.MapGroup("/tenants").WithTags("Tenants");
        tenants.MapGet("", (HttpContext http, PlatformData data, TimeProvider time) =>
                ListAsync(http, time, (organizationId, page) => data.ListTenantsAsync(organizationId, page, http.RequestAborted)))
            .WithSummary("Tenants, in pages (page, pageSize up to 1000, updatedSince)").Produces<ResultPage<TenantView>>();
        tenants.MapGet("/{externalId}", async (string externalId, HttpContext http, PlatformData data) =>
                await data.FindTenantAsync(OrganizationOf(http), externalId, http.RequestAborted) is { } tenant ? Results.Ok(tenant) : NoTenant(externalId))
            .WithSummary("One tenant").Produces<TenantView>();
        tenants.MapPut("/{externalId}", (string externalId, HttpContext http, PlatformIngest ingest, PlatformData data) =>
                PutAsync<TenantInput, TenantView>(http, ingest, externalId, "externalId", t => t.ExternalId, (t, key) => t with { ExternalId = key },
                    t => new PlatformBatch { Tenants = [t] }, r => r.Tenants,
                    () => data.FindTenantAsync(OrganizationOf(http), externalId, http.RequestAborted), $"/api/v1/tenants/{externalId}"))
            .WithSummary("Create or update one tenant").AcceptsJson<TenantInput>().Produces<TenantView>().Produces<TenantView>(StatusCodes.Status201Created);
        tenants.MapPost("/batch", (HttpContext http, PlatformIngest ingest) =>
                BatchAsync<TenantInput>(http, ingest, items => new PlatformBatch { Tenants = items }, r => r.Tenants))
            .WithSummary($"Create or update up to {MaxBatchItems:N0} tenants").AcceptsJson<BatchRequest<TenantInput>>().Produces<BatchResponse>();
        tenants.MapDelete("/{externalId}", async (string externalId, HttpContext http, PlatformIngest ingest) =>
                await ingest.DeleteTenantAsync(OrganizationOf(http), externalId, SourceOf(http), http.RequestAborted) ? Results.NoContent() : NoTenant(externalId))
            .WithSummary("Mark a tenant Deleted (its usage history and incidents are kept)").Produces(StatusCodes.Status204NoContent);

        tenants.MapGet("/{externalId}/usage", async (string externalId, HttpContext http, PlatformData data) =>
                await data.CurrentUsageAsync(OrganizationOf(http), externalId, http.RequestAborted) is { } usage
                    ? Results.Ok(new UsageResponse(externalId, usage))
                    : NoTenant(externalId))
            .WithTags("Usage").WithSummary("A tenant's current billable counts, per product").Produces<UsageResponse>();
        tenants.MapGet("/{externalId}/usage/history", (string externalId, string? partNumber, HttpContext http, PlatformData data, TimeProvider time) =>
                ListOrNotFoundAsync(http, time, async (organizationId, page) =>
                    await data.UsageHistoryAsync(organizationId, externalId, partNumber, page, http.RequestAborted) is { } history
                        ? history
                        : null, partNumber is null ? NoTenant(externalId) : NoTenantOrProduct(externalId, partNumber)))
            .WithTags("Usage").WithSummary("Every stored report of a tenant's usage, newest first (optionally of one partNumber)").Produces<ResultPage<UsageHistoryView>>();

        var products = api.MapGroup("/products").WithTags("Products");
        products.MapGet("", (HttpContext http, PlatformData data, TimeProvider time) =>
                ListAsync(http, time, (organizationId, page) => data.ListProductsAsync(organizationId, page, http.RequestAborted)))
            .WithSummary("Products, in pages (page, pageSize up to 1000, updatedSince)").Produces<ResultPage<ProductView>>();
        products.MapGet("/{partNumber}", async (string partNumber, HttpContext http, PlatformData data) =>
                await data.FindProductAsync(OrganizationOf(http), partNumber, http.RequestAborted) is { } product ? Results.Ok(product) : NoProduct(partNumber))
            .WithSummary("One product").Produces<ProductView>();
        products.MapPut("/{partNumber}", (string partNumber, HttpContext http, PlatformIngest ingest, PlatformData data) =>
                PutAsync<ProductInput, ProductView>(http, ingest, partNumber, "partNumber", p => p.PartNumber, (p, key) => p with { PartNumber = key },
                    p => new PlatformBatch { Products = [p] }, r => r.Products,
                    () => data.FindProductAsync(OrganizationOf(http), partNumber, http.RequestAborted), $"/api/v1/products/{partNumber}"))
            .WithSummary("Create or update one product (a withdrawn product comes back)").AcceptsJson<ProductInput>()
            .Produces<ProductView>().Produces<ProductView>(StatusCodes.Status201Created);
        products.MapPost("/batch", (HttpContext http, PlatformIngest ingest) =>
                BatchAsync<ProductInput>(http, ingest, items => new PlatformBatch { Products = items }, r => r.Products))
            .WithSummary($"Create or update up to {MaxBatchItems:N0} products").AcceptsJson<BatchRequest<ProductInput>>().Produces<BatchResponse>();
        products.MapDelete("/{partNumber}", async (string partNumber, HttpContext http, PlatformIngest ingest) =>
                await ingest.DeleteProductAsync(OrganizationOf(http), partNumber, SourceOf(http), http.RequestAborted) ? Results.NoContent() : NoProduct(partNumber))
            .WithSummary("Withdraw a product (sets deletedAt; usage, history and invoice lines are kept)").Produces(StatusCodes.Status204NoContent);

        api.MapPost("/usage/batch", (HttpContext http, PlatformIngest ingest) =>
                BatchAsync<UsageInput>(http, ingest, items => new PlatformBatch { Usage = items }, r => r.Usage))
            .WithTags("Usage").WithSummary($"Report up to {MaxBatchItems:N0} billable counts").AcceptsJson<BatchRequest<UsageInput>>().Produces<BatchResponse>();

        var incidents = api.MapGroup("/incidents").WithTags("Incidents");
        incidents.MapGet("", (HttpContext http, PlatformData data, TimeProvider time) =>
                ListAsync(http, time, (organizationId, page) => data.ListIncidentsAsync(organizationId, page, http.RequestAborted)))
            .WithSummary("Incidents, in pages (page, pageSize up to 1000, updatedSince)").Produces<ResultPage<IncidentView>>();
        incidents.MapGet("/{externalId}", async (string externalId, HttpContext http, PlatformData data) =>
                await data.FindIncidentAsync(OrganizationOf(http), externalId, http.RequestAborted) is { } incident
                    ? Results.Ok(incident)
                    : ApiProblems.NotFound($"Your organization has no incident with external id '{Shown(externalId)}'."))
            .WithSummary("One incident").Produces<IncidentView>();
        incidents.MapPut("/{externalId}", (string externalId, HttpContext http, PlatformIngest ingest, PlatformData data) =>
                PutAsync<IncidentInput, IncidentView>(http, ingest, externalId, "externalId", i => i.ExternalId, (i, key) => i with { ExternalId = key },
                    i => new PlatformBatch { Incidents = [i] }, r => r.Incidents,
                    () => data.FindIncidentAsync(OrganizationOf(http), externalId, http.RequestAborted), $"/api/v1/incidents/{externalId}"))
            .WithSummary("Create or update one incident").AcceptsJson<IncidentInput>().Produces<IncidentView>().Produces<IncidentView>(StatusCodes.Status201Created);
        incidents.MapPost("/batch", (HttpContext http, PlatformIngest ingest) =>
                BatchAsync<IncidentInput>(http, ingest, items => new PlatformBatch { Incidents = items }, r => r.Incidents))
            .WithSummary($"Create or update up to {MaxBatchItems:N0} incidents").AcceptsJson<BatchRequest<IncidentInput>>().Produces<BatchResponse>();

        var lines = api.MapGroup("/invoice-lines").WithTags("Invoice lines");
        lines.MapGet("", (string? invoiceMonth, HttpContext http, PlatformData data, TimeProvider time) =>
            {
                DateOnly? month = null;
                if (invoiceMonth is not null)
                {
                    if (!PlatformRules.TryParseMonth(invoiceMonth, out var parsed))
                    {
                        return Task.FromResult(ApiProblems.Invalid("invoiceMonth", "Invoice month must be a month written yyyy-MM, e.g. 2026-01."));
                    }

                    month = parsed;
                }

                return ListAsync(http, time, (organizationId, page) => data.ListInvoiceLinesAsync(organizationId, month, page, http.RequestAborted));
            })
            .WithSummary("Invoice lines, in pages, optionally of one invoiceMonth (yyyy-MM)").Produces<ResultPage<InvoiceLineView>>();
        lines.MapGet("/{externalId}", async (string externalId, HttpContext http, PlatformData data) =>
                await data.FindInvoiceLineAsync(OrganizationOf(http), externalId, http.RequestAborted) is { } line
                    ? Results.Ok(line)
                    : ApiProblems.NotFound($"Your organization has no invoice line with external id '{Shown(externalId)}'."))
            .WithSummary("One invoice line").Produces<InvoiceLineView>();
        lines.MapPut("/{externalId}", (string externalId, HttpContext http, PlatformIngest ingest, PlatformData data) =>
                PutAsync<InvoiceLineInput, InvoiceLineView>(http, ingest, externalId, "externalId", l => l.ExternalId, (l, key) => l with { ExternalId = key },
                    l => new PlatformBatch { InvoiceLines = [l] }, r => r.InvoiceLines,
                    () => data.FindInvoiceLineAsync(OrganizationOf(http), externalId, http.RequestAborted), $"/api/v1/invoice-lines/{externalId}"))
            .WithSummary("Create or update one invoice line").AcceptsJson<InvoiceLineInput>()
            .Produces<InvoiceLineView>().Produces<InvoiceLineView>(StatusCodes.Status201Created);
        lines.MapPost("/batch", (HttpContext http, PlatformIngest ingest) =>
                BatchAsync<InvoiceLineInput>(http, ingest, items => new PlatformBatch { InvoiceLines = items }, r => r.InvoiceLines))
            .WithSummary($"Create or update up to {MaxBatchItems:N0} invoice lines").AcceptsJson<BatchRequest<InvoiceLineInput>>().Produces<BatchResponse>();

        api.MapPost("/batch", async (HttpContext http, PlatformIngest ingest) =>
            {
                var (batch, problem) = await ApiRequestBody.ReadAsync<PlatformBatch>(http.Request);
                if (problem is not null)
                {
                    return problem;
                }

                if (CheckSize(batch!.Count, "body") is { } sizeProblem)
                {
                    return sizeProblem;
                }

                var result = await ingest.IngestAsync(OrganizationOf(http), batch, SourceOf(http), http.RequestAborted);
                return result.Succeeded
                    ? Results.Ok(new MixedBatchResponse(BatchResponse.From(result.Tenants), BatchResponse.From(result.Products), BatchResponse.From(result.Usage),
                        BatchResponse.From(result.Incidents), BatchResponse.From(result.InvoiceLines)))
                    : ApiProblems.Invalid(result.Errors, e => ApiProblems.ItemPath(e, e.Collection));
            })
            .WithTags("Batch").WithSummary($"Tenants, products, usage, incidents and invoice lines together ({MaxBatchItems:N0} items in all), in one transaction")
            .AcceptsJson<PlatformBatch>().Produces<MixedBatchResponse>();
        return api;
    }

    private static async Task<IResult> BatchAsync<TInput>(HttpContext http, PlatformIngest ingest,
        Func<IReadOnlyList<TInput?>, PlatformBatch> toBatch, Func<IngestResult, IngestCounts> countsOf)
        where TInput : class
    {
        var (body, problem) = await ApiRequestBody.ReadAsync<BatchRequest<TInput>>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        if (CheckSize(body!.Items.Count, "items") is { } sizeProblem)
        {
            return sizeProblem;
        }

        var result = await ingest.IngestAsync(OrganizationOf(http), toBatch(body.Items), SourceOf(http), http.RequestAborted);
        return result.Succeeded
            ? Results.Ok(BatchResponse.From(countsOf(result)))
            : ApiProblems.Invalid(result.Errors, e => ApiProblems.ItemPath(e, "items"));
    }

    private static IResult? CheckSize(int count, string field) => count switch
    {
        0 => ApiProblems.Invalid(field, "A batch needs at least one item."),
        > MaxBatchItems => ApiProblems.Invalid(field, $"A batch holds at most {MaxBatchItems:N0} items; this one has {count:N0}. Split it into smaller batches."),
        _ => null,
    };

    /// <summary>
    /// One item under its key in the address: the key in the body may be left out, but must not differ. 201 with the
    /// stored item when it was created, 200 otherwise.
    /// </summary>
    private static async Task<IResult> PutAsync<TInput, TView>(HttpContext http, PlatformIngest ingest, string key, string keyField,
        Func<TInput, string?> keyOf, Func<TInput, string, TInput> withKey, Func<TInput, PlatformBatch> toBatch,
        Func<IngestResult, IngestCounts> countsOf, Func<Task<TView?>> readBack, string location)
        where TInput : class
        where TView : class
    {
        var (body, problem) = await ApiRequestBody.ReadAsync<TInput>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        if (keyOf(body!) is { } bodyKey && bodyKey != key)
        {
            return ApiProblems.Invalid(keyField, $"The {keyField} in the body differs from the one in the address. Leave it out of the body, or make them equal.");
        }

        var result = await ingest.IngestAsync(OrganizationOf(http), toBatch(withKey(body!, key)), SourceOf(http), http.RequestAborted);
        if (!result.Succeeded)
        {
            return ApiProblems.Invalid(result.Errors, ApiProblems.SinglePath);
        }

        var stored = await readBack();
        return countsOf(result).Created > 0 ? Results.Created(location, stored) : Results.Ok(stored);
    }

    private static async Task<IResult> ListOrNotFoundAsync<T>(HttpContext http, TimeProvider time, Func<Guid, PageRequest, Task<ResultPage<T>?>> list, IResult notFound)
    {
        if (!TryReadPage(http.Request, time, out var page, out var problem))
        {
            return problem!;
        }

        return await list(OrganizationOf(http), page) is { } result ? Results.Ok(result) : notFound;
    }

    private static Task<IResult> ListAsync<T>(HttpContext http, TimeProvider time, Func<Guid, PageRequest, Task<ResultPage<T>>> list) =>
        ListOrNotFoundAsync<T>(http, time, async (organizationId, page) => await list(organizationId, page), Results.NotFound());

    /// <summary>page (from 1), pageSize (1–1000, default 100) and updatedSince (ISO 8601 with a time zone), each checked.</summary>
    private static bool TryReadPage(HttpRequest request, TimeProvider time, out PageRequest page, out IResult? problem)
    {
        var errors = new List<IngestError>();
        var checks = new ItemErrors(errors, "query", 0);
        var number = 1;
        var size = PageRequest.DefaultPageSize;
        if (request.Query.TryGetValue("page", out var pageText) && (!ApiRequestBody.TryParseInt(pageText, out number) || number < 1))
        {
            checks.Add("page", "Page must be a whole number from 1.");
        }

        if (request.Query.TryGetValue("pageSize", out var sizeText) && (!ApiRequestBody.TryParseInt(sizeText, out size) || size is < 1 or > PageRequest.MaxPageSize))
        {
            checks.Add("pageSize", $"Page size must be a whole number from 1 to {PageRequest.MaxPageSize:N0}.");
        }

        var since = PlatformRules.Moment(checks, "updatedSince", "Updated since", request.Query["updatedSince"], time.GetUtcNow(), required: false);
        if (number > int.MaxValue / Math.Max(1, size))
        {
            checks.Add("page", "Page is beyond the end of any list.");
        }

        page = new PageRequest(number, size, since);
        problem = errors.Count > 0 ? ApiProblems.Invalid(errors, e => e.Field) : null;
        return problem is null;
    }

    private static Guid OrganizationOf(HttpContext http) =>
        http.User.GetOrganizationId() ?? throw new InvalidOperationException("The API key principal carries no organization.");

    private static string SourceOf(HttpContext http) => http.User.FindFirstValue(ClaimTypes.Name) ?? "API";

    private static IResult NoTenant(string externalId) => ApiProblems.NotFound($"Your organization has no tenant with external id '{Shown(externalId)}'.");

    private static IResult NoProduct(string partNumber) => ApiProblems.NotFound($"Your organization has no product with part number '{Shown(partNumber)}'.");

    private static IResult NoTenantOrProduct(string externalId, string partNumber) =>
        ApiProblems.NotFound($"Your organization has no tenant with external id '{Shown(externalId)}' or no product with part number '{Shown(partNumber)}'.");

    /// <summary>A key from the address, echoed only when it has the shape of a key (never arbitrary text).</summary>
    private static string Shown(string key) => PlatformRules.IsIdentifier(key, Tenant.ExternalIdMaxLength) ? key : "(not a valid key)";
}
