using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Tests;

public sealed class LoginPageTests
{
    [Theory]
    [InlineData("/billing?run=3", "/billing?run=3")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("javascript:alert(1)", "/")]
    [InlineData("", "/")]
    [InlineData(null, "/")]
    public void SafeReturnUrl_AnyInput_KeepsOnlyPathsOnThisSite(string? returnUrl, string expected) =>
        Assert.Equal(expected, LoginPage.SafeReturnUrl(returnUrl));
}
