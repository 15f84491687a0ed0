using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.ConnectWise;

/// <summary>Runtime knobs of the ConnectWise simulator; replace them through <see cref="ConnectWiseSandbox.Configure"/> or the control API.</summary>
public sealed record ConnectWiseSettings
{
    public FaultSettings Faults { get; init; } = new();

    /// <summary>Requests per minute before a 429 with Retry-After; 0 turns the limit off. ConnectWise throttles dynamically; its guidance is that about 1,000 a minute will be throttled.</summary>
    public int RateLimitPerMinute { get; init; }

    /// <summary>The codebase <c>/login/companyinfo</c> reports. Changing it makes calls on the old versioned codebase fail with the vendor's routing error; <c>v4_6_release/</c> always routes.</summary>
    public string Codebase { get; init; } = "v2025_1/";

    /// <summary>The newest API model the simulated server offers, echoed as <c>api-current-version</c>.</summary>
    public string ApiVersion { get; init; } = "2025.1";

    /// <summary>Accept any GUID as clientId (a newcomer's own registration) rather than only the seeded one.</summary>
    public bool AcceptAnyClientId { get; init; } = true;

    /// <summary>
    /// A status workflow that does not let tickets close: a PATCH or PUT that would close an open ticket answers 200 with
    /// the ticket unchanged, as ConnectWise does, so only reading the ticket back shows it is still open.
    /// </summary>
    public bool RefuseTicketClose { get; init; }
}
