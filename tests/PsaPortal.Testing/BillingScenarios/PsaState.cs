using System.Globalization;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Testing.BillingScenarios;

internal sealed record Agreement(long Id, long CompanyId, string Name, bool Cancelled);

internal sealed record Addition(long Id, long AgreementId, long ProductId, decimal Quantity, bool Cancelled);

/// <summary>The ConnectWise tables a billing run reads and writes, as the sandbox's <c>GET _sandbox/data</c> gave them.</summary>
internal sealed class ConnectWiseState
{
    public ConnectWiseState(JsonObject data)
    {
        Agreements = Records(data, "finance/agreements").Select(a => new Agreement(
            JsonRecords.GetId(a), Long(a["company"]?["id"]), JsonRecords.GetString(a["name"]) ?? "", JsonRecords.GetBoolean(a["cancelledFlag"]) == true)).ToList();
        Additions = Records(data, "finance/agreements/additions").Select(a => new Addition(
            JsonRecords.GetId(a), Long(a["agreementId"]), Long(a["product"]?["id"]), Decimal(a["quantity"]), a["cancelledDate"] is not null)).ToList();
        CompanyNames = Records(data, "company/companies").ToDictionary(JsonRecords.GetId, c => JsonRecords.GetString(c["name"]) ?? "");
        ProductIdentifiers = Records(data, "procurement/catalog").ToDictionary(JsonRecords.GetId, c => JsonRecords.GetString(c["identifier"]) ?? "");
    }

    public IReadOnlyList<Agreement> Agreements { get; }

    public IReadOnlyList<Addition> Additions { get; }

    public IReadOnlyDictionary<long, string> CompanyNames { get; }

    public IReadOnlyDictionary<long, string> ProductIdentifiers { get; }

    /// <summary>The additions of a product on an agreement that bill today (not cancelled).</summary>
    public IReadOnlyList<Addition> ActiveAdditions(long agreementId, long productId) =>
        Additions.Where(a => a.AgreementId == agreementId && a.ProductId == productId && !a.Cancelled).OrderBy(a => a.Id).ToList();

    internal static IEnumerable<JsonObject> Records(JsonObject data, string table) =>
        (data[table] as JsonArray ?? throw new InvalidOperationException($"The sandbox data has no table {table}.")).OfType<JsonObject>();

    internal static long Long(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var number) ? (long)number : 0;

    internal static decimal Decimal(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var number) ? number : 0;

    internal static DateOnly Date(JsonNode? node) =>
        DateOnly.FromDateTime(DateTime.Parse(JsonRecords.GetString(node)!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal));
}

internal sealed record Contract(long Id, long CompanyId, string Name, DateOnly Start, DateOnly End);

internal sealed record ContractLine(long Id, long ContractId, long ServiceId);

internal sealed record UnitsRow(long Id, long LineId, DateOnly Start, DateOnly End, int Units);

internal sealed record Adjustment(long Id, long LineId, int UnitChange, DateOnly EffectiveDate);

/// <summary>The Autotask tables a billing run reads and writes, as the sandbox's <c>GET _sandbox/data</c> gave them.</summary>
internal sealed class AutotaskState
{
    public AutotaskState(JsonObject data)
    {
        Contracts = ConnectWiseState.Records(data, "Contracts").Select(c => new Contract(JsonRecords.GetId(c), ConnectWiseState.Long(c["companyID"]),
            JsonRecords.GetString(c["contractName"]) ?? "", ConnectWiseState.Date(c["startDate"]), ConnectWiseState.Date(c["endDate"]))).ToList();
        Lines = ConnectWiseState.Records(data, "ContractServices").Select(l => new ContractLine(JsonRecords.GetId(l), ConnectWiseState.Long(l["contractID"]),
            ConnectWiseState.Long(l["serviceID"]))).ToList();
        Units = ConnectWiseState.Records(data, "ContractServiceUnits").Select(u => new UnitsRow(JsonRecords.GetId(u), ConnectWiseState.Long(u["contractServiceID"]),
            ConnectWiseState.Date(u["startDate"]), ConnectWiseState.Date(u["endDate"]), (int)ConnectWiseState.Long(u["units"]))).ToList();
        Adjustments = ConnectWiseState.Records(data, "ContractServiceAdjustments").Select(a => new Adjustment(JsonRecords.GetId(a),
            ConnectWiseState.Long(a["contractServiceID"]), (int)ConnectWiseState.Long(a["unitChange"]), ConnectWiseState.Date(a["effectiveDate"]))).ToList();
        CompanyNames = ConnectWiseState.Records(data, "Companies").ToDictionary(JsonRecords.GetId, c => JsonRecords.GetString(c["companyName"]) ?? "");
        ServiceNames = ConnectWiseState.Records(data, "Services").ToDictionary(JsonRecords.GetId, s => JsonRecords.GetString(s["name"]) ?? "");
    }

    public IReadOnlyList<Contract> Contracts { get; }

    public IReadOnlyList<ContractLine> Lines { get; }

    public IReadOnlyList<UnitsRow> Units { get; }

    public IReadOnlyList<Adjustment> Adjustments { get; }

    public IReadOnlyDictionary<long, string> CompanyNames { get; }

    public IReadOnlyDictionary<long, string> ServiceNames { get; }

    public IReadOnlyList<ContractLine> LinesOf(long contractId, long serviceId) =>
        Lines.Where(l => l.ContractId == contractId && l.ServiceId == serviceId).OrderBy(l => l.Id).ToList();

    /// <summary>The units a contract service bills on <paramref name="day"/> (0 when no period row covers it).</summary>
    public int UnitsOn(long lineId, DateOnly day) =>
        Units.Where(u => u.LineId == lineId && u.Start <= day && day <= u.End).Select(u => u.Units).FirstOrDefault();
}
