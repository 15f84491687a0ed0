using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Errors;

namespace PsaPortal.Integrations.Tests.ConnectWise;

public sealed class ConnectWiseSiteTests
{
    [Theory]
    [InlineData("na.myconnectwise.net", "https://api-na.myconnectwise.net/")]
    [InlineData("https://eu.myconnectwise.net/v4_6_release/services/system_io/Service/fv_sr100_request.rails", "https://api-eu.myconnectwise.net/")]
    [InlineData("https://api-au.myconnectwise.net/v2025_1/apis/3.0/", "https://api-au.myconnectwise.net/")]
    [InlineData("cw.example-msp.com/login/companyinfo/acme", "https://cw.example-msp.com/")]
    [InlineData("  HTTPS://NA.MyConnectWise.net  ", "https://api-na.myconnectwise.net/")]
    public void Normalize_PastedSiteUrl_GivesSiteRoot(string pasted, string expected)
    {
        // Act
        var site = ConnectWiseSite.Normalize(pasted);

        // Assert
        Assert.Equal(expected, site.AbsoluteUri);
    }

    [Fact]
    public void Normalize_LoopbackSandboxWithHttpAllowed_KeepsMountPrefix()
    {
        // Act
        var site = ConnectWiseSite.Normalize("http://127.0.0.1:5123/sandbox/connectwise/v4_6_release/apis/3.0/", allowInsecureHttp: true);

        // Assert
        Assert.Equal("http://127.0.0.1:5123/sandbox/connectwise/", site.AbsoluteUri);
    }

    [Theory]
    [InlineData("http://na.myconnectwise.net")]
    [InlineData("")]
    [InlineData("ftp://na.myconnectwise.net")]
    public void Normalize_InsecureOrInvalid_ThrowsValidation(string pasted)
    {
        // Act
        var failure = Assert.Throws<PsaException>(() => ConnectWiseSite.Normalize(pasted));

        // Assert
        Assert.Equal(PsaErrorKind.Validation, failure.Kind);
    }
}
