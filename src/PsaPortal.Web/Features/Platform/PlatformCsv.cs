using System.Globalization;
using System.Text.Unicode;
using CsvHelper;

namespace PsaPortal.Web.Features.Platform;

public enum CsvImportKind
{
    Tenants,
    Usage,
}

/// <summary>One data line of an uploaded file: its line number (the header is line 1) and the values it holds.</summary>
public sealed record CsvLine(int LineNumber, IReadOnlyDictionary<string, string> Values);

/// <summary>A problem with one line (or, with no field, the whole line).</summary>
public sealed record CsvLineError(int LineNumber, string Field, string Message);

/// <summary>The input made from a well-formed line: a tenant or a usage report, as the file's kind says.</summary>
public sealed record CsvInput(int LineNumber, TenantInput? Tenant, UsageInput? Usage);

/// <summary>
/// What a file held: a message for the whole file when it cannot be read at all, otherwise its lines, the inputs made
/// from the well-formed ones and the errors of the rest.
/// </summary>
public sealed record CsvParseResult(
    string? FileError,
    IReadOnlyList<CsvLine> Lines,
    IReadOnlyList<CsvInput> Inputs,
    IReadOnlyList<CsvLineError> Errors)
{
    public static CsvParseResult Refused(string message) => new(message, [], [], []);
}

/// <summary>
/// The CSV side of platform data (CsvHelper): the documented header sets, reading an upload strictly (UTF-8 with or
/// without BOM, commas, exact headers, a row limit) and writing the tenant export safe to open in a spreadsheet.
/// Values are only shaped into inputs here; whether they are valid is <see cref="PlatformIngest"/>'s to say.
/// </summary>
public static class PlatformCsv
{
    public const long MaxFileBytes = 10 * 1024 * 1024;
    public const int MaxRows = 50_000;

    public static readonly IReadOnlyList<string> TenantHeaders = ["externalId", "name", "domain", "status"];
    public static readonly IReadOnlyList<string> UsageHeaders = ["tenantExternalId", "partNumber", "quantity", "asOf"];
    public static readonly IReadOnlyList<string> ExportHeaders = ["externalId", "name", "domain", "status", "services"];

    private static readonly IReadOnlyList<string> RequiredTenantHeaders = ["externalId", "name"];
    private static readonly IReadOnlyList<string> RequiredUsageHeaders = ["tenantExternalId", "partNumber", "quantity"];

    public static IReadOnlyList<string> HeadersOf(CsvImportKind kind) => kind == CsvImportKind.Tenants ? TenantHeaders : UsageHeaders;

    /// <summary>Reads a whole uploaded file (at most <see cref="MaxFileBytes"/>, already in memory).</summary>
    public static CsvParseResult Parse(CsvImportKind kind, ReadOnlyMemory<byte> content)
    {
        var bytes = content.Span;
        if (bytes.Length == 0 || bytes.Trim((ReadOnlySpan<byte>)[(byte)' ', (byte)'\t', (byte)'\r', (byte)'\n', 0xEF, 0xBB, 0xBF]).IsEmpty)
        {
            return CsvParseResult.Refused("The file is empty. It needs the header line and at least one row.");
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return CsvParseResult.Refused("The file is UTF-16 text. Save it as \"CSV UTF-8\" and upload it again.");
        }

        if (bytes.Contains((byte)0))
        {
            return CsvParseResult.Refused("This is not a CSV text file (it contains binary data). Upload a .csv file saved as \"CSV UTF-8\".");
        }

        if (!Utf8.IsValid(bytes))
        {
            return CsvParseResult.Refused("The file is not UTF-8 text (perhaps Windows-1252 or Latin-1). Save it as \"CSV UTF-8\" and upload it again.");
        }

        var malformed = new List<CsvMalformedRecord>();
        var options = new CsvReaderOptions
        {
            Separator = ',',
            HasHeader = true,
            AllowLineBreaksInQuotes = false,
            TrimWhitespace = true,
            TrackLineNumbers = true,
            MalformedData = CsvMalformedDataHandling.Skip,
            OnMalformedRecord = malformed.Add,
        };
        using var reader = CsvReader.Create(content, options);
        IReadOnlyList<string> header;
        try
        {
            header = reader.Headers;
        }
        catch (CsvFormatException)
        {
            return CsvParseResult.Refused($"The first line is not a readable header. It must be: {string.Join(",", HeadersOf(kind))}");
        }

        if (CheckHeader(kind, header) is { } headerError)
        {
            return CsvParseResult.Refused(headerError);
        }

        var lines = new List<CsvLine>();
        var errors = new List<CsvLineError>();
        var inputs = new List<CsvInput>();
        while (reader.Read())
        {
            if (lines.Count == MaxRows)
            {
                return CsvParseResult.Refused($"The file has more than {MaxRows:N0} rows. Split it into files of at most {MaxRows:N0} rows.");
            }

            var lineNumber = (int)reader.LineNumber;
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < Math.Min(reader.FieldCount, header.Count); i++)
            {
                values[Canonical(kind, header[i])!] = Unescape(reader.GetString(i));
            }

            lines.Add(new CsvLine(lineNumber, values));
            if (reader.FieldCount != header.Count)
            {
                errors.Add(new CsvLineError(lineNumber, "", $"This row has {reader.FieldCount} columns; the header has {header.Count}. Check for a missing or extra comma."));
                continue;
            }

            if (ToInput(kind, values, lineNumber, errors) is { } input)
            {
                inputs.Add(input);
            }
        }

        foreach (var record in malformed)
        {
            lines.Add(new CsvLine((int)record.LineNumber, new Dictionary<string, string>()));
            errors.Add(new CsvLineError((int)record.LineNumber, "", $"This row's quotes are broken ({Describe(record.Reason)}), so it cannot be read."));
        }

        if (lines.Count == 0)
        {
            return CsvParseResult.Refused("The file has a header but no rows.");
        }

        lines.Sort((a, b) => a.LineNumber.CompareTo(b.LineNumber));
        return new CsvParseResult(null, lines, inputs, errors);
    }

    /// <summary>Header names are matched ignoring case and may come in any order; unknown and repeated names are refused.</summary>
    private static string? CheckHeader(CsvImportKind kind, IReadOnlyList<string> header)
    {
        var expected = string.Join(",", HeadersOf(kind));
        if (header.Count == 1 && (header[0].Contains(';', StringComparison.Ordinal) || header[0].Contains('\t', StringComparison.Ordinal)))
        {
            return $"The file separates columns with {(header[0].Contains(';', StringComparison.Ordinal) ? "semicolons" : "tabs")}; PsaPortal reads commas. " +
                   $"Save it as \"CSV UTF-8 (comma delimited)\". The header must be: {expected}";
        }

        var unknown = header.Where(h => Canonical(kind, h) is null).ToList();
        if (unknown.Count > 0)
        {
            var looksLikeData = RequiredHeaders(kind).All(r => !header.Any(h => string.Equals(h, r, StringComparison.OrdinalIgnoreCase)));
            return looksLikeData
                ? $"The first line must be the header: {expected}. It is missing (the first line looks like data)."
                : $"Unknown column{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(Shown))}. The header must be: {expected}";
        }

        var repeated = header.GroupBy(h => Canonical(kind, h)).Where(g => g.Count() > 1).Select(g => g.Key!).ToList();
        if (repeated.Count > 0)
        {
            return $"The column {string.Join(", ", repeated)} appears more than once. The header must be: {expected}";
        }

        var missing = RequiredHeaders(kind).Where(r => !header.Any(h => Canonical(kind, h) == r)).ToList();
        return missing.Count > 0 ? $"Required column{(missing.Count > 1 ? "s" : "")} missing: {string.Join(", ", missing)}. The header must be: {expected}" : null;
    }

    private static IReadOnlyList<string> RequiredHeaders(CsvImportKind kind) => kind == CsvImportKind.Tenants ? RequiredTenantHeaders : RequiredUsageHeaders;

    private static string? Canonical(CsvImportKind kind, string name) =>
        HeadersOf(kind).FirstOrDefault(h => string.Equals(h, name.Trim(), StringComparison.OrdinalIgnoreCase));

    private static CsvInput? ToInput(CsvImportKind kind, Dictionary<string, string> values, int lineNumber, List<CsvLineError> errors)
    {
        string? Value(string name) => values.TryGetValue(name, out var value) && value.Length > 0 ? value : null;
        if (kind == CsvImportKind.Tenants)
        {
            return new CsvInput(lineNumber, new TenantInput { ExternalId = Value("externalId"), Name = Value("name"), Domain = Value("domain"), Status = Value("status") }, null);
        }

        long? quantity = null;
        if (Value("quantity") is { } text)
        {
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
            {
                errors.Add(new CsvLineError(lineNumber, "quantity", "Quantity must be a whole number, such as 25."));
                return null;
            }

            quantity = parsed;
        }

        return new CsvInput(lineNumber, null,
            new UsageInput { TenantExternalId = Value("tenantExternalId"), PartNumber = Value("partNumber"), Quantity = quantity, AsOf = Value("asOf") });
    }

    /// <summary>
    /// A value the export protected against formula injection ('=…) reads back as it was, so an exported file can be
    /// edited and imported again.
    /// </summary>
    private static string Unescape(string value) =>
        value.Length > 1 && value[0] == '\'' && value[1] is '=' or '+' or '-' or '@' or '\t' or '\r' ? value[1..] : value;

    private static string Describe(CsvMalformedReason reason) => reason switch
    {
        CsvMalformedReason.StrayQuote => "a quote inside a value that is not quoted",
        CsvMalformedReason.TextAfterClosingQuote => "text after a closing quote",
        CsvMalformedReason.UnterminatedQuote => "a quote that is never closed",
        CsvMalformedReason.LineBreakInQuotes => "a quoted value runs over the end of the line",
        _ => reason.ToString(),
    };

    private static string Shown(string header)
    {
        var clean = new string(header.Where(c => !char.IsControl(c)).Take(40).ToArray());
        return $"\"{clean}\"";
    }

    /// <summary>
    /// Every tenant with its enabled services ("SEC-EDR-STD:25;BKP-M365-USER:40"), UTF-8 with a BOM so spreadsheets
    /// read it right. A value that a spreadsheet would run as a formula (it starts with = + - @, tab or CR) is written
    /// with a leading single quote.
    /// </summary>
    public static async Task WriteTenantsAsync(Stream destination, IAsyncEnumerable<TenantRow> tenants, CancellationToken cancellationToken)
    {
        await using var writer = CsvWriter.Create(destination, new CsvWriterOptions { Injection = CsvInjection.Escape, WriteByteOrderMark = true }, leaveOpen: true);
        await writer.WriteRecordAsync([.. ExportHeaders], cancellationToken);
        await foreach (var tenant in tenants.WithCancellation(cancellationToken))
        {
            await writer.WriteRecordAsync(
                [tenant.ExternalId, tenant.Name, tenant.Domain ?? "", tenant.Status.ToString(), Services(tenant.Usage)], cancellationToken);
        }

        await writer.FlushAsync(cancellationToken);
    }

    public static string Services(IEnumerable<UsageView> usage) =>
        string.Join(";", usage.Where(u => u.Quantity > 0).Select(u => $"{u.PartNumber}:{u.Quantity.ToString(CultureInfo.InvariantCulture)}"));
}
