using PsaPortal.Web.Features.Mapping.Suggestions;

namespace PsaPortal.Web.Tests.Mapping;

public sealed class CompanyMatcherTests
{
    private static readonly CompanyCandidate[] Companies =
    [
        new(1, "Acme Dental LLC", "https://www.acmedental.example/"),
        new(2, "Blue Ridge Logistics, Inc.", "blueridge.example"),
        new(3, "Summit Manufacturing", null),
        new(4, "Harbor Law Group", "www.harborlaw.example"),
        new(5, "Harbor Accounting", null),
        new(6, "Pioneer Plumbing & Heating", "pioneer.example"),
    ];

    private static readonly CompanyMatcher Matcher = new(Companies);

    [Fact]
    public void Suggest_DomainOfOneCompany_WinsOverAnIdenticalName()
    {
        var suggestion = Matcher.Suggest("Acme Dental LLC", "https://blueridge.example/contact");

        Assert.NotNull(suggestion);
        Assert.Equal(2, suggestion.CompanyId);
        Assert.Equal(SuggestionKind.Domain, suggestion.Kind);
        Assert.Equal(1.0, suggestion.Score);
        Assert.False(suggestion.IsAmbiguous);
    }

    [Fact]
    public void Suggest_DomainWithDifferentName_SuggestsTheDomainsCompany()
    {
        var suggestion = Matcher.Suggest("Harbor Holdings", "WWW.HarborLaw.example");

        Assert.Equal((4L, SuggestionKind.Domain), (suggestion?.CompanyId, suggestion?.Kind));
    }

    [Fact]
    public void Suggest_DomainSharedByTwoCompanies_FallsBackToTheName()
    {
        var matcher = new CompanyMatcher([new(1, "Acme Dental", "acme.example"), new(2, "Acme Logistics", "https://acme.example")]);

        var suggestion = matcher.Suggest("ACME LOGISTICS INC", "acme.example");

        Assert.Equal((2L, SuggestionKind.ExactName), (suggestion?.CompanyId, suggestion?.Kind));
    }

    [Theory]
    [InlineData("Acme Dental")]
    [InlineData("ACME DENTAL, L.L.C.")]
    [InlineData("The Acme Dental Inc.")]
    [InlineData("Ácme  Dental")]
    public void Suggest_NameIdenticalAfterNormalisation_ScoresOne(string tenantName)
    {
        var suggestion = Matcher.Suggest(tenantName);

        Assert.NotNull(suggestion);
        Assert.Equal((1L, SuggestionKind.ExactName, 1.0), (suggestion.CompanyId, suggestion.Kind, suggestion.Score));
    }

    [Theory]
    [InlineData("Summit Manufacturnig", 3)]
    [InlineData("Summit Mfg", 3)]
    [InlineData("Pioneer Plumbing Heating", 6)]
    [InlineData("Blueridge Logistics", 2)]
    public void Suggest_SimilarName_SuggestsWithAScoreBelowOne(string tenantName, long expectedId)
    {
        var suggestion = Matcher.Suggest(tenantName);

        Assert.NotNull(suggestion);
        Assert.Equal((expectedId, SuggestionKind.SimilarName), (suggestion.CompanyId, suggestion.Kind));
        Assert.InRange(suggestion.Score, CompanyMatcher.SuggestionThreshold, 0.99);
    }

    [Theory]
    [InlineData("Summit Trucking")]
    [InlineData("Harbor Dental")]
    [InlineData("Northwind Consulting")]
    public void Suggest_ScoreBelowThreshold_ReturnsNull(string tenantName)
    {
        Assert.Null(Matcher.Suggest(tenantName));

        var best = Matcher.Suggest(tenantName, minimumScore: 0);
        if (best is not null)
        {
            Assert.True(best.Score < CompanyMatcher.SuggestionThreshold, $"{best.CompanyName} scored {best.Score}");
        }
    }

    [Fact]
    public void Suggest_MinimumScoreZero_ReturnsTheBestCandidateWhateverItsScore()
    {
        var best = Matcher.Suggest("Summit Trucking", minimumScore: 0);

        Assert.NotNull(best);
        Assert.Equal(3, best.CompanyId);
        Assert.InRange(best.Score, 0.01, CompanyMatcher.SuggestionThreshold - 0.01);
    }

    [Fact]
    public void Suggest_TwoCompaniesWithTheSameName_IsAmbiguousAndNotSuggested()
    {
        var matcher = new CompanyMatcher([new(7, "Acme Dental", "acme.example"), new(3, "Acme Dental", "acme.example"), new(9, "Beacon Realty", null)]);

        Assert.Null(matcher.Suggest("Acme Dental"));
        Assert.Null(matcher.Suggest("Acme Dental", "acme.example"));
        Assert.Null(matcher.Suggest("Acme Dentl"));

        var tied = matcher.Suggest("Acme Dental", minimumScore: 0);
        Assert.NotNull(tied);
        Assert.True(tied.IsAmbiguous);
        Assert.Equal(3, tied.CompanyId);
        Assert.True(tied.Score < CompanyMatcher.SuggestionThreshold);
    }

    [Fact]
    public void Suggest_SameNameDifferentLegalForm_TheTenantsLegalFormBreaksTheTie()
    {
        var matcher = new CompanyMatcher([new(1, "Acme Dental LLC", null), new(2, "Acme Dental Inc.", null)]);

        Assert.Equal(1, matcher.Suggest("ACME DENTAL, L.L.C.")?.CompanyId);
        Assert.Equal(2, matcher.Suggest("Acme Dental Incorporated")?.CompanyId);
        Assert.Null(matcher.Suggest("Acme Dental"));
        Assert.True(matcher.Suggest("Acme Dental", minimumScore: 0)?.IsAmbiguous);
    }

    [Fact]
    public void Suggest_SameNameAndADomainSharedWithAnotherCompany_TheDomainBreaksTheTie()
    {
        var matcher = new CompanyMatcher([new(1, "Acme Dental", "acme.example"), new(2, "Acme Dental", null), new(3, "Acme Holdings", "acme.example")]);

        var suggestion = matcher.Suggest("Acme Dental", "acme.example");

        Assert.Equal((1L, SuggestionKind.ExactName, false), (suggestion?.CompanyId, suggestion?.Kind, suggestion?.IsAmbiguous));
        Assert.Null(matcher.Suggest("Acme Dental", "other.example"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Inc.")]
    [InlineData("LLC")]
    [InlineData("!!!")]
    public void Suggest_NameWithoutAnythingToMatch_ReturnsNull(string tenantName) =>
        Assert.Null(Matcher.Suggest(tenantName, minimumScore: 0));

    [Fact]
    public void Suggest_CompanyNamedOnlyALegalForm_MatchesOnlyThatName()
    {
        var matcher = new CompanyMatcher([new(1, "Inc.", null), new(2, "Acme Dental", null)]);

        Assert.Equal(1, matcher.Suggest("INC")?.CompanyId);
        Assert.Equal(2, matcher.Suggest("Acme Dental Inc.")?.CompanyId);
    }

    [Fact]
    public void Suggest_NoCompanies_ReturnsNull() =>
        Assert.Null(new CompanyMatcher([]).Suggest("Acme Dental", "acme.example", minimumScore: 0));

    [Fact]
    public void Suggest_HostileInput_DoesNotThrow()
    {
        var longName = new string('x', 10_000);

        Assert.Null(Matcher.Suggest(longName));
        Assert.Null(Matcher.Suggest("\uD800\u0000\u202E\uFFFF", "\uD800://@:/"));
        Assert.NotNull(Matcher.Suggest(string.Concat(Enumerable.Repeat("Acme Dental ", 900)), minimumScore: 0));
    }

    [Fact]
    public void SuggestAll_ReturnsOnlyTenantsWithASuggestion()
    {
        var suggestions = Matcher.SuggestAll<string>(
        [
            ("t1", "Acme Dental", null),
            ("t2", "Nothing Alike", null),
            ("t3", "Anything", "blueridge.example"),
        ]);

        Assert.Equal(["t1", "t3"], suggestions.Keys.Order());
        Assert.Equal(1, suggestions["t1"].CompanyId);
        Assert.Equal(2, suggestions["t3"].CompanyId);
    }

    [Theory]
    [InlineData("https://www.Acme.example/about?x=1", "acme.example")]
    [InlineData("http://acme.example:8080", "acme.example")]
    [InlineData("www.acme.example.", "acme.example")]
    [InlineData("someone@acme.example", "acme.example")]
    [InlineData("  ACME.example  ", "acme.example")]
    [InlineData("shop.acme.example", "shop.acme.example")]
    [InlineData("", null)]
    [InlineData("https://", null)]
    [InlineData(null, null)]
    public void ToHost_DomainOrWebsite_IsReducedToAHost(string? domain, string? expected) =>
        Assert.Equal(expected, CompanyDomain.ToHost(domain));
}
