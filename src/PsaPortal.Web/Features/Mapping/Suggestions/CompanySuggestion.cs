namespace PsaPortal.Web.Features.Mapping.Suggestions;

/// <summary>A PSA company the matcher can suggest.</summary>
/// <param name="Domain">A domain or website as the PSA holds it ("https://www.acme.example/"); compared by host.</param>
public sealed record CompanyCandidate(long Id, string Name, string? Domain);

/// <summary>Why a company was suggested; stored on the mapping as text, so names stay short.</summary>
public enum SuggestionKind
{
    /// <summary>The tenant's domain belongs to exactly this one company.</summary>
    Domain,

    /// <summary>The names are identical after normalisation.</summary>
    ExactName,

    /// <summary>The names are similar (a typo, an abbreviation, a word more or less).</summary>
    SimilarName,
}

/// <summary>The best PSA company for a tenant.</summary>
/// <param name="Score">0..1; 1 for a domain match or a name identical after normalisation.</param>
/// <param name="IsAmbiguous">
/// Another company scored the same and nothing (domain, legal form) told them apart. <see cref="CompanyId"/> is then the
/// lowest id of the tied companies, not a choice, and <see cref="Score"/> is halved so it never reaches
/// <see cref="CompanyMatcher.SuggestionThreshold"/>: only a caller asking for every score sees it.
/// </param>
public sealed record CompanySuggestion(long CompanyId, string CompanyName, double Score, SuggestionKind Kind, bool IsAmbiguous = false);
