namespace PsaPortal.Sandbox.Seed;

/// <summary>A customer of the MSP, as both sandbox PSAs and the demo platform know it.</summary>
/// <param name="Number">1-based position in the canonical list; also the ConnectWise company id.</param>
/// <param name="DuplicateOfNumber">Set for the recycle-bin-like second record that repeats another company's name.</param>
public sealed record SeedCompany(int Number, string Name, string Identifier, string City, string State, string Zip, string Phone, string Domain, int? DuplicateOfNumber);

/// <summary>A vendor product the MSP resells: a ConnectWise catalog item and an Autotask service.</summary>
public sealed record SeedProduct(int Number, string Sku, string Description, decimal Price, decimal Cost);

/// <summary>A billable line: the company pays for <see cref="Quantity"/> units of the product.</summary>
public sealed record SeedSubscription(int CompanyNumber, string Sku, int Quantity);

/// <summary>Companies that carry the known PSA-side problems the portal must report.</summary>
public sealed record SeedHardCases(
    int ProductOnTwoAgreementsCompany,
    string ProductOnTwoAgreementsSku,
    int FutureDatedContractCompany,
    int ExpiredContractCompany,
    int DuplicateServiceCompany,
    string DuplicateServiceSku,
    int CancelledAdditionCompany,
    string CancelledAdditionSku,
    IReadOnlyList<int> DuplicateNameCompanies);

/// <summary>
/// The canonical data set, generated deterministically from (seed, size) and a reference date that
/// anchors contract periods ("future", "expired" are relative to it). Both vendor seeders and the
/// portal's demo platform read it, so names and quantities line up across systems.
/// </summary>
public sealed class SandboxSeedData
{
    /// <summary>Small enough to read in a grid, large enough to hold every hard case.</summary>
    public const int MinimumCompanyCount = 12;

    public static readonly IReadOnlyList<SeedProduct> Products =
    [
        new(1, "SEC-EDR-STD", "Endpoint Detection & Response - Standard", 4.50m, 2.10m),
        new(2, "SEC-EDR-ADV", "Endpoint Detection & Response - Advanced", 7.25m, 3.40m),
        new(3, "SEC-MDR-24X7", "Managed Detection & Response 24x7", 12.00m, 6.80m),
        new(4, "BKP-M365-USER", "Microsoft 365 Backup (per user)", 2.75m, 1.05m),
        new(5, "BKP-SRV-1TB", "Server Backup 1 TB", 45.00m, 21.00m),
        new(6, "EML-SEC-USER", "Email Security (per mailbox)", 1.95m, 0.80m),
        new(7, "SAT-TRAINING", "Security Awareness Training", 1.50m, 0.55m),
        new(8, "DNS-FILTER", "DNS Filtering", 1.10m, 0.40m),
        new(9, "VULN-SCAN", "Vulnerability Scanning (per asset)", 0.90m, 0.30m),
        new(10, "SIEM-LOG-GB", "SIEM Log Ingestion (per GB)", 0.35m, 0.12m),
    ];

    private static readonly (string City, string State, string Zip)[] Towns =
    [
        ("Denver", "CO", "80202"), ("Austin", "TX", "78701"), ("Tampa", "FL", "33602"), ("Boise", "ID", "83702"),
        ("Omaha", "NE", "68102"), ("Raleigh", "NC", "27601"), ("Tucson", "AZ", "85701"), ("Spokane", "WA", "99201"),
        ("Dayton", "OH", "45402"), ("Fresno", "CA", "93721"), ("Reno", "NV", "89501"), ("Albany", "NY", "12207"),
    ];

    private SandboxSeedData(int seed, int companyCount, DateOnly referenceDate, IReadOnlyList<SeedCompany> companies, IReadOnlyList<SeedSubscription> subscriptions, SeedHardCases hardCases)
    {
        Seed = seed;
        CompanyCount = companyCount;
        ReferenceDate = referenceDate;
        Companies = companies;
        Subscriptions = subscriptions;
        HardCases = hardCases;
        _subscriptionsByCompany = subscriptions.ToLookup(s => s.CompanyNumber);
    }

    private readonly ILookup<int, SeedSubscription> _subscriptionsByCompany;

    public int Seed { get; }

    public int CompanyCount { get; }

    public DateOnly ReferenceDate { get; }

    public IReadOnlyList<SeedCompany> Companies { get; }

    public IReadOnlyList<SeedSubscription> Subscriptions { get; }

    public SeedHardCases HardCases { get; }

    public static SandboxSeedData Generate(int seed, int companyCount, DateOnly referenceDate)
    {
        companyCount = Math.Max(MinimumCompanyCount, companyCount);
        var names = CompanyNameGenerator.CanonicalNames(seed, companyCount);
        var random = new Random(unchecked(seed * 31 + 17));
        var hardCases = new SeedHardCases(
            ProductOnTwoAgreementsCompany: 2,
            ProductOnTwoAgreementsSku: "SEC-EDR-STD",
            FutureDatedContractCompany: 3,
            ExpiredContractCompany: 4,
            DuplicateServiceCompany: 5,
            DuplicateServiceSku: "BKP-M365-USER",
            CancelledAdditionCompany: 6,
            CancelledAdditionSku: "EML-SEC-USER",
            DuplicateNameCompanies: [companyCount - 1, companyCount]);

        var companies = new List<SeedCompany>(companyCount);
        for (var number = 1; number <= companyCount; number++)
        {
            var town = Towns[random.Next(Towns.Length)];
            var phone = $"({random.Next(201, 990)}) 555-{random.Next(1000, 10000)}";
            int? duplicateOf = number == companyCount - 1 ? 1 : number == companyCount ? 7 : null;
            var name = duplicateOf is { } original ? names[original - 1] : names[number - 1];
            var domain = new string([.. CompanyNameGenerator.StripLegalSuffix(name).ToLowerInvariant().Where(char.IsLetterOrDigit)]) + ".example";
            companies.Add(new SeedCompany(number, name, CompanyNameGenerator.Identifier(name, number), town.City, town.State, town.Zip, phone, domain, duplicateOf));
        }

        var subscriptions = new List<SeedSubscription>();
        foreach (var company in companies.Where(c => c.DuplicateOfNumber is null))
        {
            var lines = 1 + random.Next(3);
            var first = random.Next(Products.Count);
            for (var line = 0; line < lines; line++)
            {
                var product = Products[(first + line * 3) % Products.Count];
                subscriptions.Add(new SeedSubscription(company.Number, product.Sku, 1 + random.Next(250)));
            }
        }

        EnsureSubscription(subscriptions, hardCases.ProductOnTwoAgreementsCompany, hardCases.ProductOnTwoAgreementsSku, 25);
        EnsureSubscription(subscriptions, hardCases.DuplicateServiceCompany, hardCases.DuplicateServiceSku, 40);
        EnsureSubscription(subscriptions, hardCases.CancelledAdditionCompany, hardCases.CancelledAdditionSku, 18);
        return new SandboxSeedData(seed, companyCount, referenceDate, companies, subscriptions, hardCases);
    }

    public static SeedProduct Product(string sku) => Products.First(p => p.Sku == sku);

    /// <summary>The tenant name the demo platform uses for a company (see <see cref="CompanyNameGenerator.PlatformVariant"/>).</summary>
    public string PlatformName(SeedCompany company) => CompanyNameGenerator.PlatformVariant(company.Name, Seed, company.Number);

    public IEnumerable<SeedSubscription> SubscriptionsOf(int companyNumber) => _subscriptionsByCompany[companyNumber];

    private static void EnsureSubscription(List<SeedSubscription> subscriptions, int companyNumber, string sku, int quantity)
    {
        if (!subscriptions.Any(s => s.CompanyNumber == companyNumber && s.Sku == sku))
        {
            subscriptions.Add(new SeedSubscription(companyNumber, sku, quantity));
        }
    }
}
