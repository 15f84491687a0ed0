using System.Net;
using PsaPortal.Testing;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>
/// Behind a reverse proxy (compose.yaml's Caddy), the sign-in limit per client address needs the address the proxy
/// saw. <c>Proxy:KnownProxies</c> / <c>Proxy:KnownNetworks</c> name the proxies whose <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> are believed; from anyone else, and by default, the headers are ignored.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private const string Proxy = "10.0.0.5";
    private static readonly IPAddress ProxyAddress = IPAddress.Parse(Proxy);

    [Theory]
    [InlineData("Proxy:KnownProxies", Proxy)]
    [InlineData("Proxy:KnownProxies", "10.0.0.4, 10.0.0.5")]
    [InlineData("Proxy:KnownNetworks", "10.0.0.0/8")]
    public async Task TrustedProxy_EachClientHasItsOwnSignInBudget_AndHttpsAtTheProxyMakesTheCookieSecure(string key, string value)
    {
        await using var portal = await SessionPortal.StartAsync(Settings(key, value));

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var allowed = await portal.PostSignInAsync(ProxyAddress, $"someone{attempt}@msp.example", "Wrong-Password-1", From("203.0.113.10"));
            Assert.Equal(200, allowed.Status);
        }

        var refused = await portal.PostSignInAsync(ProxyAddress, SessionPortal.AdminEmail, SessionPortal.AdminPassword, From("203.0.113.10"));
        // A client cannot dodge its budget by sending its own X-Forwarded-For: the proxy appends the address it saw,
        // and only that last entry is read.
        var spoofed = await portal.PostSignInAsync(ProxyAddress, SessionPortal.AdminEmail, SessionPortal.AdminPassword, From("198.51.100.1, 203.0.113.10"));
        var otherClient = await portal.PostSignInAsync(ProxyAddress, SessionPortal.AdminEmail, SessionPortal.AdminPassword,
            new Dictionary<string, string> { ["X-Forwarded-For"] = "203.0.113.20", ["X-Forwarded-Proto"] = "https" });

        Assert.Equal(429, refused.Status);
        Assert.Equal(429, spoofed.Status);
        Assert.True(otherClient.SignedIn, $"Another client behind the same proxy was refused: {otherClient.Status} {otherClient.Error}");
        var authCookie = otherClient.SetCookies.Single(c => c.StartsWith("PsaPortal.Auth=", StringComparison.Ordinal));
        Assert.Contains("; secure", authCookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task UntrustedSender_ItsForwardedHeadersAreIgnored()
    {
        await using var portal = await SessionPortal.StartAsync(Settings("Proxy:KnownProxies", Proxy));
        var stranger = IPAddress.Parse("198.51.100.99");

        await AssertOneSharedBudgetAsync(portal, stranger);
        // Nor is its X-Forwarded-Proto: a sign-in over plain http gets a cookie without Secure.
        var signedIn = await portal.PostSignInAsync(IPAddress.Parse("198.51.100.100"), SessionPortal.AdminEmail, SessionPortal.AdminPassword,
            new Dictionary<string, string> { ["X-Forwarded-Proto"] = "https" });
        Assert.True(signedIn.SignedIn, $"{signedIn.Status} {signedIn.Error}");
        Assert.DoesNotContain("; secure", signedIn.SetCookies.Single(c => c.StartsWith("PsaPortal.Auth=", StringComparison.Ordinal)), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ByDefault_NoProxyIsTrusted_NotEvenLoopback()
    {
        await using var portal = await SessionPortal.StartAsync(Settings(null, null));

        await AssertOneSharedBudgetAsync(portal, IPAddress.Loopback);
    }

    [Theory]
    [InlineData("Proxy:KnownProxies", "10.0.0.5, proxy.internal", "Proxy:KnownProxies: 'proxy.internal' is not an IP address (e.g. 10.0.0.5).")]
    [InlineData("Proxy:KnownProxies", "10", "Proxy:KnownProxies: '10' is not an IP address (e.g. 10.0.0.5).")]
    [InlineData("Proxy:KnownNetworks", "172.18.0.0/33", "Proxy:KnownNetworks: '172.18.0.0/33' is not a network in CIDR notation (e.g. 172.18.0.0/16).")]
    [InlineData("Proxy:KnownNetworks", "172.18.0.0", "Proxy:KnownNetworks: '172.18.0.0' is not a network in CIDR notation (e.g. 172.18.0.0/16).")]
    public async Task BadProxySetting_ThePortalRefusesToStartNamingIt(string key, string value, string message)
    {
        await using var factory = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?> { [key] = value });

        var refused = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains(message, refused.ToString());
    }

    /// <summary>Three attempts claiming three different clients use up the sender's own budget of three.</summary>
    private static async Task AssertOneSharedBudgetAsync(SessionPortal portal, IPAddress sender)
    {
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var allowed = await portal.PostSignInAsync(sender, $"someone{attempt}@msp.example", "Wrong-Password-1", From($"203.0.113.{attempt}"));
            Assert.Equal(200, allowed.Status);
        }

        var refused = await portal.PostSignInAsync(sender, SessionPortal.AdminEmail, SessionPortal.AdminPassword, From("203.0.113.99"));
        Assert.True(refused.Status == 429, $"The fourth attempt from {sender}, claiming a fourth client, answered {refused.Status}: {refused.Error}");
    }

    private static Dictionary<string, string> From(string forwardedFor) => new() { ["X-Forwarded-For"] = forwardedFor };

    private static Dictionary<string, string?> Settings(string? key, string? value)
    {
        var settings = new Dictionary<string, string?>
        {
            ["RateLimiting:SignInPerAddress"] = "3", ["RateLimiting:SignInPerAccount"] = "100",
        };
        if (key is not null)
        {
            settings[key] = value;
        }

        return settings;
    }
}
