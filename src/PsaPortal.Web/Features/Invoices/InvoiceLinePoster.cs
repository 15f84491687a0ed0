using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Psa;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Infrastructure;

namespace PsaPortal.Web.Features.Invoices;

/// <summary>What one posting pass did.</summary>
public sealed record InvoicePostingSummary(bool Ran, string Message, int Posted = 0, int Skipped = 0, int Failed = 0, int AlreadyPosted = 0, int Additions = 0);

/// <summary>
/// Posts invoice lines to their tenants' mapped ConnectWise agreements as additions. Lines of one agreement with the
/// same catalog product, price, cost, dates and charge type name share one addition (so the Part Number + Price + Cost
/// split falls out of the key); tenants keep their own agreements. Exactly once: the lines of an addition are marked
/// Posting and committed before the POST goes out; a POST whose outcome is unknown stays Posting and is settled by
/// re-reading the agreement's additions (never resent blind), at once and again at the start of every later pass.
/// </summary>
public sealed class InvoiceLinePoster(
    IDbContextFactory<PortalDbContext> dbFactory,
    IntegrationService integrations,
    InvoiceScheduleTriggers triggers,
    IPortalEventStream events,
    AuditLog audit,
    ClusterLocks clusterLocks,
    TimeProvider time,
    ILogger<InvoiceLinePoster> logger) : IInvoiceLineSync
{
    public const string ConnectWiseOnlyMessage = "Invoice lines are a ConnectWise feature.";

    // One pass per integration at a time: a second pass (the daily trigger, another Sync press) loading lines while the
    // first has them in flight would see them Pending, or reset its Posting rows before their answer came, and post
    // them again. Within a process a lock here; across the nodes of a cluster also a database lock (ClusterLocks).
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _passes = new();
    public const string ChooseAgreementTypeMessage =
        "Choose the Agreement Type (Integrations → ConnectWise → Settings → Configuration) before invoice lines can be posted.";

    public Task<InvoiceRequestResult> SyncSelectedAsync(ClaimsPrincipal user, Guid integrationId, IReadOnlyCollection<long> invoiceLineIds, CancellationToken cancellationToken = default) =>
        QueueAsync(user, integrationId, invoiceLineIds.Count == 0 ? null : invoiceLineIds, cancellationToken);

    public Task<InvoiceRequestResult> SyncAllMappedAsync(ClaimsPrincipal user, Guid integrationId, CancellationToken cancellationToken = default) =>
        QueueAsync(user, integrationId, null, cancellationToken);

    private async Task<InvoiceRequestResult> QueueAsync(ClaimsPrincipal user, Guid integrationId, IReadOnlyCollection<long>? lineIds, CancellationToken cancellationToken)
    {
        if (!user.IsEditor())
        {
            return InvoiceRequestResult.Refused("Only Admins and Full Members can sync invoice lines.");
        }

        if (lineIds is { Count: 0 })
        {
            return InvoiceRequestResult.Refused("Select at least one invoice line to sync.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.Id == integrationId, cancellationToken);
        if (integration is null || user.FindFirstValue(PortalClaims.OrganizationId) is { } org && org != integration.OrganizationId.ToString())
        {
            return InvoiceRequestResult.Refused("This integration does not exist.");
        }

        if (integration.Vendor != PsaVendor.ConnectWise)
        {
            return InvoiceRequestResult.Refused(ConnectWiseOnlyMessage);
        }

        var settings = await db.InvoiceSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integrationId, cancellationToken);
        if (settings?.AgreementTypeId is null)
        {
            return InvoiceRequestResult.Refused(ChooseAgreementTypeMessage);
        }

        var actor = Actor.From(user);
        await triggers.RunLinesNowAsync(integrationId, lineIds, actor.Name, cancellationToken);
        await audit.RecordAsync(integration.OrganizationId, actor, "Invoice lines sync requested", "ConnectWise",
            lineIds is null ? "All mapped lines" : $"{lineIds.Count} selected line(s)", cancellationToken);
        return new InvoiceRequestResult(true, lineIds is null ? "Posting every mapped line; results appear per line." : $"Posting {lineIds.Count} line(s); results appear per line.");
    }

    /// <summary>
    /// One posting pass over the integration's lines (<paramref name="lineIds"/>, or every line): settles earlier
    /// unknown outcomes, skips lines not fully mapped (saying what to map), posts the rest. Never posts a line twice.
    /// </summary>
    public async Task<InvoicePostingSummary> PostAsync(Guid integrationId, IReadOnlyCollection<long>? lineIds, CancellationToken cancellationToken = default)
    {
        var pass = _passes.GetOrAdd(integrationId, _ => new SemaphoreSlim(1, 1));
        await pass.WaitAsync(cancellationToken);
        try
        {
            await using var clusterLock = await clusterLocks.AcquireAsync($"invoice-posting:{integrationId}", cancellationToken);
            return await PostOnceAsync(integrationId, lineIds, cancellationToken);
        }
        finally
        {
            pass.Release();
        }
    }

    private async Task<InvoicePostingSummary> PostOnceAsync(Guid integrationId, IReadOnlyCollection<long>? lineIds, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.Id == integrationId, cancellationToken);
        if (integration is null)
        {
            return new InvoicePostingSummary(false, "This integration does not exist.");
        }

        if (integration.Vendor != PsaVendor.ConnectWise)
        {
            return new InvoicePostingSummary(false, ConnectWiseOnlyMessage);
        }

        var settings = await db.InvoiceSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integrationId, cancellationToken);
        if (settings?.AgreementTypeId is null)
        {
            return new InvoicePostingSummary(false, ChooseAgreementTypeMessage);
        }

        var organizationId = integration.OrganizationId;
        var rules = ChargeRuleSet.From(
            await db.ChargeEndDateRules.AsNoTracking().Where(r => r.IntegrationId == integrationId).ToListAsync(cancellationToken),
            await db.ChargeStartDateRules.AsNoTracking().Where(r => r.IntegrationId == integrationId).ToListAsync(cancellationToken),
            await db.ChargeTypeNames.AsNoTracking().Where(r => r.IntegrationId == integrationId).ToListAsync(cancellationToken));
        var lineQuery = db.InvoiceLines.AsNoTracking().Where(l => l.OrganizationId == organizationId);
        if (lineIds is not null)
        {
            lineQuery = lineQuery.Where(l => lineIds.Contains(l.Id));
        }

        var lines = await lineQuery.OrderBy(l => l.Id).ToListAsync(cancellationToken);
        var syncs = await db.InvoiceLineSyncs.Where(s => s.IntegrationId == integrationId).ToDictionaryAsync(s => s.InvoiceLineId, cancellationToken);
        var tenants = await db.Tenants.AsNoTracking().Where(t => t.OrganizationId == organizationId).ToDictionaryAsync(t => t.Id, t => t.Name, cancellationToken);
        var products = await db.VendorProducts.AsNoTracking().Where(p => p.OrganizationId == organizationId).ToDictionaryAsync(p => p.Id, cancellationToken);
        var tenantMappings = await db.TenantMappings.AsNoTracking().Where(m => m.IntegrationId == integrationId).ToDictionaryAsync(m => m.TenantId, cancellationToken);
        var productMappings = await db.ProductMappings.AsNoTracking().Where(m => m.IntegrationId == integrationId && m.PsaProductId != null)
            .ToDictionaryAsync(m => m.VendorProductId, m => m.PsaProductId!.Value, cancellationToken);
        var api = integrations.ConnectWiseApiFor(integration);
        var published = new List<InvoiceLineSynced>();

        var linesById = lines.ToDictionary(l => l.Id);
        await SettleAsync(db, api, settings, syncs.Values.Where(s => s.State == InvoiceLineSyncState.Posting).ToList(), linesById, syncs, resetMissing: true, published, cancellationToken);

        var summary = new PostingCounts();
        var toPost = new List<(InvoiceLine Line, InvoiceLineSync Sync, long AgreementId, long ProductId, ComputedCharge Charge)>();
        var now = time.GetUtcNow();
        foreach (var line in lines)
        {
            var sync = syncs.GetValueOrDefault(line.Id);
            if (sync?.State is InvoiceLineSyncState.Posted or InvoiceLineSyncState.Posting)
            {
                summary.AlreadyPosted++;
                continue;
            }

            if (sync is null)
            {
                sync = new InvoiceLineSync { OrganizationId = organizationId, IntegrationId = integrationId, InvoiceLineId = line.Id, UpdatedAt = now };
                db.InvoiceLineSyncs.Add(sync);
                syncs[line.Id] = sync;
            }

            var tenantName = tenants.GetValueOrDefault(line.TenantId, $"#{line.TenantId}");
            var product = products.GetValueOrDefault(line.ProductId);
            var mapping = tenantMappings.GetValueOrDefault(line.TenantId);
            long? companyId = mapping is { Origin: MappingOrigin.Person } ? mapping.CompanyPsaId : null;
            long? psaProductId = productMappings.TryGetValue(line.ProductId, out var mapped) ? mapped : null;
            // Fully mapped as the Invoices tab decides it (InvoiceMapping), and said in the same words; a product is
            // posted only through its mapping, never by guessing a catalog item from its part number.
            var reason = InvoiceMapping.Reason(InvoiceMapping.StateOf(companyId, mapping?.AgreementPsaId, psaProductId), tenantName, product?.Name ?? $"#{line.ProductId}");
            if (reason is not null)
            {
                sync.State = InvoiceLineSyncState.Skipped;
                sync.Message = Cut(reason);
                sync.UpdatedAt = now;
                summary.Skipped++;
                published.Add(Event(sync, now));
                continue;
            }

            toPost.Add((line, sync, mapping!.AgreementPsaId!.Value, psaProductId!.Value, ChargeDateRules.Compute(line, rules, sync.StartDateOverride, sync.EndDateOverride)));
        }

        await db.SaveChangesAsync(cancellationToken);
        Publish(published);

        // Separate additions per unique agreement + product (part number) + price + cost, and per period and name.
        foreach (var group in toPost.GroupBy(p => (p.AgreementId, p.ProductId, p.Line.UnitPrice, p.Line.Cost, p.Charge.StartDate, p.Charge.EndDate, p.Charge.ChargeTypeName)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = group.Key;
            var rows = group.ToList();
            now = time.GetUtcNow();
            foreach (var (_, sync, agreementId, productId, charge) in rows)
            {
                sync.State = InvoiceLineSyncState.Posting;
                sync.AgreementPsaId = agreementId;
                sync.PsaProductId = productId;
                sync.PostedStartDate = charge.StartDate;
                sync.PostedEndDate = charge.EndDate;
                sync.PostedChargeTypeName = charge.ChargeTypeName;
                sync.Message = null;
                sync.Attempts++;
                sync.UpdatedAt = now;
            }

            // Journalled before the write goes out: a crash from here on leaves Posting rows that a re-read settles.
            await db.SaveChangesAsync(cancellationToken);
            Publish(rows.Select(r => Event(r.Sync, now)));

            var draft = Draft(settings, key.ProductId, rows.Sum(r => r.Line.Quantity), key.UnitPrice, key.Cost, key.StartDate, key.EndDate, key.ChargeTypeName);
            BillingWriteOutcome outcome;
            try
            {
                var created = await api.CreateAdditionAsync(key.AgreementId, draft, cancellationToken);
                outcome = new BillingWriteOutcome.Applied(created.AgreementId, created.Id);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                outcome = BillingWriteOutcome.FromException(exception);
            }

            now = time.GetUtcNow();
            published.Clear();
            switch (outcome)
            {
                case BillingWriteOutcome.Applied applied:
                    foreach (var row in rows)
                    {
                        MarkPosted(row.Sync, applied.LinePsaId!.Value, now);
                        published.Add(Event(row.Sync, now));
                    }

                    summary.Posted += rows.Count;
                    summary.Additions++;
                    await db.SaveChangesAsync(CancellationToken.None);
                    break;
                case BillingWriteOutcome.Refused refused:
                    foreach (var row in rows)
                    {
                        row.Sync.State = InvoiceLineSyncState.Failed;
                        row.Sync.Message = Cut(refused.Message);
                        row.Sync.UpdatedAt = now;
                        published.Add(Event(row.Sync, now));
                    }

                    summary.Failed += rows.Count;
                    await db.SaveChangesAsync(CancellationToken.None);
                    break;
                case BillingWriteOutcome.Unknown unknown:
                    logger.LogWarning("Addition on agreement {Agreement} has an unknown outcome ({Message}); settling by re-reading", key.AgreementId, unknown.Message);
                    await SettleAsync(db, api, settings, rows.Select(r => r.Sync).ToList(), linesById, syncs, resetMissing: false, published, CancellationToken.None);
                    summary.Posted += rows.Count(r => r.Sync.State == InvoiceLineSyncState.Posted);
                    summary.Failed += rows.Count(r => r.Sync.State != InvoiceLineSyncState.Posted);
                    break;
            }

            Publish(published);
        }

        var message = string.Create(CultureInfo.InvariantCulture,
            $"{summary.Posted} line(s) posted as {summary.Additions} addition(s), {summary.Skipped} skipped (not fully mapped), {summary.Failed} failed, {summary.AlreadyPosted} already posted.");
        return new InvoicePostingSummary(true, message, summary.Posted, summary.Skipped, summary.Failed, summary.AlreadyPosted, summary.Additions);
    }

    /// <summary>The invoice description sent on the addition: the charge type name as ConnectWise should show it, and the period.</summary>
    public static string InvoiceDescription(string chargeTypeName, DateOnly start, DateOnly end) =>
        string.Create(CultureInfo.InvariantCulture, $"{chargeTypeName}: {start:yyyy-MM-dd} to {end:yyyy-MM-dd}");

    private static PsaAdditionDraft Draft(InvoiceSettings settings, long productId, decimal quantity, decimal price, decimal cost, DateOnly start, DateOnly end, string chargeTypeName) =>
        new(productId, settings.ExportQuantities ? quantity : null, start,
            UnitPrice: settings.ExportRetailPrice ? price : null,
            UnitCost: settings.ExportCost ? cost : null,
            InvoiceDescription: InvoiceDescription(chargeTypeName, start, end));

    /// <summary>
    /// Settles Posting lines by reading their agreements' additions: an active addition with the line's product,
    /// start date and invoice description that no posted line claims yet is theirs. One not found stays Posting
    /// (right after an unknown answer: the write may still land) or, at the start of a pass, goes back to Pending.
    /// </summary>
    private async Task SettleAsync(PortalDbContext db, IConnectWiseApi api, InvoiceSettings settings, List<InvoiceLineSync> posting,
        IReadOnlyDictionary<long, InvoiceLine> linesById, Dictionary<long, InvoiceLineSync> syncs, bool resetMissing, List<InvoiceLineSynced> published, CancellationToken cancellationToken)
    {
        if (posting.Count == 0)
        {
            return;
        }

        var missingLines = posting.Select(s => s.InvoiceLineId).Where(id => !linesById.ContainsKey(id)).ToList();
        var extraLines = missingLines.Count == 0 ? [] : await db.InvoiceLines.AsNoTracking().Where(l => missingLines.Contains(l.Id)).ToListAsync(cancellationToken);
        var lineOf = linesById.Values.Concat(extraLines).ToDictionary(l => l.Id);
        var claimed = syncs.Values.Where(s => s.State == InvoiceLineSyncState.Posted && s.AdditionPsaId is not null).Select(s => s.AdditionPsaId!.Value).ToHashSet();
        var agreementIds = posting.Where(s => s.AgreementPsaId is not null).Select(s => s.AgreementPsaId!.Value).Distinct().ToList();
        List<PsaAgreementLine> additions;
        var now = time.GetUtcNow();
        try
        {
            additions = await api.ListAdditionsAsync(agreementIds, ConnectWiseCondition.Field("cancelledDate").IsNull(), cancellationToken).ToListAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The lines stay Posting (never posted again blind) and the pass goes on with the others; the next one reads again.
            logger.LogWarning(exception, "Could not read the additions of agreements {Agreements} to settle {Count} line(s)", agreementIds, posting.Count);
            foreach (var sync in posting)
            {
                sync.Message = Cut($"ConnectWise did not confirm the addition and its agreement could not be read ({exception.Message}); the next sync reads the agreement again before posting.");
                sync.UpdatedAt = now;
                published.Add(Event(sync, now));
            }

            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        foreach (var group in posting.GroupBy(s => (s.AgreementPsaId, s.PsaProductId, s.PostedStartDate, s.PostedEndDate, s.PostedChargeTypeName,
                     Price: lineOf.GetValueOrDefault(s.InvoiceLineId)?.UnitPrice, Cost: lineOf.GetValueOrDefault(s.InvoiceLineId)?.Cost)))
        {
            var key = group.Key;
            var description = key.PostedStartDate is { } start && key.PostedEndDate is { } end && key.PostedChargeTypeName is { } name ? InvoiceDescription(name, start, end) : null;
            var match = additions.FirstOrDefault(a => a.AgreementId == key.AgreementPsaId && a.ProductId == key.PsaProductId && a.EffectiveDate == key.PostedStartDate
                && a.InvoiceDescription == description && !claimed.Contains(a.Id)
                && (!settings.ExportRetailPrice || a.UnitPrice == key.Price) && (!settings.ExportCost || a.UnitCost == key.Cost));
            foreach (var sync in group)
            {
                if (match is not null)
                {
                    MarkPosted(sync, match.Id, now);
                }
                else if (resetMissing)
                {
                    sync.State = InvoiceLineSyncState.Pending;
                    sync.Message = "ConnectWise did not confirm the last attempt and the addition is not on the agreement: posting again.";
                    sync.UpdatedAt = now;
                }
                else
                {
                    sync.Message = "ConnectWise did not answer and the addition is not on the agreement yet; the next sync reads the agreement again before posting.";
                    sync.UpdatedAt = now;
                }

                published.Add(Event(sync, now));
            }

            if (match is not null)
            {
                claimed.Add(match.Id);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private static void MarkPosted(InvoiceLineSync sync, long additionId, DateTimeOffset now)
    {
        sync.State = InvoiceLineSyncState.Posted;
        sync.AdditionPsaId = additionId;
        sync.PostedAt = now;
        sync.Message = null;
        sync.UpdatedAt = now;
    }

    private static InvoiceLineSynced Event(InvoiceLineSync sync, DateTimeOffset now) =>
        new(sync.OrganizationId, now, sync.IntegrationId, sync.InvoiceLineId, sync.State, sync.AgreementPsaId, sync.AdditionPsaId, sync.Message);

    private void Publish(IEnumerable<InvoiceLineSynced> changes)
    {
        foreach (var change in changes.ToList())
        {
            events.Publish(change);
        }
    }

    private static string Cut(string message) => message.Length <= InvoiceLineSync.MessageMaxLength ? message : message[..InvoiceLineSync.MessageMaxLength];

    private sealed class PostingCounts
    {
        public int Posted { get; set; }

        public int Skipped { get; set; }

        public int Failed { get; set; }

        public int AlreadyPosted { get; set; }

        public int Additions { get; set; }
    }
}
