namespace PsaPortal.Web.Features.Invoices;

public static class InvoicesFeature
{
    /// <summary>The invoice configuration, the Invoices tab's reads and (registered by the posting engine beside these) IInvoiceLineSync.</summary>
    public static IHostApplicationBuilder AddInvoicesFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<InvoiceSettingsService>();
        builder.Services.AddSingleton<InvoiceLineQueries>();
        builder.AddInvoicePosting();
        return builder;
    }
}
