using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using PsaPortal.Sandbox.Seed;

namespace PsaPortal.Web.Features.Mapping.Suggestions;

/// <summary>How a labelled tenant's name was derived from its PSA company (or why it has none).</summary>
public enum TenantVariation
{
    Identical,

    /// <summary>The demo platform's own spelling (<see cref="CompanyNameGenerator.PlatformVariant"/>).</summary>
    PlatformSpelling,
    LegalSuffixDropped,

    /// <summary>Another legal form, or one added where the PSA has none ("Acme Dental, Inc.").</summary>
    LegalSuffixChanged,
    AmpersandAnd,
    CaseChanged,
    PunctuationDropped,
    DiacriticsAdded,

    /// <summary>The PSA spells the name with diacritics, the platform without.</summary>
    DiacriticsRemoved,
    LeadingThe,

    /// <summary>One letter substituted, missing, added or swapped in a word of six or more letters.</summary>
    Typo,

    /// <summary>A customary abbreviation of one word: "Mfg", "Mgmt", "Engr", "Constr", "CU" for Credit Union.</summary>
    Abbreviation,
    ExtraWhitespace,

    /// <summary>A different trading name ("Acme Holdings") with the company's domain.</summary>
    DomainOnly,

    /// <summary>A customer the PSA does not have yet, its name from the same words: the right answer is no suggestion.</summary>
    NewCustomer,

    /// <summary>A tenant of a company the PSA holds twice under one name: the right answer is no suggestion, not a guess.</summary>
    DuplicateInPsa,
}

/// <summary>A tenant and the PSA company it belongs to; <see cref="ExpectedCompanyId"/> is null when nothing should be suggested.</summary>
public sealed record LabelledTenant(string Name, string? Domain, long? ExpectedCompanyId, TenantVariation Variation);

/// <summary>Precision and recall of the suggestions made at one threshold.</summary>
/// <param name="WithCounterpart">Tenants that should get a suggestion: the recall denominator.</param>
/// <param name="Suggested">Suggestions made: not ambiguous and scoring at least the threshold.</param>
/// <param name="Correct">Suggestions of the expected company.</param>
public sealed record SuggestionQuality(double Threshold, int Tenants, int WithCounterpart, int Suggested, int Correct)
{
    public double Precision => Suggested == 0 ? 1.0 : (double)Correct / Suggested;

    public double Recall => WithCounterpart == 0 ? 1.0 : (double)Correct / WithCounterpart;
}

/// <summary>Tenant names for timing the matcher at scale; unlabelled.</summary>
public sealed record SuggestionWorkload(IReadOnlyList<CompanyCandidate> Companies, IReadOnlyList<(long Key, string Name, string? Domain)> Tenants);

/// <summary>
/// Labelled tenant/company pairs built from the sandbox's company names, for measuring the matcher. The PSA side is
/// <see cref="SandboxSeedData"/>'s companies (with its two duplicate-name records, some companies without a domain and
/// a fifth of them with no tenant). The tenant side is a realistic variation of each company's name, plus new
/// customers the PSA does not have (22% of the set), named from the same lead words and trades.
/// </summary>
public sealed partial class SuggestionLabelledSet
{
    /// <summary>The generator has 2,400 lead/trade pairs; beyond this size too few are left over for new customers.</summary>
    public const int MaximumSize = 2000;

    private const double NewCustomerShare = 0.22;

    private static readonly DateOnly ReferenceDate = new(2026, 1, 1);

    /// <summary>The legal forms the sandbox generator writes, as a PSA would hold them.</summary>
    private static readonly string[] GeneratorLegalForms = ["LLC", "Inc.", "Ltd.", "Co.", "P.C.", "LLP"];

    /// <summary>How people write legal forms when they retype a name.</summary>
    private static readonly string[] TypedLegalForms = ["LLC", "Inc.", "Inc", "Ltd", "Corp.", "Co.", "Incorporated", "L.L.C.", "Corporation", "PLLC", "Company"];

    /// <summary>Customary abbreviations of words the generator uses, as US business records write them.</summary>
    private static readonly Dictionary<string, string> Abbreviations = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Manufacturing"] = "Mfg", ["Management"] = "Mgmt", ["Accounting"] = "Acctg", ["Engineering"] = "Engr",
        ["Construction"] = "Constr", ["Medicine"] = "Med", ["Veterinary"] = "Vet", ["Insurance"] = "Ins", ["Agency"] = "Agcy",
        ["Property"] = "Prop", ["Marketing"] = "Mktg", ["Hospital"] = "Hosp", ["Hospitality"] = "Hosp", ["Pharmacy"] = "Pharm",
        ["Orthopedics"] = "Ortho", ["Chiropractic"] = "Chiro", ["Dermatology"] = "Derm", ["Pediatrics"] = "Peds",
        ["Electric"] = "Elec", ["Heating"] = "Htg", ["Plumbing"] = "Plbg", ["Surveying"] = "Surv", ["Center"] = "Ctr",
        ["Trucking"] = "Trkg", ["Landscaping"] = "Landscpg", ["Printing"] = "Ptg", ["Consulting"] = "Consult",
        ["Architects"] = "Arch", ["Group"] = "Grp", ["Square"] = "Sq", ["Advisors"] = "Advs", ["Credit Union"] = "CU",
    };

    private static readonly Dictionary<char, string> Accented = new()
    {
        ['a'] = "áàäâå", ['e'] = "éèêë", ['i'] = "íïî", ['o'] = "óöôø", ['u'] = "úüû", ['n'] = "ñ", ['c'] = "ç",
    };

    private static readonly string[] TradingNameWords = ["Holdings", "Enterprises", "Services", "Companies", "Ventures"];

    /// <summary>Name variations, each drawn with its weight; an identical name is the most common case.</summary>
    private static readonly (TenantVariation Variation, int Weight)[] NameVariations =
    [
        (TenantVariation.Identical, 3), (TenantVariation.PlatformSpelling, 2), (TenantVariation.LegalSuffixDropped, 1),
        (TenantVariation.LegalSuffixChanged, 1), (TenantVariation.AmpersandAnd, 1), (TenantVariation.CaseChanged, 1),
        (TenantVariation.PunctuationDropped, 1), (TenantVariation.DiacriticsAdded, 1), (TenantVariation.DiacriticsRemoved, 1),
        (TenantVariation.LeadingThe, 1), (TenantVariation.Typo, 1), (TenantVariation.Abbreviation, 1),
        (TenantVariation.ExtraWhitespace, 1), (TenantVariation.DomainOnly, 1),
    ];

    private SuggestionLabelledSet(int seed, IReadOnlyList<CompanyCandidate> companies, IReadOnlyList<LabelledTenant> tenants)
    {
        Seed = seed;
        Companies = companies;
        Tenants = tenants;
    }

    public int Seed { get; }

    /// <summary>The PSA's companies.</summary>
    public IReadOnlyList<CompanyCandidate> Companies { get; }

    public IReadOnlyList<LabelledTenant> Tenants { get; }

    /// <summary>
    /// <paramref name="size"/> labelled tenants (40 to <see cref="MaximumSize"/>): 22% new customers, two tenants
    /// of the duplicate-name companies, the rest variations of PSA companies. Deterministic per (seed, size).
    /// </summary>
    public static SuggestionLabelledSet Build(int seed, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 40);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaximumSize);
        var random = new Random(seed);
        var newCustomerCount = (int)Math.Ceiling(size * NewCustomerShare);
        var matchedCount = size - newCustomerCount - 2;
        var companyCount = matchedCount + 4 + size / 5;
        var data = SandboxSeedData.Generate(seed, companyCount, ReferenceDate);
        var duplicated = data.Companies.Where(c => c.DuplicateOfNumber is not null).Select(c => c.DuplicateOfNumber!.Value).ToHashSet();
        var eligible = data.Companies.Where(c => c.DuplicateOfNumber is null && !duplicated.Contains(c.Number)).ToList();
        Shuffle(eligible, random);
        var matched = eligible.Take(matchedCount).ToList();

        // A duplicate record is a copy of its original, website included.
        var psaDomains = data.Companies.Where(c => c.DuplicateOfNumber is null).ToDictionary(c => c.Number, c => PsaDomain(c.Domain, random));
        foreach (var copy in data.Companies.Where(c => c.DuplicateOfNumber is not null))
        {
            psaDomains[copy.Number] = psaDomains[copy.DuplicateOfNumber!.Value];
        }

        var variations = matched.ToDictionary(c => c.Number, c => DrawVariation(c, random, allowDomain: psaDomains[c.Number] is not null));
        var companies = data.Companies.Select(c => new CompanyCandidate(
            c.Number,
            variations.GetValueOrDefault(c.Number) == TenantVariation.DiacriticsRemoved ? AddDiacritics(c.Name, random) : c.Name,
            psaDomains[c.Number])).ToList();
        var hostsInPsa = companies.Select(c => CompanyDomain.ToHost(c.Domain)).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var companiesByNumber = companies.ToDictionary(c => (int)c.Id);

        var tenants = new List<LabelledTenant>(size);
        foreach (var company in matched)
        {
            var variation = variations[company.Number];
            var psaDomain = companiesByNumber[company.Number].Domain;
            var name = Vary(company.Name, variation, data, company.Number, random);
            tenants.Add(new LabelledTenant(name, TenantDomain(variation, company, psaDomain, random), company.Number, variation));
        }

        foreach (var original in duplicated.Order())
        {
            var company = data.Companies.Single(c => c.Number == original);
            var name = random.Next(2) == 0 ? company.Name : data.PlatformName(company);
            var domain = psaDomains[original] is not null && random.Next(2) == 0 ? DomainIn(company.Domain, random) : null;
            tenants.Add(new LabelledTenant(name, domain, null, TenantVariation.DuplicateInPsa));
        }

        foreach (var name in NewCustomerNames(seed, data, newCustomerCount))
        {
            var variation = DrawVariation(null, random, allowDomain: false);
            var domain = OwnDomain(name);
            tenants.Add(new LabelledTenant(
                Vary(name, variation, data, 0, random),
                random.Next(10) < 3 && !hostsInPsa.Contains(domain) ? DomainIn(domain, random) : null,
                null,
                TenantVariation.NewCustomer));
        }

        Shuffle(tenants, random);
        return new SuggestionLabelledSet(seed, companies, tenants);
    }

    /// <summary>
    /// <paramref name="companyCount"/> PSA companies and <paramref name="tenantCount"/> tenants varied like the labelled
    /// set's (22% named after companies beyond the PSA's), for timing; the names are not labelled.
    /// </summary>
    public static SuggestionWorkload Workload(int seed, int companyCount, int tenantCount)
    {
        var random = new Random(seed);
        var data = SandboxSeedData.Generate(seed, companyCount, ReferenceDate);
        var companies = data.Companies.Select(c => new CompanyCandidate(c.Number, c.Name, PsaDomain(c.Domain, random))).ToList();
        var others = CompanyNameGenerator.CanonicalNames(seed, data.CompanyCount + tenantCount).Skip(data.CompanyCount).ToList();
        var tenants = new List<(long, string, string?)>(tenantCount);
        for (var i = 0; i < tenantCount; i++)
        {
            var company = data.Companies[random.Next(data.Companies.Count)];
            var isNew = random.NextDouble() < NewCustomerShare;
            var variation = DrawVariation(isNew ? null : company, random, allowDomain: !isNew);
            var name = isNew ? others[i] : company.Name;
            var domain = isNew ? null : TenantDomain(variation, company, companies[company.Number - 1].Domain, random);
            tenants.Add((i, Vary(name, variation, data, company.Number, random), domain));
        }

        return new SuggestionWorkload(companies, tenants);
    }

    /// <summary>Each tenant's best candidate at any score (ambiguous ones included), to measure at many thresholds.</summary>
    public IReadOnlyList<CompanySuggestion?> BestCandidates(CompanyMatcher matcher)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        return [.. Tenants.Select(t => matcher.Suggest(t.Name, t.Domain, minimumScore: 0))];
    }

    /// <summary>
    /// Precision and recall at <paramref name="threshold"/>, from <see cref="BestCandidates"/>: a suggestion is made when
    /// it is not ambiguous and scores at least the threshold; it is correct when it names the expected company.
    /// </summary>
    public SuggestionQuality Measure(IReadOnlyList<CompanySuggestion?> bestCandidates, double threshold)
    {
        ArgumentNullException.ThrowIfNull(bestCandidates);
        if (bestCandidates.Count != Tenants.Count)
        {
            throw new ArgumentException("One best candidate per tenant, in the set's order.", nameof(bestCandidates));
        }

        int suggested = 0, correct = 0;
        for (var i = 0; i < Tenants.Count; i++)
        {
            if (IsSuggested(bestCandidates[i], threshold))
            {
                suggested++;
                if (bestCandidates[i]!.CompanyId == Tenants[i].ExpectedCompanyId)
                {
                    correct++;
                }
            }
        }

        return new SuggestionQuality(threshold, Tenants.Count, Tenants.Count(t => t.ExpectedCompanyId is not null), suggested, correct);
    }

    public static bool IsSuggested(CompanySuggestion? suggestion, double threshold) =>
        suggestion is { IsAmbiguous: false } && suggestion.Score >= threshold;

    private static TenantVariation DrawVariation(SeedCompany? company, Random random, bool allowDomain)
    {
        var total = NameVariations.Sum(v => v.Weight);
        while (true)
        {
            var roll = random.Next(total);
            var (variation, _) = NameVariations.First(v => (roll -= v.Weight) < 0);
            var name = company?.Name;
            var applies = variation switch
            {
                TenantVariation.DomainOnly => allowDomain,
                TenantVariation.DiacriticsRemoved => company is not null,
                TenantVariation.LegalSuffixDropped => name is null || TrailingLegalForm(name) is not null,
                TenantVariation.AmpersandAnd => name is null || name.Contains(" & ", StringComparison.Ordinal) || name.Contains(" and ", StringComparison.OrdinalIgnoreCase),
                TenantVariation.Typo => name is null || Words(name).Any(w => w.Length >= 6),
                TenantVariation.Abbreviation => name is null || Abbreviations.Keys.Any(k => ContainsWord(name, k)),
                TenantVariation.PunctuationDropped => name is null || name.Any(char.IsPunctuation),
                _ => true,
            };
            if (applies)
            {
                return variation;
            }
        }
    }

    /// <summary>A new customer's name may not fit a variation drawn before it was picked; it then stays as it is.</summary>
    private static string Vary(string name, TenantVariation variation, SandboxSeedData data, int number, Random random) => variation switch
    {
        TenantVariation.PlatformSpelling => CompanyNameGenerator.PlatformVariant(name, data.Seed, number),
        TenantVariation.LegalSuffixDropped => TrailingLegalForm(name) is { } form ? name[..^(form.Length + 1)] : name,
        TenantVariation.LegalSuffixChanged => ChangeLegalForm(name, random),
        TenantVariation.AmpersandAnd => name.Contains(" & ", StringComparison.Ordinal)
            ? name.Replace(" & ", " and ", StringComparison.Ordinal)
            : AndWord().Replace(name, " & "),
        TenantVariation.CaseChanged => random.Next(3) switch
        {
            0 => name.ToUpperInvariant(),
            1 => name.ToLowerInvariant(),
            _ => string.Join(' ', name.Split(' ').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..].ToLowerInvariant())),
        },
        TenantVariation.PunctuationDropped => string.Join(' ', new string([.. name.Where(c => !char.IsPunctuation(c))]).Split(' ', StringSplitOptions.RemoveEmptyEntries)),
        TenantVariation.DiacriticsAdded => AddDiacritics(name, random),
        TenantVariation.LeadingThe => "The " + name,
        TenantVariation.Typo => Typo(name, random),
        TenantVariation.Abbreviation => Abbreviate(name),
        TenantVariation.ExtraWhitespace => ExtraWhitespace(name, random),
        TenantVariation.DomainOnly => $"{Words(name)[0]} {TradingNameWords[random.Next(TradingNameWords.Length)]}",
        _ => name,
    };

    private static string? TenantDomain(TenantVariation variation, SeedCompany company, string? psaDomain, Random random)
    {
        if (variation == TenantVariation.DomainOnly)
        {
            return DomainIn(company.Domain, random);
        }

        // Most tenants carry no domain; some carry the company's, some one of the platform's own that the PSA never has.
        return random.Next(10) switch
        {
            0 when psaDomain is not null => DomainIn(company.Domain, random),
            1 => company.Domain.Replace(".example", ".onmicrosoft.example", StringComparison.Ordinal),
            _ => null,
        };
    }

    /// <summary>A fifth of PSA companies have no domain; the rest a bare domain or a website.</summary>
    private static string? PsaDomain(string domain, Random random) => random.Next(5) == 0 ? null : DomainIn(domain, random);

    private static string DomainIn(string domain, Random random) => random.Next(3) switch
    {
        0 => domain,
        1 => $"https://www.{domain}/",
        _ => "www." + domain,
    };

    private static string OwnDomain(string name) =>
        new string([.. CompanyNameGenerator.StripLegalSuffix(name).ToLowerInvariant().Where(char.IsLetterOrDigit)]) + ".example";

    /// <summary>
    /// Canonical names after the PSA's, whose lead and trade no PSA company has ("Acme Trucking" when the PSA holds
    /// "Acme Dental" and "Summit Trucking"): a different business, not another branch or legal form of one.
    /// </summary>
    private static List<string> NewCustomerNames(int seed, SandboxSeedData data, int count)
    {
        var taken = data.Companies.Select(c => Core(c.Name)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var names = new List<string>(count);
        var all = CompanyNameGenerator.CanonicalNames(seed, data.CompanyCount + 20 * count);
        foreach (var name in all.Skip(data.CompanyCount))
        {
            if (names.Count == count)
            {
                break;
            }

            if (taken.Add(Core(name)))
            {
                names.Add(name);
            }
        }

        return names.Count == count
            ? names
            : throw new InvalidOperationException($"Only {names.Count} of {count} new-customer names are left in the generator's vocabulary; use a smaller set.");
    }

    /// <summary>
    /// Lead and trade without the generator's suffixes, which include "Group" and "Partners": "Acme Dental of Denver
    /// LLC 12" → "Acme Dental", "Acme Law Group LLC" and "Acme Law Group" → "Acme Law".
    /// </summary>
    private static string Core(string name)
    {
        var core = TrailingNumber().Replace(name, string.Empty);
        var of = core.IndexOf(" of ", StringComparison.Ordinal);
        if (of >= 0)
        {
            core = core[..of];
        }

        for (var stripped = CompanyNameGenerator.StripLegalSuffix(core); stripped != core; stripped = CompanyNameGenerator.StripLegalSuffix(core))
        {
            core = stripped;
        }

        return core;
    }

    private static string? TrailingLegalForm(string name) =>
        GeneratorLegalForms.FirstOrDefault(f => name.EndsWith(" " + f, StringComparison.Ordinal));

    private static string ChangeLegalForm(string name, Random random)
    {
        var current = TrailingLegalForm(name);
        var stem = current is null ? name : name[..^(current.Length + 1)];
        var others = TypedLegalForms.Where(f => f != current).ToArray();
        return stem + (random.Next(2) == 0 ? ", " : " ") + others[random.Next(others.Length)];
    }

    private static string AddDiacritics(string name, Random random)
    {
        var words = name.Split(' ');
        var candidates = Enumerable.Range(0, words.Length).Where(i => words[i].Length >= 4 && words[i].Any(c => Accented.ContainsKey(char.ToLowerInvariant(c)))).ToList();
        if (candidates.Count == 0)
        {
            return name;
        }

        var index = candidates[random.Next(candidates.Count)];
        var word = words[index].ToCharArray();
        var positions = Enumerable.Range(0, word.Length).Where(p => Accented.ContainsKey(word[p])).ToList();
        if (positions.Count == 0)
        {
            return name;
        }

        var position = positions[random.Next(positions.Count)];
        var choices = Accented[word[position]];
        word[position] = choices[random.Next(choices.Length)];
        words[index] = new string(word);
        return string.Join(' ', words);
    }

    private static string Typo(string name, Random random)
    {
        var words = name.Split(' ');
        var candidates = Enumerable.Range(0, words.Length).Where(i => words[i].Length >= 6 && words[i].All(char.IsLetter)).ToList();
        if (candidates.Count == 0)
        {
            return name;
        }

        var index = candidates[random.Next(candidates.Count)];
        var word = new StringBuilder(words[index]);
        var position = 1 + random.Next(word.Length - 1);
        var letter = (char)('a' + random.Next(26));
        switch (random.Next(4))
        {
            case 0 when word[position] != letter:
                word[position] = letter;
                break;
            case 1:
                word.Remove(position, 1);
                break;
            case 2:
                word.Insert(position, letter);
                break;
            default:
                var swap = Math.Min(position, word.Length - 2);
                (word[swap], word[swap + 1]) = (word[swap + 1], word[swap]);
                break;
        }

        words[index] = word.ToString();
        return string.Join(' ', words);
    }

    private static string Abbreviate(string name)
    {
        var (word, abbreviation) = Abbreviations
            .Select(a => (Word: a.Key, Abbreviation: a.Value, Position: name.IndexOf(a.Key, StringComparison.OrdinalIgnoreCase)))
            .Where(a => a.Position >= 0 && ContainsWord(name, a.Word))
            .OrderBy(a => a.Position)
            .Select(a => (a.Word, a.Abbreviation))
            .FirstOrDefault();
        return word is null ? name : Regex.Replace(name, $@"\b{Regex.Escape(word)}\b", abbreviation, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    private static string ExtraWhitespace(string name, Random random)
    {
        var words = name.Split(' ');
        var text = new StringBuilder(random.Next(2) == 0 ? " " : string.Empty);
        for (var i = 0; i < words.Length; i++)
        {
            text.Append(words[i]);
            if (i < words.Length - 1)
            {
                text.Append(random.Next(3) switch { 0 => "  ", 1 => " \t", _ => " " });
            }
        }

        return text.Append(random.Next(2) == 0 ? "  " : string.Empty).ToString();
    }

    private static string[] Words(string name) => name.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static bool ContainsWord(string name, string word) =>
        Regex.IsMatch(name, $@"\b{Regex.Escape(word)}\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private static void Shuffle<T>(List<T> items, Random random)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    [GeneratedRegex(" and ", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AndWord();

    [GeneratedRegex(@" \d+$", RegexOptions.CultureInvariant)]
    private static partial Regex TrailingNumber();
}
