using PsaPortal.Web.Features.Api;

namespace PsaPortal.Web.Tests.Api;

public sealed class ApiKeyTokenTests
{
    [Fact]
    public void Create_Always_GivesTheDocumentedShape()
    {
        for (var i = 0; i < 200; i++)
        {
            var (token, prefix, hash) = ApiKeyToken.Create();

            Assert.Equal(ApiKeyToken.Length, token.Length);
            Assert.Equal(prefix, ApiKeyToken.PrefixOf(token));
            Assert.True(ApiKeyToken.Matches(token, hash));
        }
    }

    // The secret is base64url, so it may hold '_' itself: the prefix is found by position, never by the last '_'.
    [Theory]
    [InlineData("psak_abcdefghij12_", "A_B-C_D-E_F-G_H-I_J-K_L-M_N-O_P-Q_R-S_T-U_V")]
    [InlineData("psak_abcdefghij12_", "___________________________________________")]
    public void PrefixOf_SecretWithUnderscores_FindsThePrefix(string head, string secret)
    {
        Assert.Equal(ApiKeyToken.SecretLength, secret.Length);

        Assert.Equal("abcdefghij12", ApiKeyToken.PrefixOf(head + secret));
    }

    [Theory]
    [InlineData("psak_abcdefghij12_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]   // one short
    [InlineData("psak_abcdefghij12_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // one long
    [InlineData("psak_ABCDEFGHIJ12_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]  // upper-case prefix
    [InlineData("psak_abcdefghij12-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]  // no separator
    [InlineData("psak_abcdefghij12_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+")]  // not base64url
    [InlineData("xxxx_abcdefghij12_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]  // wrong marker
    public void PrefixOf_Malformed_IsNull(string token) => Assert.Null(ApiKeyToken.PrefixOf(token));
}
