using System.Globalization;
using System.Text.Json.Nodes;
using PsaPortal.Testing.Processes;
using PsaPortal.Integrations;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Testing.BillingScenarios;

/// <summary>
/// Autotask: each tenant on its company's Recurring Service contract; counts moved up and down, so every change is a
/// delta adjustment and a replayed one would double it. Company 3 is mapped to its future-dated renewal, company 4 to
/// its expired contract and company 5 has a service twice: those rows must fail with DESIGN.md's messages.
/// </summary>
internal sealed class AutotaskScenario(IPortalStore store, SandboxProcess sandbox) : BillingScenario(store, sandbox)
{
    public const string UserName = "full@psaportal-sandbox.example";
    public const string Secret = "SbxFullSecret1!";
    public const string TrackingIdentifier = "PSAPORTALSANDBOX0000000000";
    private const int CompanyIdOffset = 1000;

    private (JsonObject? Data, AutotaskState? State) _parsed;

    public override PsaVendor Vendor => PsaVendor.Autotask;

    /// <summary>The day whose billing period the run changes (the sandbox's reference date is the day it started, UTC).</summary>
    public static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow);

    public static string FutureMessage(Contract contract) =>
        $"Contract \"{contract.Name}\" has a start date of {contract.Start:yyyy-MM-dd}, which is in the future. Billing cannot be synced until the contract period has begun — update the contract start date in Autotask or wait until the contract is active.";

    public static string ExpiredMessage(Contract contract) =>
        $"Contract \"{contract.Name}\" ended on {contract.End:yyyy-MM-dd}. Billing cannot be synced to an expired contract — extend the contract end date in Autotask or map this tenant to an active contract.";

    public static string DuplicateMessage(int times) =>
        $"Duplicate service found — the mapped Autotask Service appears {times} times on this contract. Remove the duplicate in Autotask by deleting it (if not yet invoiced) or setting its units to 0 with a past-dated removal, then retry.";

    protected override void DescribeConnection(Integration integration)
    {
        integration.UserName = UserName;
        integration.ProtectedSecret = Store.Secrets.Protect(Secret);
        integration.ProtectedIntegrationCode = Store.Secrets.Protect(TrackingIdentifier);
        integration.ZoneDiscoveryUrl = Sandbox.AutotaskZoneDiscoveryUrl;
        integration.ApiVersion = "Autotask REST v1.0";
    }

    protected override IReadOnlyList<CompanyMapping> MapCompanies(JsonObject data)
    {
        var state = new AutotaskState(data);
        var contracts = state.Contracts.ToLookup(c => c.CompanyId);
        var mappings = new List<CompanyMapping>();
        foreach (var (companyId, name) in state.CompanyNames.OrderBy(c => c.Key))
        {
            var number = (int)(companyId - CompanyIdOffset);
            var prefix = number switch
            {
                3 => "Managed Services Renewal - ",
                4 => "Managed Services 2024 - ",
                _ => "Managed Services - ",
            };
            if (contracts[companyId].FirstOrDefault(c => c.Name.StartsWith(prefix, StringComparison.Ordinal)) is not { } contract)
            {
                continue;
            }

            var usage = state.Lines.Where(l => l.ContractId == contract.Id)
                .GroupBy(l => l.ServiceId)
                .Select(g => (Sku(g.Key), Math.Max(1, state.UnitsOn(g.First().Id, Today))))
                .ToList();
            mappings.Add(new CompanyMapping(number, companyId, name, contract.Id, contract.Name, usage));
        }

        return mappings;
    }

    protected override decimal? PsaQuantity(JsonObject data, long agreementPsaId, long psaProductId)
    {
        var state = State(data);
        return state.LinesOf(agreementPsaId, psaProductId) is [var line, ..] ? state.UnitsOn(line.Id, Today) : null;
    }

    protected override (string? Message, bool MayFail) KnownFailure(JsonObject data, int companyNumber, long agreementPsaId, string sku)
    {
        var state = State(data);
        var contract = state.Contracts.Single(c => c.Id == agreementPsaId);
        if (contract.Start > Today)
        {
            return (FutureMessage(contract), false);
        }

        if (contract.End < Today)
        {
            return (ExpiredMessage(contract), false);
        }

        var lines = state.LinesOf(agreementPsaId, PsaPortal.Sandbox.Seed.SandboxSeedData.Product(sku).Number).Count;
        return lines > 1 ? (DuplicateMessage(lines), false) : (null, companyNumber == 5);
    }

    /// <summary>Up or down by up to 60 units (never below one), so adjustments are positive and negative.</summary>
    protected override int NewCount(Random random, int psaQuantity)
    {
        var change = 1 + random.Next(60);
        return random.Next(2) == 0 && psaQuantity - change >= 1 ? psaQuantity - change : psaQuantity + change;
    }

    public override IReadOnlyList<string> VerifyPsa(JsonObject before, JsonObject after, IReadOnlyList<ExpectedRow> rows, IReadOnlyDictionary<(long TenantId, long ProductId), BillingRunItem> items)
    {
        var problems = new List<string>();
        var was = new AutotaskState(before);
        var now = new AutotaskState(after);
        var earlier = was.Adjustments.Select(a => a.Id).ToHashSet();
        var newAdjustments = now.Adjustments.Where(a => !earlier.Contains(a.Id)).ToLookup(a => a.LineId);
        var rowLines = new HashSet<long>();
        foreach (var row in rows)
        {
            var item = items.GetValueOrDefault((row.TenantId, row.VendorProductId));
            var failed = item?.Outcome == BillingOutcome.Failed;
            var lines = was.LinesOf(row.AgreementPsaId, row.PsaProductId);
            rowLines.UnionWith(lines.Select(l => l.Id));
            if (row.MustSync || (row.MayFail && !failed))
            {
                var line = lines.Single();
                var unitsBefore = was.UnitsOn(line.Id, Today);
                var unitsAfter = now.UnitsOn(line.Id, Today);
                var posted = newAdjustments[line.Id].ToList();
                if (unitsAfter != row.Count)
                {
                    problems.Add($"{row}: contract service {line.Id} bills {unitsAfter} units today, expected {row.Count}");
                }

                if (posted.Sum(a => a.UnitChange) != row.Count - unitsBefore)
                {
                    problems.Add($"{row}: adjustments posted sum to {posted.Sum(a => a.UnitChange)} ({Describe(posted)}), expected {row.Count - unitsBefore}");
                }

                if (posted.Count != (row.Count == unitsBefore ? 0 : 1))
                {
                    problems.Add($"{row}: {posted.Count} adjustments posted ({Describe(posted)}), expected {(row.Count == unitsBefore ? 0 : 1)}");
                }
            }
            else
            {
                foreach (var line in lines)
                {
                    if (newAdjustments[line.Id].Any() || was.UnitsOn(line.Id, Today) != now.UnitsOn(line.Id, Today))
                    {
                        problems.Add($"{row}: the row failed ({item?.Message}) yet contract service {line.Id} changed: {Describe([.. newAdjustments[line.Id]])}");
                    }
                }
            }
        }

        foreach (var stray in newAdjustments.Where(g => !rowLines.Contains(g.Key)))
        {
            problems.Add($"adjustments on contract service {stray.Key}, which belongs to no row: {Describe([.. stray])}");
        }

        var newLines = now.Lines.Select(l => l.Id).Except(was.Lines.Select(l => l.Id)).ToList();
        if (newLines.Count > 0)
        {
            problems.Add($"contract services were created: {string.Join(", ", newLines)}");
        }

        return problems;
    }

    private AutotaskState State(JsonObject data)
    {
        if (!ReferenceEquals(_parsed.Data, data))
        {
            _parsed = (data, new AutotaskState(data));
        }

        return _parsed.State!;
    }

    private static string Sku(long serviceId) => PsaPortal.Sandbox.Seed.SandboxSeedData.Products.Single(p => p.Number == serviceId).Sku;

    private static string Describe(IReadOnlyList<Adjustment> adjustments) =>
        adjustments.Count == 0 ? "none" : string.Join(", ", adjustments.Select(a => $"#{a.Id} {a.UnitChange.ToString("+0;-0", CultureInfo.InvariantCulture)} from {a.EffectiveDate:yyyy-MM-dd}"));
}
