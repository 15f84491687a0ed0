using System.Globalization;
using CsvHelper;

namespace PsaPortal.Web.Features.Invoices;

/// <summary>One enabled service of a tenant, as the users list shows it.</summary>
public sealed record TenantServiceRow(string Tenant, string PartNumber, string Product, int Quantity);

/// <summary>
/// The users list attached to a tenant's agreement. The platform holds no per-user records, only each tenant's
/// enabled services and their billable counts (TenantUsage), so the list is one row per enabled service with its
/// quantity. Written like the platform's tenants CSV: UTF-8 with a BOM, formula-looking values escaped.
/// </summary>
public static class UsersCsvExport
{
    public static readonly IReadOnlyList<string> Headers = ["Tenant", "Part Number", "Product", "Quantity"];

    public static string FileName(string tenantName, DateOnly day) =>
        string.Create(CultureInfo.InvariantCulture, $"users-{new string(tenantName.Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray()).Trim('-')}-{day:yyyy-MM-dd}.csv");

    public static async Task<byte[]> WriteAsync(IEnumerable<TenantServiceRow> rows, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await using (var writer = CsvWriter.Create(buffer, new CsvWriterOptions { Injection = CsvInjection.Escape, WriteByteOrderMark = true }, leaveOpen: true))
        {
            await writer.WriteRecordAsync([.. Headers], cancellationToken);
            foreach (var row in rows.Where(r => r.Quantity > 0))
            {
                await writer.WriteRecordAsync([row.Tenant, row.PartNumber, row.Product, row.Quantity.ToString(CultureInfo.InvariantCulture)], cancellationToken);
            }

            await writer.FlushAsync(cancellationToken);
        }

        return buffer.ToArray();
    }
}
