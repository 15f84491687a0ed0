using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Psa;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// ConnectWise billing: the active additions (cancelledDate = null) of every mapped agreement, read per agreement (the
/// API has no cross-agreement additions endpoint) a few at a time within the connection's budget; a product that is
/// also active on another agreement of the same company fails the row with DESIGN.md's message. Which other
/// agreements may hold it comes from the reference cache (agreements not cancelled and in effect today: a renewal
/// that has not begun or an agreement that has ended bills nothing), so only those few are read live. Additions the
/// portal posted for invoice lines (Features/Invoices: one per period, on the same agreement and product) are not
/// billing's line: they are left out of every read, so billing neither counts nor changes them.
/// </summary>
public sealed class ConnectWiseBillingPsa(
    IConnectWiseApi api,
    IDbContextFactory<PortalDbContext> dbFactory,
    Guid integrationId,
    int maxConcurrentCalls,
    TimeProvider time) : IBillingPsa
{
    private static readonly ConnectWiseCondition Active = ConnectWiseCondition.Field("cancelledDate").IsNull();

    public PsaVendor Vendor => PsaVendor.ConnectWise;

    public BillingAction UpdateAction => BillingAction.UpdateQuantity;

    public bool ConfirmsByReread => false;

    public async Task<IReadOnlyDictionary<BillingRunItem, PsaLineState>> ReadAsync(IReadOnlyList<BillingRunItem> rows, CancellationToken cancellationToken)
    {
        var (others, names) = await OtherAgreementsAsync(rows, cancellationToken);
        var agreements = rows.Select(r => r.AgreementPsaId!.Value).Concat(others.Values.SelectMany(a => a)).Distinct().ToList();
        var lines = await ReadAdditionsAsync(agreements, cancellationToken);
        var shared = SharedLines(rows);
        var states = new Dictionary<BillingRunItem, PsaLineState>(rows.Count);
        foreach (var row in rows)
        {
            var (agreement, product) = (row.AgreementPsaId!.Value, row.PsaProductId!.Value);
            if (shared.TryGetValue((agreement, product), out var clash))
            {
                var other = clash.First(r => !ReferenceEquals(r, row));
                states[row] = PsaLineState.Failed(MappingRules.SharedAgreementMessage(Vendor, other.TenantName, row.PsaProductName ?? "", row.AgreementName ?? ""));
                continue;
            }

            var read = lines[agreement];
            if (read.Error is not null)
            {
                states[row] = PsaLineState.Failed(read.Error);
                continue;
            }

            var onOthers = others.GetValueOrDefault((row.CompanyPsaId!.Value, product), [])
                .Where(a => a != agreement)
                .Select(a => (Id: a, Read: lines[a]))
                .ToList();
            if (onOthers.FirstOrDefault(o => o.Read.Error is not null) is { Read.Error: { } otherError })
            {
                states[row] = PsaLineState.Failed(otherError);
                continue;
            }

            var mine = read.Lines.Where(l => l.ProductId == product).ToList();
            var holders = onOthers.Where(o => o.Read.Lines.Any(l => l.ProductId == product)).ToList();
            if (holders.Count > 1 || (holders.Count == 1 && mine.Count > 0))
            {
                states[row] = PsaLineState.Failed(BillingMessages.MultipleAgreements);
                continue;
            }

            if (holders.Count == 1)
            {
                states[row] = PsaLineState.Failed(BillingMessages.OnOtherAgreement(names.GetValueOrDefault(holders[0].Id) ?? $"#{holders[0].Id}", row.AgreementName ?? $"#{agreement}"));
                continue;
            }

            states[row] = mine.Count switch
            {
                0 => new PsaLineState(null, null, null),
                1 => new PsaLineState(null, mine[0].Id, mine[0].Quantity ?? 0),
                var n => PsaLineState.Failed(BillingMessages.DuplicateAdditions(n)),
            };
        }

        return states;
    }

    public async Task<IReadOnlyDictionary<long, PsaLineState>> RereadAsync(IReadOnlyList<(BillingRunItem Row, BillingWrite Write)> rows, CancellationToken cancellationToken)
    {
        var lines = await ReadAdditionsAsync(rows.Select(r => r.Write.AgreementPsaId).Distinct().ToList(), cancellationToken);
        var states = new Dictionary<long, PsaLineState>(rows.Count);
        foreach (var (row, write) in rows)
        {
            var read = lines[write.AgreementPsaId];
            if (read.Error is not null)
            {
                states[row.Id] = PsaLineState.Failed(read.Error);
                continue;
            }

            var line = write.LinePsaId is { } id
                ? read.Lines.FirstOrDefault(l => l.Id == id)
                : read.Lines.Where(l => l.ProductId == write.PsaProductId).OrderByDescending(l => l.Id).FirstOrDefault();
            states[row.Id] = line is null ? new PsaLineState(null, null, null) : new PsaLineState(null, line.Id, line.Quantity ?? 0);
        }

        return states;
    }

    public async Task<BillingWriteOutcome> SendAsync(BillingWrite write, CancellationToken cancellationToken)
    {
        try
        {
            switch (write.Action)
            {
                case BillingAction.UpdateQuantity:
                    var updated = await api.SetAdditionQuantityAsync(write.AgreementPsaId, write.LinePsaId!.Value, write.After, cancellationToken);
                    return new BillingWriteOutcome.Applied(updated.Id, updated.Id);
                case BillingAction.CreateAddition:
                    // Unit price and cost are left to the catalog product: there is no setting yet that says to export them.
                    var created = await api.CreateAdditionAsync(write.AgreementPsaId,
                        new PsaAdditionDraft(write.PsaProductId, write.After, write.EffectiveDate!.Value), cancellationToken);
                    return new BillingWriteOutcome.Applied(created.Id, created.Id);
                default:
                    throw new InvalidOperationException($"ConnectWise billing does not send {write.Action}.");
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return BillingWriteOutcome.FromException(exception);
        }
    }

    /// <summary>Per (company, PSA product): the company's agreements whose cached active additions include the product.</summary>
    private async Task<(Dictionary<(long Company, long Product), HashSet<long>> Others, Dictionary<long, string> Names)> OtherAgreementsAsync(IReadOnlyList<BillingRunItem> rows, CancellationToken cancellationToken)
    {
        var wanted = rows.Select(r => (r.CompanyPsaId!.Value, r.PsaProductId!.Value)).ToHashSet();
        var products = wanted.Select(w => w.Item2).Distinct().ToList();
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var cached = await (
                from addition in db.PsaReferenceItems
                join agreement in db.PsaReferenceItems on new { Id = addition.ParentPsaId!.Value, addition.IntegrationId } equals new { Id = agreement.PsaId, agreement.IntegrationId }
                where addition.IntegrationId == integrationId && addition.Kind == PsaReferenceKind.Addition && addition.IsActive
                      && agreement.Kind == PsaReferenceKind.Agreement && addition.ProductPsaId != null && products.Contains(addition.ProductPsaId.Value)
                      && agreement.ParentPsaId != null && agreement.IsActive
                      && (agreement.StartDate == null || agreement.StartDate <= today) && (agreement.EndDate == null || agreement.EndDate >= today)
                select new { Company = agreement.ParentPsaId!.Value, Product = addition.ProductPsaId!.Value, Agreement = agreement.PsaId, agreement.Name })
            .ToListAsync(cancellationToken);
        var result = new Dictionary<(long, long), HashSet<long>>();
        var names = new Dictionary<long, string>();
        foreach (var c in cached.Where(c => wanted.Contains((c.Company, c.Product))))
        {
            if (!result.TryGetValue((c.Company, c.Product), out var set))
            {
                result[(c.Company, c.Product)] = set = [];
            }

            set.Add(c.Agreement);
            names[c.Agreement] = c.Name;
        }

        return (result, names);
    }

    private static Dictionary<(long Agreement, long Product), List<BillingRunItem>> SharedLines(IReadOnlyList<BillingRunItem> rows) =>
        rows.GroupBy(r => (r.AgreementPsaId!.Value, r.PsaProductId!.Value)).Where(g => g.Count() > 1).ToDictionary(g => g.Key, g => g.ToList());

    private sealed record AgreementRead(IReadOnlyList<PsaAgreementLine> Lines, string? Error);

    /// <summary>Active additions per agreement; a failed read is kept with the PSA's message and fails only that agreement's rows.</summary>
    private async Task<IReadOnlyDictionary<long, AgreementRead>> ReadAdditionsAsync(IReadOnlyList<long> agreements, CancellationToken cancellationToken)
    {
        var invoiceAdditions = await InvoiceAdditionsAsync(agreements, cancellationToken);
        var reads = new ConcurrentDictionary<long, AgreementRead>();
        await Parallel.ForEachAsync(agreements, new ParallelOptions { MaxDegreeOfParallelism = maxConcurrentCalls, CancellationToken = cancellationToken },
            async (agreementId, token) =>
            {
                try
                {
                    var lines = await api.ListAdditionsAsync([agreementId], Active, token).ToListAsync(token);
                    reads[agreementId] = new AgreementRead([.. lines.Where(l => l.CancelledDate is null && !invoiceAdditions.Contains(l.Id))], null);
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    reads[agreementId] = new AgreementRead([], exception.Message);
                }
            });
        return reads;
    }

    /// <summary>The additions on these agreements that the invoice-line engine posted (and so owns).</summary>
    private async Task<HashSet<long>> InvoiceAdditionsAsync(IReadOnlyList<long> agreements, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = await db.InvoiceLineSyncs
            .Where(s => s.IntegrationId == integrationId && s.State == InvoiceLineSyncState.Posted && s.AdditionPsaId != null && agreements.Contains(s.AgreementPsaId!.Value))
            .Select(s => s.AdditionPsaId!.Value)
            .Distinct()
            .ToListAsync(cancellationToken);
        return [.. ids];
    }
}
