using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.IntegrationTests.Reference;

namespace PsaPortal.Web.IntegrationTests.Invoices;

/// <summary>
/// The invoice configuration of ConnectWise against the sandbox over real HTTP, on each database provider
/// (<see cref="SqliteInvoiceSettingsTests"/>, <see cref="PostgreSqlInvoiceSettingsTests"/>). Agreement types are taken
/// from the sandbox's own table, never from numbers written here.
/// </summary>
public abstract class InvoiceSettingsScenarios : IAsyncLifetime
{
    private SandboxPortal _portal = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _portal = await SandboxPortal.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    private InvoiceSettingsService Service => _portal.Get<InvoiceSettingsService>();

    private IReadOnlyList<JsonObject> SandboxTypes => _portal.Sandbox.ConnectWise.Data.AgreementTypes.All();

    private static InvoiceSettingsInput Input(long? agreementTypeId) => new(
        agreementTypeId, DailySyncEnabled: false, ExportProducts: false, ExportQuantities: false, ExportCost: false, ExportRetailPrice: false,
        ExportUsersList: false, NotificationContacts: null, InvoiceExportFrequency.None, 1, new TimeOnly(0, 0), [], [], new Dictionary<ChargeType, string?>());

    [Fact]
    public async Task GetAsync_ConnectWiseLinked_ListsTheSandboxAgreementTypesAndNothingConfigured()
    {
        await LinkAsync();

        var view = await Service.GetAsync(_portal.Admin);

        Assert.NotNull(view);
        Assert.Null(view.AgreementTypesError);
        Assert.Equal(SandboxTypes.Select(t => t["name"]!.GetValue<string>()).Order(), view.AgreementTypes.Select(t => t.Name).Order());
        Assert.Equal(SandboxTypes.Select(JsonRecords.GetId).Order(), view.AgreementTypes.Select(t => t.Id).Order());
        Assert.Null(view.Settings.AgreementTypeId);
        Assert.Empty(view.EndRules);
        Assert.Empty(view.CustomNames);
        Assert.True(view.CanEdit);
    }

    [Fact]
    public async Task GetAsync_ConnectWiseNotLinked_IsNull()
    {
        Assert.Null(await Service.GetAsync(_portal.Admin));
        Assert.False((await Service.SaveAsync(_portal.Admin, Input(1))).Succeeded);
    }

    [Fact]
    public async Task SaveAsync_FullConfiguration_SavesEveryPartWithThePsaNameAndAuditsIt()
    {
        var integrationId = await LinkAsync();
        var type = SandboxTypes[^1];
        var input = Input(JsonRecords.GetId(type)) with
        {
            DailySyncEnabled = true,
            ExportProducts = true,
            ExportQuantities = true,
            ExportCost = true,
            ExportRetailPrice = false,
            ExportUsersList = true,
            NotificationContacts = " billing@northwind.example; ops@northwind.example ,billing@northwind.example",
            ExportFrequency = InvoiceExportFrequency.Monthly,
            ExportDayOfMonth = 5,
            ExportTimeOfDay = new TimeOnly(3, 0),
            EndRules = [new(ChargeType.CycleFee, ChargeEndDateRuleKind.LastDayOfInvoiceMonth), new(ChargeType.UsageFee, ChargeEndDateRuleKind.FirstDayOfFollowingMonth)],
            StartRules = [new(BillingCycle.Monthly, ChargeStartDateRuleKind.FirstDayOfNextMonth)],
            CustomNames = new Dictionary<ChargeType, string?> { [ChargeType.ItemFee] = " Licence ", [ChargeType.Correction] = "", [ChargeType.OneTimeFee] = "One Time Fee" },
        };

        var result = await Service.SaveAsync(_portal.Admin, input);

        Assert.True(result.Succeeded, result.Message);
        Assert.StartsWith("Configuration saved; it applies to future syncs only.", result.Message, StringComparison.Ordinal);
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var saved = await db.InvoiceSettings.SingleAsync(s => s.IntegrationId == integrationId);
        Assert.Equal((JsonRecords.GetId(type), type["name"]!.GetValue<string>()), (saved.AgreementTypeId!.Value, saved.AgreementTypeName));
        Assert.Equal((true, true, true, true, false, true), (saved.DailySyncEnabled, saved.ExportProducts, saved.ExportQuantities, saved.ExportCost, saved.ExportRetailPrice, saved.ExportUsersList));
        Assert.Equal("billing@northwind.example, ops@northwind.example", saved.NotificationContacts);
        Assert.Equal((InvoiceExportFrequency.Monthly, 5, new TimeOnly(3, 0)), (saved.ExportFrequency, saved.ExportDayOfMonth, saved.ExportTimeOfDay));
        Assert.Equal("admin@northwind.example", saved.UpdatedBy);
        var rules = await Service.GetRulesAsync(integrationId);
        Assert.Equal(ChargeEndDateRuleKind.LastDayOfInvoiceMonth, rules.EndRules[ChargeType.CycleFee]);
        Assert.Equal(ChargeEndDateRuleKind.FirstDayOfFollowingMonth, rules.EndRules[ChargeType.UsageFee]);
        Assert.Equal(2, rules.EndRules.Count);
        Assert.Equal(ChargeStartDateRuleKind.FirstDayOfNextMonth, Assert.Single(rules.StartRules, r => r.Key == BillingCycle.Monthly).Value);
        // Blank and the platform's own name are not custom names.
        Assert.Equal([(ChargeType.ItemFee, "Licence")], rules.CustomNames.Select(p => (p.Key, p.Value)));

        // Every change is in the trail, none cut short (an entry holds 500 characters, so a large save takes several).
        var audits = await AuditsAsync();
        Assert.True(audits.Count > 1);
        Assert.All(audits, a => Assert.Equal(InvoiceSettingsService.Subject, a.Subject));
        Assert.All(audits, a => Assert.EndsWith(".", a.Details, StringComparison.Ordinal));
        var details = string.Join(" ", audits.OrderBy(a => a.Id).Select(a => a.Details));
        Assert.Contains($"Agreement Type set to \"{type["name"]!.GetValue<string>()}\" (was not set)", details, StringComparison.Ordinal);
        Assert.Contains("Automated Daily Invoice Line Sync turned on", details, StringComparison.Ordinal);
        Assert.Contains("Notification contacts set to \"billing@northwind.example, ops@northwind.example\" (was not set)", details, StringComparison.Ordinal);
        Assert.Contains("Charge End Date rule added: Usage Fee → \"First day of following month\"", details, StringComparison.Ordinal);
        Assert.Contains("Charge Start Date rule added: Monthly → \"First day of next month\"", details, StringComparison.Ordinal);
        Assert.Contains("Item Fee is sent to ConnectWise as \"Licence\"", details, StringComparison.Ordinal);
        Assert.Contains("Automatic export set to monthly on day 5 at 03:00 UTC (was manual only)", details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveAsync_ChangedRulesAndNames_ReplacesThemAndAuditsOnlyTheChanges()
    {
        var integrationId = await LinkAsync();
        var typeId = JsonRecords.GetId(SandboxTypes[0]);
        var first = Input(typeId) with
        {
            EndRules = [new(ChargeType.CycleFee, ChargeEndDateRuleKind.LastDayOfInvoiceMonth), new(ChargeType.ItemFee, ChargeEndDateRuleKind.LastDayOfInvoiceMonth)],
            CustomNames = new Dictionary<ChargeType, string?> { [ChargeType.ItemFee] = "Licence" },
        };
        Assert.True((await Service.SaveAsync(_portal.Admin, first)).Succeeded);

        var second = first with
        {
            EndRules = [new(ChargeType.CycleFee, ChargeEndDateRuleKind.FirstDayOfFollowingMonth)],
            CustomNames = new Dictionary<ChargeType, string?> { [ChargeType.ItemFee] = null, [ChargeType.PurchaseFee] = "Hardware" },
        };
        var result = await Service.SaveAsync(_portal.Admin, second);
        var again = await Service.SaveAsync(_portal.Admin, second);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal((true, "Nothing changed."), (again.Succeeded, again.Message));
        var rules = await Service.GetRulesAsync(integrationId);
        Assert.Equal([(ChargeType.CycleFee, ChargeEndDateRuleKind.FirstDayOfFollowingMonth)], rules.EndRules.Select(p => (p.Key, p.Value)));
        Assert.Equal([(ChargeType.PurchaseFee, "Hardware")], rules.CustomNames.Select(p => (p.Key, p.Value)));
        var audits = await AuditsAsync();
        var latest = audits.OrderByDescending(a => a.Id).First().Details!;
        Assert.Equal(
            "Charge End Date rule for Cycle Fee set to \"First day of following month\" (was \"Last day of invoice month\"); "
            + "Charge End Date rule for Item Fee deleted (was \"Last day of invoice month\"); "
            + "Custom name of Item Fee removed (was \"Licence\"; \"Item Fee\" is sent); Purchase Fee is sent to ConnectWise as \"Hardware\".", latest);
    }

    [Fact]
    public async Task SaveAsync_NoAgreementType_IsRefusedSayingLinesCannotBePostedAndSavesNothing()
    {
        var integrationId = await LinkAsync();

        var result = await Service.SaveAsync(_portal.Admin, Input(null) with { DailySyncEnabled = true });

        Assert.False(result.Succeeded);
        Assert.Equal(InvoiceSettingsService.AgreementTypeRequired, result.Message);
        Assert.Contains("cannot be posted", result.Message, StringComparison.Ordinal);
        await AssertNothingSavedAsync(integrationId);
    }

    [Fact]
    public async Task SaveAsync_AgreementTypeNotInConnectWise_IsRefusedNamingTheChoices()
    {
        var integrationId = await LinkAsync();
        var unknown = SandboxTypes.Max(JsonRecords.GetId) + 1000;

        var result = await Service.SaveAsync(_portal.Admin, Input(unknown));

        Assert.False(result.Succeeded);
        Assert.StartsWith("That Agreement Type is not in ConnectWise", result.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{SandboxTypes[0]["name"]!.GetValue<string>()}\"", result.Message, StringComparison.Ordinal);
        await AssertNothingSavedAsync(integrationId);
    }

    [Fact]
    public async Task SaveAsync_InactiveAgreementTypeInConnectWise_IsRefused()
    {
        var integrationId = await LinkAsync();
        var type = (JsonObject)SandboxTypes[1].DeepClone();
        type["inactiveFlag"] = true;
        _portal.Sandbox.ConnectWise.Data.AgreementTypes.Replace(type);

        var result = await Service.SaveAsync(_portal.Admin, Input(JsonRecords.GetId(type)));

        Assert.False(result.Succeeded);
        Assert.Equal($"Agreement Type \"{type["name"]!.GetValue<string>()}\" is inactive in ConnectWise. Choose an active one.", result.Message);
        await AssertNothingSavedAsync(integrationId);
    }

    [Fact]
    public async Task SaveAsync_BadInput_SaysEveryProblemAndSavesNothing()
    {
        var integrationId = await LinkAsync();
        var input = Input(JsonRecords.GetId(SandboxTypes[0])) with
        {
            EndRules = [new(ChargeType.CycleFee, ChargeEndDateRuleKind.LastDayOfInvoiceMonth), new(ChargeType.CycleFee, ChargeEndDateRuleKind.FirstDayOfFollowingMonth)],
            StartRules = [new(BillingCycle.Annual, ChargeStartDateRuleKind.FirstDayOfNextMonth), new(BillingCycle.Annual, ChargeStartDateRuleKind.FirstDayOfNextMonth)],
            CustomNames = new Dictionary<ChargeType, string?> { [ChargeType.UsageFee] = new string('x', ChargeTypeName.NameMaxLength + 1) },
            NotificationContacts = "billing@northwind.example, not-an-address",
            ExportFrequency = InvoiceExportFrequency.Monthly,
            ExportDayOfMonth = 31,
        };

        var result = await Service.SaveAsync(_portal.Admin, input);

        Assert.False(result.Succeeded);
        Assert.Contains("Cycle Fee has 2 Charge End Date rules; a charge type has one rule.", result.Message, StringComparison.Ordinal);
        Assert.Contains("Billing cycle Annual has 2 Charge Start Date rules", result.Message, StringComparison.Ordinal);
        Assert.Contains($"The custom name of Usage Fee is {ChargeTypeName.NameMaxLength + 1} characters", result.Message, StringComparison.Ordinal);
        Assert.Contains("\"not-an-address\" is not an e-mail address.", result.Message, StringComparison.Ordinal);
        Assert.Contains("31 is not one.", result.Message, StringComparison.Ordinal);
        await AssertNothingSavedAsync(integrationId);
    }

    [Fact]
    public async Task SaveAsync_SalesUser_IsRefusedButReads()
    {
        var integrationId = await LinkAsync();
        var sales = _portal.UserIn(PortalRoles.Sales);

        var view = await Service.GetAsync(sales);
        var result = await Service.SaveAsync(sales, Input(JsonRecords.GetId(SandboxTypes[0])));

        Assert.False(view!.CanEdit);
        Assert.NotEmpty(view.AgreementTypes);
        Assert.Equal((false, InvoiceSettingsService.EditorsOnly), (result.Succeeded, result.Message));
        await AssertNothingSavedAsync(integrationId);
    }

    [Fact]
    public async Task OverrideDatesAsync_Line_SavesUserUpdatedAuditsAndTheRulesNoLongerDecide()
    {
        var integrationId = await LinkAsync();
        Assert.True((await Service.SaveAsync(_portal.Admin, Input(JsonRecords.GetId(SandboxTypes[0])) with
        {
            EndRules = [new(ChargeType.CycleFee, ChargeEndDateRuleKind.FirstDayOfFollowingMonth)],
        })).Succeeded);
        var line = await AddLineAsync();
        var events = new List<InvoiceLineOverridden>();
        using var subscription = _portal.Get<PsaPortal.Web.Features.Live.IPortalEventStream>().Subscribe(_portal.OrganizationId, e =>
        {
            if (e is InvoiceLineOverridden o)
            {
                lock (events)
                {
                    events.Add(o);
                }
            }

            return Task.CompletedTask;
        });

        var refused = await Service.OverrideDatesAsync(_portal.Admin, line.Id, new DateOnly(2027, 2, 1), null);
        var sales = await Service.OverrideDatesAsync(_portal.UserIn(PortalRoles.Sales), line.Id, new DateOnly(2026, 12, 20), null);
        var saved = await Service.OverrideDatesAsync(_portal.Admin, line.Id, new DateOnly(2026, 12, 20), null);

        Assert.False(refused.Succeeded);
        Assert.Equal("The charge start date 2027-02-01 is after the end date 2027-01-01. Nothing was changed.", refused.Message);
        Assert.Equal((false, InvoiceSettingsService.EditorsOnlyOverride), (sales.Succeeded, sales.Message));
        Assert.True(saved.Succeeded, saved.Message);
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var sync = await db.InvoiceLineSyncs.SingleAsync(s => s.IntegrationId == integrationId && s.InvoiceLineId == line.Id);
        Assert.Equal((new DateOnly(2026, 12, 20), (DateOnly?)null, "admin@northwind.example", InvoiceLineSyncState.Pending),
            (sync.StartDateOverride!.Value, sync.EndDateOverride, sync.OverriddenBy, sync.State));
        var page = await _portal.Get<InvoiceLineQueries>().GetAsync(_portal.Admin);
        var row = Assert.Single(page.Rows);
        Assert.Equal((new DateOnly(2026, 12, 20), new DateOnly(2027, 1, 1)), (row.Charge.StartDate, row.Charge.EndDate));
        Assert.True(row.Charge.UserUpdated);
        Assert.True(row.Charge.SystemUpdated);
        Assert.Equal(InvoiceMappingState.TenantNotMapped, row.Mapping);
        var audit = Assert.Single(await AuditsAsync("Invoice line dates changed"));
        Assert.Equal("Line INV-1: charge start 2026-12-20, end from the rules (was none).", audit.Details);
        Assert.Equal(line.Id, Assert.Single(events).InvoiceLineId);

        sync.State = InvoiceLineSyncState.Posted;
        await db.SaveChangesAsync();
        var posted = await Service.OverrideDatesAsync(_portal.Admin, line.Id, new DateOnly(2026, 12, 21), null);
        Assert.False(posted.Succeeded);
        Assert.Equal("Line INV-1 is already posted to ConnectWise; its dates there would not change.", posted.Message);
    }

    private async Task<InvoiceLine> AddLineAsync()
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow;
        var tenant = new Tenant { OrganizationId = _portal.OrganizationId, ExternalId = "T-1", Name = "Contoso", CreatedAt = now, UpdatedAt = now };
        var product = new VendorProduct { OrganizationId = _portal.OrganizationId, PartNumber = "MAIL-STD", Name = "Mailbox", Cost = 2, RetailPrice = 4, CreatedAt = now, UpdatedAt = now };
        db.AddRange(tenant, product);
        await db.SaveChangesAsync();
        var line = new InvoiceLine
        {
            OrganizationId = _portal.OrganizationId, ExternalId = "INV-1", TenantId = tenant.Id, ProductId = product.Id, ChargeType = ChargeType.CycleFee,
            BillingCycle = BillingCycle.Monthly, ChargeStartDate = new DateOnly(2026, 12, 1), ChargeEndDate = new DateOnly(2026, 12, 31),
            Quantity = 3, UnitPrice = 4, Cost = 2, InvoiceMonth = new DateOnly(2026, 12, 1), UpdatedAt = now,
        };
        db.InvoiceLines.Add(line);
        await db.SaveChangesAsync();
        return line;
    }

    private async Task AssertNothingSavedAsync(Guid integrationId)
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        Assert.False(await db.InvoiceSettings.AnyAsync(s => s.IntegrationId == integrationId));
        Assert.False(await db.ChargeEndDateRules.AnyAsync(s => s.IntegrationId == integrationId));
        Assert.False(await db.ChargeStartDateRules.AnyAsync(s => s.IntegrationId == integrationId));
        Assert.False(await db.ChargeTypeNames.AnyAsync(s => s.IntegrationId == integrationId));
        Assert.Empty(await AuditsAsync());
    }

    private async Task<List<AuditEntry>> AuditsAsync(string action = "Invoice configuration changed")
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        return await db.AuditEntries.AsNoTracking().Where(a => a.OrganizationId == _portal.OrganizationId && a.Action == action).ToListAsync();
    }

    private async Task<Guid> LinkAsync()
    {
        var integrationId = await _portal.LinkConnectWiseAsync();
        await _portal.NextSyncFinishedAsync();
        await _portal.WaitForReferenceSyncIdleAsync(integrationId);
        return integrationId;
    }
}

public sealed class SqliteInvoiceSettingsTests : InvoiceSettingsScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlInvoiceSettingsTests(PostgreSqlFixture postgres) : InvoiceSettingsScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
