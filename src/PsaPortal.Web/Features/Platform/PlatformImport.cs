using System.Security.Claims;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Features.Platform;

/// <summary>A line of the preview: what it holds and everything wrong with it.</summary>
public sealed record ImportRow(int LineNumber, IReadOnlyDictionary<string, string> Values, IReadOnlyList<CsvLineError> Errors)
{
    public bool IsValid => Errors.Count == 0;

    public string Value(string column) => Values.GetValueOrDefault(column, "");
}

/// <summary>An uploaded file, read and checked, with nothing written yet.</summary>
public sealed record ImportPreview(CsvImportKind Kind, string FileName, string? FileError, IReadOnlyList<ImportRow> Rows, IReadOnlyList<CsvInput> Inputs)
{
    public int ValidCount => Rows.Count(r => r.IsValid);

    public int InvalidCount => Rows.Count - ValidCount;

    public bool CanImportAll => FileError is null && Rows.Count > 0 && InvalidCount == 0;

    public bool CanImportValidOnly => FileError is null && ValidCount > 0 && InvalidCount > 0;
}

public sealed record ImportOutcome(bool Succeeded, string Message, ImportPreview? Recheck = null);

/// <summary>
/// CSV imports of tenants and usage from the Platform data page: read and check the whole file first (per-row errors
/// from <see cref="PlatformIngest"/>'s own rules), then write everything, or only the valid rows when the person chose
/// that. Admins and Full Members only; audited.
/// </summary>
public sealed class PlatformImport(PlatformIngest ingest, AuditLog audit)
{
    public const string EditorsOnly = "Sales users can look at platform data but cannot import it.";

    public static bool CanImport(ClaimsPrincipal user) => user.IsEditor();

    public async Task<ImportPreview> PreviewAsync(ClaimsPrincipal user, CsvImportKind kind, string fileName, ReadOnlyMemory<byte> content,
        CancellationToken cancellationToken = default)
    {
        fileName = CleanFileName(fileName);
        if (!CanImport(user) || user.GetOrganizationId() is not { } organizationId)
        {
            return new ImportPreview(kind, fileName, EditorsOnly, [], []);
        }

        if (content.Length > PlatformCsv.MaxFileBytes)
        {
            return new ImportPreview(kind, fileName, TooLargeMessage, [], []);
        }

        var parsed = PlatformCsv.Parse(kind, content);
        if (parsed.FileError is not null)
        {
            return new ImportPreview(kind, fileName, parsed.FileError, [], []);
        }

        var errors = parsed.Errors.ToList();
        errors.AddRange(await CheckAsync(organizationId, kind, parsed.Inputs, cancellationToken));
        return Preview(kind, fileName, parsed.Lines, parsed.Inputs, errors);
    }

    public const string TooLargeMessage = "The file is larger than 10 MB. Split it into smaller files.";

    /// <summary>
    /// Writes the preview's rows: all of them (refused while any row has an error) or, when <paramref name="validRowsOnly"/>,
    /// only the valid ones. The rows are checked again first: when the data changed since the preview, nothing is
    /// written and the new preview says why.
    /// </summary>
    public async Task<ImportOutcome> ImportAsync(ClaimsPrincipal user, ImportPreview preview, bool validRowsOnly, CancellationToken cancellationToken = default)
    {
        if (!CanImport(user) || user.GetOrganizationId() is not { } organizationId)
        {
            return new ImportOutcome(false, EditorsOnly);
        }

        if (preview.FileError is not null || preview.ValidCount == 0)
        {
            return new ImportOutcome(false, "There is nothing to import.");
        }

        if (preview.InvalidCount > 0 && !validRowsOnly)
        {
            return new ImportOutcome(false, $"{preview.InvalidCount:N0} rows have errors. Correct the file, or choose to import only the {preview.ValidCount:N0} valid rows.");
        }

        var validLines = preview.Rows.Where(r => r.IsValid).Select(r => r.LineNumber).ToHashSet();
        var inputs = preview.Inputs.Where(i => validLines.Contains(i.LineNumber)).ToList();
        var actor = Actor.From(user);
        var result = await ingest.IngestAsync(organizationId, ToBatch(preview.Kind, inputs), $"CSV import by {actor.Name}", cancellationToken);
        if (!result.Succeeded)
        {
            var errors = result.Errors.Select(e => new CsvLineError(inputs[e.Index].LineNumber, e.Field, e.Message)).ToList();
            var recheck = Preview(preview.Kind, preview.FileName, preview.Rows.Select(r => new CsvLine(r.LineNumber, r.Values)).ToList(), preview.Inputs,
                preview.Rows.SelectMany(r => r.Errors).Concat(errors).ToList());
            return new ImportOutcome(false, "The data changed since the preview; nothing was imported. Check the rows marked below.", recheck);
        }

        var counts = preview.Kind == CsvImportKind.Tenants ? result.Tenants : result.Usage;
        var skipped = preview.InvalidCount;
        var summary = $"{inputs.Count:N0} rows: {counts.Created:N0} created, {counts.Updated:N0} updated, {counts.Unchanged:N0} unchanged" +
                      (skipped > 0 ? $"; {skipped:N0} rows with errors skipped" : "");
        await audit.RecordAsync(organizationId, actor, "Platform data imported", $"{preview.Kind} from {preview.FileName}", summary, cancellationToken);
        return new ImportOutcome(true, $"Imported {summary}.");
    }

    private async Task<IEnumerable<CsvLineError>> CheckAsync(Guid organizationId, CsvImportKind kind, IReadOnlyList<CsvInput> inputs, CancellationToken cancellationToken)
    {
        var errors = await ingest.ValidateAsync(organizationId, ToBatch(kind, inputs), cancellationToken);
        return errors.Select(e => new CsvLineError(inputs[e.Index].LineNumber, e.Field, e.Message));
    }

    private static PlatformBatch ToBatch(CsvImportKind kind, IReadOnlyList<CsvInput> inputs) => kind == CsvImportKind.Tenants
        ? new PlatformBatch { Tenants = inputs.Select(i => i.Tenant).ToList() }
        : new PlatformBatch { Usage = inputs.Select(i => i.Usage).ToList() };

    private static ImportPreview Preview(CsvImportKind kind, string fileName, IReadOnlyList<CsvLine> lines, IReadOnlyList<CsvInput> inputs, IReadOnlyList<CsvLineError> errors)
    {
        var byLine = errors.ToLookup(e => e.LineNumber);
        var rows = lines.Select(l => new ImportRow(l.LineNumber, l.Values, byLine[l.LineNumber].Distinct().ToList())).ToList();
        return new ImportPreview(kind, fileName, null, rows, inputs);
    }

    private static string CleanFileName(string fileName)
    {
        // Only the last part of either kind of path, without control or invisible characters (a right-to-left override
        // would show "tenants\u202Evsc.exe" as "tenantsexe.csv"), markup or quotes: it is shown and audited, never opened.
        var last = fileName[(fileName.LastIndexOfAny(['/', '\\']) + 1)..];
        var clean = new string(last.Where(c => !char.IsControl(c) && !char.IsSurrogate(c) && c is not '<' and not '>' and not '"'
            && char.GetUnicodeCategory(c) is not (System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.PrivateUse
                or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator)).Take(100).ToArray()).Trim();
        return clean.Length == 0 || clean.Trim('.').Length == 0 ? "upload.csv" : clean;
    }
}
