using PsaPortal.Sandbox.Seed;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.Seed;

public sealed class SeedDataTests(SandboxHost host) : IClassFixture<SandboxHost>
{
    [Fact]
    public void Generate_SameSeedAndSize_ProducesIdenticalData()
    {
        // Arrange
        var date = new DateOnly(2026, 1, 1);

        // Act
        var first = SandboxSeedData.Generate(7, 500, date);
        var second = SandboxSeedData.Generate(7, 500, date);
        var other = SandboxSeedData.Generate(8, 500, date);

        // Assert
        Assert.Equal(first.Companies, second.Companies);
        Assert.Equal(first.Subscriptions, second.Subscriptions);
        Assert.NotEqual(first.Companies.Select(c => c.Name), other.Companies.Select(c => c.Name));
    }

    [Fact]
    public void CanonicalNames_TenThousand_AreDistinctAndALongerListExtendsAShorterOne()
    {
        // Act
        var large = CompanyNameGenerator.CanonicalNames(3, 10_000);
        var small = CompanyNameGenerator.CanonicalNames(3, 100);

        // Assert
        Assert.Equal(10_000, large.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(small, large.Take(100));
    }

    [Fact]
    public void PlatformVariant_OverManyCompanies_MixesExactAndRealisticallyDifferentNames()
    {
        // Arrange
        var seed = SandboxSeedData.Generate(11, 400, new DateOnly(2026, 1, 1));

        // Act
        var variants = seed.Companies.Select(c => (c.Name, Platform: seed.PlatformName(c))).ToList();

        // Assert
        var exact = variants.Count(v => v.Name == v.Platform);
        Assert.InRange(exact, 120, 280);
        Assert.Contains(variants, v => v.Platform == v.Name.ToUpperInvariant() && v.Platform != v.Name);
        Assert.Contains(variants, v => v.Platform.EndsWith(", LLC", StringComparison.Ordinal) || v.Platform.EndsWith(", Inc.", StringComparison.Ordinal));
        Assert.Equal(variants.Select(v => v.Platform), seed.Companies.Select(c => CompanyNameGenerator.PlatformVariant(c.Name, 11, c.Number)));
    }

    [Fact]
    public void Generate_HardCases_DuplicateNamesRepeatEarlierCompanies()
    {
        // Act
        var seed = SandboxSeedData.Generate(5, 50, new DateOnly(2026, 1, 1));

        // Assert
        var duplicates = seed.HardCases.DuplicateNameCompanies.Select(n => seed.Companies[n - 1]).ToList();
        Assert.All(duplicates, d => Assert.Equal(seed.Companies[d.DuplicateOfNumber!.Value - 1].Name, d.Name));
        Assert.All(duplicates, d => Assert.NotEqual(seed.Companies[d.DuplicateOfNumber!.Value - 1].Identifier, d.Identifier));
    }

    [Fact]
    public async Task ConnectWise_ProductOnTwoAgreementsOfOneCompany_IsFoundByConditions()
    {
        // Arrange
        using var client = host.ConnectWise();
        var hard = host.Sandbox.SeedData.HardCases;
        var agreements = Ids(await ArrayAsync(await client.GetAsync($"finance/agreements?conditions={Uri.EscapeDataString($"company/id = {hard.ProductOnTwoAgreementsCompany}")}")));

        // Act
        var withProduct = new List<long>();
        foreach (var agreement in agreements)
        {
            var additions = await ArrayAsync(await client.GetAsync($"finance/agreements/{agreement}/additions?conditions={Uri.EscapeDataString($"product/identifier = \"{hard.ProductOnTwoAgreementsSku}\" and cancelledDate = null")}"));
            if (additions.Count > 0)
            {
                withProduct.Add(agreement);
            }
        }

        // Assert
        Assert.Equal(2, withProduct.Count);
    }

    [Fact]
    public async Task ConnectWise_CancelledAdditions_AreReturnedButExcludedByCancelledDateNull()
    {
        // Arrange
        using var client = host.ConnectWise();
        var hard = host.Sandbox.SeedData.HardCases;
        var agreement = Ids(await ArrayAsync(await client.GetAsync($"finance/agreements?conditions={Uri.EscapeDataString($"company/id = {hard.CancelledAdditionCompany}")}")))[0];
        var product = Uri.EscapeDataString($"product/identifier = \"{hard.CancelledAdditionSku}\"");

        // Act
        var all = await ArrayAsync(await client.GetAsync($"finance/agreements/{agreement}/additions?conditions={product}"));
        var active = await ArrayAsync(await client.GetAsync($"finance/agreements/{agreement}/additions?conditions={product}%20and%20cancelledDate%20%3D%20null"));

        // Assert
        Assert.Equal(3, all.Count);
        Assert.Equal(2, all.Count(a => a!["agreementStatus"]!.GetValue<string>() == "Cancelled"));
        Assert.Single(active);
    }

    [Fact]
    public async Task ConnectWise_DuplicateCompanyNames_BothRecordsAreListed()
    {
        // Arrange
        using var client = host.ConnectWise();
        var name = host.Sandbox.SeedData.Companies[0].Name;

        // Act
        var companies = await ArrayAsync(await client.GetAsync($"company/companies?conditions={Uri.EscapeDataString($"name = \"{name}\"")}"));

        // Assert
        Assert.Equal(2, companies.Count);
        Assert.Equal(["Active", "Inactive"], companies.Select(c => c!["status"]!["name"]!.GetValue<string>()));
    }
}
