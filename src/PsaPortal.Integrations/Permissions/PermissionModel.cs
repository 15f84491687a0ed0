namespace PsaPortal.Integrations.Permissions;

/// <summary>What a group of permissions enables in PsaPortal.</summary>
public enum PsaCapability
{
    Connection,
    Ticketing,
    Billing,
    Catalog,
    Invoices,
}

public enum PermissionOutcome
{
    Passed,
    Failed,

    /// <summary>The check could not be made (the connection failed, or the PSA did not say); the message says why.</summary>
    CouldNotCheck,
}

/// <summary>One thing PsaPortal needs from the PSA user, and how it is verified (never by writing).</summary>
/// <param name="Permission">In the PSA's own terms, e.g. "Service > Priority (inquire)".</param>
/// <param name="HowChecked">Shown next to the result so an admin knows what was looked at.</param>
public sealed record PermissionCheck(PsaCapability Capability, string Permission, string HowChecked);

/// <param name="Message">For a failure, the exact sentence to show, e.g. "ConnectWise API user does not have permission to access Service > Priority."</param>
public sealed record PermissionResult(PermissionCheck Check, PermissionOutcome Outcome, string? Message = null);

/// <summary>The named checks of one PSA; running them yields one result per check as each completes.</summary>
public interface IPermissionCatalog
{
    PsaVendor Vendor { get; }

    IReadOnlyList<PermissionCheck> Checks { get; }

    IAsyncEnumerable<PermissionResult> RunAsync(CancellationToken cancellationToken = default);
}
