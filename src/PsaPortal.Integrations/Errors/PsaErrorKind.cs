namespace PsaPortal.Integrations.Errors;

/// <summary>What went wrong, in terms the portal can act on (show a settings link, retry later, fix data in the PSA).</summary>
public enum PsaErrorKind
{
    /// <summary>The PSA rejected the credentials (keys, secret, integration code, unknown company or user).</summary>
    Unauthorized,

    /// <summary>The credentials work but the API user's role lacks a permission.</summary>
    Forbidden,

    NotFound,

    /// <summary>The PSA refused the data or the query; the vendor's message says why.</summary>
    Validation,

    /// <summary>The PSA throttled the connection, or PsaPortal held back to stay inside the vendor's budget.</summary>
    RateLimited,

    /// <summary>The PSA did not answer, answered with a server error, or PsaPortal paused calls after repeated failures.</summary>
    Unavailable,

    /// <summary>
    /// A write that is not safe to repeat (ConnectWise addition POST, Autotask create or adjustment) may have
    /// reached the PSA, but no answer says whether it was applied (timeout, connection lost after sending, 5xx).
    /// The client did not send it again; read the PSA's current state before writing again.
    /// </summary>
    OutcomeUnknown,
}
