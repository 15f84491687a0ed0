using System.Globalization;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Web.Features.Billing;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// The fault tests' view of the sandbox PSA: where each tenant bills, a snapshot taken before a run, and the check
/// that the PSA holds what the run's rows say — for a Synced or Unchanged row exactly one line with the row's count
/// (ConnectWise: one active addition; Autotask: today's units and at most one adjustment of exactly the difference),
/// for a Failed row nothing changed, unless its write's outcome could not be confirmed, when the PSA holds either
/// nothing changed or the row's count written once — with nothing created twice and nothing written outside the rows.
/// </summary>
internal static class FaultPsa
{
    public static DateTime Today => DateTime.UtcNow.Date;

    public static (long Id, string Name, IReadOnlyList<string> Skus) ConnectWiseAgreement(PsaSandbox sandbox, int companyNumber)
    {
        var data = sandbox.ConnectWise.Data;
        var agreement = data.Agreements.All().First(a => Long(a["company"]!["id"]) == companyNumber && JsonRecords.GetString(a["name"]) == "Managed Services");
        var id = JsonRecords.GetId(agreement);
        var skus = data.Additions.All().Where(a => Long(a["agreementId"]) == id && a["cancelledDate"] is null)
            .Select(a => JsonRecords.GetString(a["product"]!["identifier"])!).Distinct().ToList();
        return (id, JsonRecords.GetString(agreement["name"])!, skus);
    }

    public static (long Id, string Name, IReadOnlyList<string> Skus) AutotaskContract(PsaSandbox sandbox, int companyNumber)
    {
        var hard = sandbox.SeedData.HardCases;
        var prefix = companyNumber == hard.FutureDatedContractCompany ? "Managed Services Renewal - "
            : companyNumber == hard.ExpiredContractCompany ? "Managed Services 2024 - " : "Managed Services - ";
        var data = sandbox.Autotask.Data;
        var contract = data.Contracts.All().First(c => Long(c["companyID"]) == 1000 + companyNumber && JsonRecords.GetString(c["contractName"])!.StartsWith(prefix, StringComparison.Ordinal));
        var id = JsonRecords.GetId(contract);
        var skus = data.ContractServices.All().Where(s => Long(s["contractID"]) == id)
            .Select(s => SandboxSeedData.Products.Single(p => p.Number == Long(s["serviceID"])).Sku).Distinct().ToList();
        return (id, JsonRecords.GetString(contract["contractName"])!, skus);
    }

    /// <summary>ConnectWise: the active additions of a product on an agreement, as (id, quantity).</summary>
    public static List<(long Id, decimal Quantity)> ActiveAdditions(PsaSandbox sandbox, long agreementId, long productId) =>
        [.. sandbox.ConnectWise.Data.Additions.All()
            .Where(a => Long(a["agreementId"]) == agreementId && Long(a["product"]!["id"]) == productId && a["cancelledDate"] is null)
            .Select(a => (JsonRecords.GetId(a), Decimal(a["quantity"])))
            .OrderBy(a => a.Item1)];

    /// <summary>Autotask: the contract services of a service on a contract.</summary>
    public static List<long> ContractServices(PsaSandbox sandbox, long contractId, long serviceId) =>
        [.. sandbox.Autotask.Data.ContractServices.All()
            .Where(s => Long(s["contractID"]) == contractId && Long(s["serviceID"]) == serviceId)
            .Select(JsonRecords.GetId)
            .Order()];

    /// <summary>Autotask: the units a contract service bills today (0 without a row for today).</summary>
    public static int UnitsToday(PsaSandbox sandbox, long contractServiceId) =>
        sandbox.Autotask.Data.ContractServiceUnits.All()
            .Where(u => Long(u["contractServiceID"]) == contractServiceId && Date(u["startDate"]) <= Today && Today <= Date(u["endDate"]))
            .Select(u => (int)Long(u["units"]))
            .FirstOrDefault();

    public static Snapshot Take(PsaSandbox sandbox) => new(
        sandbox.ConnectWise.Data.Additions.All().ToDictionary(JsonRecords.GetId, a => a.ToJsonString()),
        sandbox.Autotask.Data.ContractServiceAdjustments.All().Select(JsonRecords.GetId).ToHashSet(),
        sandbox.Autotask.Data.ContractServices.All().ToDictionary(JsonRecords.GetId, s => UnitsToday(sandbox, JsonRecords.GetId(s))));

    /// <summary>Every way the PSA differs from what <paramref name="rows"/> say it holds since <paramref name="before"/>.</summary>
    /// <param name="unconfirmed">Failed rows whose write may or may not have arrived (<see cref="FaultPortal.UnconfirmedAsync"/>).</param>
    public static List<string> ConnectWiseMismatches(PsaSandbox sandbox, Snapshot before, IReadOnlyList<BillingRunItem> rows, IReadOnlySet<long>? unconfirmed = null)
    {
        var problems = new List<string>();
        var touched = new HashSet<long>();
        foreach (var row in rows)
        {
            var now = ActiveAdditions(sandbox, row.AgreementPsaId!.Value, row.PsaProductId!.Value);
            touched.UnionWith(now.Select(a => a.Id));
            if (row.Outcome is BillingOutcome.Synced or BillingOutcome.Unchanged)
            {
                if (now.Count != 1 || now[0].Quantity != row.New)
                {
                    problems.Add($"{Describe(row)}: active additions [{string.Join(", ", now.Select(a => $"#{a.Id} qty {a.Quantity}"))}], expected one with quantity {row.New}");
                }
            }
            else if (unconfirmed?.Contains(row.Id) == true && now is [var only] && only.Quantity == row.New)
            {
                // The unconfirmed write arrived, once.
            }
            else if (now.Any(a => !before.Additions.TryGetValue(a.Id, out var was) || was != Addition(sandbox, a.Id)))
            {
                problems.Add($"{Describe(row)}: failed (\"{row.Message}\") yet its additions changed");
            }
        }

        foreach (var addition in sandbox.ConnectWise.Data.Additions.All().Where(a => !touched.Contains(JsonRecords.GetId(a))))
        {
            var id = JsonRecords.GetId(addition);
            if (!before.Additions.TryGetValue(id, out var was) || was != addition.ToJsonString())
            {
                problems.Add($"addition #{id} on agreement {Long(addition["agreementId"])} belongs to no row yet was created or changed");
            }
        }

        return problems;
    }

    /// <inheritdoc cref="ConnectWiseMismatches"/>
    public static List<string> AutotaskMismatches(PsaSandbox sandbox, Snapshot before, IReadOnlyList<BillingRunItem> rows, IReadOnlySet<long>? unconfirmed = null)
    {
        var problems = new List<string>();
        var posted = sandbox.Autotask.Data.ContractServiceAdjustments.All().Where(a => !before.Adjustments.Contains(JsonRecords.GetId(a)))
            .ToLookup(a => Long(a["contractServiceID"]), a => (int)Long(a["unitChange"]));
        var lines = new HashSet<long>();
        foreach (var row in rows)
        {
            var services = ContractServices(sandbox, row.AgreementPsaId!.Value, row.PsaProductId!.Value);
            lines.UnionWith(services);
            var arrived = unconfirmed?.Contains(row.Id) == true && services is [var written] && posted[written].Any();
            if (row.Outcome is BillingOutcome.Synced or BillingOutcome.Unchanged || arrived)
            {
                var line = Assert.Single(services);
                var (was, now, changes) = (before.UnitsToday[line], UnitsToday(sandbox, line), posted[line].ToList());
                if (now != row.New || changes.Sum() != now - was || changes.Count > 1)
                {
                    problems.Add($"{Describe(row)}: contract service {line} went {was} -> {now} units with adjustments [{string.Join(", ", changes)}], expected {row.New} with at most one adjustment");
                }
            }
            else if (services.Any(s => posted[s].Any() || UnitsToday(sandbox, s) != before.UnitsToday[s]))
            {
                problems.Add($"{Describe(row)}: failed (\"{row.Message}\") yet its contract service changed");
            }
        }

        foreach (var stray in posted.Where(g => !lines.Contains(g.Key)))
        {
            problems.Add($"adjustments [{string.Join(", ", stray)}] on contract service {stray.Key}, which belongs to no row");
        }

        return problems;
    }

    public static string Describe(BillingRunItem row) =>
        string.Create(CultureInfo.InvariantCulture, $"{row.TenantName} / {row.VendorProductName} (row {row.Id}, {row.Outcome}, new {row.New})");

    private static string Addition(PsaSandbox sandbox, long id) => sandbox.ConnectWise.Data.Additions.All().Single(a => JsonRecords.GetId(a) == id).ToJsonString();

    private static long Long(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var number) ? (long)number : 0;

    private static decimal Decimal(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var number) ? number : 0;

    private static DateTime Date(JsonNode? node) =>
        DateTime.Parse(JsonRecords.GetString(node)!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal).Date;

    /// <summary>The PSA before a run: each addition as JSON, the adjustments posted so far, each contract service's units today.</summary>
    internal sealed record Snapshot(IReadOnlyDictionary<long, string> Additions, IReadOnlySet<long> Adjustments, IReadOnlyDictionary<long, int> UnitsToday);
}
