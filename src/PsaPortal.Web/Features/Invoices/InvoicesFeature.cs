namespace PsaPortal.Web.Features.Invoices;

public static class InvoicesFeature
{
    /// <summary>The invoice configuration, the Invoices tab's reads, the Export status page's reads and "Start export now", export failure e-mails and (registered by the posting engine beside these) IInvoiceLineSync.</summary>
    public static IHostApplicationBuilder AddInvoicesFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<InvoiceSettingsService>();
        builder.Services.AddSingleton<InvoiceLineQueries>();
        builder.Services.AddSingleton<InvoiceExportRuns>();
        builder.Services.AddSingleton<InvoiceExportNotifier>();
        builder.AddInvoicePosting();
        return builder;
    }
}
