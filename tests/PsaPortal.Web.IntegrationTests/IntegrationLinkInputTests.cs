using System.Net;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Web.IntegrationTests;

/// <summary>
/// Hostile and malformed link input, straight at the service (the boundary the pages call): each is refused with a
/// clear message, nothing is stored, and no PSA or internal host is contacted. The sandbox is off, as in production.
/// </summary>
public sealed class IntegrationLinkInputTests : IAsyncLifetime
{
    private readonly PortalFactory _factory = new(new PortalDatabase.Sqlite());
    private Guid _organizationId;

    public async Task InitializeAsync() => _organizationId = await _factory.AddOrganizationAsync("Northwind MSP");

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    public static TheoryData<string, string> HostileSiteUrls => new()
    {
        { "http://169.254.169.254/latest/meta-data/", "https" },
        { "https://169.254.169.254/latest/meta-data/", "private, loopback or link-local" },
        { "https://localhost/", "private, loopback or link-local" },
        { "https://127.0.0.1:8080/", "private, loopback or link-local" },
        { "https://127.1/", "private, loopback or link-local" },
        { "https://2130706433/", "private, loopback or link-local" },
        { "https://10.0.0.5/", "private, loopback or link-local" },
        { "https://192.168.1.1/", "private, loopback or link-local" },
        { "https://172.16.0.1/", "private, loopback or link-local" },
        { "https://100.64.0.1/", "private, loopback or link-local" },
        { "https://0.0.0.0/", "private, loopback or link-local" },
        { "https://[::1]/", "private, loopback or link-local" },
        { "https://[fe80::1]/", "private, loopback or link-local" },
        { "https://[::ffff:127.0.0.1]/", "private, loopback or link-local" },
        { "https://[fd00:ec2::254]/", "private, loopback or link-local" },
        { "https://metadata.google.internal/", "not a public host name" },
        { "https://intranet/", "not a public host name" },
        { "https://psa.corp/", "not a public host name" },
        { "https://user:pass@na.myconnectwise.net/", "user name or password" },
        { "ftp://na.myconnectwise.net/", "web address" },
        { "javascript:alert(1)", "ConnectWise site URL" },
        { "<script>alert(1)</script>", "ConnectWise site URL" },
        { "", "Enter the Site URL" },
        { "https://" + new string('a', 400) + ".example", "at most 300 characters" },
    };

    [Theory]
    [MemberData(nameof(HostileSiteUrls))]
    public async Task SaveConnectWise_HostileSiteUrl_RefusedWithClearMessageAndNothingStored(string siteUrl, string expected)
    {
        var service = _factory.Services.GetRequiredService<IntegrationService>();

        var result = await service.SaveConnectWiseAsync(Admin(), new ConnectWiseLinkForm
        {
            SiteUrl = siteUrl, CompanyId = "northwind", PublicKey = "Public01", PrivateKey = "Private01",
        });

        Assert.False(result.Succeeded);
        Assert.StartsWith(IntegrationService.NotEstablished, result.Message, StringComparison.Ordinal);
        Assert.Contains(expected, result.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Private01", result.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData("<script>x</script>", "Public01", "Private01", "A Company ID has only letters")]
    [InlineData("northwind", "\u0405bxFull", "Private01", "A Public Key has only letters and digits")]
    [InlineData("northwind", "Public01", "Priv ate'; DROP TABLE x;--", "A Private Key has only letters and digits")]
    [InlineData("northwind", "", "Private01", "Enter the API member's Public Key")]
    [InlineData("", "Public01", "Private01", "Enter the Company ID")]
    [InlineData("northwind", "Public01", "", "Enter the API member's Private Key")]
    public async Task TestConnectWise_MalformedFields_SaysWhichField(string companyId, string publicKey, string privateKey, string expected)
    {
        var service = _factory.Services.GetRequiredService<IntegrationService>();

        var result = await service.TestConnectWiseAsync(Admin(), new ConnectWiseLinkForm
        {
            SiteUrl = "na.myconnectwise.net", CompanyId = companyId, PublicKey = publicKey, PrivateKey = privateKey,
        });

        Assert.False(result.Succeeded);
        Assert.StartsWith(IntegrationService.TestFailed, result.Message, StringComparison.Ordinal);
        Assert.Contains(expected, result.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData("not-an-email", "Secret1!", "CODE1", "An Autotask API username is an email address.")]
    [InlineData("api@msp.example", "Sec\u0000ret", "CODE1", "A Secret cannot contain control characters.")]
    [InlineData("api@msp.example", "Secret1!", "CODE 1", "A Tracking Identifier has only letters and digits.")]
    [InlineData("api@msp.example", "", "CODE1", "Enter the API user's Secret.")]
    [InlineData("api@msp.example", "Secret1!", "", "Enter the API Tracking Identifier.")]
    public async Task SaveAutotask_MalformedFields_SaysWhichFieldAndStoresNothing(string userName, string secret, string code, string expected)
    {
        var service = _factory.Services.GetRequiredService<IntegrationService>();

        var result = await service.SaveAutotaskAsync(Admin(), new AutotaskLinkForm { UserName = userName, Secret = secret, IntegrationCode = code },
            new Uri("http://localhost/"));

        Assert.False(result.Succeeded);
        Assert.Contains(expected, result.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task SaveAutotask_SandboxWhileSandboxIsOff_Refused()
    {
        var service = _factory.Services.GetRequiredService<IntegrationService>();

        var result = await service.SaveAutotaskAsync(Admin(), new AutotaskLinkForm
        {
            UserName = "full@psaportal-sandbox.example", Secret = "SbxFullSecret1!", IntegrationCode = "PSAPORTALSANDBOX0000000000", UseSandbox = true,
        }, new Uri("http://localhost/"));

        Assert.False(result.Succeeded);
        Assert.Contains("sandbox is not enabled", result.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData(PortalRoles.FullMember)]
    [InlineData(PortalRoles.Sales)]
    public async Task LinkAndDelete_NonAdmin_Refused(string role)
    {
        var service = _factory.Services.GetRequiredService<IntegrationService>();
        var user = UserIn(role);
        var form = new ConnectWiseLinkForm { SiteUrl = "na.myconnectwise.net", CompanyId = "northwind", PublicKey = "Public01", PrivateKey = "Private01" };

        var test = await service.TestConnectWiseAsync(user, form);
        var save = await service.SaveConnectWiseAsync(user, form);
        var delete = await service.DeleteAsync(user, PsaPortal.Integrations.PsaVendor.ConnectWise);

        Assert.Equal(IntegrationService.AdminsOnly, test.Message);
        Assert.Equal(IntegrationService.AdminsOnly, save.Message);
        Assert.Equal(IntegrationService.DeleteRefused, delete.Message);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Disconnect_Sales_Refused()
    {
        var result = await _factory.Services.GetRequiredService<IntegrationService>().DisconnectAsync(UserIn(PortalRoles.Sales), PsaPortal.Integrations.PsaVendor.Autotask);

        Assert.Equal(IntegrationService.EditorsOnly, result.Message);
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("2001:4860:4860::8888", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fc00::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    public void SiteAddressPolicy_ResolvedAddress_AllowsOnlyPublicOnes(string address, bool allowed) =>
        Assert.Equal(allowed, new SiteAddressPolicy(allowLoopbackSandbox: false).IsAllowed(IPAddress.Parse(address)));

    [Fact]
    public void SiteAddressPolicy_SandboxOn_AllowsLoopbackOnly()
    {
        var policy = new SiteAddressPolicy(allowLoopbackSandbox: true);

        Assert.True(policy.IsAllowed(IPAddress.Loopback));
        Assert.False(policy.IsAllowed(IPAddress.Parse("10.0.0.1")));
        Assert.Null(policy.Validate(new Uri("http://127.0.0.1:5080/sandbox/connectwise/")));
        Assert.NotNull(policy.Validate(new Uri("http://10.0.0.1/")));
    }

    private ClaimsPrincipal Admin() => UserIn(PortalRoles.Admin);

    private ClaimsPrincipal UserIn(string role) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, "user-1"),
            new Claim(ClaimTypes.Name, "someone@northwind.example"),
            new Claim(ClaimTypes.Role, role),
            new Claim(PortalClaims.OrganizationId, _organizationId.ToString()),
        ],
        "Test"));

    private async Task AssertNothingStoredAsync()
    {
        await using var db = await _factory.CreateDbContextAsync();
        Assert.False(await db.Integrations.AnyAsync());
    }
}
