using System.Text;

namespace PsaPortal.Web.Data;

/// <summary>
/// What a person typed into a search box, made safe to send to either database: trimmed, without control characters
/// (PostgreSQL refuses a NUL in text) and without halves of surrogate pairs (which no encoding can carry). Nothing
/// else changes: the search still matches the text literally, through a parameter.
/// </summary>
public static class SearchTerms
{
    public static string Clean(string text)
    {
        var clean = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                clean.Append(c).Append(text[++i]);
            }
            else if (!char.IsControl(c) && !char.IsSurrogate(c))
            {
                clean.Append(c);
            }
        }

        return clean.ToString().Trim();
    }
}
