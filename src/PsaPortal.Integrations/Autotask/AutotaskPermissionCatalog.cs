using System.Runtime.CompilerServices;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Permissions;

namespace PsaPortal.Integrations.Autotask;

/// <summary>
/// What PsaPortal needs from an Autotask API user. Each entity's rights come from entityInformation
/// (the user's access for query, create and update); query rights are also proven with query/count,
/// because a restricted security level can hide data. Create and update rights are never probed by writing.
/// </summary>
public sealed class AutotaskPermissionCatalog(IAutotaskApi api) : IPermissionCatalog
{
    private enum Access
    {
        Query,
        Create,
        Update,
    }

    private sealed record Requirement(PsaCapability Capability, string Entity, Access Access);

    private static readonly IReadOnlyList<Requirement> Requirements =
    [
        new(PsaCapability.Connection, "Companies", Access.Query),
        new(PsaCapability.Ticketing, "Tickets", Access.Query),
        new(PsaCapability.Ticketing, "Tickets", Access.Create),
        new(PsaCapability.Ticketing, "Tickets", Access.Update),
        new(PsaCapability.Billing, "Contracts", Access.Query),
        new(PsaCapability.Billing, "ContractServices", Access.Query),
        new(PsaCapability.Billing, "ContractServiceUnits", Access.Query),
        new(PsaCapability.Billing, "ContractServiceAdjustments", Access.Create),
        new(PsaCapability.Catalog, "Services", Access.Query),
    ];

    private static readonly PermissionCheck ApiAccess = new(PsaCapability.Connection, "API access", "zone discovery and ThresholdInformation with the API user's credentials");

    public PsaVendor Vendor => PsaVendor.Autotask;

    /// <summary>Every check, in the order <see cref="RunAsync"/> reports them; also what the link page tells admins to grant.</summary>
    public static IReadOnlyList<PermissionCheck> AllChecks { get; } = [ApiAccess, .. Requirements.Select(ToCheck)];

    public IReadOnlyList<PermissionCheck> Checks => AllChecks;

    public async IAsyncEnumerable<PermissionResult> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var connection = await PermissionChecks.AttemptAsync(() => api.GetThresholdInformationAsync(cancellationToken)).ConfigureAwait(false);
        foreach (var result in PermissionChecks.ConnectionOutcome(ApiAccess, connection, Requirements.Select(ToCheck), "Autotask"))
        {
            yield return result;
        }

        if (connection is not null)
        {
            yield break;
        }

        var entities = new Dictionary<string, (AutotaskEntityAccess? Access, PsaException? Failure)>(StringComparer.Ordinal);
        foreach (var requirement in Requirements)
        {
            if (!entities.TryGetValue(requirement.Entity, out var info))
            {
                AutotaskEntityAccess? access = null;
                var failure = await PermissionChecks.AttemptAsync(async () => access = await api.GetEntityInformationAsync(requirement.Entity, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
                entities[requirement.Entity] = info = (access, failure);
            }

            yield return await CheckAsync(requirement, info.Access, info.Failure, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<PermissionResult> CheckAsync(Requirement requirement, AutotaskEntityAccess? access, PsaException? failure, CancellationToken cancellationToken)
    {
        var check = ToCheck(requirement);
        var missing = $"Autotask API user does not have permission to {requirement.Access.ToString().ToLowerInvariant()} {requirement.Entity}.";
        if (access is null)
        {
            return failure?.Kind == PsaErrorKind.Forbidden
                ? new PermissionResult(check, PermissionOutcome.Failed, missing)
                : new PermissionResult(check, PermissionOutcome.CouldNotCheck, $"Autotask did not return the entity information of {requirement.Entity}: {failure?.Message}");
        }

        var allowed = requirement.Access switch
        {
            Access.Create => access.MayCreate,
            Access.Update => access.MayUpdate,
            _ => access.MayQuery,
        };
        if (!allowed)
        {
            return new PermissionResult(check, PermissionOutcome.Failed, missing);
        }

        if (requirement.Access != Access.Query)
        {
            return new PermissionResult(check, PermissionOutcome.Passed);
        }

        var probe = await PermissionChecks.AttemptAsync(() => api.CountAsync(requirement.Entity, null, cancellationToken)).ConfigureAwait(false);
        return probe switch
        {
            null => new PermissionResult(check, PermissionOutcome.Passed),
            { Kind: PsaErrorKind.Forbidden } => new PermissionResult(check, PermissionOutcome.Failed, missing),
            _ => new PermissionResult(check, PermissionOutcome.CouldNotCheck, $"Counting {requirement.Entity} failed: {probe.Message}"),
        };
    }

    private static PermissionCheck ToCheck(Requirement requirement) => new(
        requirement.Capability,
        $"{requirement.Entity} ({requirement.Access.ToString().ToLowerInvariant()})",
        requirement.Access == Access.Query
            ? $"userAccessForQuery in {requirement.Entity}/entityInformation, then {requirement.Entity}/query/count"
            : $"userAccessFor{requirement.Access} in {requirement.Entity}/entityInformation");
}
