using System.Globalization;

namespace PsaPortal.Sandbox.Seed;

/// <summary>
/// Deterministic, realistic MSP customer names. The canonical list is what the sandbox PSAs hold; the
/// portal's demo platform creates its tenants from <see cref="PlatformVariant"/> of the same list so
/// fuzzy company matching meets the differences real data has (legal suffixes, punctuation, case).
/// </summary>
public static class CompanyNameGenerator
{
    private static readonly string[] Leads =
    [
        "Acme", "Blue Ridge", "Summit", "Harbor", "Cedar", "Pioneer", "Northwind", "Silver Lake", "Redwood", "Granite",
        "Lakeside", "Evergreen", "Keystone", "Riverbend", "Oakmont", "Beacon", "Crescent", "Frontier", "Highland", "Ironwood",
        "Juniper", "Landmark", "Maplewood", "Meridian", "Northstar", "Orchard", "Pinnacle", "Prairie", "Quarry", "Sagebrush",
        "Sterling", "Stonebridge", "Sunrise", "Tidewater", "Trailhead", "Valley", "Westfield", "Willow Creek", "Bayview", "Copper",
        "Driftwood", "Falcon", "Foxhill", "Golden Gate", "Heritage", "Horizon", "Kingsley", "Liberty", "Magnolia", "Mosaic",
        "Oakridge", "Parkside", "Rockport", "Seaside", "Shoreline", "Southgate", "Timberline", "Union Square", "Vista", "Windmill",
    ];

    private static readonly string[] Trades =
    [
        "Dental", "Logistics", "Law Group", "Manufacturing", "Family Medicine", "Accounting", "Construction", "Realty",
        "Veterinary Clinic", "Architects", "Insurance Agency", "Engineering", "Credit Union", "Orthopedics", "Marketing",
        "Auto Group", "Hospitality", "Plumbing & Heating", "Pharmacy", "Wealth Management", "Foods", "Printing",
        "Landscaping", "Chiropractic", "Staffing", "Title & Escrow", "Brewing", "Outfitters", "Learning Center", "Surveying",
        "Eye Care", "Trucking", "Electric", "Pediatrics", "Tax Advisors", "Property Management", "Imaging", "Dermatology",
        "Animal Hospital", "Consulting",
    ];

    private static readonly string[] LegalSuffixes = ["LLC", "Inc.", "Ltd.", "Co.", "P.C.", "LLP", "Group", "Partners", "", "", "", ""];

    private static readonly string[] Places =
    [
        "Denver", "Austin", "Tampa", "Boise", "Omaha", "Raleigh", "Tucson", "Spokane", "Dayton", "Fresno", "Reno", "Albany",
    ];

    /// <summary>
    /// <paramref name="count"/> distinct canonical company names for a seed. The same (seed, count)
    /// always yields the same list, and a longer list starts with the shorter one.
    /// </summary>
    public static IReadOnlyList<string> CanonicalNames(int seed, int count)
    {
        var names = new List<string>(count);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var random = new Random(seed);
        while (names.Count < count)
        {
            var lead = Leads[random.Next(Leads.Length)];
            var trade = Trades[random.Next(Trades.Length)];
            var suffix = LegalSuffixes[random.Next(LegalSuffixes.Length)];
            var name = suffix.Length == 0 ? $"{lead} {trade}" : $"{lead} {trade} {suffix}";
            if (!seen.Add(name))
            {
                // Real customer lists repeat a trade name in another town; keep the name unique anyway.
                name = $"{lead} {trade} of {Places[random.Next(Places.Length)]}";
                if (suffix.Length > 0)
                {
                    name += " " + suffix;
                }

                if (!seen.Add(name))
                {
                    name = $"{name} {names.Count.ToString(CultureInfo.InvariantCulture)}";
                    seen.Add(name);
                }
            }

            names.Add(name);
        }

        return names;
    }

    /// <summary>
    /// How the vendor platform spells the same customer: often identical, otherwise with a dropped or
    /// different legal suffix, "&amp;" vs "and", changed case or missing punctuation. Deterministic per
    /// (seed, index).
    /// </summary>
    public static string PlatformVariant(string canonicalName, int seed, int index)
    {
        var random = new Random(unchecked((seed * 397) ^ (index * 7919) ^ 0x5EED));
        var roll = random.Next(10);
        return roll switch
        {
            <= 4 => canonicalName,
            5 => StripLegalSuffix(canonicalName),
            6 => canonicalName.Replace(" & ", " and ", StringComparison.Ordinal).Replace(".", string.Empty, StringComparison.Ordinal),
            7 => canonicalName.ToUpperInvariant(),
            8 => StripLegalSuffix(canonicalName) + ", " + (canonicalName.EndsWith("LLC", StringComparison.Ordinal) ? "Inc." : "LLC"),
            _ => canonicalName.ToLowerInvariant().Replace(",", string.Empty, StringComparison.Ordinal),
        };
    }

    public static string StripLegalSuffix(string name)
    {
        foreach (var suffix in LegalSuffixes)
        {
            if (suffix.Length > 0 && name.EndsWith(" " + suffix, StringComparison.OrdinalIgnoreCase))
            {
                return name[..^(suffix.Length + 1)];
            }
        }

        return name;
    }

    /// <summary>A ConnectWise-style company identifier: letters and digits only, at most 30 characters.</summary>
    public static string Identifier(string name, int index)
    {
        var letters = new string([.. name.Where(char.IsLetterOrDigit)]);
        var suffix = index.ToString(CultureInfo.InvariantCulture);
        var head = letters.Length > 30 - suffix.Length ? letters[..(30 - suffix.Length)] : letters;
        return head + suffix;
    }
}
