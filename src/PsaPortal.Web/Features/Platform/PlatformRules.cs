using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PsaPortal.Web.Features.Platform;

/// <summary>One thing wrong with one field of one item of a batch, e.g. usage[3].quantity.</summary>
/// <param name="Collection">The batch's list: tenants, products, usage, incidents or invoiceLines.</param>
/// <param name="Index">The item's position in that list, from 0.</param>
/// <param name="Field">The field's name as the API and CSV headers spell it, or empty for the item as a whole.</param>
public sealed record IngestError(string Collection, int Index, string Field, string Message);

/// <summary>
/// The field rules of platform data: the single definition of what is valid, used by <see cref="PlatformIngest"/> for
/// the API and CSV imports alike. Each check adds its messages to an <see cref="ItemErrors"/> and returns the
/// normalised value.
/// </summary>
public static partial class PlatformRules
{
    public const int MaxUsageQuantity = 10_000_000;
    public const decimal MaxMoney = 1_000_000_000m;
    public const decimal MaxInvoiceQuantity = 10_000_000m;
    public const int MaxDecimalPlaces = 4;

    /// <summary>How far ahead of the portal's clock a reported time may be (clocks drift).</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);

    public static readonly DateTimeOffset EarliestMoment = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateOnly EarliestDate = new(2000, 1, 1);
    public static readonly DateOnly LatestDate = new(2100, 12, 31);

    /// <summary>External ids and part numbers: safe in a URL path segment, a CSV cell and a log line as they are.</summary>
    [GeneratedRegex("^[A-Za-z0-9._:@-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex MomentPattern();

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex HostLabelPattern();

    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };

    public static bool IsIdentifier(string? value, int maxLength) =>
        !string.IsNullOrEmpty(value) && value.Length <= maxLength && IdentifierPattern().IsMatch(value);

    /// <summary>An external id or part number: required, as given (no trimming: ids are compared exactly).</summary>
    public static string? Identifier(ItemErrors errors, string field, string label, string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add(field, $"{label} is required.");
            return null;
        }

        if (value.Length > maxLength)
        {
            errors.Add(field, $"{label} has at most {maxLength} characters.");
            return null;
        }

        if (!IdentifierPattern().IsMatch(value))
        {
            errors.Add(field, $"{label} may contain only letters, digits and . _ - : @ (no spaces).");
            return null;
        }

        return value;
    }

    /// <summary>A name or title: required, trimmed, no control characters, no &lt; or &gt;.</summary>
    public static string? Name(ItemErrors errors, string field, string label, string? value, int maxLength)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            errors.Add(field, $"{label} is required.");
            return null;
        }

        if (trimmed.Length > maxLength)
        {
            errors.Add(field, $"{label} has at most {maxLength} characters.");
            return null;
        }

        if (HasForbiddenCharacters(trimmed, allowLineBreaks: false) || trimmed.AsSpan().IndexOfAny('<', '>') >= 0)
        {
            errors.Add(field, $"{label} cannot contain control characters, < or >.");
            return null;
        }

        return trimmed;
    }

    /// <summary>Free text: optional (empty means none), line breaks and tabs allowed, other control characters not.</summary>
    public static string? Text(ItemErrors errors, string field, string label, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (value.Length > maxLength)
        {
            errors.Add(field, $"{label} has at most {maxLength:N0} characters.");
            return null;
        }

        if (HasForbiddenCharacters(value, allowLineBreaks: true))
        {
            errors.Add(field, $"{label} cannot contain control characters other than line breaks and tabs.");
            return null;
        }

        return value;
    }

    /// <summary>
    /// A host name such as contoso.com or bücher.example: optional; stored in its ASCII form (punycode), lower case,
    /// without a trailing dot. No scheme, path, port, IP address or single-label name.
    /// </summary>
    public static string? Domain(ItemErrors errors, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        const string message = "Domain must be a host name such as contoso.com: no scheme, path, port or spaces.";
        var candidate = value.Trim();
        if (candidate.EndsWith('.'))
        {
            candidate = candidate[..^1];
        }

        string ascii;
        try
        {
            ascii = Idn.GetAscii(candidate).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            errors.Add(field, message);
            return null;
        }

        if (ascii.Length > Tenant.DomainMaxLength)
        {
            errors.Add(field, $"Domain has at most {Tenant.DomainMaxLength} characters.");
            return null;
        }

        var labels = ascii.Split('.');
        if (labels.Length < 2 || !labels.All(l => HostLabelPattern().IsMatch(l)) || labels[^1].All(char.IsAsciiDigit))
        {
            errors.Add(field, message);
            return null;
        }

        return ascii;
    }

    /// <summary>An enum value named exactly (case matters), or <paramref name="fallback"/> when absent.</summary>
    public static TEnum? Choice<TEnum>(ItemErrors errors, string field, string label, string? value, TEnum? fallback = null)
        where TEnum : struct, Enum
    {
        if (string.IsNullOrEmpty(value))
        {
            if (fallback is null)
            {
                errors.Add(field, $"{label} is required. Use one of: {string.Join(", ", Enum.GetNames<TEnum>())}.");
            }

            return fallback;
        }

        if (Enum.GetNames<TEnum>().Contains(value, StringComparer.Ordinal))
        {
            return Enum.Parse<TEnum>(value);
        }

        errors.Add(field, $"{label} must be one of: {string.Join(", ", Enum.GetNames<TEnum>())}.");
        return null;
    }

    public static decimal? Amount(ItemErrors errors, string field, string label, decimal? value, decimal min, decimal max)
    {
        if (value is not { } amount)
        {
            errors.Add(field, $"{label} is required.");
            return null;
        }

        if (amount < min || amount > max)
        {
            errors.Add(field, $"{label} must be between {min.ToString("N0", CultureInfo.InvariantCulture)} and {max.ToString("N0", CultureInfo.InvariantCulture)}.");
            return null;
        }

        if (amount.Scale > MaxDecimalPlaces && decimal.Round(amount, MaxDecimalPlaces) != amount)
        {
            errors.Add(field, $"{label} has at most {MaxDecimalPlaces} decimal places.");
            return null;
        }

        return decimal.Round(amount, MaxDecimalPlaces);
    }

    public static int? UsageQuantity(ItemErrors errors, string field, long? value)
    {
        if (value is not { } quantity)
        {
            errors.Add(field, "Quantity is required.");
            return null;
        }

        if (quantity is < 0 or > MaxUsageQuantity)
        {
            errors.Add(field, $"Quantity must be a whole number from 0 to {MaxUsageQuantity.ToString("N0", CultureInfo.InvariantCulture)}.");
            return null;
        }

        return (int)quantity;
    }

    /// <summary>
    /// An ISO 8601 date and time with a time zone (Z or ±hh:mm), between 2000-01-01 and 5 minutes past
    /// <paramref name="now"/>; stored in UTC, to the millisecond (both databases keep that exactly, so the same
    /// report sent twice matches itself).
    /// </summary>
    public static DateTimeOffset? Moment(ItemErrors errors, string field, string label, string? value, DateTimeOffset now, bool required)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors.Add(field, $"{label} is required.");
            }

            return null;
        }

        if (!MomentPattern().IsMatch(value)
            || !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed))
        {
            errors.Add(field, $"{label} must be an ISO 8601 date and time with a time zone, e.g. 2026-01-31T12:00:00Z.");
            return null;
        }

        var utc = parsed.ToUniversalTime();
        if (utc < EarliestMoment)
        {
            errors.Add(field, $"{label} cannot be before 2000-01-01.");
            return null;
        }

        if (utc > now + FutureTolerance)
        {
            errors.Add(field, $"{label} cannot be more than 5 minutes in the future.");
            return null;
        }

        return ToStoredPrecision(utc);
    }

    public static DateTimeOffset ToStoredPrecision(DateTimeOffset utc) =>
        new(utc.Ticks - utc.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

    public static DateOnly? Date(ItemErrors errors, string field, string label, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(field, $"{label} is required.");
            return null;
        }

        if (!DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            errors.Add(field, $"{label} must be a date written yyyy-MM-dd, e.g. 2026-01-31.");
            return null;
        }

        return InDateRange(errors, field, label, date);
    }

    /// <summary>"2026-01" → the first day of that month.</summary>
    public static DateOnly? Month(ItemErrors errors, string field, string label, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(field, $"{label} is required.");
            return null;
        }

        if (!TryParseMonth(value, out var month))
        {
            errors.Add(field, $"{label} must be a month written yyyy-MM, e.g. 2026-01.");
            return null;
        }

        return InDateRange(errors, field, label, month);
    }

    public static bool TryParseMonth(string? value, out DateOnly month) =>
        DateOnly.TryParseExact(value, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out month);

    public static string FormatMonth(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    private static DateOnly? InDateRange(ItemErrors errors, string field, string label, DateOnly date)
    {
        if (date < EarliestDate || date > LatestDate)
        {
            errors.Add(field, $"{label} must be between 2000-01-01 and 2100-12-31.");
            return null;
        }

        return date;
    }

    /// <summary>Control and invisible formatting characters (bidi overrides, zero-width), private-use and broken surrogates.</summary>
    internal static bool HasForbiddenCharacters(string value, bool allowLineBreaks)
    {
        var index = 0;
        while (index < value.Length)
        {
            if (Rune.DecodeFromUtf16(value.AsSpan(index), out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return true;
            }

            index += consumed;
            if (allowLineBreaks && (rune.Value is '\n' or '\r' or '\t'))
            {
                continue;
            }

            // Line and paragraph separators (U+2028, U+2029) break a line where no one sees a line break.
            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>The messages for one item, collected field by field.</summary>
public sealed class ItemErrors(List<IngestError> sink, string collection, int index)
{
    public int Count { get; private set; }

    public void Add(string field, string message)
    {
        sink.Add(new IngestError(collection, index, field, message));
        Count++;
    }
}
