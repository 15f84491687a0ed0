using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Psa;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.SystemLogs;

namespace PsaPortal.Web.Features.Invoices;

/// <summary>
/// The product catalog export of one ConnectWise integration, recorded as an <see cref="InvoiceExport"/> with a
/// detailed log: the vendor's products become catalog items (identifier = part number), looked up in batches of 50
/// with <c>identifier in (…)</c> first so an existing one is updated (only what the export settings send: description,
/// and cost / retail price when on) and never duplicated; then, when on, each person-mapped tenant's users list is
/// attached to its agreement. New items take the subcategory and product type of the catalog items the vendor's products
/// already have (mapped or found by part number); with none, the product fails saying to map one first.
/// </summary>
public sealed class CatalogExport(
    IDbContextFactory<PortalDbContext> dbFactory,
    IntegrationService integrations,
    IPortalEventStream events,
    IJobLog jobLog,
    AuditLog audit,
    InvoiceExportNotifier notifier,
    TimeProvider time,
    ILogger<CatalogExport> logger)
{
    public const string JobName = "Invoice export";

    /// <summary>Runs the export (<paramref name="exportId"/>: a queued one, else a new scheduled one) to its end; returns the recorded export.</summary>
    public async Task<InvoiceExport> RunAsync(Guid integrationId, Guid? exportId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await db.Integrations.AsNoTracking().SingleAsync(i => i.Id == integrationId, cancellationToken);
        var export = exportId is { } id ? await db.InvoiceExports.SingleAsync(e => e.Id == id, cancellationToken) : null;
        if (export is null)
        {
            export = new InvoiceExport
            {
                OrganizationId = integration.OrganizationId, IntegrationId = integrationId, Trigger = InvoiceRunTrigger.Scheduled, RequestedBy = "Schedule", CreatedAt = time.GetUtcNow(),
            };
            db.InvoiceExports.Add(export);
        }

        export.Status = InvoiceExportStatus.Running;
        export.StartedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        Publish(export);

        try
        {
            if (integration.Vendor != PsaVendor.ConnectWise)
            {
                throw new InvalidOperationException(InvoiceLinePoster.ConnectWiseOnlyMessage);
            }

            var settings = await db.InvoiceSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integrationId, cancellationToken) ?? new InvoiceSettings { IntegrationId = integrationId };
            var api = integrations.ConnectWiseApiFor(integration);
            if (settings.ExportProducts)
            {
                await ExportProductsAsync(db, api, export, settings, cancellationToken);
            }
            else
            {
                Log(db, export, InvoiceExportLogLevel.Info, "Products", "Products (SKUs) export is off in the export settings: no catalog item touched.");
            }

            if (settings.ExportUsersList)
            {
                await ExportUsersListsAsync(db, api, export, integration.OrganizationId, cancellationToken);
            }

            export.Status = export.ProductsFailed + export.DocumentsFailed > 0 ? InvoiceExportStatus.CompletedWithFailures : InvoiceExportStatus.Succeeded;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(exception, "Invoice export {Export} failed", export.Id);
            export.Status = InvoiceExportStatus.Failed;
            export.Error = exception.Message.Length <= InvoiceExport.ErrorMaxLength ? exception.Message : exception.Message[..InvoiceExport.ErrorMaxLength];
            Log(db, export, InvoiceExportLogLevel.Error, "Export", export.Error);
        }

        export.FinishedAt = time.GetUtcNow();
        await db.SaveChangesAsync(CancellationToken.None);
        Publish(export);
        if (export.Status is InvoiceExportStatus.Failed or InvoiceExportStatus.CompletedWithFailures)
        {
            await NotifyAsync(integration, export);
        }

        return export;
    }

    private async Task ExportProductsAsync(PortalDbContext db, IConnectWiseApi api, InvoiceExport export, InvoiceSettings settings, CancellationToken cancellationToken)
    {
        var products = await db.VendorProducts.AsNoTracking().Where(p => p.OrganizationId == export.OrganizationId && p.DeletedAt == null).OrderBy(p => p.PartNumber).ToListAsync(cancellationToken);
        var existing = new Dictionary<string, PsaProduct>(StringComparer.OrdinalIgnoreCase);
        foreach (var batch in products.Select(p => p.PartNumber).Chunk(50))
        {
            await foreach (var item in api.ListCatalogAsync(ConnectWiseCondition.Field("identifier").In(batch), cancellationToken))
            {
                existing.TryAdd(item.Identifier, item);
            }
        }

        var mappedIds = await db.ProductMappings.AsNoTracking().Where(m => m.IntegrationId == export.IntegrationId && m.PsaProductId != null).Select(m => m.PsaProductId!.Value).ToListAsync(cancellationToken);
        var template = existing.Values.FirstOrDefault(p => p.SubcategoryId is not null && p.TypeId is not null);
        if (template is null && mappedIds.Count > 0)
        {
            await foreach (var item in api.ListCatalogAsync(ConnectWiseCondition.Field("id").In(mappedIds.Take(50)), cancellationToken))
            {
                template ??= item.SubcategoryId is not null && item.TypeId is not null ? item : null;
            }
        }

        foreach (var product in products)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var description = product.Name.Length <= 60 ? product.Name : product.Name[..60];
            decimal? price = settings.ExportRetailPrice ? product.RetailPrice : null;
            decimal? cost = settings.ExportCost ? product.Cost : null;
            try
            {
                if (existing.TryGetValue(product.PartNumber, out var item))
                {
                    var change = new PsaProductChange(
                        item.Description == description ? null : description,
                        price is { } p && item.Price != p ? p : null,
                        cost is { } c && item.Cost != c ? c : null);
                    if (change == new PsaProductChange())
                    {
                        export.ProductsUnchanged++;
                        Log(db, export, InvoiceExportLogLevel.Info, product.PartNumber, "Already in the catalog as it should be: unchanged.", item.Id);
                        continue;
                    }

                    await api.UpdateCatalogItemAsync(item.Id, change, cancellationToken);
                    export.ProductsUpdated++;
                    Log(db, export, InvoiceExportLogLevel.Info, product.PartNumber, "Catalog item updated.", item.Id);
                }
                else if (template is null)
                {
                    export.ProductsFailed++;
                    Log(db, export, InvoiceExportLogLevel.Error, product.PartNumber,
                        "Not created: PsaPortal does not know which ConnectWise subcategory and product type to use. Map one product to a catalog item (Mapping → Products) and export again.");
                }
                else
                {
                    var created = await api.CreateCatalogItemAsync(new PsaProductDraft(product.PartNumber, description, template.SubcategoryId!.Value, template.TypeId!.Value, price, cost, product.Description ?? product.Name), cancellationToken);
                    existing[product.PartNumber] = created;
                    export.ProductsCreated++;
                    Log(db, export, InvoiceExportLogLevel.Info, product.PartNumber, "Catalog item created.", created.Id);
                }
            }
            catch (PsaPortal.Integrations.Errors.PsaException failure)
            {
                export.ProductsFailed++;
                Log(db, export, InvoiceExportLogLevel.Error, product.PartNumber, failure.Message);
            }

            await db.SaveChangesAsync(cancellationToken);
            Publish(export);
        }
    }

    private async Task ExportUsersListsAsync(PortalDbContext db, IConnectWiseApi api, InvoiceExport export, Guid organizationId, CancellationToken cancellationToken)
    {
        var mapped = await db.TenantMappings.AsNoTracking()
            .Where(m => m.IntegrationId == export.IntegrationId && m.Origin == MappingOrigin.Person && m.AgreementPsaId != null)
            .Join(db.Tenants, m => m.TenantId, t => t.Id, (m, t) => new { t.Id, t.Name, Agreement = m.AgreementPsaId!.Value })
            .OrderBy(t => t.Name).ToListAsync(cancellationToken);
        var usage = await db.TenantUsage.AsNoTracking().Where(u => u.OrganizationId == organizationId)
            .Join(db.VendorProducts, u => u.ProductId, p => p.Id, (u, p) => new { u.TenantId, p.PartNumber, p.Name, u.Quantity })
            .ToListAsync(cancellationToken);
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        foreach (var tenant in mapped)
        {
            var rows = usage.Where(u => u.TenantId == tenant.Id).OrderBy(u => u.PartNumber).Select(u => new TenantServiceRow(tenant.Name, u.PartNumber, u.Name, u.Quantity));
            try
            {
                var content = await UsersCsvExport.WriteAsync(rows, cancellationToken);
                var document = await api.UploadAgreementDocumentAsync(tenant.Agreement, UsersCsvExport.FileName(tenant.Name, today), content, $"Users and services of {tenant.Name}", cancellationToken);
                export.DocumentsUploaded++;
                Log(db, export, InvoiceExportLogLevel.Info, tenant.Name, $"Users list attached to agreement {tenant.Agreement}.", document.Id);
            }
            catch (PsaPortal.Integrations.Errors.PsaException failure)
            {
                export.DocumentsFailed++;
                Log(db, export, InvoiceExportLogLevel.Error, tenant.Name, failure.Message);
            }

            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private void Log(PortalDbContext db, InvoiceExport export, InvoiceExportLogLevel level, string subject, string message, long? psaId = null) =>
        db.InvoiceExportLog.Add(new InvoiceExportLogEntry
        {
            ExportId = export.Id, At = time.GetUtcNow(), Level = level,
            Subject = subject.Length <= InvoiceExportLogEntry.SubjectMaxLength ? subject : subject[..InvoiceExportLogEntry.SubjectMaxLength],
            Message = message.Length <= InvoiceExportLogEntry.MessageMaxLength ? message : message[..InvoiceExportLogEntry.MessageMaxLength],
            PsaId = psaId,
        });

    private void Publish(InvoiceExport export) => events.Publish(new InvoiceExportChanged(export.OrganizationId, time.GetUtcNow(), export.IntegrationId, export.Id, export.Status,
        export.ProductsCreated, export.ProductsUpdated, export.ProductsUnchanged, export.ProductsFailed, export.Error));

    /// <summary>
    /// An export failure goes to System Logs and the audit trail, then to the export's notification contacts by e-mail
    /// (<see cref="InvoiceExportNotifier"/>, which records its own outcome and never throws).
    /// </summary>
    private async Task NotifyAsync(Integration integration, InvoiceExport export)
    {
        var text = $"Invoice export {export.Id} ended {export.Status}: {export.ProductsFailed} product(s) and {export.DocumentsFailed} document(s) failed. {export.Error}".Trim();
        jobLog.Write(integration.OrganizationId, integration.Vendor, JobName, LogLevelName.Error, text);
        await audit.RecordAsync(integration.OrganizationId, Actor.Portal, "Invoice export failed", "ConnectWise", text, CancellationToken.None);
        await notifier.NotifyAsync(integration, export, CancellationToken.None);
    }
}
