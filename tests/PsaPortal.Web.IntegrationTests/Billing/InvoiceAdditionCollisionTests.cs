using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.IntegrationTests.Reference;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// Billing sync and invoice-line posting both put additions of one catalog product on one ConnectWise agreement:
/// billing keeps one addition's quantity equal to the tenant's count, invoice lines add one addition per period.
/// Billing must neither count nor change the invoice additions, and posting must not take billing's addition for one
/// of its own. Against the sandbox over HTTP, on SQLite.
/// </summary>
public sealed class InvoiceAdditionCollisionTests : IAsyncLifetime
{
    private SandboxPortal _portal = null!;

    public async Task InitializeAsync() => _portal = await SandboxPortal.StartAsync(new PortalDatabase.Sqlite());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task InvoiceAdditionOnBillingsAgreementAndProduct_BillingUpdatesOnlyItsOwnAddition_InvoiceAdditionKeepsItsQuantity()
    {
        var world = await BillingWorld.CreateAsync(_portal, PsaVendor.ConnectWise);
        var hard = world.Hard;
        var avoid = new[] { hard.ProductOnTwoAgreementsCompany, hard.CancelledAdditionCompany };
        var company = world.Seed.Companies.First(c => c.DuplicateOfNumber is null && !avoid.Contains(c.Number) && world.Seed.SubscriptionsOf(c.Number).Any());
        var subscription = world.Seed.SubscriptionsOf(company.Number).First();
        var tenantId = world.TenantOf[company.Number];
        var productId = world.ProductOf[subscription.Sku];
        long psaProduct = SandboxSeedData.Products.Single(p => p.Sku == subscription.Sku).Number;
        long agreementId;
        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            agreementId = (await db.TenantMappings.SingleAsync(m => m.TenantId == tenantId)).AgreementPsaId!.Value;
            db.InvoiceSettings.Add(new InvoiceSettings { IntegrationId = world.IntegrationId, AgreementTypeId = 1, AgreementTypeName = "Managed Services", ExportQuantities = true, UpdatedAt = DateTimeOffset.UtcNow });
            db.InvoiceLines.Add(new InvoiceLine
            {
                OrganizationId = _portal.OrganizationId, ExternalId = "INV-COLLIDE", TenantId = tenantId, ProductId = productId, ChargeType = ChargeType.UsageFee,
                BillingCycle = BillingCycle.Monthly, ChargeStartDate = new DateOnly(2026, 11, 1), ChargeEndDate = new DateOnly(2026, 11, 30), Quantity = 57,
                UnitPrice = 4, Cost = 2, InvoiceMonth = new DateOnly(2026, 11, 1), UpdatedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
        }

        var billingLine = Assert.Single(world.ActiveAdditions(agreementId, psaProduct));
        var posted = await _portal.Get<InvoiceLinePoster>().PostAsync(world.IntegrationId, null);
        Assert.True((posted.Posted, posted.Additions) == (1, 1), posted.Message);
        var both = world.ActiveAdditions(agreementId, psaProduct);
        Assert.Equal(2, both.Count);
        var invoiceLine = Assert.Single(both, a => JsonRecords.GetId(a) != JsonRecords.GetId(billingLine));
        Assert.Equal(57L, BillingWorld.Long(invoiceLine["quantity"]));

        // The tenant's count changes: billing updates its own addition and leaves the invoice addition alone.
        await world.SetUsageAsync(company.Number, subscription.Sku, subscription.Quantity + 5);
        var started = await _portal.Get<IBillingRuns>().SyncNowAsync(_portal.Admin, PsaVendor.ConnectWise);
        Assert.True(started.Accepted, started.Message);
        var run = await world.WaitForEndAsync(started.RunId!.Value);
        var row = (await world.RowsAsync(run.Id)).Single(r => r.TenantId == tenantId && r.VendorProductId == productId);
        Assert.True((row.Action, row.Outcome) == (BillingAction.UpdateQuantity, BillingOutcome.Synced), $"{row.Action} {row.Outcome}: {row.Message}");
        Assert.Equal((decimal?)subscription.Quantity, row.Previous);
        Assert.Equal(JsonRecords.GetId(billingLine), row.LinePsaId);
        var after = world.ActiveAdditions(agreementId, psaProduct).ToDictionary(JsonRecords.GetId, a => BillingWorld.Long(a["quantity"]));
        Assert.Equal(new Dictionary<long, long> { [JsonRecords.GetId(billingLine)] = subscription.Quantity + 5, [JsonRecords.GetId(invoiceLine)] = 57 }, after);

        // Posting again finds its line posted and sends nothing; billing's addition is never taken for the invoice's.
        var again = await _portal.Get<InvoiceLinePoster>().PostAsync(world.IntegrationId, null);
        Assert.True((again.Posted, again.AlreadyPosted) == (0, 1), again.Message);
        Assert.Equal(2, world.ActiveAdditions(agreementId, psaProduct).Count);
    }
}
