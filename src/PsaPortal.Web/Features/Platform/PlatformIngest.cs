using System.Data.Common;
using System.Threading.Channels;
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
/// A valid batch that was not written because the ingest's writer could not get to it: it waited longer than
/// <see cref="PlatformIngest.DatabaseWait"/>, or the portal was stopping. Transient like SQLite's busy error
/// (<see cref="DatabaseFailures.IsTransient"/>), so the API answers it the same way, 503 with Retry-After, and the same
/// batch may be sent again.
/// </summary>
public sealed class IngestNotWrittenException(string message) : DbException(message)
{
    public override bool IsTransient => true;
}

/// <summary>
/// The one place that validates and writes platform data, whatever it came through (the ingest API, a CSV import).
/// A batch is validated whole before anything is written: every bad field is reported, and then nothing is written.
/// A valid batch is written in one transaction, idempotently: tenants, products, incidents and invoice lines are
/// upserted by their external id or part number; a usage report is stored once per (tenant, product, as-of) and the
/// newest report is the tenant's current count. Existing rows are read in chunks of <see cref="ChunkSize"/> keys and
/// the change tracker is cleared after each chunk, so thousands of items cost a few dozen queries and little memory.
/// <para>
/// Grouped writes: many small batches a second (the platform's agents) each paid for a transaction and a commit, and
/// on SQLite, where the portal's writers take turns (<see cref="SqliteWriteGate"/>), 100 a second kept the one writer
/// busy with commits (load run: p95 7.8 s, 0.7 % answered 503). So a validated batch of up to
/// <see cref="MaxGroupItems"/> items is queued, and one writer per process (this hosted service) writes every batch
/// waiting at that moment, up to <see cref="MaxGroupItems"/> items in all, in one transaction, one after another in
/// arrival order; each batch gets its own counts, and its own event after the commit. If that transaction fails, each
/// batch of the group is written again alone with the per-batch retry, so a batch fails only with its own error;
/// a failure of the database itself (busy past the wait, PostgreSQL away) is every batch's failure and is not retried.
/// A batch still queued after <see cref="DatabaseWait"/>, or sent once the portal is stopping, gets
/// <see cref="IngestNotWrittenException"/>; one queued before the stop is still written. A caller that gives up while
/// its batch is queued has nothing written. A bigger batch (a CSV import) is written alone at once, so it never holds
/// up the queue. Grouping applies on PostgreSQL
/// too: one code path, tested on both, and fewer commits and connections there as well; what it gives up is one
/// process writing its small batches in parallel, and two batches creating the same key now meet in one transaction
/// instead of in a unique violation and a retry. The reads that decide insert or update stay inside the transaction (a
/// concurrent writer could insert in between), so SQLite's gate is still held for the queries, but for one group's
/// queries and one commit instead of one commit per request.
/// </para>
/// </summary>
public sealed class PlatformIngest(IDbContextFactory<PortalDbContext> dbFactory, IPortalEventStream events, TimeProvider time) : BackgroundService
{
    public const int ChunkSize = 1000;

    /// <summary>
    /// The most items one grouped transaction holds: about a second of 100 small batches. Every batch of a group waits
    /// for its commit, so a group stays short (groups of 5,000 on a starved 2-core machine: p95 23.6 s); a bigger batch is
    /// written alone.
    /// </summary>
    public const int MaxGroupItems = 1000;

    /// <summary>How long a batch waits for the database before it gives up with a transient error (the API's 503).</summary>
    public static readonly TimeSpan DatabaseWait = TimeSpan.FromSeconds(10);

    // A concurrent batch can insert the same new key between our read and our write; the retry reads it as existing.
    private const int WriteAttempts = 3;

    public const string TenantsCollection = "tenants";
    public const string ProductsCollection = "products";
    public const string UsageCollection = "usage";
    public const string IncidentsCollection = "incidents";
    public const string InvoiceLinesCollection = "invoiceLines";

    // Not SingleReader: that channel cannot count what it holds.
    private readonly Channel<QueuedBatch> _queue = Channel.CreateUnbounded<QueuedBatch>();

    /// <summary>Batches waiting for the writer (not the group it is writing).</summary>
    internal int Queued => _queue.Reader.Count;

    /// <summary>Every error of the batch, nothing written (a CSV preview uses this).</summary>
    public async Task<IReadOnlyList<IngestError>> ValidateAsync(Guid organizationId, PlatformBatch batch, CancellationToken cancellationToken = default)
    {
        var (errors, _) = await CheckAsync(organizationId, batch, time.GetUtcNow(), cancellationToken);
        return errors;
    }

    /// <summary>Validates the whole batch and, if it is valid, writes it in one transaction (shared with the batches queued beside it).</summary>
    /// <param name="source">Who sent it, for the live event (e.g. "API key Billing sync", "CSV import").</param>
    public async Task<IngestResult> IngestAsync(Guid organizationId, PlatformBatch batch, string source, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var (errors, valid) = await CheckAsync(organizationId, batch, now, cancellationToken);
        if (errors.Count > 0)
        {
            return IngestResult.Invalid(errors);
        }

        var queued = new QueuedBatch(organizationId, valid, now, source, time.GetTimestamp());
        if (queued.Items > MaxGroupItems)
        {
            return await WriteAloneAsync(queued, cancellationToken);
        }

        if (!_queue.Writer.TryWrite(queued))
        {
            throw Stopping();
        }

        try
        {
            return await queued.Result.Task.WaitAsync(DatabaseWait, time, cancellationToken);
        }
        catch (TimeoutException) when (queued.TryAbandon())
        {
            throw new IngestNotWrittenException(
                $"The batch waited {DatabaseWait.TotalSeconds:0} s for the portal's database writer, which was busy with earlier writes; nothing of it was written.");
        }
        catch (TimeoutException)
        {
            // The writer took it just now: its group's own wait for the database bounds this.
            return await queued.Result.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Still queued: the writer skips it. Already taken: its group is written anyway.
            queued.TryAbandon();
            throw;
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
        List<ValidTenant> Tenants, List<ValidProduct> Products, List<ValidUsage> Usage, List<ValidIncident> Incidents, List<ValidInvoiceLine> InvoiceLines)
    {
        public int Items => Tenants.Count + Products.Count + Usage.Count + Incidents.Count + InvoiceLines.Count;
    }

    /// <summary>A valid batch waiting for the writer: taken by it, or abandoned by its caller (timed out, cancelled), never both.</summary>
    private sealed class QueuedBatch(Guid organizationId, ValidBatch batch, DateTimeOffset now, string source, long queuedAt)
    {
        private const int Waiting = 0, Taken = 1, Abandoned = 2;

        private int _state = Waiting;

        public Guid OrganizationId => organizationId;

        public ValidBatch Batch => batch;

        public DateTimeOffset Now => now;

        public string Source => source;

        public long QueuedAt => queuedAt;

        public int Items => batch.Items;

        public TaskCompletionSource<IngestResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Waiting) == Waiting;

        public bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Waiting) == Waiting;
    }

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

    /// <summary>The writer: takes every batch waiting now (up to <see cref="MaxGroupItems"/> items) and writes them as one group.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                if (TakeGroup() is { Count: > 0 } group)
                {
                    // Not cancelled by stopping: the group's wait for the database bounds it, and its callers get their answers.
                    await WriteGroupAsync(group);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // The portal is stopping: no batch is taken from now on, and the ones already queued (their callers are
            // waiting for the answer) are written, each group within its own wait for the database.
            _queue.Writer.TryComplete();
            while (TakeGroup() is { Count: > 0 } group)
            {
                await WriteGroupAsync(group);
            }
        }
    }

    private static IngestNotWrittenException Stopping() =>
        new("The portal is stopping, so the batch was not written. Send it again in a moment.");

    /// <summary>The batches waiting now, oldest first, until the next would pass <see cref="MaxGroupItems"/>; abandoned ones are dropped.</summary>
    private List<QueuedBatch> TakeGroup()
    {
        var group = new List<QueuedBatch>();
        var items = 0;
        while (_queue.Reader.TryPeek(out var next) && (group.Count == 0 || items + next.Items <= MaxGroupItems))
        {
            _queue.Reader.TryRead(out _);
            if (next.TryTake())
            {
                group.Add(next);
                items += next.Items;
            }
        }

        return group;
    }

    private async Task WriteGroupAsync(List<QueuedBatch> group)
    {
        IReadOnlyList<IngestResult> results;
        try
        {
            results = await WriteTogetherAsync(group);
        }
        catch (Exception e) when (DatabaseFailures.IsTransient(e))
        {
            // The database could not be had within the oldest batch's wait (nothing was written): that batch, and any
            // other whose wait is over, gets the error; the rest try again together, with what is left of theirs.
            var waiting = group.Where(queued => time.GetElapsedTime(queued.QueuedAt) < DatabaseWait).ToList();
            foreach (var queued in group.Except(waiting))
            {
                queued.Result.TrySetException(e);
            }

            if (waiting.Count > 0)
            {
                // A server that refuses at once (PostgreSQL restarting) is not asked again in a tight loop.
                await Task.Delay(TimeSpan.FromMilliseconds(200), time);
                await WriteGroupAsync(waiting);
            }

            return;
        }
        catch (Exception)
        {
            // One batch's key another writer inserted first, or a row the database refused: alone, each meets only its own error.
            foreach (var queued in group)
            {
                try
                {
                    queued.Result.TrySetResult(await WriteAloneAsync(queued, CancellationToken.None));
                }
                catch (Exception e)
                {
                    queued.Result.TrySetException(e);
                }
            }

            return;
        }

        for (var i = 0; i < group.Count; i++)
        {
            Publish(group[i], results[i]);
            group[i].Result.TrySetResult(results[i]);
        }
    }

    private async Task<IReadOnlyList<IngestResult>> WriteTogetherAsync(List<QueuedBatch> group)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        // The gate (SQLite's one writer) is waited for at BEGIN, as long as the oldest batch has left of its wait;
        // the statements after it get the usual bound.
        var waitLeft = DatabaseWait - time.GetElapsedTime(group[0].QueuedAt);
        db.Database.SetCommandTimeout(Math.Max(1, (int)Math.Ceiling(waitLeft.TotalSeconds)));
        await using var transaction = await db.Database.BeginTransactionAsync();
        db.Database.SetCommandTimeout(DatabaseWait);
        var results = new IngestResult[group.Count];
        var now = time.GetUtcNow();
        foreach (var organization in group.Index().GroupBy(q => q.Item.OrganizationId))
        {
            var written = await WriteBatchesAsync(db, organization.Key, [.. organization.Select(q => q.Item.Batch)], now, CancellationToken.None);
            foreach (var ((index, _), result) in organization.Zip(written))
            {
                results[index] = result;
            }
        }

        await transaction.CommitAsync();
        return results;
    }

    /// <summary>One batch in its own transaction, again from the start when another writer inserted one of its new keys first.</summary>
    private async Task<IngestResult> WriteAloneAsync(QueuedBatch queued, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                // An API caller waits at most this long for the database (SQLite's one writer); then the API answers 503.
                db.Database.SetCommandTimeout(DatabaseWait);
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                var result = (await WriteBatchesAsync(db, queued.OrganizationId, [queued.Batch], queued.Now, cancellationToken))[0];
                await transaction.CommitAsync(cancellationToken);
                Publish(queued, result);
                return result;
            }
            catch (Exception e) when (attempt < WriteAttempts && IsUniqueViolation(e))
            {
                // Another writer created one of our keys first: start over, and it is an update now.
            }
        }
    }

    private void Publish(QueuedBatch queued, IngestResult result)
    {
        if (result.Total.Created + result.Total.Updated > 0)
        {
            events.Publish(new PlatformDataChanged(queued.OrganizationId, queued.Now, queued.Source, result.Total.Created, result.Total.Updated));
        }
    }

    /// <summary>
    /// Writes one organization's batches as if one after another, in one pass: each kind's existing rows are read once
    /// for all of them (a group of 100 small batches costs the queries of one), and an item a batch before it created
    /// or changed is found as such, so each batch gets the counts it would have had alone.
    /// </summary>
    private static async Task<IngestResult[]> WriteBatchesAsync(PortalDbContext db, Guid organizationId, IReadOnlyList<ValidBatch> batches, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        List<(int Batch, T Item)> All<T>(Func<ValidBatch, List<T>> kind) => [.. batches.SelectMany((batch, index) => kind(batch).Select(item => (index, item)))];
        IngestCounts[] Counts() => [.. batches.Select(_ => IngestCounts.None)];
        var (tenants, products, usage, incidents, lines) = (Counts(), Counts(), Counts(), Counts(), Counts());

        await UpsertTenantsAsync(db, organizationId, All(b => b.Tenants), tenants, now, cancellationToken);
        await UpsertProductsAsync(db, organizationId, All(b => b.Products), products, now, cancellationToken);

        var tenantIds = await TenantIdsAsync(db, organizationId,
            batches.SelectMany(b => b.Usage.Select(u => u.TenantExternalId).Concat(b.Incidents.Select(i => i.TenantExternalId)).Concat(b.InvoiceLines.Select(l => l.TenantExternalId))),
            cancellationToken);
        var productIds = await ProductIdsAsync(db, organizationId,
            batches.SelectMany(b => b.Usage.Select(u => u.PartNumber).Concat(b.InvoiceLines.Select(l => l.PartNumber))), cancellationToken);

        await RecordUsageAsync(db, organizationId, All(b => b.Usage), usage, tenantIds, productIds, now, cancellationToken);
        await UpsertIncidentsAsync(db, organizationId, All(b => b.Incidents), incidents, tenantIds, now, cancellationToken);
        await UpsertInvoiceLinesAsync(db, organizationId, All(b => b.InvoiceLines), lines, tenantIds, productIds, now, cancellationToken);
        return [.. batches.Select((_, i) => new IngestResult([], tenants[i], products[i], usage[i], incidents[i], lines[i]))];
    }

    private static async Task UpsertTenantsAsync(PortalDbContext db, Guid organizationId, List<(int Batch, ValidTenant Item)> items, IngestCounts[] counts,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var chunk in items.Chunk(ChunkSize))
        {
            var keys = chunk.Select(t => t.Item.ExternalId).Distinct().ToArray();
            var existing = await db.Tenants.Where(t => t.OrganizationId == organizationId && keys.Contains(t.ExternalId))
                .ToDictionaryAsync(t => t.ExternalId, StringComparer.Ordinal, cancellationToken);
            foreach (var (batch, item) in chunk)
            {
                if (!existing.TryGetValue(item.ExternalId, out var tenant))
                {
                    existing[item.ExternalId] = db.Tenants.Add(new Tenant
                    {
                        OrganizationId = organizationId, ExternalId = item.ExternalId, Name = item.Name, Domain = item.Domain, Status = item.Status,
                        CreatedAt = now, UpdatedAt = now,
                    }).Entity;
                    counts[batch] += new IngestCounts(1, 0, 0);
                }
                else if (tenant.Name != item.Name || tenant.Domain != item.Domain || tenant.Status != item.Status)
                {
                    (tenant.Name, tenant.Domain, tenant.Status, tenant.UpdatedAt) = (item.Name, item.Domain, item.Status, now);
                    counts[batch] += new IngestCounts(0, 1, 0);
                }
                else
                {
                    counts[batch] += new IngestCounts(0, 0, 1);
                }
            }

            await SaveChunkAsync(db, cancellationToken);
        }
    }

    private static async Task UpsertProductsAsync(PortalDbContext db, Guid organizationId, List<(int Batch, ValidProduct Item)> items, IngestCounts[] counts,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var chunk in items.Chunk(ChunkSize))
        {
            var keys = chunk.Select(p => p.Item.PartNumber).Distinct().ToArray();
            var existing = await db.VendorProducts.Where(p => p.OrganizationId == organizationId && keys.Contains(p.PartNumber))
                .ToDictionaryAsync(p => p.PartNumber, StringComparer.Ordinal, cancellationToken);
            foreach (var (batch, item) in chunk)
            {
                if (!existing.TryGetValue(item.PartNumber, out var product))
                {
                    existing[item.PartNumber] = db.VendorProducts.Add(new VendorProduct
                    {
                        OrganizationId = organizationId, PartNumber = item.PartNumber, Name = item.Name, Description = item.Description,
                        Cost = item.Cost, RetailPrice = item.RetailPrice, Recurring = item.Recurring, CreatedAt = now, UpdatedAt = now,
                    }).Entity;
                    counts[batch] += new IngestCounts(1, 0, 0);
                }
                else if (product.Name != item.Name || product.Description != item.Description || product.Cost != item.Cost
                         || product.RetailPrice != item.RetailPrice || product.Recurring != item.Recurring || product.DeletedAt is not null)
                {
                    (product.Name, product.Description, product.Cost, product.RetailPrice, product.Recurring) =
                        (item.Name, item.Description, item.Cost, item.RetailPrice, item.Recurring);
                    (product.DeletedAt, product.UpdatedAt) = (null, now);
                    counts[batch] += new IngestCounts(0, 1, 0);
                }
                else
                {
                    counts[batch] += new IngestCounts(0, 0, 1);
                }
            }

            await SaveChunkAsync(db, cancellationToken);
        }
    }

    /// <summary>
    /// A report is new (created), corrects the quantity of a stored report with the same as-of (updated) or repeats it
    /// (unchanged). The current count follows the newest report. The hottest write of the portal (the platform's agents
    /// report all day), so its rows are read untracked and written with one multi-row statement per kind and chunk
    /// (<see cref="SetBasedWrites"/>) instead of through the change tracker.
    /// </summary>
    private static async Task RecordUsageAsync(PortalDbContext db, Guid organizationId, List<(int Batch, ValidUsage Item)> items, IngestCounts[] counts,
        Dictionary<string, long> tenantIds, Dictionary<string, long> productIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var byTenant = items.GroupBy(u => tenantIds[u.Item.TenantExternalId]).ToList();
        // Chunks by tenant, so a tenant's current count is read and written once.
        foreach (var chunk in Chunks(byTenant, g => g.Count()))
        {
            var chunkTenantIds = chunk.Select(g => g.Key).ToArray();
            var reports = chunk.SelectMany(g => g).ToList();
            var chunkProductIds = reports.Select(u => productIds[u.Item.PartNumber]).Distinct().ToArray();
            var (from, to) = (reports.Min(u => u.Item.AsOf), reports.Max(u => u.Item.AsOf));
            var current = (await db.TenantUsage.AsNoTracking()
                    .Where(u => chunkTenantIds.Contains(u.TenantId) && chunkProductIds.Contains(u.ProductId))
                    .ToListAsync(cancellationToken))
                .ToDictionary(u => (u.TenantId, u.ProductId));
            var history = (await db.TenantUsageHistory.AsNoTracking()
                    .Where(h => chunkTenantIds.Contains(h.TenantId) && chunkProductIds.Contains(h.ProductId) && h.AsOf >= from && h.AsOf <= to)
                    .ToListAsync(cancellationToken))
                .ToDictionary(h => (h.TenantId, h.ProductId, h.AsOf.UtcTicks));
            var (newHistory, changedHistory) = (new List<TenantUsageHistory>(), new HashSet<TenantUsageHistory>(ReferenceEqualityComparer.Instance));
            var (newUsage, changedUsage) = (new List<TenantUsage>(), new HashSet<TenantUsage>(ReferenceEqualityComparer.Instance));

            // Stable: reports of the same moment keep their batches' order.
            foreach (var (batch, report) in reports.OrderBy(u => u.Item.AsOf))
            {
                var (tenantId, productId) = (tenantIds[report.TenantExternalId], productIds[report.PartNumber]);
                if (!history.TryGetValue((tenantId, productId, report.AsOf.UtcTicks), out var stored))
                {
                    stored = new TenantUsageHistory { TenantId = tenantId, ProductId = productId, Quantity = report.Quantity, AsOf = report.AsOf, RecordedAt = now };
                    history[(tenantId, productId, report.AsOf.UtcTicks)] = stored;
                    newHistory.Add(stored);
                    counts[batch] += new IngestCounts(1, 0, 0);
                }
                else if (stored.Quantity != report.Quantity)
                {
                    (stored.Quantity, stored.RecordedAt) = (report.Quantity, now);
                    changedHistory.Add(stored);
                    counts[batch] += new IngestCounts(0, 1, 0);
                }
                else
                {
                    counts[batch] += new IngestCounts(0, 0, 1);
                }

                if (!current.TryGetValue((tenantId, productId), out var usage))
                {
                    usage = new TenantUsage
                    {
                        OrganizationId = organizationId, TenantId = tenantId, ProductId = productId, Quantity = report.Quantity, AsOf = report.AsOf, UpdatedAt = now,
                    };
                    current[(tenantId, productId)] = usage;
                    newUsage.Add(usage);
                }
                else if (report.AsOf > usage.AsOf || (report.AsOf == usage.AsOf && report.Quantity != usage.Quantity))
                {
                    (usage.Quantity, usage.AsOf, usage.UpdatedAt) = (report.Quantity, report.AsOf, now);
                    changedUsage.Add(usage);
                }
            }

            // A row created in this chunk is inserted with its last values; only rows read from the database are updated.
            changedHistory.ExceptWith(newHistory);
            changedUsage.ExceptWith(newUsage);
            await SetBasedWrites.InsertAsync(db, newHistory, cancellationToken);
            await SetBasedWrites.UpdateAsync(db, changedHistory, [nameof(TenantUsageHistory.Quantity), nameof(TenantUsageHistory.RecordedAt)], cancellationToken);
            await SetBasedWrites.InsertAsync(db, newUsage, cancellationToken);
            await SetBasedWrites.UpdateAsync(db, changedUsage,
                [nameof(TenantUsage.Quantity), nameof(TenantUsage.AsOf), nameof(TenantUsage.UpdatedAt)], cancellationToken);
        }
    }

    /// <summary>An update whose updatedAt is older than the stored one arrived out of order and is ignored (unchanged).</summary>
    private static async Task UpsertIncidentsAsync(PortalDbContext db, Guid organizationId, List<(int Batch, ValidIncident Item)> items, IngestCounts[] counts,
        Dictionary<string, long> tenantIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var chunk in items.Chunk(ChunkSize))
        {
            var keys = chunk.Select(i => i.Item.ExternalId).Distinct().ToArray();
            var existing = await db.Incidents.Where(i => i.OrganizationId == organizationId && keys.Contains(i.ExternalId))
                .ToDictionaryAsync(i => i.ExternalId, StringComparer.Ordinal, cancellationToken);
            foreach (var (batch, item) in chunk)
            {
                var tenantId = tenantIds[item.TenantExternalId];
                if (!existing.TryGetValue(item.ExternalId, out var incident))
                {
                    existing[item.ExternalId] = db.Incidents.Add(new Incident
                    {
                        OrganizationId = organizationId, ExternalId = item.ExternalId, TenantId = tenantId, Title = item.Title, Description = item.Description,
                        Severity = item.Severity, Status = item.Status, DetectedAt = item.DetectedAt, UpdatedAt = item.UpdatedAt, ResolvedAt = item.ResolvedAt,
                        ReceivedAt = now,
                    }).Entity;
                    counts[batch] += new IngestCounts(1, 0, 0);
                }
                else if (item.UpdatedAt >= incident.UpdatedAt
                         && (incident.TenantId != tenantId || incident.Title != item.Title || incident.Description != item.Description
                             || incident.Severity != item.Severity || incident.Status != item.Status || incident.DetectedAt != item.DetectedAt
                             || incident.UpdatedAt != item.UpdatedAt || incident.ResolvedAt != item.ResolvedAt))
                {
                    (incident.TenantId, incident.Title, incident.Description, incident.Severity, incident.Status) =
                        (tenantId, item.Title, item.Description, item.Severity, item.Status);
                    (incident.DetectedAt, incident.UpdatedAt, incident.ResolvedAt, incident.ReceivedAt) = (item.DetectedAt, item.UpdatedAt, item.ResolvedAt, now);
                    counts[batch] += new IngestCounts(0, 1, 0);
                }
                else
                {
                    counts[batch] += new IngestCounts(0, 0, 1);
                }
            }

            await SaveChunkAsync(db, cancellationToken);
        }
    }

    private static async Task UpsertInvoiceLinesAsync(PortalDbContext db, Guid organizationId, List<(int Batch, ValidInvoiceLine Item)> items, IngestCounts[] counts,
        Dictionary<string, long> tenantIds, Dictionary<string, long> productIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var chunk in items.Chunk(ChunkSize))
        {
            var keys = chunk.Select(l => l.Item.ExternalId).Distinct().ToArray();
            var existing = await db.InvoiceLines.Where(l => l.OrganizationId == organizationId && keys.Contains(l.ExternalId))
                .ToDictionaryAsync(l => l.ExternalId, StringComparer.Ordinal, cancellationToken);
            foreach (var (batch, item) in chunk)
            {
                var (tenantId, productId) = (tenantIds[item.TenantExternalId], productIds[item.PartNumber]);
                if (!existing.TryGetValue(item.ExternalId, out var line))
                {
                    line = new InvoiceLine { OrganizationId = organizationId, ExternalId = item.ExternalId };
                    Apply(line, item, tenantId, productId, now);
                    existing[item.ExternalId] = db.InvoiceLines.Add(line).Entity;
                    counts[batch] += new IngestCounts(1, 0, 0);
                }
                else if (line.TenantId != tenantId || line.ProductId != productId || line.ChargeType != item.ChargeType || line.BillingCycle != item.BillingCycle
                         || line.ChargeStartDate != item.ChargeStartDate || line.ChargeEndDate != item.ChargeEndDate || line.Quantity != item.Quantity
                         || line.UnitPrice != item.UnitPrice || line.Cost != item.Cost || line.InvoiceMonth != item.InvoiceMonth)
                {
                    Apply(line, item, tenantId, productId, now);
                    counts[batch] += new IngestCounts(0, 1, 0);
                }
                else
                {
                    counts[batch] += new IngestCounts(0, 0, 1);
                }
            }

            await SaveChunkAsync(db, cancellationToken);
        }

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

    /// <summary>From SaveChanges (wrapped in a DbUpdateException) or from a set-based statement (the provider's own).</summary>
    private static bool IsUniqueViolation(Exception exception) => ((exception as DbUpdateException)?.InnerException ?? exception) switch
    {
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555, // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
