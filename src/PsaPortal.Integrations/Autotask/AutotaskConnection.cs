namespace PsaPortal.Integrations.Autotask;

/// <summary>The credentials of one linked Autotask integration. <see cref="ToString"/> never shows the secret or the integration code.</summary>
/// <param name="Name">The portal's name for the integration; appears in call records.</param>
/// <param name="UserName">The API-only user's name (an e-mail address).</param>
/// <param name="Secret">The API user's password.</param>
/// <param name="IntegrationCode">The API Tracking Identifier, sent as <c>ApiIntegrationCode</c>.</param>
public sealed record AutotaskConnection(string Name, string UserName, string Secret, string IntegrationCode)
{
    /// <summary>Where zone discovery is asked (any webservices host answers for every user).</summary>
    public Uri ZoneDiscoveryUrl { get; init; } = new("https://webservices2.autotask.net/atservicesrest/");

    /// <summary>Allows plain-http zone URLs; only for a loopback sandbox.</summary>
    public bool AllowInsecureHttp { get; init; }

    public override string ToString() => $"Autotask connection {Name} (user {UserName})";
}
