using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Live;

namespace PsaPortal.Web.Features.Platform;

/// <summary>How many items of one kind a write created, changed, or found as they already were.</summary>
public sealed record IngestCounts(int Created, int Updated, int Unchanged)
{
    public static readonly IngestCounts None = new(0, 0, 0);

    public int Total => Created + Updated + Unchanged;

    public static IngestCounts operator +(IngestCounts a, IngestCounts b) =>
        new(a.Created + b.Created, a.Updated + b.Updated, a.Unchanged + b.Unchanged);
}

/// <summary>What an ingest did: nothing and the reasons, or the counts per kind.</summary>
public sealed record IngestResult(
    IReadOnlyList<IngestError> Errors,
    IngestCounts Tenants,
    IngestCounts Products,
    IngestCounts Usage,
    IngestCounts Incidents,
    IngestCounts InvoiceLines)
{
    public bool Succeeded => Errors.Count == 0;

    public IngestCounts Total => Tenants + Products + Usage + Incidents + InvoiceLines;

    public static IngestResult Invalid(IReadOnlyList<IngestError> errors) =>
        new(errors, IngestCounts.None, IngestCounts.None, IngestCounts.None, IngestCounts.None, IngestCounts.None);
}

/// <summary>Published after platform data changed, so open pages showing it refresh.</summary>
public sealed record PlatformDataChanged(Guid OrganizationId, DateTimeOffset OccurredAt, string Source, int Created, int Updated)
    : PortalEvent(OrganizationId, OccurredAt)
{
    public override string Kind => "platform.changed";
}

/// <summary>
/// The one place that validates and writes platform data, whatever it came through (the ingest API, a CSV import).
/// A batch is validated whole before anything is written: every bad field is reported, and then nothing is written.
/// A valid batch is written in one transaction, idempotently: tenants, products, incidents and invoice lines are
/// upserted by their external id or part number; a usage report is stored once per (tenant, product, as-of) and the
/// newest report is the tenant's current count. Existing rows are read in chunks of <see cref="ChunkSize"/> keys and
/// the change tracker is cleared after each chunk, so thousands of items cost a few dozen queries and little memory.
/// </summary>
public sealed class PlatformIngest(IDbContextFactory<PortalDbContext> dbFactory, IPortalEventStream events, TimeProvider time)
{
    public const int ChunkSize = 1000;

    /// <summary>How long a batch waits for the database before it gives up with a transient error (the API's 503).</summary>
    public static readonly TimeSpan DatabaseWait = TimeSpan.FromSeconds(10);

    // A concurrent batch can insert the same new key between our read and our write; the retry reads it as existing.
    private const int WriteAttempts = 3;

    public const string TenantsCollection = "tenants";
    public const string ProductsCollection = "products";
    public const string UsageCollection = "usage";
    public const string IncidentsCollection = "incidents";
    public const string InvoiceLinesCollection = "invoiceLines";

    /// <summary>Every error of the batch, nothing written (a CSV preview uses this).</summary>
    public async Task<IReadOnlyList<IngestError>> ValidateAsync(Guid organizationId, PlatformBatch batch, CancellationToken cancellationToken = default)
    {
        var (errors, _) = await CheckAsync(organizationId, batch, time.GetUtcNow(), cancellationToken);
        return errors;
    }

    /// <summary>Validates the whole batch and, if it is valid, writes it in one transaction.</summary>
    /// <param name="source">Who sent it, for the live event (e.g. "API key Billing sync", "CSV import").</param>
    public async Task<IngestResult> IngestAsync(Guid organizationId, PlatformBatch batch, string source, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var now = time.GetUtcNow();
            var (errors, valid) = await CheckAsync(organizationId, batch, now, cancellationToken);
            if (errors.Count > 0)
            {
                return IngestResult.Invalid(errors);
            }

            try
            {
                var result = await WriteAsync(organizationId, valid, now, cancellationToken);
                if (result.Total.Created + result.Total.Updated > 0)
                {
                    events.Publish(new PlatformDataChanged(organizationId, now, source, result.Total.Created, result.Total.Updated));
                }

                return result;
            }
            catch (DbUpdateException e) when (attempt < WriteAttempts && IsUniqueViolation(e))
            {
                // Another writer created one of our keys first: start over, and it is an update now.
            }
        }
    }

    /// <summary>Marks the tenant Deleted (its usage, incidents and history stay). False when the organization has no such tenant.</summary>
    public async Task<bool> DeleteTenantAsync(Guid organizationId, string externalId, string source, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tenant = await db.Tenants.SingleOrDefaultAsync(t => t.OrganizationId == organizationId && t.ExternalId == externalId, cancellationToken);
        if (tenant is null)
        {
            return false;
        }

        if (tenant.Status != TenantStatus.Deleted)
        {
            tenant.Status = TenantStatus.Deleted;
            tenant.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            events.Publish(new PlatformDataChanged(organizationId, tenant.UpdatedAt, source, 0, 1));
        }

        return true;
    }

    /// <summary>Marks the product withdrawn (usage, history and invoice lines keep it). False when there is no such product.</summary>
    public async Task<bool> DeleteProductAsync(Guid organizationId, string partNumber, string source, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var product = await db.VendorProducts.SingleOrDefaultAsync(p => p.OrganizationId == organizationId && p.PartNumber == partNumber, cancellationToken);
        if (product is null)
        {
            return false;
        }

        if (product.DeletedAt is null)
        {
            product.DeletedAt = product.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            events.Publish(new PlatformDataChanged(organizationId, product.UpdatedAt, source, 0, 1));
        }

        return true;
    }

    private sealed record ValidTenant(string ExternalId, string Name, string? Domain, TenantStatus Status);

    private sealed record ValidProduct(string PartNumber, string Name, string? Description, decimal Cost, decimal RetailPrice, bool Recurring);

    private sealed record ValidUsage(string TenantExternalId, string PartNumber, int Quantity, DateTimeOffset AsOf);

    private sealed record ValidIncident(
        string ExternalId, string TenantExternalId, string Title, string? Description, IncidentSeverity Severity, IncidentStatus Status,
        DateTimeOffset DetectedAt, DateTimeOffset UpdatedAt, DateTimeOffset? ResolvedAt);

    private sealed record ValidInvoiceLine(
        string ExternalId, string TenantExternalId, string PartNumber, ChargeType ChargeType, BillingCycle BillingCycle,
        DateOnly ChargeStartDate, DateOnly ChargeEndDate, decimal Quantity, decimal UnitPrice, decimal Cost, DateOnly InvoiceMonth);

    private sealed record ValidBatch(
        List<ValidTenant> Tenants, List<ValidProduct> Products, List<ValidUsage> Usage, List<ValidIncident> Incidents, List<ValidInvoiceLine> InvoiceLines);

    private async Task<(List<IngestError> Errors, ValidBatch Valid)> CheckAsync(
        Guid organizationId, PlatformBatch batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var errors = new List<IngestError>();
        var valid = new ValidBatch([], [], [], [], []);
        // Where each valid item came from, to name it in reference errors found later.
        var tenantRefs = new List<(int Index, string Collection, string ExternalId)>();
        var productRefs = new List<(int Index, string Collection, string PartNumber)>();

        Check(batch.Tenants, TenantsCollection, errors, (e, item) =>
        {
            var externalId = PlatformRules.Identifier(e, "externalId", "External id", item.ExternalId, Tenant.ExternalIdMaxLength);
            var name = PlatformRules.Name(e, "name", "Name", item.Name, Tenant.NameMaxLength);
            var domain = PlatformRules.Domain(e, "domain", item.Domain);
            var status = PlatformRules.Choice<TenantStatus>(e, "status", "Status", item.Status, TenantStatus.Active);
            return e.Count == 0 ? new ValidTenant(externalId!, name!, domain, status!.Value) : null;
        }, t => t.ExternalId, "externalId", t => $"External id '{t.ExternalId}' appears more than once in this batch.", valid.Tenants);

        Check(batch.Products, ProductsCollection, errors, (e, item) =>
        {
            var partNumber = PlatformRules.Identifier(e, "partNumber", "Part number", item.PartNumber, VendorProduct.PartNumberMaxLength);
            var name = PlatformRules.Name(e, "name", "Name", item.Name, VendorProduct.NameMaxLength);
            var description = PlatformRules.Text(e, "description", "Description", item.Description, VendorProduct.DescriptionMaxLength);
            var cost = PlatformRules.Amount(e, "cost", "Cost", item.Cost, 0, PlatformRules.MaxMoney);
            var retailPrice = PlatformRules.Amount(e, "retailPrice", "Retail price", item.RetailPrice, 0, PlatformRules.MaxMoney);
            if (item.Recurring is null)
            {
                e.Add("recurring", "Recurring is required (true or false).");
            }

            return e.Count == 0 ? new ValidProduct(partNumber!, name!, description, cost!.Value, retailPrice!.Value, item.Recurring!.Value) : null;
        }, p => p.PartNumber, "partNumber", p => $"Part number '{p.PartNumber}' appears more than once in this batch.", valid.Products);

        var usageIndexes = new List<int>();
        Check(batch.Usage, UsageCollection, errors, (e, item) =>
        {
            var tenant = PlatformRules.Identifier(e, "tenantExternalId", "Tenant external id", item.TenantExternalId, Tenant.ExternalIdMaxLength);
            var partNumber = PlatformRules.Identifier(e, "partNumber", "Part number", item.PartNumber, VendorProduct.PartNumberMaxLength);
            var quantity = PlatformRules.UsageQuantity(e, "quantity", item.Quantity);
            var asOf = PlatformRules.Moment(e, "asOf", "As of", item.AsOf, now, required: false) ?? PlatformRules.ToStoredPrecision(now);
            return e.Count == 0 ? new ValidUsage(tenant!, partNumber!, quantity!.Value, asOf) : null;
        }, u => $"{u.TenantExternalId}\n{u.PartNumber}\n{u.AsOf.UtcTicks}", "asOf",
            u => $"Tenant '{u.TenantExternalId}', product '{u.PartNumber}' and this asOf appear more than once in this batch.", valid.Usage, usageIndexes);

        var incidentIndexes = new List<int>();
        Check(batch.Incidents, IncidentsCollection, errors, (e, item) =>
        {
            var externalId = PlatformRules.Identifier(e, "externalId", "External id", item.ExternalId, Incident.ExternalIdMaxLength);
            var tenant = PlatformRules.Identifier(e, "tenantExternalId", "Tenant external id", item.TenantExternalId, Tenant.ExternalIdMaxLength);
            var title = PlatformRules.Name(e, "title", "Title", item.Title, Incident.TitleMaxLength);
            var description = PlatformRules.Text(e, "description", "Description", item.Description, Incident.DescriptionMaxLength);
            var severity = PlatformRules.Choice<IncidentSeverity>(e, "severity", "Severity", item.Severity);
            var status = PlatformRules.Choice<IncidentStatus>(e, "status", "Status", item.Status);
            var detectedAt = PlatformRules.Moment(e, "detectedAt", "Detected at", item.DetectedAt, now, required: true);
            var updatedAt = PlatformRules.Moment(e, "updatedAt", "Updated at", item.UpdatedAt, now, required: false);
            var resolvedAt = PlatformRules.Moment(e, "resolvedAt", "Resolved at", item.ResolvedAt, now, required: false);
            if (detectedAt is { } detected)
            {
                if (updatedAt < detected)
                {
                    e.Add("updatedAt", "Updated at cannot be before detected at.");
                }

                if (resolvedAt < detected)
                {
                    e.Add("resolvedAt", "Resolved at cannot be before detected at.");
                }
            }

            return e.Count == 0
                ? new ValidIncident(externalId!, tenant!, title!, description, severity!.Value, status!.Value, detectedAt!.Value, updatedAt ?? detectedAt!.Value, resolvedAt)
                : null;
        }, i => i.ExternalId, "externalId", i => $"External id '{i.ExternalId}' appears more than once in this batch.", valid.Incidents, incidentIndexes);

        var lineIndexes = new List<int>();
        Check(batch.InvoiceLines, InvoiceLinesCollection, errors, (e, item) =>
        {
            var externalId = PlatformRules.Identifier(e, "externalId", "External id", item.ExternalId, InvoiceLine.ExternalIdMaxLength);
            var tenant = PlatformRules.Identifier(e, "tenantExternalId", "Tenant external id", item.TenantExternalId, Tenant.ExternalIdMaxLength);
            var partNumber = PlatformRules.Identifier(e, "partNumber", "Part number", item.PartNumber, VendorProduct.PartNumberMaxLength);
            var chargeType = PlatformRules.Choice<ChargeType>(e, "chargeType", "Charge type", item.ChargeType);
            var billingCycle = PlatformRules.Choice<BillingCycle>(e, "billingCycle", "Billing cycle", item.BillingCycle);
            var start = PlatformRules.Date(e, "chargeStartDate", "Charge start date", item.ChargeStartDate);
            var end = PlatformRules.Date(e, "chargeEndDate", "Charge end date", item.ChargeEndDate);
            if (end < start)
            {
                e.Add("chargeEndDate", "Charge end date cannot be before the charge start date.");
            }

            var quantity = PlatformRules.Amount(e, "quantity", "Quantity", item.Quantity, -PlatformRules.MaxInvoiceQuantity, PlatformRules.MaxInvoiceQuantity);
            var unitPrice = PlatformRules.Amount(e, "unitPrice", "Unit price", item.UnitPrice, -PlatformRules.MaxMoney, PlatformRules.MaxMoney);
            var cost = PlatformRules.Amount(e, "cost", "Cost", item.Cost, -PlatformRules.MaxMoney, PlatformRules.MaxMoney);
            var month = PlatformRules.Month(e, "invoiceMonth", "Invoice month", item.InvoiceMonth);
            return e.Count == 0
                ? new ValidInvoiceLine(externalId!, tenant!, partNumber!, chargeType!.Value, billingCycle!.Value, start!.Value, end!.Value,
                    quantity!.Value, unitPrice!.Value, cost!.Value, month!.Value)
                : null;
        }, l => l.ExternalId, "externalId", l => $"External id '{l.ExternalId}' appears more than once in this batch.", valid.InvoiceLines, lineIndexes);

        tenantRefs.AddRange(valid.Usage.Select((u, i) => (usageIndexes[i], UsageCollection, u.TenantExternalId)));
        tenantRefs.AddRange(valid.Incidents.Select((x, i) => (incidentIndexes[i], IncidentsCollection, x.TenantExternalId)));
        tenantRefs.AddRange(valid.InvoiceLines.Select((l, i) => (lineIndexes[i], InvoiceLinesCollection, l.TenantExternalId)));
        productRefs.AddRange(valid.Usage.Select((u, i) => (usageIndexes[i], UsageCollection, u.PartNumber)));
        productRefs.AddRange(valid.InvoiceLines.Select((l, i) => (lineIndexes[i], InvoiceLinesCollection, l.PartNumber)));

        // Every item of a valid shape is checked for its references too, so one pass reports everything.
        if (tenantRefs.Count > 0 || productRefs.Count > 0)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var knownTenants = valid.Tenants.Select(t => t.ExternalId).ToHashSet(StringComparer.Ordinal);
            knownTenants.UnionWith((await TenantIdsAsync(db, organizationId, tenantRefs.Select(r => r.ExternalId).Where(id => !knownTenants.Contains(id)), cancellationToken)).Keys);
            var knownProducts = valid.Products.Select(p => p.PartNumber).ToHashSet(StringComparer.Ordinal);
            knownProducts.UnionWith((await ProductIdsAsync(db, organizationId, productRefs.Select(r => r.PartNumber).Where(id => !knownProducts.Contains(id)), cancellationToken)).Keys);
            errors.AddRange(tenantRefs.Where(r => !knownTenants.Contains(r.ExternalId)).Select(r => new IngestError(r.Collection, r.Index, "tenantExternalId",
                $"There is no tenant with external id '{r.ExternalId}' in your organization or in this batch.")));
            errors.AddRange(productRefs.Where(r => !knownProducts.Contains(r.PartNumber)).Select(r => new IngestError(r.Collection, r.Index, "partNumber",
                $"There is no product with part number '{r.PartNumber}' in your organization or in this batch.")));
        }

        errors.Sort((a, b) => (CollectionOrder(a.Collection), a.Index).CompareTo((CollectionOrder(b.Collection), b.Index)));
        return (errors, valid);
    }

    private static int CollectionOrder(string collection) => collection switch
    {
        TenantsCollection => 0,
        ProductsCollection => 1,
        UsageCollection => 2,
        IncidentsCollection => 3,
        _ => 4,
    };

    /// <summary>Checks each item, then refuses a later item with the key of an earlier one.</summary>
    private static void Check<TInput, TValid>(
        IReadOnlyList<TInput?> items, string collection, List<IngestError> errors, Func<ItemErrors, TInput, TValid?> check,
        Func<TValid, string> keyOf, string keyField, Func<TValid, string> duplicateMessage, List<TValid> valid, List<int>? indexes = null)
        where TInput : class
        where TValid : class
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < items.Count; index++)
        {
            var itemErrors = new ItemErrors(errors, collection, index);
            if (items[index] is not { } item)
            {
                itemErrors.Add("", "An item cannot be null.");
                continue;
            }

            if (check(itemErrors, item) is not { } checkedItem)
            {
                continue;
            }

            if (!keys.Add(keyOf(checkedItem)))
            {
                itemErrors.Add(keyField, duplicateMessage(checkedItem));
                continue;
            }

            valid.Add(checkedItem);
            indexes?.Add(index);
        }
    }

    private async Task<IngestResult> WriteAsync(Guid organizationId, ValidBatch batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // An API caller waits at most this long for the database (SQLite's one writer); then the API answers 503.
        db.Database.SetCommandTimeout(DatabaseWait);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tenants = await UpsertTenantsAsync(db, organizationId, batch.Tenants, now, cancellationToken);
        var products = await UpsertProductsAsync(db, organizationId, batch.Products, now, cancellationToken);

        var tenantIds = await TenantIdsAsync(db, organizationId,
            batch.Usage.Select(u => u.TenantExternalId).Concat(batch.Incidents.Select(i => i.TenantExternalId)).Concat(batch.InvoiceLines.Select(l => l.TenantExternalId)),
            cancellationToken);
        var productIds = await ProductIdsAsync(db, organizationId,
            batch.Usage.Select(u => u.PartNumber).Concat(batch.InvoiceLines.Select(l => l.PartNumber)), cancellationToken);

        var usage = await RecordUsageAsync(db, organizationId, batch.Usage, tenantIds, productIds, now, cancellationToken);
        var incidents = await UpsertIncidentsAsync(db, organizationId, batch.Incidents, tenantIds, now, cancellationToken);
        var lines = await UpsertInvoiceLinesAsync(db, organizationId, batch.InvoiceLines, tenantIds, productIds, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new IngestResult([], tenants, products, usage, incidents, lines);
    }

    private static async Task<IngestCounts> UpsertTenantsAsync(PortalDbContext db, Guid organizationId, List<ValidTenant> items, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var counts = IngestCounts.None;
        foreach (var chunk in items.Chunk(ChunkSize))
        {
            var keys = chunk.Select(t => t.ExternalId).ToArray();
            var existing = await db.Tenants.Where(t => t.OrganizationId == organizationId && keys.Contains(t.ExternalId))
                .ToDictionaryAsync(t => t.ExternalId, StringComparer.Ordinal, cancellationToken);
            foreach (var item in chunk)
            {
                if (!existing.TryGetValue(item.ExternalId, out var tenant))
                {
                    db.Tenants.Add(new Tenant
                    {
                        OrganizationId = organizationId, ExternalId = item.ExternalId, Name = item.Name, Domain = item.Domain, Status = item.Status,
                        CreatedAt = now, UpdatedAt = now,
                    });
                    counts += new IngestCounts(1, 0, 0);
                }
                else if (tenant.Name != item.Name || tenant.Domain != item.Domain || tenant.Status != item.Status)
                {
                    (tenant.Name, tenant.Domain, tenant.Status, tenant.UpdatedAt) = (item.Name, item.Domain, item.Status, now);
                    counts += new IngestCounts(0, 1, 0);
                }
                else
                {
                    counts += new IngestCounts(0, 0, 1);
                }
            }

            await SaveChunkAsync(db, cancellationToken);
        }

        return counts;
    }

    private static async Task<IngestCounts> UpsertProductsAsync(PortalDbContext db, Guid organizationId, List<ValidProduct> items, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var counts = IngestCounts.None;
        foreach (var chunk in items.Chunk(ChunkSize))
        {
            var keys = chunk.Select(p => p.PartNumber).ToArray();
            var existing = await db.VendorProducts.Where(p => p.OrganizationId == organizationId && keys.Contains(p.PartNumber))
                .ToDictionaryAsync(p => p.PartNumber, StringComparer.Ordinal, cancellationToken);
            foreach (var item in chunk)
            {
                if (!existing.TryGetValue(item.PartNumber, out var product))
                {
                    db.VendorProducts.Add(new VendorProduct
                    {
                        OrganizationId = organizationId, PartNumber = item.PartNumber, Name = item.Name, Description = item.Description,
                        Cost = item.Cost, RetailPrice = item.RetailPrice, Recurring = item.Recurring, CreatedAt = now, UpdatedAt = now,
                    });
                    counts += new IngestCounts(1, 0, 0);
                }
                else if (product.Name != item.Name || product.Description != item.Description || product.Cost != item.Cost
                         || product.RetailPrice != item.RetailPrice || product.Recurring != item.Recurring || product.DeletedAt is not null)
                {
                    (product.Name, product.Description, product.Cost, product.RetailPrice, product.Recurring) =
                        (item.Name, item.Description, item.Cost, item.RetailPrice, item.Recurring);
                    (product.DeletedAt, product.UpdatedAt) = (null, now);
                    counts += new IngestCounts(0, 1, 0);
                }
                else
                {
                    counts += new IngestCounts(0, 0, 1);
                }
            }

            await SaveChunkAsync(db, cancellationToken);
        }

        return counts;
    }

    /// <summary>
    /// A report is new (created), corrects the quantity of a stored report with the same as-of (updated) or repeats it
    /// (unchanged). The current count follows the newest report.
    /// </summary>
    private static async Task<IngestCounts> RecordUsageAsync(PortalDbContext db, Guid organizationId, List<ValidUsage> items,
        Dictionary<string, long> tenantIds, Dictionary<string, long> productIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var counts = IngestCounts.None;
        var byTenant = items.GroupBy(u => tenantIds[u.TenantExternalId]).ToList();
        // Chunks by tenant, so a tenant's current count is read and written once.
        foreach (var chunk in Chunks(byTenant, g => g.Count()))
        {
            var chunkTenantIds = chunk.Select(g => g.Key).ToArray();
            var reports = chunk.SelectMany(g => g).ToList();
            var chunkProductIds = reports.Select(u => productIds[u.PartNumber]).Distinct().ToArray();
            var (from, to) = (reports.Min(u => u.AsOf), reports.Max(u => u.AsOf));
            var current = (await db.TenantUsage
                    .Where(u => chunkTenantIds.Contains(u.TenantId) && chunkProductIds.Contains(u.ProductId))
                    .ToListAsync(cancellationToken))
                .ToDictionary(u => (u.TenantId, u.ProductId));
            var history = (await db.TenantUsageHistory
                    .Where(h => chunkTenantIds.Contains(h.TenantId) && chunkProductIds.Contains(h.ProductId) && h.AsOf >= from && h.AsOf <= to)
                    .ToListAsync(cancellationToken))
                .ToDictionary(h => (h.TenantId, h.ProductId, h.AsOf.UtcTicks));

            foreach (var report in reports.OrderBy(u => u.AsOf))
            {
                var (tenantId, productId) = (tenantIds[report.TenantExternalId], productIds[report.PartNumber]);
                if (!history.TryGetValue((tenantId, productId, report.AsOf.UtcTicks), out var stored))
                {
                    db.TenantUsageHistory.Add(new TenantUsageHistory
                    {
                        TenantId = tenantId, ProductId = productId, Quantity = report.Quantity, AsOf = report.AsOf, RecordedAt = now,
                    });
                    counts += new IngestCounts(1, 0, 0);
                }
                else if (stored.Quantity != report.Quantity)
                {
                    (stored.Quantity, stored.RecordedAt) = (report.Quantity, now);
                    counts += new IngestCounts(0, 1, 0);
                }
                else
                {
                    counts += new IngestCounts(0, 0, 1);
                }

                if (!current.TryGetValue((tenantId, productId), out var usage))
                {
                    usage = new TenantUsage
                    {
                        OrganizationId = organizationId, TenantId = tenantId, ProductId = productId, Quantity = report.Quantity, AsOf = report.AsOf, UpdatedAt = now,
                    };
                    db.TenantUsage.Add(usage);
                    current[(tenantId, productId)] = usage;
                }
                else if (report.AsOf > usage.AsOf || (report.AsOf == usage.AsOf && report.Quantity != usage.Quantity))
                {
                    (usage.Quantity, usage.AsOf, usage.UpdatedAt) = (report.Quantity, report.AsOf, now);
                }
            }

            await SaveChunkAsync(db, cancellationToken);
        }

        return counts;
    }

    /// <summary>An update whose updatedAt is older than the stored one arrived out of order and is ignored (unchanged).</summary>
    private static async Task<IngestCounts> UpsertIncidentsAsync(PortalDbContext db, Guid organizationId, List<ValidIncident> items,
        Dictionary<string, long> tenantIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var counts = IngestCounts.None;
        foreach (var chunk in items.Chunk(ChunkSize))
        {
            var keys = chunk.Select(i => i.ExternalId).ToArray();
            var existing = await db.Incidents.Where(i => i.OrganizationId == organizationId && keys.Contains(i.ExternalId))
                .ToDictionaryAsync(i => i.ExternalId, StringComparer.Ordinal, cancellationToken);
            foreach (var item in chunk)
            {
                var tenantId = tenantIds[item.TenantExternalId];
                if (!existing.TryGetValue(item.ExternalId, out var incident))
                {
                    db.Incidents.Add(new Incident
                    {
                        OrganizationId = organizationId, ExternalId = item.ExternalId, TenantId = tenantId, Title = item.Title, Description = item.Description,
                        Severity = item.Severity, Status = item.Status, DetectedAt = item.DetectedAt, UpdatedAt = item.UpdatedAt, ResolvedAt = item.ResolvedAt,
                        ReceivedAt = now,
                    });
                    counts += new IngestCounts(1, 0, 0);
                }
                else if (item.UpdatedAt >= incident.UpdatedAt
                         && (incident.TenantId != tenantId || incident.Title != item.Title || incident.Description != item.Description
                             || incident.Severity != item.Severity || incident.Status != item.Status || incident.DetectedAt != item.DetectedAt
                             || incident.UpdatedAt != item.UpdatedAt || incident.ResolvedAt != item.ResolvedAt))
                {
                    (incident.TenantId, incident.Title, incident.Description, incident.Severity, incident.Status) =
                        (tenantId, item.Title, item.Description, item.Severity, item.Status);
                    (incident.DetectedAt, incident.UpdatedAt, incident.ResolvedAt, incident.ReceivedAt) = (item.DetectedAt, item.UpdatedAt, item.ResolvedAt, now);
                    counts += new IngestCounts(0, 1, 0);
                }
                else
                {
                    counts += new IngestCounts(0, 0, 1);
                }
            }

            await SaveChunkAsync(db, cancellationToken);
        }

        return counts;
    }

    private static async Task<IngestCounts> UpsertInvoiceLinesAsync(PortalDbContext db, Guid organizationId, List<ValidInvoiceLine> items,
        Dictionary<string, long> tenantIds, Dictionary<string, long> productIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var counts = IngestCounts.None;
        foreach (var chunk in items.Chunk(ChunkSize))
        {
            var keys = chunk.Select(l => l.ExternalId).ToArray();
            var existing = await db.InvoiceLines.Where(l => l.OrganizationId == organizationId && keys.Contains(l.ExternalId))
                .ToDictionaryAsync(l => l.ExternalId, StringComparer.Ordinal, cancellationToken);
            foreach (var item in chunk)
            {
                var (tenantId, productId) = (tenantIds[item.TenantExternalId], productIds[item.PartNumber]);
                if (!existing.TryGetValue(item.ExternalId, out var line))
                {
                    line = new InvoiceLine { OrganizationId = organizationId, ExternalId = item.ExternalId };
                    Apply(line, item, tenantId, productId, now);
                    db.InvoiceLines.Add(line);
                    counts += new IngestCounts(1, 0, 0);
                }
                else if (line.TenantId != tenantId || line.ProductId != productId || line.ChargeType != item.ChargeType || line.BillingCycle != item.BillingCycle
                         || line.ChargeStartDate != item.ChargeStartDate || line.ChargeEndDate != item.ChargeEndDate || line.Quantity != item.Quantity
                         || line.UnitPrice != item.UnitPrice || line.Cost != item.Cost || line.InvoiceMonth != item.InvoiceMonth)
                {
                    Apply(line, item, tenantId, productId, now);
                    counts += new IngestCounts(0, 1, 0);
                }
                else
                {
                    counts += new IngestCounts(0, 0, 1);
                }
            }

            await SaveChunkAsync(db, cancellationToken);
        }

        return counts;

        static void Apply(InvoiceLine line, ValidInvoiceLine item, long tenantId, long productId, DateTimeOffset now)
        {
            (line.TenantId, line.ProductId, line.ChargeType, line.BillingCycle) = (tenantId, productId, item.ChargeType, item.BillingCycle);
            (line.ChargeStartDate, line.ChargeEndDate, line.Quantity, line.UnitPrice, line.Cost) =
                (item.ChargeStartDate, item.ChargeEndDate, item.Quantity, item.UnitPrice, item.Cost);
            (line.InvoiceMonth, line.UpdatedAt) = (item.InvoiceMonth, now);
        }
    }

    private static async Task SaveChunkAsync(PortalDbContext db, CancellationToken cancellationToken)
    {
        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
    }

    /// <summary>Groups packed into chunks of about <see cref="ChunkSize"/> items, a group never split.</summary>
    private static IEnumerable<List<T>> Chunks<T>(IEnumerable<T> groups, Func<T, int> sizeOf)
    {
        var chunk = new List<T>();
        var size = 0;
        foreach (var group in groups)
        {
            chunk.Add(group);
            size += sizeOf(group);
            if (size >= ChunkSize)
            {
                yield return chunk;
                (chunk, size) = ([], 0);
            }
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    internal static async Task<Dictionary<string, long>> TenantIdsAsync(PortalDbContext db, Guid organizationId, IEnumerable<string> externalIds, CancellationToken cancellationToken)
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var chunk in externalIds.Distinct(StringComparer.Ordinal).Chunk(ChunkSize))
        {
            foreach (var row in await db.Tenants.AsNoTracking().Where(t => t.OrganizationId == organizationId && chunk.Contains(t.ExternalId))
                         .Select(t => new { t.ExternalId, t.Id }).ToListAsync(cancellationToken))
            {
                ids[row.ExternalId] = row.Id;
            }
        }

        return ids;
    }

    internal static async Task<Dictionary<string, long>> ProductIdsAsync(PortalDbContext db, Guid organizationId, IEnumerable<string> partNumbers, CancellationToken cancellationToken)
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var chunk in partNumbers.Distinct(StringComparer.Ordinal).Chunk(ChunkSize))
        {
            foreach (var row in await db.VendorProducts.AsNoTracking().Where(p => p.OrganizationId == organizationId && chunk.Contains(p.PartNumber))
                         .Select(p => new { p.PartNumber, p.Id }).ToListAsync(cancellationToken))
            {
                ids[row.PartNumber] = row.Id;
            }
        }

        return ids;
    }

    private static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException switch
    {
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555, // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
