using PsaPortal.Web.Features.Mapping.Suggestions;

namespace PsaPortal.Web.Tests.Mapping;

public sealed class SuggestionQualityTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2026)]
    public void Suggest_LabelledSandboxNames_PrecisionAtLeast98AndRecallAtLeast90PerCent(int seed)
    {
        var set = SuggestionLabelledSet.Build(seed, 400);
        var matcher = new CompanyMatcher(set.Companies);

        var quality = set.Measure(set.BestCandidates(matcher), CompanyMatcher.SuggestionThreshold);

        Assert.True(quality.Precision >= 0.98, $"precision {quality.Precision:F3} ({quality.Correct} of {quality.Suggested} suggestions correct)");
        Assert.True(quality.Recall >= 0.90, $"recall {quality.Recall:F3} ({quality.Correct} of {quality.WithCounterpart} tenants with a counterpart)");
    }

    [Fact]
    public void Measure_SuggestionsMadeWithoutTheThreshold_MatchTheMeasuredCount()
    {
        var set = SuggestionLabelledSet.Build(3, 400);
        var matcher = new CompanyMatcher(set.Companies);

        var quality = set.Measure(set.BestCandidates(matcher), CompanyMatcher.SuggestionThreshold);
        var made = set.Tenants.Select(t => matcher.Suggest(t.Name, t.Domain)).ToList();

        Assert.Equal(quality.Suggested, made.Count(s => s is not null));
        Assert.Equal(quality.Correct, made.Zip(set.Tenants).Count(p => p.First is not null && p.First.CompanyId == p.Second.ExpectedCompanyId));
    }

    [Fact]
    public void Build_SameSeed_IsDeterministicWithEnoughPairsAndNewCustomers()
    {
        var set = SuggestionLabelledSet.Build(5, 400);
        var again = SuggestionLabelledSet.Build(5, 400);

        Assert.Equal(set.Tenants, again.Tenants);
        Assert.Equal(set.Companies, again.Companies);
        Assert.Equal(400, set.Tenants.Count);
        Assert.True(set.Tenants.Count(t => t.ExpectedCompanyId is not null) >= 300);
        Assert.True(set.Tenants.Count(t => t.Variation == TenantVariation.NewCustomer) >= 0.2 * set.Tenants.Count);
        Assert.Contains(set.Tenants, t => t.Variation == TenantVariation.DuplicateInPsa);
        Assert.Contains(set.Companies, c => c.Domain is null);
        var ids = set.Companies.Select(c => c.Id).ToHashSet();
        Assert.All(set.Tenants.Where(t => t.ExpectedCompanyId is not null), t => Assert.Contains(t.ExpectedCompanyId!.Value, ids));
    }

    [Fact]
    public void Build_NewCustomers_ShareWordsWithPsaCompaniesButNotTheirName()
    {
        var set = SuggestionLabelledSet.Build(8, 400);
        var psaWords = set.Companies.SelectMany(c => CompanyNameNormalizer.Normalize(c.Name).Tokens).ToHashSet();
        var psaNames = set.Companies.Select(c => CompanyNameNormalizer.Normalize(c.Name).Value).ToHashSet();

        var newCustomers = set.Tenants.Where(t => t.Variation == TenantVariation.NewCustomer).Select(t => CompanyNameNormalizer.Normalize(t.Name)).ToList();

        Assert.All(newCustomers, n => Assert.DoesNotContain(n.Value, psaNames));
        Assert.True(newCustomers.Count(n => n.Tokens.Any(psaWords.Contains)) >= 0.9 * newCustomers.Count);
    }
}
