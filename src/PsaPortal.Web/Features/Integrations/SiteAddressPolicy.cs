using System.Net;
using System.Net.Sockets;

namespace PsaPortal.Web.Features.Integrations;

/// <summary>
/// The portal must not become a way to reach hosts inside the MSP's network: a PSA address is https to a public host.
/// Plain http to a loopback address is allowed only while the built-in sandbox is on. Checked twice: when an admin
/// types an address (<see cref="Validate"/>) and when a connection is opened (<see cref="IsAllowed(IPAddress)"/>,
/// used by the HTTP handler's connect callback), so a name that later resolves to a private address is refused too.
/// </summary>
public sealed class SiteAddressPolicy(bool allowLoopbackSandbox)
{
    private static readonly (IPAddress Network, int PrefixLength)[] BlockedNetworks =
    [
        (IPAddress.Parse("0.0.0.0"), 8),
        (IPAddress.Parse("10.0.0.0"), 8),
        (IPAddress.Parse("100.64.0.0"), 10),
        (IPAddress.Parse("127.0.0.0"), 8),
        (IPAddress.Parse("169.254.0.0"), 16),
        (IPAddress.Parse("172.16.0.0"), 12),
        (IPAddress.Parse("192.0.0.0"), 24),
        (IPAddress.Parse("192.168.0.0"), 16),
        (IPAddress.Parse("198.18.0.0"), 15),
        (IPAddress.Parse("224.0.0.0"), 4),
        (IPAddress.Parse("240.0.0.0"), 4),
        (IPAddress.Parse("::"), 128),
        (IPAddress.Parse("::1"), 128),
        (IPAddress.Parse("fc00::"), 7),
        (IPAddress.Parse("fe80::"), 10),
        (IPAddress.Parse("ff00::"), 8),
    ];

    private static readonly string[] InternalSuffixes = [".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp"];

    public bool AllowsLoopbackSandbox => allowLoopbackSandbox;

    /// <summary>Null when <paramref name="address"/> may be used; otherwise what is wrong, for the person who typed it.</summary>
    public string? Validate(Uri address)
    {
        if (!string.IsNullOrEmpty(address.UserInfo))
        {
            return "The address cannot contain a user name or password.";
        }

        var host = address.IdnHost.TrimEnd('.');
        var isLoopbackName = host.Equals("localhost", StringComparison.OrdinalIgnoreCase);
        var literal = IPAddress.TryParse(host.Trim('[', ']'), out var ip) ? ip : null;
        var isLoopback = isLoopbackName || (literal is not null && IPAddress.IsLoopback(literal));

        if (isLoopback && allowLoopbackSandbox)
        {
            return address.Scheme is "http" or "https" ? null : "The address must start with https://.";
        }

        if (address.Scheme != Uri.UriSchemeHttps)
        {
            return "The address must use https://.";
        }

        if (isLoopback || (literal is not null && !IsAllowed(literal)))
        {
            return "The address points to a private, loopback or link-local network. Use the PSA's public address.";
        }

        if (literal is null && (!host.Contains('.') || InternalSuffixes.Any(s => host.EndsWith(s, StringComparison.OrdinalIgnoreCase))))
        {
            return "The address is not a public host name. Use the PSA's public address, such as na.myconnectwise.net.";
        }

        return null;
    }

    /// <summary>Whether a resolved address may be connected to.</summary>
    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return allowLoopbackSandbox;
        }

        return !BlockedNetworks.Any(n => n.Network.AddressFamily == address.AddressFamily && InNetwork(address, n.Network, n.PrefixLength));
    }

    /// <summary>A connect callback for <see cref="SocketsHttpHandler"/> that refuses addresses the policy does not allow.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(context.DnsEndPoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
        var allowed = addresses.Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"Connections to {context.DnsEndPoint.Host} are not allowed: it resolves to a private, loopback or link-local address.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool InNetwork(IPAddress address, IPAddress network, int prefixLength)
    {
        var a = address.GetAddressBytes();
        var n = network.GetAddressBytes();
        var fullBytes = prefixLength / 8;
        for (var i = 0; i < fullBytes; i++)
        {
            if (a[i] != n[i])
            {
                return false;
            }
        }

        var remainingBits = prefixLength % 8;
        if (remainingBits == 0)
        {
            return true;
        }

        var mask = (byte)(0xFF << (8 - remainingBits));
        return (a[fullBytes] & mask) == (n[fullBytes] & mask);
    }
}
