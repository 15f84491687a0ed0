using PsaPortal.Integrations;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.Psa;
using PsaPortal.Web.Features.Mapping;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// Autotask billing, always in bulk: the mapped contracts by <c>id in […]</c>, their contract services by
/// <c>contractID in […]</c> and the current period's units by <c>contractServiceID in […]</c>, 500 ids a query, never
/// one read per tenant. The contract period and duplicate services are checked with DESIGN.md's messages; a change is
/// a ContractServiceAdjustment of <c>new − current</c> units effective today, confirmed by one batched re-read.
/// A run's rows are read all at once, so every query but the last of each kind is a full page of ids; the queries of
/// one kind go out up to <c>maxConcurrentCalls</c> at a time (the client holds them to Autotask's per-endpoint limit).
/// </summary>
public sealed class AutotaskBillingPsa(IAutotaskApi api, int maxConcurrentCalls, TimeProvider time) : IBillingPsa
{
    /// <summary>Ids per <c>in</c> filter: one Autotask page.</summary>
    public const int IdsPerQuery = 500;

    public PsaVendor Vendor => PsaVendor.Autotask;

    public BillingAction UpdateAction => BillingAction.Adjust;

    public bool ConfirmsByReread => true;

    /// <summary>Contracts per plan: two full pages of contract ids; the plan's services and units fill pages the same way.</summary>
    public const int ContractsPerPlan = 2 * IdsPerQuery;

    public BillingPlanLimits PlanLimits => new(int.MaxValue, ContractsPerPlan);

    private DateOnly Today => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    public async Task<IReadOnlyDictionary<BillingRunItem, PsaLineState>> ReadAsync(IReadOnlyList<BillingRunItem> rows, CancellationToken cancellationToken)
    {
        var states = new Dictionary<BillingRunItem, PsaLineState>(rows.Count);
        var today = Today;
        Dictionary<long, PsaAgreement> contracts;
        try
        {
            var read = await QueryInAsync(rows.Select(r => r.AgreementPsaId!.Value), ids => api.QueryContractsAsync(AutotaskFilter.Where("id").In(ids), cancellationToken), cancellationToken);
            contracts = read.ToDictionary(c => c.Id);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return rows.ToDictionary(r => r, _ => PsaLineState.Failed(exception.Message));
        }

        var open = new List<BillingRunItem>();
        foreach (var row in rows)
        {
            var id = row.AgreementPsaId!.Value;
            if (!contracts.TryGetValue(id, out var contract))
            {
                states[row] = PsaLineState.Failed(BillingMessages.ContractNotFound(id, row.AgreementName));
            }
            else if (contract.StartDate is { } start && start > today)
            {
                states[row] = PsaLineState.Failed(BillingMessages.FutureContract(contract.Name, start));
            }
            else if (contract.EndDate is { } end && end < today)
            {
                states[row] = PsaLineState.Failed(BillingMessages.ExpiredContract(contract.Name, end));
            }
            else
            {
                open.Add(row);
            }
        }

        List<PsaAgreementLine> services;
        try
        {
            services = await QueryInAsync(open.Select(r => r.AgreementPsaId!.Value), ids => api.QueryContractServicesAsync(AutotaskFilter.Where("contractID").In(ids), cancellationToken), cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            foreach (var row in open)
            {
                states[row] = PsaLineState.Failed(exception.Message);
            }

            return states;
        }

        var byContractAndService = services.ToLookup(s => (s.AgreementId, s.ProductId));
        var shared = open.GroupBy(r => (r.AgreementPsaId!.Value, r.PsaProductId!.Value)).Where(g => g.Count() > 1).ToDictionary(g => g.Key, g => g.ToList());
        var lineOf = new Dictionary<BillingRunItem, long>();
        foreach (var row in open)
        {
            var key = (row.AgreementPsaId!.Value, row.PsaProductId!.Value);
            var lines = byContractAndService[key].ToList();
            if (shared.TryGetValue(key, out var clash))
            {
                var other = clash.First(r => !ReferenceEquals(r, row));
                states[row] = PsaLineState.Failed(MappingRules.SharedAgreementMessage(Vendor, other.TenantName, row.PsaProductName ?? "", row.AgreementName ?? ""));
            }
            else if (lines.Count == 0)
            {
                states[row] = PsaLineState.Failed(BillingMessages.ServiceNotOnContract(row.PsaProductName ?? $"service {key.Item2}", contracts[key.Item1].Name));
            }
            else if (lines.Count > 1)
            {
                states[row] = PsaLineState.Failed(BillingMessages.DuplicateService(lines.Count));
            }
            else
            {
                lineOf[row] = lines[0].Id;
            }
        }

        var units = await UnitsAsync(lineOf.Values, cancellationToken);
        foreach (var (row, lineId) in lineOf)
        {
            states[row] = units.Error is not null ? PsaLineState.Failed(units.Error) : new PsaLineState(null, lineId, units.Current.GetValueOrDefault(lineId));
        }

        return states;
    }

    public async Task<IReadOnlyDictionary<long, PsaLineState>> RereadAsync(IReadOnlyList<(BillingRunItem Row, BillingWrite Write)> rows, CancellationToken cancellationToken)
    {
        var units = await UnitsAsync(rows.Select(r => r.Write.LinePsaId!.Value), cancellationToken);
        return rows.ToDictionary(r => r.Row.Id, r => units.Error is not null
            ? PsaLineState.Failed(units.Error)
            : new PsaLineState(null, r.Write.LinePsaId, units.Current.GetValueOrDefault(r.Write.LinePsaId!.Value)));
    }

    public async Task<BillingWriteOutcome> SendAsync(BillingWrite write, CancellationToken cancellationToken)
    {
        if (write.Action != BillingAction.Adjust)
        {
            throw new InvalidOperationException($"Autotask billing does not send {write.Action}.");
        }

        try
        {
            var change = (int)(write.After - (write.Before ?? 0));
            var id = await api.CreateContractServiceAdjustmentAsync(
                new PsaUnitAdjustment(write.AgreementPsaId, write.LinePsaId!.Value, write.EffectiveDate!.Value, change), cancellationToken);
            return new BillingWriteOutcome.Applied(id, write.LinePsaId);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return BillingWriteOutcome.FromException(exception);
        }
    }

    private sealed record UnitsRead(IReadOnlyDictionary<long, decimal> Current, string? Error);

    /// <summary>The units of today's period per contract service (0 when the service has no row for today).</summary>
    private async Task<UnitsRead> UnitsAsync(IEnumerable<long> contractServiceIds, CancellationToken cancellationToken)
    {
        var today = Today.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        try
        {
            var rows = await QueryInAsync(contractServiceIds, ids => api.QueryContractServiceUnitsAsync(AutotaskFilter.And(
                AutotaskFilter.Where("contractServiceID").In(ids),
                AutotaskFilter.Where("startDate").AtMost(today),
                AutotaskFilter.Where("endDate").AtLeast(today)), cancellationToken), cancellationToken);
            return new UnitsRead(rows.GroupBy(u => u.ContractServiceId).ToDictionary(g => g.Key, g => g.OrderByDescending(u => u.StartDate).First().Units), null);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new UnitsRead(new Dictionary<long, decimal>(), exception.Message);
        }
    }

    private async Task<List<T>> QueryInAsync<T>(IEnumerable<long> ids, Func<IReadOnlyList<long>, IAsyncEnumerable<T>> query, CancellationToken cancellationToken)
    {
        var chunks = ids.Distinct().Order().Chunk(IdsPerQuery).ToList();
        var results = new List<T>[chunks.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, chunks.Count), new ParallelOptions { MaxDegreeOfParallelism = maxConcurrentCalls, CancellationToken = cancellationToken },
            async (index, token) =>
            {
                var read = new List<T>();
                await foreach (var item in query(chunks[index]).WithCancellation(token))
                {
                    read.Add(item);
                }

                results[index] = read;
            });
        return [.. results.SelectMany(r => r)];
    }
}
