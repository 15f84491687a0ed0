namespace PsaPortal.Integrations.ConnectWise;

/// <summary>
/// The credentials of one linked ConnectWise integration. <see cref="ToString"/> never shows the keys.
/// </summary>
/// <param name="Name">The portal's name for the integration; appears in call records.</param>
/// <param name="SiteUrl">As the admin typed it: <c>na.myconnectwise.net</c>, <c>https://na.myconnectwise.net/v4_6_release/…</c>, or an on-premises host.</param>
/// <param name="ClientId">The integrator's clientId GUID from developer.connectwise.com.</param>
public sealed record ConnectWiseConnection(string Name, string SiteUrl, string CompanyId, string PublicKey, string PrivateKey, string ClientId)
{
    /// <summary>Allows a plain-http site; only for a loopback sandbox. ConnectWise itself requires TLS.</summary>
    public bool AllowInsecureHttp { get; init; }

    public override string ToString() => $"ConnectWise connection {Name} ({SiteUrl}, company {CompanyId}, public key {PublicKey})";
}
