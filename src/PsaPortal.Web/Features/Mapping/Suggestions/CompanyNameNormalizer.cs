using System.Globalization;
using System.Text;

namespace PsaPortal.Web.Features.Mapping.Suggestions;

/// <summary>A company name reduced to the words that tell companies apart.</summary>
/// <param name="Value">The tokens joined by single spaces; empty when the name had no letters or digits.</param>
/// <param name="Tokens">Lower-case words without diacritics or punctuation, "&amp;" and "+" read as "and".</param>
/// <param name="LegalSuffixes">The trailing legal forms that were removed, in canonical spelling ("llc", "inc"), in the order they appeared.</param>
public sealed record NormalizedCompanyName(string Value, IReadOnlyList<string> Tokens, IReadOnlyList<string> LegalSuffixes)
{
    public bool IsEmpty => Tokens.Count == 0;
}

/// <summary>
/// Reduces a company name to a comparable form: case folded, diacritics removed, punctuation removed, "&amp;" and "+"
/// read as "and", a leading "The" dropped and trailing legal forms (Inc, LLC, GmbH, Sp. z o.o. …) removed.
/// </summary>
public static class CompanyNameNormalizer
{
    /// <summary>
    /// Legal forms removed from the end of a name, as the tokens they normalise to (dots inside abbreviations such as
    /// "L.L.C." and "S.A." join their letters), each with the canonical spelling kept in <see cref="NormalizedCompanyName.LegalSuffixes"/>.
    /// </summary>
    private static readonly (string[] Tokens, string Canonical)[] LegalForms =
    [
        (["inc"], "inc"), (["incorporated"], "inc"),
        (["llc"], "llc"),
        (["ltd"], "ltd"), (["limited"], "ltd"),
        (["co"], "co"), (["company"], "co"),
        (["corp"], "corp"), (["corporation"], "corp"),
        (["gmbh"], "gmbh"), (["ag"], "ag"), (["kg"], "kg"),
        (["pty"], "pty"),
        (["plc"], "plc"), (["llp"], "llp"), (["lp"], "lp"), (["pllc"], "pllc"), (["pc"], "pc"),
        (["sa"], "sa"), (["sas"], "sas"), (["sarl"], "sarl"), (["srl"], "srl"),
        (["bv"], "bv"), (["nv"], "nv"), (["oy"], "oy"), (["ab"], "ab"), (["as"], "as"), (["a", "s"], "as"),
        (["sp", "z", "oo"], "sp z oo"),
    ];

    /// <summary>Letters that canonical decomposition leaves whole.</summary>
    private static readonly Dictionary<char, string> UndecomposedLetters = new()
    {
        ['ß'] = "ss", ['ø'] = "o", ['æ'] = "ae", ['œ'] = "oe", ['đ'] = "d", ['ð'] = "d", ['þ'] = "th", ['ł'] = "l",
        ['ı'] = "i", ['ħ'] = "h", ['ŧ'] = "t", ['ŋ'] = "n", ['ĸ'] = "k", ['ſ'] = "s", ['ƒ'] = "f",
    };

    public static NormalizedCompanyName Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var tokens = Tokenize(Decompose(name));
        if (tokens.Count > 1 && tokens[0] == "the")
        {
            tokens.RemoveAt(0);
        }

        var suffixes = new List<string>();
        while (RemoveTrailingLegalForm(tokens, suffixes))
        {
        }

        suffixes.Reverse();
        return new NormalizedCompanyName(string.Join(' ', tokens), tokens, suffixes);
    }

    /// <summary>
    /// Removes one legal form from the end, never the last remaining word: a company called just "Inc." keeps "inc",
    /// so it matches only another "Inc." instead of every name. An "and" left dangling by "&amp; Co." goes too.
    /// </summary>
    private static bool RemoveTrailingLegalForm(List<string> tokens, List<string> removed)
    {
        foreach (var (form, canonical) in LegalForms)
        {
            if (tokens.Count > form.Length && EndsWith(tokens, form))
            {
                tokens.RemoveRange(tokens.Count - form.Length, form.Length);
                removed.Add(canonical);
                if (tokens.Count > 1 && tokens[^1] == "and")
                {
                    tokens.RemoveAt(tokens.Count - 1);
                }

                return true;
            }
        }

        return false;
    }

    private static bool EndsWith(List<string> tokens, string[] form)
    {
        var start = tokens.Count - form.Length;
        for (var i = 0; i < form.Length; i++)
        {
            if (tokens[start + i] != form[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Compatibility decomposition (FormKD: canonical decomposition plus full-width letters and ligatures folded),
    /// after dropping what would make it throw (unpaired surrogates) or hide between letters (format characters such
    /// as zero-width spaces and soft hyphens).
    /// </summary>
    private static string Decompose(string name)
    {
        var cleaned = new StringBuilder(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                cleaned.Append(c).Append(name[++i]);
            }
            else if (!char.IsSurrogate(c) && CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.Format)
            {
                cleaned.Append(c);
            }
        }

        var text = cleaned.ToString();
        try
        {
            return text.Normalize(NormalizationForm.FormKD);
        }
        catch (ArgumentException)
        {
            // Code points the runtime's Unicode tables reject (noncharacters on some platforms): keep them undecomposed.
            return text;
        }
    }

    private static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var token = new StringBuilder();
        var segmentLength = 0;

        void EndToken()
        {
            if (token.Length > 0)
            {
                tokens.Add(token.ToString());
                token.Clear();
            }

            segmentLength = 0;
        }

        foreach (var c in text)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
            {
                continue;
            }

            if (char.IsLetterOrDigit(c))
            {
                var lower = char.ToLowerInvariant(c);
                if (UndecomposedLetters.TryGetValue(lower, out var replacement))
                {
                    token.Append(replacement);
                }
                else
                {
                    token.Append(lower);
                }

                segmentLength++;
            }
            else if (c is '&' or '+')
            {
                EndToken();
                tokens.Add("and");
            }
            else if (c is '\'' or '’' or '‘' or 'ʼ' or '`')
            {
                // O'Brien, Smith's: the apostrophe joins.
            }
            else if (c == '.' && segmentLength == 1)
            {
                // A dot after a single letter abbreviates: L.L.C. reads as llc, S.A. as sa.
                segmentLength = 0;
            }
            else
            {
                EndToken();
            }
        }

        EndToken();
        return tokens;
    }
}
