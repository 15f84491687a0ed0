using System.Buffers;

namespace PsaPortal.Web.Features.Mapping.Suggestions;

/// <summary>
/// Suggests the PSA company for a vendor-platform tenant. Built once from the PSA's companies, then asked per tenant;
/// safe to share between threads. See docs/suggestions.md for the rules and the measured precision and recall.
/// </summary>
public sealed class CompanyMatcher
{
    /// <summary>
    /// The lowest score suggested by default: on the labelled sets (docs/suggestions.md) the precision at this score
    /// stays at or above 0.98 with recall at or above 0.90.
    /// </summary>
    public const double SuggestionThreshold = 0.75;

    /// <summary>Two companies whose scores differ by less than this are a tie.</summary>
    public const double TieMargin = 0.01;

    /// <summary>The share of the similarity score that comes from words; the rest is character bigrams.</summary>
    private const double WordShare = 0.7;

    /// <summary>A typo is one edit in a word of at least this many letters.</summary>
    private const int MinimumTypoLength = 5;

    /// <summary>Longer "words" are not company words; they are matched exactly or not at all.</summary>
    private const int MaximumSimilarWordLength = 40;

    /// <summary>The score of names that differ only in where the spaces are ("Blue Ridge" and "Blueridge").</summary>
    private const double JoinedWordsScore = 0.95;

    private const double AbbreviationSimilarity = 0.8;

    private const double StopwordWeightFactor = 0.2;

    private const double HighestSimilarScore = 0.99;

    private static readonly HashSet<string> Stopwords = new(StringComparer.Ordinal) { "and", "of", "the" };

    private readonly Company[] _companies;
    private readonly Dictionary<string, int[]> _byName;
    private readonly Dictionary<string, int[]> _byJoinedName;
    private readonly Dictionary<string, int[]> _byHost;
    private readonly Dictionary<string, int> _wordIds;
    private readonly string[] _words;
    private readonly double[] _wordWeights;
    private readonly int[][] _postings;
    private readonly Dictionary<string, int[]> _wordsByDeletion;
    private readonly Dictionary<char, int[]> _wordsByInitial;
    private readonly WordMatch[][] _vocabularyMatches;
    private readonly double _unknownWordWeight;

    public CompanyMatcher(IEnumerable<CompanyCandidate> companies)
    {
        ArgumentNullException.ThrowIfNull(companies);
        var candidates = companies.ToArray();
        var normalized = candidates.Select(c => CompanyNameNormalizer.Normalize(c.Name)).ToArray();

        _wordIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var words = new List<string>();
        var documentFrequency = new List<int>();
        var companyWordIds = new int[candidates.Length][];
        for (var i = 0; i < candidates.Length; i++)
        {
            companyWordIds[i] = [.. normalized[i].Tokens.Select(token =>
            {
                if (!_wordIds.TryGetValue(token, out var id))
                {
                    id = words.Count;
                    _wordIds.Add(token, id);
                    words.Add(token);
                    documentFrequency.Add(0);
                }

                return id;
            })];
            foreach (var id in companyWordIds[i].Distinct())
            {
                documentFrequency[id]++;
            }
        }

        _words = [.. words];
        _wordWeights = [.. words.Select((word, id) => Weight(word, documentFrequency[id], candidates.Length))];
        _unknownWordWeight = Weight(string.Empty, 1, candidates.Length);
        _postings = new int[_words.Length][];
        var postings = Enumerable.Range(0, _words.Length).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < candidates.Length; i++)
        {
            foreach (var id in companyWordIds[i].Distinct())
            {
                postings[id].Add(i);
            }
        }

        for (var id = 0; id < _words.Length; id++)
        {
            _postings[id] = [.. postings[id]];
        }

        _companies = new Company[candidates.Length];
        for (var i = 0; i < candidates.Length; i++)
        {
            var name = normalized[i];
            _companies[i] = new Company(
                candidates[i],
                name,
                CompanyDomain.ToHost(candidates[i].Domain),
                companyWordIds[i],
                companyWordIds[i].Sum(id => _wordWeights[id]),
                Bigrams(name),
                string.Join(' ', name.LegalSuffixes));
        }

        _byName = Index(_companies.Select((c, i) => (c.Name.IsEmpty ? null : c.Name.Value, i)));
        _byJoinedName = Index(_companies.Select((c, i) => (c.Name.IsEmpty ? null : string.Concat(c.Name.Tokens), i)));
        _byHost = Index(_companies.Select((c, i) => (c.Host, i)));
        _wordsByDeletion = Index(_words
            .Select((word, id) => (word, id))
            .Where(w => w.word.Length is >= MinimumTypoLength - 1 and <= MaximumSimilarWordLength && IsLetters(w.word))
            .SelectMany(w => Deletions(w.word).Append(w.word).Distinct().Select(key => ((string?)key, w.id))));
        _wordsByInitial = _words
            .Select((word, id) => (word, id))
            .Where(w => IsLetters(w.word))
            .GroupBy(w => w.word[0])
            .ToDictionary(g => g.Key, g => g.Select(w => w.id).ToArray());
        _vocabularyMatches = [.. _words.Select((word, id) => SimilarWords(word, id))];
    }

    /// <summary>
    /// The best company for a tenant, or null when none scores at least <paramref name="minimumScore"/>. Pass 0 to see
    /// the best candidate whatever its score (ambiguous ones included, flagged and with half their score).
    /// </summary>
    public CompanySuggestion? Suggest(string tenantName, string? tenantDomain = null, double minimumScore = SuggestionThreshold)
    {
        ArgumentNullException.ThrowIfNull(tenantName);
        var suggestion = Best(tenantName, CompanyDomain.ToHost(tenantDomain));
        return suggestion is not null && suggestion.Score >= minimumScore ? suggestion : null;
    }

    /// <summary>
    /// Suggestions for many tenants at once, in parallel; only tenants with a suggestion of at least
    /// <paramref name="minimumScore"/> appear in the result. Keys must be distinct.
    /// </summary>
    public IReadOnlyDictionary<TKey, CompanySuggestion> SuggestAll<TKey>(
        IEnumerable<(TKey Key, string Name, string? Domain)> tenants, double minimumScore = SuggestionThreshold)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(tenants);
        return tenants
            .AsParallel()
            .Select(t => (t.Key, Suggestion: Suggest(t.Name, t.Domain, minimumScore)))
            .Where(r => r.Suggestion is not null)
            .ToDictionary(r => r.Key, r => r.Suggestion!);
    }

    private CompanySuggestion? Best(string tenantName, string? host)
    {
        int[]? sameHost = null;
        if (host is not null && _byHost.TryGetValue(host, out sameHost) && sameHost.Length == 1)
        {
            return Suggestion(sameHost[0], 1.0, SuggestionKind.Domain, isAmbiguous: false);
        }

        var name = CompanyNameNormalizer.Normalize(tenantName);
        if (name.IsEmpty)
        {
            return null;
        }

        if (_byName.TryGetValue(name.Value, out var identical))
        {
            return Decide(identical, 1.0, SuggestionKind.ExactName, name, sameHost);
        }

        if (_byJoinedName.TryGetValue(string.Concat(name.Tokens), out var joined))
        {
            return Decide(joined, JoinedWordsScore, SuggestionKind.SimilarName, name, sameHost);
        }

        var (tied, score) = MostSimilar(name);
        return tied.Count == 0 ? null : Decide(tied, score, SuggestionKind.SimilarName, name, sameHost);
    }

    private CompanySuggestion Decide(IReadOnlyList<int> tied, double score, SuggestionKind kind, NormalizedCompanyName name, int[]? sameHost)
    {
        var chosen = tied.Count == 1 ? tied[0] : BreakTie(tied, name, sameHost);
        return chosen is { } index
            ? Suggestion(index, score, kind, isAmbiguous: false)
            : Suggestion(tied.MinBy(i => _companies[i].Candidate.Id), score / 2, kind, isAmbiguous: true);
    }

    /// <summary>
    /// Among companies that tie on name, one that shares the tenant's domain, or else the only one with the legal form
    /// the tenant states ("Acme, LLC" between "Acme LLC" and "Acme Inc."). A tenant without a legal form breaks no tie:
    /// people drop it, so its absence is no evidence.
    /// </summary>
    private int? BreakTie(IReadOnlyList<int> tied, NormalizedCompanyName name, int[]? sameHost)
    {
        if (sameHost is not null)
        {
            var withHost = tied.Where(sameHost.Contains).ToArray();
            if (withHost.Length == 1)
            {
                return withHost[0];
            }

            if (withHost.Length > 1)
            {
                tied = withHost;
            }
        }

        if (name.LegalSuffixes.Count > 0)
        {
            var suffix = string.Join(' ', name.LegalSuffixes);
            var withSuffix = tied.Where(i => _companies[i].LegalSuffixes == suffix).ToArray();
            if (withSuffix.Length == 1)
            {
                return withSuffix[0];
            }
        }

        return null;
    }

    /// <summary>
    /// Scores only the companies that share a word (or a near or abbreviated word) with the tenant. One pass over the
    /// postings sums, per company, the most its shared words could contribute; that bounds its score from above, so
    /// only companies whose bound reaches the best score so far are scored in full. The result is the same as scoring
    /// every candidate.
    /// </summary>
    private (List<int> Tied, double Score) MostSimilar(NormalizedCompanyName name)
    {
        var tenantWords = name.Tokens.Select(TenantWordOf).ToArray();
        var allStopwords = tenantWords.All(w => w.IsStopword);
        var shared = ArrayPool<double>.Shared.Rent(_companies.Length);
        var touched = ArrayPool<int>.Shared.Rent(_companies.Length);
        try
        {
            Array.Clear(shared, 0, _companies.Length);
            var touchedCount = 0;
            var everyoneShares = 0.0;
            var leastTenantWeight = 0.0;
            foreach (var word in tenantWords)
            {
                leastTenantWeight += word.Matches.Select(m => _wordWeights[m.WordId]).Append(word.Weight).Min();
                if (word.IsStopword && !allStopwords)
                {
                    // Stopwords make no candidates; assume every candidate shares them.
                    everyoneShares += word.Matches.Select(m => m.Similarity * _wordWeights[m.WordId]).DefaultIfEmpty(0).Max();
                    continue;
                }

                foreach (var match in word.Matches)
                {
                    var contribution = match.Similarity * _wordWeights[match.WordId];
                    foreach (var candidate in _postings[match.WordId])
                    {
                        if (shared[candidate] == 0)
                        {
                            touched[touchedCount++] = candidate;
                        }

                        shared[candidate] += contribution;
                    }
                }
            }

            var bounds = ArrayPool<double>.Shared.Rent(touchedCount);
            try
            {
                var mostPromising = -1;
                for (var i = 0; i < touchedCount; i++)
                {
                    var company = _companies[touched[i]];
                    var overlap = shared[touched[i]] + everyoneShares;
                    var rest = leastTenantWeight + company.Weight - overlap;
                    var wordBound = rest <= 0 ? 1.0 : Math.Min(1.0, overlap / rest);
                    bounds[i] = WordShare * wordBound + (1 - WordShare);
                    if (mostPromising < 0 || bounds[i] > bounds[mostPromising])
                    {
                        mostPromising = i;
                    }
                }

                return ScoreWithinBounds(tenantWords, Bigrams(name), touched, bounds, touchedCount, mostPromising);
            }
            finally
            {
                ArrayPool<double>.Shared.Return(bounds);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(shared);
            ArrayPool<int>.Shared.Return(touched);
        }
    }

    /// <summary>The most promising candidate first, then every candidate whose bound still reaches the tie band.</summary>
    private (List<int> Tied, double Score) ScoreWithinBounds(TenantWord[] tenantWords, int[] tenantBigrams, int[] candidates, double[] bounds, int count, int first)
    {
        var near = new List<(int Company, double Score)>();
        var best = 0.0;

        void Consider(int i)
        {
            if (bounds[i] <= best - TieMargin)
            {
                return;
            }

            var score = Similarity(tenantWords, tenantBigrams, _companies[candidates[i]], best - TieMargin);
            if (score <= 0 || score <= best - TieMargin)
            {
                return;
            }

            if (score > best)
            {
                best = score;
                near.RemoveAll(n => n.Score <= best - TieMargin);
            }

            near.Add((candidates[i], score));
        }

        if (first >= 0)
        {
            Consider(first);
        }

        for (var i = 0; i < count; i++)
        {
            if (i != first)
            {
                Consider(i);
            }
        }

        return ([.. near.Select(n => n.Company)], best);
    }

    /// <summary>
    /// Weighted word Jaccard (rare words weigh more, near and abbreviated words count in part), raised by the Dice
    /// coefficient of character bigrams of the names written without spaces where that is higher. See
    /// docs/suggestions.md for why. Below <paramref name="irrelevantBelow"/> the bigrams are skipped when even a perfect
    /// Dice coefficient could not lift the score above it (the result is then only the word score).
    /// </summary>
    private double Similarity(TenantWord[] tenantWords, int[] tenantBigrams, Company company, double irrelevantBelow)
    {
        Span<bool> used = company.WordIds.Length <= 64 ? stackalloc bool[company.WordIds.Length] : new bool[company.WordIds.Length];
        var overlap = 0.0;
        var tenantWeight = 0.0;
        foreach (var word in tenantWords)
        {
            var bestPosition = -1;
            var bestSimilarity = 0.0;
            for (var position = 0; position < company.WordIds.Length; position++)
            {
                if (!used[position] && word.SimilarityTo(company.WordIds[position]) is var similarity && similarity > bestSimilarity)
                {
                    bestPosition = position;
                    bestSimilarity = similarity;
                }
            }

            if (bestPosition < 0)
            {
                tenantWeight += word.Weight;
                continue;
            }

            used[bestPosition] = true;
            var weight = _wordWeights[company.WordIds[bestPosition]];
            tenantWeight += weight;
            overlap += bestSimilarity * weight;
        }

        var words = overlap / (tenantWeight + company.Weight - overlap);
        if (WordShare * words + (1 - WordShare) <= irrelevantBelow)
        {
            return words;
        }

        var characters = Dice(tenantBigrams, company.Bigrams);
        return Math.Min(HighestSimilarScore, Math.Max(words, WordShare * words + (1 - WordShare) * characters));
    }

    private TenantWord TenantWordOf(string token)
    {
        var isStopword = Stopwords.Contains(token);
        if (_wordIds.TryGetValue(token, out var id))
        {
            return new TenantWord(isStopword, _wordWeights[id], _vocabularyMatches[id]);
        }

        var matches = SimilarWords(token, null);
        var weight = matches.Length > 0 ? matches.Max(m => _wordWeights[m.WordId]) : _unknownWordWeight * (isStopword ? StopwordWeightFactor : 1);
        return new TenantWord(isStopword, weight, matches);
    }

    /// <summary>Vocabulary words a tenant's word may stand for: itself, one typo away, or an abbreviation either way.</summary>
    private WordMatch[] SimilarWords(string word, int? self)
    {
        var matches = new Dictionary<int, double>();
        if (self is { } id)
        {
            matches[id] = 1.0;
        }

        if (!IsLetters(word) || word.Length > MaximumSimilarWordLength)
        {
            return [.. matches.Select(m => new WordMatch(m.Key, m.Value))];
        }

        if (word.Length >= MinimumTypoLength - 1)
        {
            foreach (var key in Deletions(word).Append(word))
            {
                foreach (var other in _wordsByDeletion.GetValueOrDefault(key, []))
                {
                    var otherWord = _words[other];
                    if (!matches.ContainsKey(other) && Math.Max(word.Length, otherWord.Length) >= MinimumTypoLength && IsOneEditApart(word, otherWord))
                    {
                        matches[other] = 1.0 - 1.0 / Math.Max(word.Length, otherWord.Length);
                    }
                }
            }
        }

        foreach (var other in _wordsByInitial.GetValueOrDefault(word[0], []))
        {
            if (!matches.ContainsKey(other) && (IsAbbreviation(word, _words[other]) || IsAbbreviation(_words[other], word)))
            {
                matches[other] = AbbreviationSimilarity;
            }
        }

        return [.. matches.Select(m => new WordMatch(m.Key, m.Value))];
    }

    private CompanySuggestion Suggestion(int index, double score, SuggestionKind kind, bool isAmbiguous) =>
        new(_companies[index].Candidate.Id, _companies[index].Candidate.Name, score, kind, isAmbiguous);

    /// <summary>Smoothed inverse document frequency; "and", "of", "the" count a fifth.</summary>
    private static double Weight(string word, int documentFrequency, int companyCount) =>
        (1.0 + Math.Log((1.0 + companyCount) / (1.0 + documentFrequency))) * (Stopwords.Contains(word) ? StopwordWeightFactor : 1.0);

    /// <summary>
    /// "mfg" for "manufacturing", "mgmt" for "management" (first and last letters kept, the rest in order), or a
    /// truncation such as "constr" for "construction".
    /// </summary>
    private static bool IsAbbreviation(string shortWord, string longWord)
    {
        if (shortWord.Length < 2 || longWord.Length < shortWord.Length + 2 || shortWord[0] != longWord[0])
        {
            return false;
        }

        if (shortWord.Length >= 3 && longWord.StartsWith(shortWord, StringComparison.Ordinal))
        {
            return true;
        }

        if (shortWord[^1] != longWord[^1])
        {
            return false;
        }

        var position = 0;
        foreach (var c in longWord)
        {
            if (position < shortWord.Length && shortWord[position] == c)
            {
                position++;
            }
        }

        return position == shortWord.Length;
    }

    /// <summary>One substitution, insertion, deletion or swap of neighbouring letters.</summary>
    private static bool IsOneEditApart(string a, string b)
    {
        if (a.Length < b.Length)
        {
            (a, b) = (b, a);
        }

        if (a.Length - b.Length > 1 || a == b)
        {
            return false;
        }

        var first = 0;
        while (first < b.Length && a[first] == b[first])
        {
            first++;
        }

        if (a.Length != b.Length)
        {
            return a.AsSpan(first + 1).SequenceEqual(b.AsSpan(first));
        }

        if (a.AsSpan(first + 1).SequenceEqual(b.AsSpan(first + 1)))
        {
            return true;
        }

        return first + 1 < a.Length && a[first] == b[first + 1] && a[first + 1] == b[first] && a.AsSpan(first + 2).SequenceEqual(b.AsSpan(first + 2));
    }

    private static IEnumerable<string> Deletions(string word) => Enumerable.Range(0, word.Length).Select(i => word.Remove(i, 1));

    private static bool IsLetters(string word) => word.Length > 0 && word.All(char.IsLetter);

    /// <summary>Sorted character bigrams of the name without spaces, so "Blue Ridge" and "Blueridge" share them.</summary>
    private static int[] Bigrams(NormalizedCompanyName name)
    {
        var text = string.Concat(name.Tokens);
        if (text.Length < 2)
        {
            return text.Length == 0 ? [] : [text[0] << 16];
        }

        var bigrams = new int[text.Length - 1];
        for (var i = 0; i < bigrams.Length; i++)
        {
            bigrams[i] = (text[i] << 16) | text[i + 1];
        }

        Array.Sort(bigrams);
        return bigrams;
    }

    private static double Dice(int[] a, int[] b)
    {
        if (a.Length + b.Length == 0)
        {
            return 0;
        }

        int i = 0, j = 0, shared = 0;
        while (i < a.Length && j < b.Length)
        {
            if (a[i] == b[j])
            {
                shared++;
                i++;
                j++;
            }
            else if (a[i] < b[j])
            {
                i++;
            }
            else
            {
                j++;
            }
        }

        return 2.0 * shared / (a.Length + b.Length);
    }

    private static Dictionary<string, int[]> Index(IEnumerable<(string? Key, int Value)> pairs) =>
        pairs
            .Where(p => p.Key is not null)
            .GroupBy(p => p.Key!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(p => p.Value).Distinct().ToArray(), StringComparer.Ordinal);

    private sealed record Company(CompanyCandidate Candidate, NormalizedCompanyName Name, string? Host, int[] WordIds, double Weight, int[] Bigrams, string LegalSuffixes);

    private readonly record struct WordMatch(int WordId, double Similarity);

    private sealed record TenantWord(bool IsStopword, double Weight, WordMatch[] Matches)
    {
        public double SimilarityTo(int wordId)
        {
            foreach (var match in Matches)
            {
                if (match.WordId == wordId)
                {
                    return match.Similarity;
                }
            }

            return 0;
        }
    }
}
