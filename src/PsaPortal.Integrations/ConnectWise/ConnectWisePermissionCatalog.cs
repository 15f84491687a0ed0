using System.Runtime.CompilerServices;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Permissions;

namespace PsaPortal.Integrations.ConnectWise;

/// <summary>A read-only request that proves the API member can inquire on a collection.</summary>
internal interface IConnectWiseProbe
{
    Task ProbeAsync(string collectionPath, string area, CancellationToken cancellationToken);
}

/// <summary>
/// What PsaPortal needs from a ConnectWise API member. Each function's levels come from
/// <c>system/mySecurity</c> (authoritative); inquire rights are also proven with a one-row read,
/// because setup tables can answer reads whatever the role says. Add and edit rights are never probed by writing.
/// </summary>
public sealed class ConnectWisePermissionCatalog(IConnectWiseApi api) : IPermissionCatalog
{
    private enum Level
    {
        Inquire,
        Add,
        Edit,
    }

    private sealed record Requirement(PsaCapability Capability, string Module, string Function, string Label, Level Level, string ProbePath);

    private static readonly IReadOnlyList<Requirement> Requirements =
    [
        new(PsaCapability.Connection, "Company", "Company_Maintenance", "Company > Company Maintenance", Level.Inquire, "company/companies"),
        new(PsaCapability.Ticketing, "Service", "Service_Tickets", "Service > Service Tickets", Level.Inquire, "service/tickets"),
        new(PsaCapability.Ticketing, "Service", "Service_Tickets", "Service > Service Tickets", Level.Add, "service/tickets"),
        new(PsaCapability.Ticketing, "Service", "Service_Tickets", "Service > Service Tickets", Level.Edit, "service/tickets"),
        new(PsaCapability.Ticketing, "Service", "Service_Boards", "Service > Service Boards", Level.Inquire, "service/boards"),
        new(PsaCapability.Ticketing, "Service", "Priority", "Service > Priority", Level.Inquire, "service/priorities"),
        new(PsaCapability.Ticketing, "Service", "Sources", "Service > Sources", Level.Inquire, "service/sources"),
        new(PsaCapability.Ticketing, "Company", "Contacts", "Company > Contacts", Level.Inquire, "company/contacts"),
        new(PsaCapability.Billing, "Finance", "Agreements", "Finance > Agreements", Level.Inquire, "finance/agreements"),
        new(PsaCapability.Billing, "Finance", "Agreements", "Finance > Agreements", Level.Add, "finance/agreements"),
        new(PsaCapability.Billing, "Finance", "Agreements", "Finance > Agreements", Level.Edit, "finance/agreements"),
        new(PsaCapability.Catalog, "Procurement", "Product_Catalog", "Procurement > Product Catalog", Level.Inquire, "procurement/catalog"),
        new(PsaCapability.Catalog, "Procurement", "Product_Catalog", "Procurement > Product Catalog", Level.Add, "procurement/catalog"),
        new(PsaCapability.Invoices, "System", "Documents", "System > Documents", Level.Add, "system/documents"),
    ];

    private static readonly PermissionCheck ApiAccess = new(PsaCapability.Connection, "API access", "GET system/info with the API keys");

    public PsaVendor Vendor => PsaVendor.ConnectWise;

    /// <summary>Every check, in the order <see cref="RunAsync"/> reports them; also what the link page tells admins to grant.</summary>
    public static IReadOnlyList<PermissionCheck> AllChecks { get; } = [ApiAccess, .. Requirements.Select(ToCheck)];

    public IReadOnlyList<PermissionCheck> Checks => AllChecks;

    public async IAsyncEnumerable<PermissionResult> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var connection = await PermissionChecks.AttemptAsync(() => api.GetSystemInfoAsync(cancellationToken)).ConfigureAwait(false);
        foreach (var result in PermissionChecks.ConnectionOutcome(ApiAccess, connection, Requirements.Select(ToCheck), "ConnectWise"))
        {
            yield return result;
        }

        if (connection is not null)
        {
            yield break;
        }

        IReadOnlyList<ConnectWiseSecurityLevel>? levels = null;
        var securityFailure = await PermissionChecks.AttemptAsync(async () => levels = await api.GetMySecurityAsync(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        foreach (var requirement in Requirements)
        {
            yield return await CheckAsync(requirement, levels, securityFailure, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<PermissionResult> CheckAsync(Requirement requirement, IReadOnlyList<ConnectWiseSecurityLevel>? levels, PsaException? securityFailure, CancellationToken cancellationToken)
    {
        var check = ToCheck(requirement);
        var missing = $"ConnectWise API user does not have permission to {Verb(requirement.Level)} {requirement.Label}.";
        var row = levels?.FirstOrDefault(l => l.ModuleIdentifier.Equals(requirement.Module, StringComparison.OrdinalIgnoreCase)
            && l.FunctionIdentifier.Equals(requirement.Function, StringComparison.OrdinalIgnoreCase));
        if (row is not null && LevelOf(row, requirement.Level) == "None")
        {
            return new PermissionResult(check, PermissionOutcome.Failed, missing);
        }

        if (requirement.Level != Level.Inquire)
        {
            return row is not null
                ? new PermissionResult(check, PermissionOutcome.Passed)
                : new PermissionResult(check, PermissionOutcome.CouldNotCheck,
                    $"ConnectWise did not report the security level for {requirement.Label} ({securityFailure?.Message ?? "not listed in My Security"}); PsaPortal does not test write rights by writing.");
        }

        if (api is not IConnectWiseProbe probe)
        {
            return new PermissionResult(check, row is null ? PermissionOutcome.CouldNotCheck : PermissionOutcome.Passed, row is null ? $"ConnectWise did not report the security level for {requirement.Label}." : null);
        }

        var failure = await PermissionChecks.AttemptAsync(() => probe.ProbeAsync(requirement.ProbePath, requirement.Label, cancellationToken)).ConfigureAwait(false);
        return failure switch
        {
            null => new PermissionResult(check, PermissionOutcome.Passed),
            { Kind: PsaErrorKind.Forbidden } => new PermissionResult(check, PermissionOutcome.Failed, missing),
            _ => new PermissionResult(check, PermissionOutcome.CouldNotCheck, $"Reading {requirement.ProbePath} failed: {failure.Message}"),
        };
    }

    private static PermissionCheck ToCheck(Requirement requirement) => new(
        requirement.Capability,
        $"{requirement.Label} ({requirement.Level.ToString().ToLowerInvariant()})",
        requirement.Level == Level.Inquire
            ? $"{requirement.Level} level in System > My Security, then a one-row read of {requirement.ProbePath}"
            : $"{requirement.Level} level in System > My Security");

    private static string Verb(Level level) => level switch
    {
        Level.Add => "add to",
        Level.Edit => "edit",
        _ => "access",
    };

    private static string LevelOf(ConnectWiseSecurityLevel row, Level level) => level switch
    {
        Level.Add => row.Add,
        Level.Edit => row.Edit,
        _ => row.Inquire,
    };
}
