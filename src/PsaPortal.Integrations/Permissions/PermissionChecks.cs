using PsaPortal.Integrations.Errors;

namespace PsaPortal.Integrations.Permissions;

/// <summary>What both PSAs' permission catalogs do the same way.</summary>
internal static class PermissionChecks
{
    /// <summary>Runs a read and returns the PSA's refusal instead of throwing it; null when the read worked.</summary>
    public static async Task<PsaException?> AttemptAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
            return null;
        }
        catch (PsaException exception)
        {
            return exception;
        }
    }

    /// <summary>
    /// The API access check's result; when the connection itself failed, every other check follows as not checked,
    /// with the reason, so the list an admin sees is always complete.
    /// </summary>
    public static IEnumerable<PermissionResult> ConnectionOutcome(PermissionCheck apiAccess, PsaException? connectionFailure, IEnumerable<PermissionCheck> others, string psaName)
    {
        if (connectionFailure is null)
        {
            yield return new PermissionResult(apiAccess, PermissionOutcome.Passed);
            yield break;
        }

        var outcome = connectionFailure.Kind is PsaErrorKind.Unauthorized or PsaErrorKind.Forbidden ? PermissionOutcome.Failed : PermissionOutcome.CouldNotCheck;
        yield return new PermissionResult(apiAccess, outcome, connectionFailure.Message);
        foreach (var check in others)
        {
            yield return new PermissionResult(check, PermissionOutcome.CouldNotCheck, $"Not checked: the connection to {psaName} failed ({connectionFailure.Message})");
        }
    }
}
