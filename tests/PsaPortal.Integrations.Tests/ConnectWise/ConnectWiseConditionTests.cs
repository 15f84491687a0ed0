using PsaPortal.Integrations.ConnectWise;

namespace PsaPortal.Integrations.Tests.ConnectWise;

public sealed class ConnectWiseConditionTests
{
    [Fact]
    public void Text_TypedComparisons_RendersVendorGrammar()
    {
        // Act
        var condition = ConnectWiseCondition.Field("product/identifier").EqualTo("BKP-M365")
            .And(ConnectWiseCondition.Field("cancelledDate").IsNull())
            .And(ConnectWiseCondition.Field("agreementId").In([1, 2, 3]))
            .Or(ConnectWiseCondition.Field("lastUpdated").GreaterThan(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)));

        // Assert
        Assert.Equal("(((product/identifier = \"BKP-M365\") and (cancelledDate = null)) and (agreementId in (1, 2, 3))) or (lastUpdated > [2026-01-02T03:04:05Z])", condition.Text);
    }

    [Fact]
    public void EqualTo_QuotesInValue_AreEscaped()
    {
        // Act
        var condition = ConnectWiseCondition.Field("name").EqualTo("Smith & \"Sons\" (AU)");

        // Assert
        Assert.Equal("name = \"Smith & \\\"Sons\\\" (AU)\"", condition.Text);
    }

    [Theory]
    [InlineData("name = \"x\" or id")]
    [InlineData("name)")]
    [InlineData("")]
    [InlineData("company//name")]
    public void Field_PathWithGrammar_Throws(string path)
    {
        Assert.Throws<ArgumentException>(() => ConnectWiseCondition.Field(path));
    }

    [Fact]
    public void EqualTo_ValueEndingInBackslash_ThrowsRatherThanChangingTheQuery()
    {
        Assert.Throws<ArgumentException>(() => ConnectWiseCondition.Field("name").EqualTo("C:\\"));
    }

    [Fact]
    public void In_NoValues_Throws()
    {
        Assert.Throws<ArgumentException>(() => ConnectWiseCondition.Field("id").In(Array.Empty<long>()));
    }
}
