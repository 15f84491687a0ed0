using PsaPortal.Web.Features.Mapping.Suggestions;

namespace PsaPortal.Web.Tests.Mapping;

public sealed class CompanyNameNormalizerTests
{
    [Theory]
    [InlineData("Inc")]
    [InlineData("Inc.")]
    [InlineData("Incorporated")]
    [InlineData("LLC")]
    [InlineData("L.L.C.")]
    [InlineData("Ltd")]
    [InlineData("Ltd.")]
    [InlineData("Limited")]
    [InlineData("Co")]
    [InlineData("Co.")]
    [InlineData("Company")]
    [InlineData("Corp.")]
    [InlineData("Corporation")]
    [InlineData("GmbH")]
    [InlineData("AG")]
    [InlineData("Pty")]
    [InlineData("Pty Ltd")]
    [InlineData("Pty. Ltd.")]
    [InlineData("PLC")]
    [InlineData("LLP")]
    [InlineData("LP")]
    [InlineData("L.P.")]
    [InlineData("P.C.")]
    [InlineData("PC")]
    [InlineData("PLLC")]
    [InlineData("S.A.")]
    [InlineData("SA")]
    [InlineData("SAS")]
    [InlineData("SARL")]
    [InlineData("BV")]
    [InlineData("B.V.")]
    [InlineData("NV")]
    [InlineData("Oy")]
    [InlineData("AB")]
    [InlineData("AS")]
    [InlineData("A/S")]
    [InlineData("KG")]
    [InlineData("SRL")]
    [InlineData("Sp. z o.o.")]
    public void Normalize_TrailingLegalForm_IsRemoved(string legalForm)
    {
        Assert.Equal("acme widgets", CompanyNameNormalizer.Normalize($"Acme Widgets {legalForm}").Value);
        Assert.Equal("acme widgets", CompanyNameNormalizer.Normalize($"Acme Widgets, {legalForm}").Value);
    }

    [Theory]
    [InlineData("Acme Widgets, Inc., LLC")]
    [InlineData("Acme Widgets GmbH & Co. KG")]
    [InlineData("Acme Widgets Co., Ltd.")]
    [InlineData("Acme Widgets & Company")]
    [InlineData("Acme Widgets and Co")]
    public void Normalize_SeveralTrailingLegalForms_AreAllRemoved(string name) =>
        Assert.Equal("acme widgets", CompanyNameNormalizer.Normalize(name).Value);

    [Fact]
    public void Normalize_LegalForms_AreKeptInCanonicalSpellingInOrder()
    {
        var name = CompanyNameNormalizer.Normalize("Acme GmbH & Co. KG");

        Assert.Equal(["gmbh", "co", "kg"], name.LegalSuffixes);
        Assert.Equal(["llc"], CompanyNameNormalizer.Normalize("Acme, L.L.C.").LegalSuffixes);
        Assert.Equal(["inc"], CompanyNameNormalizer.Normalize("Acme Incorporated").LegalSuffixes);
        Assert.Empty(CompanyNameNormalizer.Normalize("Acme Dental").LegalSuffixes);
    }

    [Fact]
    public void Normalize_LegalFormInsideTheName_IsKept() =>
        Assert.Equal("co operative bank of denver", CompanyNameNormalizer.Normalize("Co-operative Bank of Denver").Value);

    [Theory]
    [InlineData("Crème Brûlée Café", "creme brulee cafe")]
    [InlineData("Zürich Straße", "zurich strasse")]
    [InlineData("Søren Ærø Œuvre", "soren aero oeuvre")]
    [InlineData("Łódź Đakovo Þórshöfn", "lodz dakovo thorshofn")]
    [InlineData("İstanbul Dıştan", "istanbul distan")]
    [InlineData("ＡＣＭＥ ｄｅｎｔａｌ", "acme dental")]
    [InlineData("Ørsted A/S", "orsted")]
    public void Normalize_Diacritics_AreRemoved(string name, string expected) =>
        Assert.Equal(expected, CompanyNameNormalizer.Normalize(name).Value);

    [Theory]
    [InlineData("Smith & Jones")]
    [InlineData("Smith and Jones")]
    [InlineData("Smith AND Jones")]
    [InlineData("Smith+Jones")]
    [InlineData("Smith&Jones")]
    public void Normalize_AmpersandPlusAndWord_ReadTheSame(string name) =>
        Assert.Equal("smith and jones", CompanyNameNormalizer.Normalize(name).Value);

    [Theory]
    [InlineData("The Acme Group", "acme group")]
    [InlineData("THE ACME GROUP, LLC", "acme group")]
    [InlineData("Theodore Labs", "theodore labs")]
    [InlineData("The", "the")]
    [InlineData("Acme The Group", "acme the group")]
    public void Normalize_LeadingThe_IsDropped(string name, string expected) =>
        Assert.Equal(expected, CompanyNameNormalizer.Normalize(name).Value);

    [Theory]
    [InlineData("  ACME   dental\t,  ", "acme dental")]
    [InlineData("O'Brien’s Pub", "obriens pub")]
    [InlineData("Acme-Widgets (North)", "acme widgets north")]
    [InlineData("U.S.A. Dental", "usa dental")]
    [InlineData("acme.example", "acme example")]
    public void Normalize_CaseWhitespaceAndPunctuation_AreFolded(string name, string expected) =>
        Assert.Equal(expected, CompanyNameNormalizer.Normalize(name).Value);

    [Fact]
    public void Normalize_ReturnsTheTokens()
    {
        var name = CompanyNameNormalizer.Normalize("The Smith & Jones Co-op, Inc.");

        Assert.Equal(["smith", "and", "jones", "co", "op"], name.Tokens);
        Assert.Equal(string.Join(' ', name.Tokens), name.Value);
    }

    [Theory]
    [InlineData("Inc.", "inc")]
    [InlineData("LLC", "llc")]
    [InlineData("The Co.", "co")]
    [InlineData("Pty Ltd", "pty")]
    public void Normalize_NameThatIsOnlyALegalForm_KeepsAWord(string name, string expected)
    {
        var normalized = CompanyNameNormalizer.Normalize(name);

        Assert.False(normalized.IsEmpty);
        Assert.Equal(expected, normalized.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\r\n")]
    [InlineData("&*!?.,")]
    public void Normalize_NoLettersOrDigits_IsEmptyButAndOnlyAnd(string name)
    {
        var normalized = CompanyNameNormalizer.Normalize(name);

        Assert.Equal(name.Contains('&') ? "and" : string.Empty, normalized.Value);
        Assert.Equal(!name.Contains('&'), normalized.IsEmpty);
    }

    [Fact]
    public void Normalize_VeryLongName_DoesNotThrow()
    {
        var name = string.Concat(Enumerable.Repeat("Acme Wídgets & ", 667))[..10_000];

        var normalized = CompanyNameNormalizer.Normalize(name);

        Assert.StartsWith("acme widgets and acme", normalized.Value);
        Assert.True(normalized.Tokens.Count > 1000);
    }

    [Theory]
    [InlineData("Acme\u0000Dental\u0007", "acme dental")]
    [InlineData("Acme\u200BDental", "acmedental")]
    [InlineData("Ac\u00ADme Dental\u202E", "acme dental")]
    [InlineData("Acme \uD800Dental\uDC00", "acme dental")]
    [InlineData("Acme\uFFFF \uFFFEDental", "acme dental")]
    [InlineData("Acme 🦷 Dental", "acme dental")]
    [InlineData("\uFEFFAcme Dental", "acme dental")]
    public void Normalize_ControlFormatAndBrokenUnicode_DoNotThrow(string name, string expected) =>
        Assert.Equal(expected, CompanyNameNormalizer.Normalize(name).Value);

    [Fact]
    public void Normalize_Null_Throws() =>
        Assert.Throws<ArgumentNullException>(() => CompanyNameNormalizer.Normalize(null!));
}
