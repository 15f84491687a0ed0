using System.Text;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.IntegrationTests.Platform;

/// <summary>Reading uploaded CSV files: what is refused as a whole file, and what becomes a per-row error.</summary>
public sealed class PlatformCsvTests
{
    private static CsvParseResult Tenants(string text) => PlatformCsv.Parse(CsvImportKind.Tenants, Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("", "The file is empty. It needs the header line and at least one row.")]
    [InlineData("\r\n\r\n  \n", "The file is empty. It needs the header line and at least one row.")]
    [InlineData("externalId,name,domain,status\r\n", "The file has a header but no rows.")]
    [InlineData("externalId;name;domain;status\r\nT-1;Contoso;;\r\n", "The file separates columns with semicolons; PsaPortal reads commas.")]
    [InlineData("externalId\tname\r\nT-1\tContoso\r\n", "The file separates columns with tabs; PsaPortal reads commas.")]
    [InlineData("T-1,Contoso,contoso.com,Active\r\n", "It is missing (the first line looks like data)")]
    [InlineData("externalId,name,colour\r\nT-1,Contoso,red\r\n", "Unknown column \"colour\". The header must be: externalId,name,domain,status")]
    [InlineData("externalId,domain\r\nT-1,contoso.com\r\n", "Required column missing: name.")]
    [InlineData("externalId,name,NAME\r\nT-1,a,b\r\n", "The column name appears more than once.")]
    public void Parse_UnreadableFile_IsRefusedWithOneClearMessage(string text, string expected)
    {
        var result = Tenants(text);

        Assert.NotNull(result.FileError);
        Assert.Contains(expected, result.FileError);
        Assert.Empty(result.Inputs);
    }

    [Fact]
    public void Parse_Utf16_IsRefused()
    {
        var result = PlatformCsv.Parse(CsvImportKind.Tenants, Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("externalId,name\r\nT-1,A\r\n")).ToArray());

        Assert.Equal("The file is UTF-16 text. Save it as \"CSV UTF-8\" and upload it again.", result.FileError);
    }

    [Fact]
    public void Parse_Windows1252_IsRefused()
    {
        var result = PlatformCsv.Parse(CsvImportKind.Tenants, (byte[])[.. "externalId,name\r\nT-1,Caf"u8, 0xE9, .. "\r\n"u8]);

        Assert.StartsWith("The file is not UTF-8 text", result.FileError);
    }

    [Fact]
    public void Parse_BinaryFile_IsRefused()
    {
        var result = PlatformCsv.Parse(CsvImportKind.Tenants, (byte[])[0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0x08]);

        Assert.StartsWith("This is not a CSV text file", result.FileError);
    }

    [Fact]
    public void Parse_HundredThousandRows_IsRefusedNamingTheLimit()
    {
        var text = new StringBuilder("externalId,name\r\n");
        for (var i = 0; i < 100_000; i++)
        {
            text.Append("T-").Append(i).Append(",Tenant ").Append(i).Append("\r\n");
        }

        var result = Tenants(text.ToString());

        Assert.Equal("The file has more than 50,000 rows. Split it into files of at most 50,000 rows.", result.FileError);
    }

    [Fact]
    public void Parse_BomHeadersInAnyCaseAndOrder_ReadsEveryRow()
    {
        var result = Tenants("\uFEFFName,EXTERNALID\r\n\"Contoso, Ltd\",T-1\r\n  Fabrikam  ,T-2\r\n");

        Assert.Null(result.FileError);
        Assert.Equal([("T-1", "Contoso, Ltd"), ("T-2", "Fabrikam")], result.Inputs.Select(i => (i.Tenant!.ExternalId, i.Tenant.Name)));
        Assert.Equal([2, 3], result.Inputs.Select(i => i.LineNumber));
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void Parse_BrokenRows_BecomeRowErrorsAndTheRestIsRead()
    {
        var result = Tenants("externalId,name,domain,status\r\nT-1,Contoso,,\r\nT-2,\"Fab\"rikam,,\r\nT-3,Extra,,,Column\r\nT-4,Short\r\nT-5,Litware,,\r\n");

        Assert.Null(result.FileError);
        Assert.Equal(["T-1", "T-5"], result.Inputs.Select(i => i.Tenant!.ExternalId));
        Assert.Equal([3, 4, 5], result.Errors.Select(e => e.LineNumber).Order());
        Assert.Contains(result.Errors, e => e.LineNumber == 3 && e.Message.Contains("quotes are broken", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.LineNumber == 4 && e.Message == "This row has 5 columns; the header has 4. Check for a missing or extra comma.");
        Assert.Equal([2, 3, 4, 5, 6], result.Lines.Select(l => l.LineNumber));
    }

    [Fact]
    public void Parse_UsageQuantityNotANumber_IsARowError()
    {
        var result = PlatformCsv.Parse(CsvImportKind.Usage, Encoding.UTF8.GetBytes("tenantExternalId,partNumber,quantity\r\nT-1,P-1,12\r\nT-1,P-2,twelve\r\n"));

        Assert.Equal([12L], result.Inputs.Select(i => i.Usage!.Quantity!.Value));
        Assert.Equal(new CsvLineError(3, "quantity", "Quantity must be a whole number, such as 25."), result.Errors.Single());
    }

    [Fact]
    public void Parse_ValueEscapedByTheExport_ReadsBackAsItWas()
    {
        var result = Tenants("externalId,name\r\n'-5,'=SUM(A1)\r\n\"'@6\",\"'+1\"\r\n");

        Assert.Equal([("-5", "=SUM(A1)"), ("@6", "+1")], result.Inputs.Select(i => (i.Tenant!.ExternalId, i.Tenant.Name)));
    }
}
