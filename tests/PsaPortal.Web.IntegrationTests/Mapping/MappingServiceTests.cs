using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Web.IntegrationTests.Mapping;

/// <summary>
/// The mapping rules at the service the pages call, on a real database (<see cref="SqliteMappingServiceTests"/>,
/// <see cref="PostgreSqlMappingServiceTests"/>), with the PSA reference cache filled directly.
/// </summary>
public abstract class MappingServiceTests : IAsyncLifetime
{
    private PortalFactory _factory = null!;
    private Guid _organizationId;
    private Guid _connectWise;
    private Guid _autotask;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    private MappingService Mapping => _factory.Services.GetRequiredService<MappingService>();

    public async Task InitializeAsync()
    {
        _factory = new PortalFactory(await CreateDatabaseAsync());
        _organizationId = await _factory.AddOrganizationAsync("Northwind MSP");
        _connectWise = await AddIntegrationAsync(_organizationId, PsaVendor.ConnectWise);
        _autotask = await AddIntegrationAsync(_organizationId, PsaVendor.Autotask);
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Suggest_MixedRows_FillsOnlyUnmappedRowsAndNeverAPersonsChoice()
    {
        await AddCompaniesAsync(_connectWise, (101, "Acme Dental LLC", "acmedental.example"), (102, "Harbor Logistics Inc.", null), (103, "Summit Foods", null));
        var acme = await AddTenantAsync("ACME DENTAL", null);
        var harbor = await AddTenantAsync("Harbor Logistics", null);
        var unknown = await AddTenantAsync("Zephyr Quantum Robotics", null);
        var byDomain = await AddTenantAsync("AD Holdings", "acmedental.example");
        Assert.True((await Mapping.SetCompanyAsync(Admin(), _connectWise, harbor, 103)).Succeeded);

        var result = await Mapping.SuggestAsync(Admin(), _connectWise);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal("Suggested a company for 2 of 3 unmapped tenants.", result.Message);
        var rows = await RowsAsync(_connectWise);
        Assert.Equal((MappingState.Suggested, 101L, "ExactName"), (rows[acme].State, rows[acme].CompanyPsaId!.Value, rows[acme].SuggestionKind!));
        Assert.Equal((MappingState.Suggested, 101L, "Domain"), (rows[byDomain].State, rows[byDomain].CompanyPsaId!.Value, rows[byDomain].SuggestionKind!));
        Assert.InRange(rows[acme].SuggestionScore!.Value, 0.75, 1.0);
        Assert.Equal((MappingState.Mapped, MappingOrigin.Person, 103L), (rows[harbor].State, rows[harbor].Origin, rows[harbor].CompanyPsaId!.Value));
        Assert.Equal(MappingState.Unmapped, rows[unknown].State);
        Assert.Contains(await AuditAsync(), e => e.Action == "Mapping suggestions made" && e.Details == result.Message);
    }

    [Fact]
    public async Task Suggest_AfterReject_DoesNotProposeTheRejectedCompanyAgain()
    {
        await AddCompaniesAsync(_connectWise, (101, "Acme Dental LLC", null));
        var acme = await AddTenantAsync("Acme Dental", null);
        await Mapping.SuggestAsync(Admin(), _connectWise);

        var rejected = await Mapping.RejectAsync(Admin(), _connectWise, [acme]);
        var again = await Mapping.SuggestAsync(Admin(), _connectWise);

        Assert.Equal("Rejected 1 suggestion.", rejected.Message);
        Assert.Equal("Suggested a company for 0 of 1 unmapped tenants.", again.Message);
        var row = (await RowsAsync(_connectWise))[acme];
        Assert.Equal((MappingState.Unmapped, (long?)null), (row.State, row.CompanyPsaId));
        await using var db = await _factory.CreateDbContextAsync();
        Assert.Equal(101, (await db.TenantMappings.SingleAsync(m => m.TenantId == acme)).RejectedCompanyPsaId);
    }

    [Fact]
    public async Task AcceptAndReject_InBulk_ChangeOnlySuggestedRowsTheyName()
    {
        await AddCompaniesAsync(_connectWise, (1, "Acme Dental LLC", null), (2, "Blue Ridge Realty", null), (3, "Cedar Law Group", null), (4, "Delta Foods", null));
        var exact = await AddTenantAsync("Acme Dental LLC", null);
        var similar = await AddTenantAsync("Blue Ridge Realty Partners", null);
        var third = await AddTenantAsync("Cedar Law Group", null);
        var person = await AddTenantAsync("Delta Foods", null);
        await Mapping.SetCompanyAsync(Admin(), _connectWise, person, 4);
        await Mapping.SuggestAsync(Admin(), _connectWise);
        var before = await RowsAsync(_connectWise);
        Assert.True(before[similar].SuggestionScore < 1.0, $"similar scored {before[similar].SuggestionScore}");

        var accepted = await Mapping.AcceptAboveAsync(Operator(), _connectWise, 0.999);
        var rejected = await Mapping.RejectAsync(Operator(), _connectWise, [similar, person]);
        var nothingLeft = await Mapping.AcceptAsync(Operator(), _connectWise, [similar, person]);

        Assert.Equal("Accepted 2 suggestions scoring at least 99.9%.", accepted.Message);
        Assert.Equal("Rejected 1 suggestion.", rejected.Message);
        Assert.False(nothingLeft.Succeeded);
        Assert.Equal("There was no suggestion to accept.", nothingLeft.Message);
        var rows = await RowsAsync(_connectWise);
        Assert.Equal(MappingOrigin.Person, rows[exact].Origin);
        Assert.Equal(MappingOrigin.Person, rows[third].Origin);
        Assert.Equal(before[exact].SuggestionScore, rows[exact].SuggestionScore);
        Assert.Equal(MappingState.Unmapped, rows[similar].State);
        Assert.Equal((MappingOrigin.Person, 4L), (rows[person].Origin, rows[person].CompanyPsaId!.Value));
        var audit = await AuditAsync();
        Assert.Contains(audit, e => e.Action == "Mapping suggestions accepted" && e.ActorName == "operator@northwind.example");
        Assert.Contains(audit, e => e.Action == "Mapping suggestions rejected");
    }

    [Fact]
    public async Task SetAgreement_OfAnotherCompany_RefusedAndNothingChanges()
    {
        await AddCompaniesAsync(_connectWise, (1, "Acme Dental LLC", null), (2, "Blue Ridge Realty", null));
        await AddReferenceAsync(_connectWise, PsaReferenceKind.Agreement, 11, "Managed Services", parent: 1);
        await AddReferenceAsync(_connectWise, PsaReferenceKind.Agreement, 21, "Blue Ridge Managed Services", parent: 2);
        var acme = await AddTenantAsync("Acme Dental", null);
        await Mapping.SetCompanyAsync(Admin(), _connectWise, acme, 1);

        var wrong = await Mapping.SetAgreementAsync(Admin(), _connectWise, acme, 21);
        var unknown = await Mapping.SetAgreementAsync(Admin(), _connectWise, acme, 999);
        var right = await Mapping.SetAgreementAsync(Admin(), _connectWise, acme, 11);

        Assert.False(wrong.Succeeded);
        Assert.Equal("Agreement \"Blue Ridge Managed Services\" does not belong to \"Acme Dental LLC\". Choose one of that company's agreements.", wrong.Message);
        Assert.Equal("That agreement is not in the ConnectWise data PsaPortal holds. Refresh PSA data and choose again.", unknown.Message);
        Assert.Equal("Agreement set to \"Managed Services\".", right.Message);
        Assert.Equal(["Managed Services"], (await Mapping.AgreementsOfAsync(Admin(), _connectWise, 1)).Select(a => a.Name));
        var row = (await RowsAsync(_connectWise))[acme];
        Assert.Equal((11L, "Managed Services", MappingState.Mapped), (row.AgreementPsaId!.Value, row.AgreementName!, row.State));
    }

    [Fact]
    public async Task SetAgreement_AutotaskContractThatIsNotRecurringService_Refused()
    {
        await AddCompaniesAsync(_autotask, (1001, "Acme Dental LLC", null));
        await AddReferenceAsync(_autotask, PsaReferenceKind.Contract, 5001, "Block Hours 2026", parent: 1001, type: "4");
        await AddReferenceAsync(_autotask, PsaReferenceKind.Contract, 5002, "Managed Services - Acme Dental LLC", parent: 1001, type: MappingRules.RecurringServiceContractType);
        var acme = await AddTenantAsync("Acme Dental", null);
        await Mapping.SetCompanyAsync(Admin(), _autotask, acme, 1001);

        var blockHours = await Mapping.SetAgreementAsync(Admin(), _autotask, acme, 5001);
        var recurring = await Mapping.SetAgreementAsync(Admin(), _autotask, acme, 5002);

        Assert.Equal("Contract \"Block Hours 2026\" is not a Recurring Service contract; billing needs one.", blockHours.Message);
        Assert.True(recurring.Succeeded, recurring.Message);
        Assert.Equal(["Managed Services - Acme Dental LLC"], (await Mapping.AgreementsOfAsync(Admin(), _autotask, 1001)).Select(a => a.Name));
    }

    [Fact]
    public async Task TwoTenantsOnOneAgreementAndProduct_Refused_NamingTheOtherTenantTheProductAndTheAgreement()
    {
        await AddCompaniesAsync(_connectWise, (1, "Acme Holdings", null));
        await AddReferenceAsync(_connectWise, PsaReferenceKind.Agreement, 11, "Managed Services", parent: 1);
        await AddReferenceAsync(_connectWise, PsaReferenceKind.Agreement, 12, "Security Bundle", parent: 1);
        await AddReferenceAsync(_connectWise, PsaReferenceKind.CatalogProduct, 501, "Endpoint Detection & Response - Standard", code: "SEC-EDR-STD");
        await AddReferenceAsync(_connectWise, PsaReferenceKind.CatalogProduct, 502, "DNS Filtering", code: "DNS-FILTER");
        var edr = await AddProductAsync("SEC-EDR-STD", "Endpoint Detection & Response - Standard");
        var dns = await AddProductAsync("DNS-FILTER", "DNS Filtering");
        var east = await AddTenantAsync("Acme East", null);
        var west = await AddTenantAsync("Acme West", null);
        await AddUsageAsync(east, edr, 25);
        await AddUsageAsync(west, edr, 10);
        await AddUsageAsync(west, dns, 10);
        Assert.True((await Mapping.SetProductAsync(Admin(), _connectWise, edr, 501)).Succeeded);
        foreach (var tenant in new[] { east, west })
        {
            await Mapping.SetCompanyAsync(Admin(), _connectWise, tenant, 1);
        }

        await Mapping.SetAgreementAsync(Admin(), _connectWise, east, 11);
        var shared = await Mapping.SetAgreementAsync(Admin(), _connectWise, west, 11);
        var other = await Mapping.SetAgreementAsync(Admin(), _connectWise, west, 12);

        Assert.False(shared.Succeeded);
        Assert.Equal("Tenant \"Acme East\" already bills \"Endpoint Detection & Response - Standard\" on agreement \"Managed Services\". " +
                     "Two tenants cannot bill the same product on one agreement: choose another agreement for this tenant.", shared.Message);
        Assert.True(other.Succeeded, other.Message);

        // From the product's side: DNS on both tenants' agreement, once both share one, is refused the same way.
        await Mapping.SetProductAsync(Admin(), _connectWise, edr, null);
        await Mapping.SetAgreementAsync(Admin(), _connectWise, west, 11);
        await AddUsageAsync(east, dns, 3);
        var dnsMapping = await Mapping.SetProductAsync(Admin(), _connectWise, dns, 502);
        Assert.Equal("Tenant \"Acme East\" already bills \"DNS Filtering\" on agreement \"Managed Services\". " +
                     "Two tenants cannot bill the same product on one agreement: choose another agreement for \"Acme West\".", dnsMapping.Message);
        await using var db = await _factory.CreateDbContextAsync();
        Assert.Null((await db.ProductMappings.SingleOrDefaultAsync(m => m.VendorProductId == dns))?.PsaProductId);
    }

    [Fact]
    public async Task Remap_BilledTenant_WarnsFirstThenAppliesAndAuditsOldToNew()
    {
        await AddCompaniesAsync(_connectWise, (1, "Acme Dental LLC", null), (2, "Acme Dental Group", null));
        await AddReferenceAsync(_connectWise, PsaReferenceKind.Agreement, 11, "Managed Services", parent: 1);
        var acme = await AddTenantAsync("Acme Dental", null);
        await Mapping.SetCompanyAsync(Admin(), _connectWise, acme, 1);
        await Mapping.SetAgreementAsync(Admin(), _connectWise, acme, 11);
        await Mapping.SetExportAsync(Admin(), _connectWise, acme, true);
        await using (var db = await _factory.CreateDbContextAsync())
        {
            await db.TenantMappings.Where(m => m.TenantId == acme)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastBilledAt, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero)));
        }

        var warned = await Mapping.SetCompanyAsync(Admin(), _connectWise, acme, 2);
        var unchanged = (await RowsAsync(_connectWise))[acme];
        var confirmed = await Mapping.SetCompanyAsync(Admin(), _connectWise, acme, 2, confirmed: true);

        Assert.True(warned.NeedsConfirmation);
        Assert.Equal("\"Acme Dental\" was last billed to agreement \"Managed Services\" on 2026-11-01 (UTC). After this change the old agreement's " +
                     "addition will no longer be updated by PsaPortal: adjust or end it in ConnectWise yourself. Continue?", warned.Message);
        Assert.Equal((1L, 11L, true), (unchanged.CompanyPsaId!.Value, unchanged.AgreementPsaId!.Value, unchanged.ExportEnabled));
        Assert.True(confirmed.Succeeded, confirmed.Message);
        var row = (await RowsAsync(_connectWise))[acme];
        Assert.Equal((2L, (long?)null, false, (DateTimeOffset?)null), (row.CompanyPsaId!.Value, row.AgreementPsaId, row.ExportEnabled, row.LastBilledAt));
        var entry = Assert.Single(await AuditAsync(), e => e.Action == "Billed tenant remapped");
        Assert.Equal("Acme Dental (ConnectWise)", entry.Subject);
        Assert.Equal("company \"Acme Dental LLC\" (Person), \"Managed Services\", export on → company \"Acme Dental Group\" (Person), (none), export off", entry.Details);
    }

    [Fact]
    public async Task Export_WhileIncomplete_RefusedWithTheReason()
    {
        await AddCompaniesAsync(_connectWise, (1, "Acme Dental LLC", null));
        await AddReferenceAsync(_connectWise, PsaReferenceKind.Agreement, 11, "Managed Services", parent: 1);
        var acme = await AddTenantAsync("Acme Dental", null);

        var unmapped = await Mapping.SetExportAsync(Admin(), _connectWise, acme, true);
        await Mapping.SetCompanyAsync(Admin(), _connectWise, acme, 1);
        var noAgreement = await Mapping.SetExportAsync(Admin(), _connectWise, acme, true);
        await Mapping.SetAgreementAsync(Admin(), _connectWise, acme, 11);
        await using (var db = await _factory.CreateDbContextAsync())
        {
            await db.PsaReferenceItems.Where(r => r.IntegrationId == _connectWise && r.Kind == PsaReferenceKind.Company).ExecuteDeleteAsync();
        }

        var companyGone = await Mapping.SetExportAsync(Admin(), _connectWise, acme, true);
        var incomplete = await Mapping.ListAsync(Admin(), _connectWise, new MappingQuery(MappingFilter.Incomplete));

        Assert.Equal("Choose the tenant's company and agreement before enabling export.", unmapped.Message);
        Assert.Equal("Choose an agreement for this tenant before enabling export.", noAgreement.Message);
        Assert.Equal("Export cannot be enabled while the mapping is incomplete: Company \"Acme Dental LLC\" is no longer in ConnectWise. " +
                     "Refresh PSA data, or choose another company.", companyGone.Message);
        var row = Assert.Single(incomplete.Items);
        Assert.Equal((acme, MappingState.Incomplete, false), (row.TenantId, row.State, row.ExportEnabled));
        await using var check = await _factory.CreateDbContextAsync();
        Assert.False((await check.TenantMappings.SingleAsync(m => m.TenantId == acme)).ExportEnabled);
    }

    [Fact]
    public async Task List_TenThousandTenants_PagesFiltersSearchesAndSortsInTheDatabase()
    {
        const int count = 10_000;
        await AddCompaniesAsync(_connectWise, Enumerable.Range(1, 50).Select(i => ((long)i, $"Company {i:D2}", (string?)null)).ToArray());
        await AddReferenceAsync(_connectWise, PsaReferenceKind.Agreement, 9001, "Managed Services", parent: 1);
        var expected = new List<TenantMappingRow>();
        await using (var db = await _factory.CreateDbContextAsync())
        {
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            var tenants = Enumerable.Range(1, count).Select(i => new Tenant
            {
                OrganizationId = _organizationId, ExternalId = $"tn-{i:D5}", Name = $"Tenant {(i * 7919) % count:D5}", Domain = i % 3 == 0 ? null : $"t{i}.example",
            }).ToList();
            db.Tenants.AddRange(tenants);
            await db.SaveChangesAsync();
            foreach (var (tenant, i) in tenants.Select((t, i) => (t, i + 1)))
            {
                // Every 4th is suggested, every 5th (not 4th) mapped by a person; every 250th of those exports without an agreement.
                if (i % 4 == 0)
                {
                    db.TenantMappings.Add(new TenantMapping
                    {
                        IntegrationId = _connectWise, TenantId = tenant.Id, Origin = MappingOrigin.Suggested, CompanyPsaId = i % 50 + 1,
                        CompanyName = $"Company {i % 50 + 1:D2}", SuggestionScore = i % 100 / 100.0, SuggestionKind = "SimilarName",
                    });
                }
                else if (i % 5 == 0)
                {
                    db.TenantMappings.Add(new TenantMapping
                    {
                        IntegrationId = _connectWise, TenantId = tenant.Id, Origin = MappingOrigin.Person, CompanyPsaId = i % 50 + 1,
                        CompanyName = $"Company {i % 50 + 1:D2}", ExportEnabled = i % 250 == 0,
                    });
                }
            }

            await db.SaveChangesAsync();
            // Another organization's tenants never show.
            var other = await _factory.AddOrganizationAsync("Contoso IT");
            db.Tenants.Add(new Tenant { OrganizationId = other, ExternalId = "tn-00001", Name = "Tenant 00042" });
            await db.SaveChangesAsync();
            expected = tenants.Select((t, index) =>
            {
                var i = index + 1;
                var (state, company) = i % 4 == 0 ? (MappingState.Suggested, $"Company {i % 50 + 1:D2}")
                    : i % 5 == 0 ? (i % 250 == 0 ? MappingState.Incomplete : MappingState.Mapped, $"Company {i % 50 + 1:D2}")
                    : (MappingState.Unmapped, (string?)null);
                return new TenantMappingRow(t.Id, t.ExternalId, t.Name, t.Domain, null, company, default, null, null, null, null, false, null, state, null);
            }).ToList();
        }

        var suggestedPage = await Mapping.ListAsync(Admin(), _connectWise, new MappingQuery(MappingFilter.Suggested, Skip: 50, Take: 25));
        var byCompanyDescending = await Mapping.ListAsync(Admin(), _connectWise, new MappingQuery(Sort: MappingSort.Company, Descending: true, Skip: 100, Take: 50));
        var searched = await Mapping.ListAsync(Admin(), _connectWise, new MappingQuery(MappingFilter.Unmapped, Search: "TENANT 0004", Take: 100));
        var errors = await Mapping.ListAsync(Admin(), _connectWise, new MappingQuery(MappingFilter.Incomplete, Take: 100));
        var byState = await Mapping.ListAsync(Admin(), _connectWise, new MappingQuery(Sort: MappingSort.State, Descending: true, Take: 100));
        var oversized = await Mapping.ListAsync(Admin(), _connectWise, new MappingQuery(Take: 100_000));

        var suggested = expected.Where(r => r.State == MappingState.Suggested).OrderBy(r => r.TenantName, StringComparer.Ordinal).ThenBy(r => r.TenantId).ToList();
        Assert.Equal(suggested.Count, suggestedPage.TotalCount);
        Assert.Equal(suggested.Skip(50).Take(25).Select(r => r.TenantId), suggestedPage.Items.Select(r => r.TenantId));
        Assert.All(suggestedPage.Items, r => Assert.Equal(MappingState.Suggested, r.State));

        var companyOrder = expected.OrderByDescending(r => r.CompanyName, StringComparer.Ordinal).ThenBy(r => r.TenantName, StringComparer.Ordinal).ThenBy(r => r.TenantId).ToList();
        Assert.Equal(count, byCompanyDescending.TotalCount);
        Assert.Equal(companyOrder.Skip(100).Take(50).Select(r => r.CompanyName), byCompanyDescending.Items.Select(r => r.CompanyName));

        var matching = expected.Where(r => r.State == MappingState.Unmapped && r.TenantName.Contains("Tenant 0004", StringComparison.Ordinal)).OrderBy(r => r.TenantName, StringComparer.Ordinal).ToList();
        Assert.Equal(matching.Count, searched.TotalCount);
        Assert.Equal(matching.Select(r => r.TenantId), searched.Items.Select(r => r.TenantId));

        var incomplete = expected.Where(r => r.State == MappingState.Incomplete).ToList();
        Assert.Equal(incomplete.Count, errors.TotalCount);
        Assert.All(errors.Items, r => Assert.Equal("Export is on, but no agreement is chosen.", r.Problem));
        Assert.Equal(incomplete.OrderBy(r => r.TenantName, StringComparer.Ordinal).Select(r => r.TenantId), errors.Items.Select(r => r.TenantId));

        Assert.All(byState.Items.Take(incomplete.Count), r => Assert.Equal(MappingState.Incomplete, r.State));
        Assert.Equal(MappingState.Mapped, byState.Items[incomplete.Count].State);
        Assert.Equal(MappingService.MaxPageSize, oversized.Items.Count);
        foreach (var filter in Enum.GetValues<MappingFilter>().Where(f => f != MappingFilter.All))
        {
            var page = await Mapping.ListAsync(Admin(), _connectWise, new MappingQuery(filter, Take: 1));
            Assert.Equal(expected.Count(r => r.State.ToString() == filter.ToString()), page.TotalCount);
        }
    }

    [Fact]
    public async Task Sales_EveryChange_RefusedAndNothingStored()
    {
        await AddCompaniesAsync(_connectWise, (1, "Acme Dental LLC", null));
        await AddReferenceAsync(_connectWise, PsaReferenceKind.CatalogProduct, 501, "DNS Filtering", code: "DNS-FILTER");
        var acme = await AddTenantAsync("Acme Dental", null);
        var dns = await AddProductAsync("DNS-FILTER", "DNS Filtering");
        var sales = UserIn(PortalRoles.Sales);

        MappingResult[] results =
        [
            await Mapping.SuggestAsync(sales, _connectWise),
            await Mapping.SetCompanyAsync(sales, _connectWise, acme, 1),
            await Mapping.SetAgreementAsync(sales, _connectWise, acme, null),
            await Mapping.SetExportAsync(sales, _connectWise, acme, true),
            await Mapping.ClearAsync(sales, _connectWise, acme),
            await Mapping.AcceptAsync(sales, _connectWise, [acme]),
            await Mapping.AcceptAboveAsync(sales, _connectWise, 0.5),
            await Mapping.RejectAsync(sales, _connectWise, [acme]),
            await Mapping.RejectAboveAsync(sales, _connectWise, 0.5),
            await Mapping.SetProductAsync(sales, _connectWise, dns, 501),
            await Mapping.AcceptProductSuggestionsAsync(sales, _connectWise),
        ];

        Assert.All(results, r => Assert.Equal((false, MappingService.SalesRefused), (r.Succeeded, r.Message)));
        Assert.Single((await Mapping.ListAsync(sales, _connectWise, new MappingQuery())).Items);
        await using var db = await _factory.CreateDbContextAsync();
        Assert.False(await db.TenantMappings.AnyAsync());
        Assert.False(await db.ProductMappings.AnyAsync());
    }

    [Fact]
    public async Task AnotherOrganization_ItsIntegrationAndTenants_DoNotExistForThisOne()
    {
        var contoso = await _factory.AddOrganizationAsync("Contoso IT");
        var contosoIntegration = await AddIntegrationAsync(contoso, PsaVendor.ConnectWise);
        await AddCompaniesAsync(contosoIntegration, (1, "Acme Dental LLC", null));
        await AddCompaniesAsync(_connectWise, (1, "Acme Dental LLC", null));
        long contosoTenant;
        await using (var db = await _factory.CreateDbContextAsync())
        {
            var tenant = new Tenant { OrganizationId = contoso, ExternalId = "tn-1", Name = "Acme Dental" };
            db.Tenants.Add(tenant);
            await db.SaveChangesAsync();
            contosoTenant = tenant.Id;
        }

        var viaTheirIntegration = await Mapping.SetCompanyAsync(Admin(), contosoIntegration, contosoTenant, 1);
        var theirTenant = await Mapping.SetCompanyAsync(Admin(), _connectWise, contosoTenant, 1);
        var list = await Mapping.ListAsync(Admin(), contosoIntegration, new MappingQuery());
        var companies = await Mapping.SearchCompaniesAsync(Admin(), contosoIntegration, null);

        Assert.Equal(MappingService.IntegrationNotFound, viaTheirIntegration.Message);
        Assert.Equal(MappingService.TenantNotFound, theirTenant.Message);
        Assert.Equal(0, list.TotalCount);
        Assert.Equal(0, companies.TotalCount);
        await using var check = await _factory.CreateDbContextAsync();
        Assert.False(await check.TenantMappings.AnyAsync());
    }

    [Fact]
    public async Task Pickers_CompaniesSearchAndPageAgreementsByCompanyProductsActiveOnly()
    {
        await AddCompaniesAsync(_connectWise, Enumerable.Range(1, 120).Select(i => ((long)i, $"Harbor {i:D3} Logistics", (string?)null))
            .Append((500, "Acme Dental LLC", "acmedental.example")).ToArray());
        await AddReferenceAsync(_connectWise, PsaReferenceKind.CatalogProduct, 501, "DNS Filtering", code: "DNS-FILTER");
        await AddReferenceAsync(_connectWise, PsaReferenceKind.CatalogProduct, 502, "Legacy Antivirus (retired)", code: "LEGACY-AV", isActive: false);

        var first = await Mapping.SearchCompaniesAsync(Admin(), _connectWise, "harbor", 0, 500);
        var second = await Mapping.SearchCompaniesAsync(Admin(), _connectWise, "HARBOR", 50, 50);
        var acme = await Mapping.SearchCompaniesAsync(Admin(), _connectWise, "  dental ");
        var products = await Mapping.PsaProductsAsync(Admin(), _connectWise);

        Assert.Equal((120, MappingService.MaxPickerSize), (first.TotalCount, first.Items.Count));
        Assert.Equal("Harbor 001 Logistics", first.Items[0].Name);
        Assert.Equal("Harbor 051 Logistics", second.Items[0].Name);
        var found = Assert.Single(acme.Items);
        Assert.Equal((500L, "Acme Dental LLC"), (found.PsaId, found.Name));
        Assert.Contains("acmedental.example", found.Detail, StringComparison.Ordinal);
        Assert.Equal(["DNS Filtering"], products.Select(p => p.Name));
    }

    [Fact]
    public async Task ProductSuggestions_ByCatalogIdentifierOrServiceName_AcceptedTogether()
    {
        await AddReferenceAsync(_connectWise, PsaReferenceKind.CatalogProduct, 501, "Endpoint Detection & Response - Standard", code: "SEC-EDR-STD");
        await AddReferenceAsync(_connectWise, PsaReferenceKind.CatalogProduct, 502, "Something else", code: "OTHER");
        await AddReferenceAsync(_autotask, PsaReferenceKind.Service, 1, "DNS Filtering");
        await AddReferenceAsync(_autotask, PsaReferenceKind.Service, 2, "Security Awareness Training (SAT-TRAINING)");
        var edr = await AddProductAsync("SEC-EDR-STD", "Endpoint Detection & Response - Standard");
        var dns = await AddProductAsync("DNS-FILTER", "DNS Filtering");
        var sat = await AddProductAsync("SAT-TRAINING", "Security Awareness Training");

        var connectWise = (await Mapping.ListProductsAsync(Admin(), _connectWise)).ToDictionary(r => r.VendorProductId);
        var autotask = (await Mapping.ListProductsAsync(Admin(), _autotask)).ToDictionary(r => r.VendorProductId);
        var accepted = await Mapping.AcceptProductSuggestionsAsync(Admin(), _autotask);

        Assert.Equal(501, connectWise[edr].Suggestion?.PsaId);
        Assert.Null(connectWise[dns].Suggestion);
        Assert.Equal(1, autotask[dns].Suggestion?.PsaId);
        Assert.Equal(2, autotask[sat].Suggestion?.PsaId);
        Assert.Equal("Mapped 2 products as suggested.", accepted.Message);
        var after = (await Mapping.ListProductsAsync(Admin(), _autotask)).ToDictionary(r => r.VendorProductId);
        Assert.Equal(("DNS Filtering", (PsaPick?)null), (after[dns].PsaProductName!, after[dns].Suggestion));
        var taken = await Mapping.SetProductAsync(Admin(), _autotask, edr, 1);
        Assert.Equal("\"DNS Filtering\" already bills DNS-FILTER. Each vendor product needs its own Autotask service.", taken.Message);
    }

    [Fact]
    public async Task DeleteIntegration_ItsMappingsGoWithItAndTheOtherPsasStay()
    {
        await AddCompaniesAsync(_connectWise, (1, "Acme Dental LLC", null));
        await AddCompaniesAsync(_autotask, (1001, "Acme Dental LLC", null));
        await AddReferenceAsync(_connectWise, PsaReferenceKind.CatalogProduct, 501, "DNS Filtering", code: "DNS-FILTER");
        var acme = await AddTenantAsync("Acme Dental", null);
        var dns = await AddProductAsync("DNS-FILTER", "DNS Filtering");
        await Mapping.SetCompanyAsync(Admin(), _connectWise, acme, 1);
        await Mapping.SetCompanyAsync(Admin(), _autotask, acme, 1001);
        await Mapping.SetProductAsync(Admin(), _connectWise, dns, 501);

        var deleted = await _factory.Services.GetRequiredService<IntegrationService>().DeleteAsync(Admin(), PsaVendor.ConnectWise);

        Assert.True(deleted.Succeeded, deleted.Message);
        await using var db = await _factory.CreateDbContextAsync();
        Assert.Equal([_autotask], await db.TenantMappings.Select(m => m.IntegrationId).ToListAsync());
        Assert.False(await db.ProductMappings.AnyAsync());
        Assert.True(await db.Tenants.AnyAsync(t => t.Id == acme));
    }

    // ---------------------------------------------------------------- arrange helpers

    private ClaimsPrincipal Admin() => UserIn(PortalRoles.Admin);

    private ClaimsPrincipal Operator() => UserIn(PortalRoles.FullMember, "operator@northwind.example");

    private ClaimsPrincipal UserIn(string role, string name = "admin@northwind.example") => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, name),
            new Claim(ClaimTypes.Name, name),
            new Claim(ClaimTypes.Role, role),
            new Claim(PortalClaims.OrganizationId, _organizationId.ToString()),
        ],
        "Test"));

    private async Task<Dictionary<long, TenantMappingRow>> RowsAsync(Guid integrationId) =>
        (await Mapping.ListAsync(Admin(), integrationId, new MappingQuery(Take: MappingService.MaxPageSize))).Items.ToDictionary(r => r.TenantId);

    private async Task<List<AuditEntry>> AuditAsync() =>
        [.. (await _factory.Services.GetRequiredService<AuditLog>().QueryOrganizationAsync(_organizationId, 0, 100)).Items];

    private async Task<Guid> AddIntegrationAsync(Guid organizationId, PsaVendor vendor)
    {
        await using var db = await _factory.CreateDbContextAsync();
        var integration = new Integration { OrganizationId = organizationId, Vendor = vendor, Status = IntegrationStatus.Connected, UpdatedAt = DateTimeOffset.UtcNow };
        db.Integrations.Add(integration);
        await db.SaveChangesAsync();
        return integration.Id;
    }

    private async Task AddCompaniesAsync(Guid integrationId, params (long Id, string Name, string? Domain)[] companies)
    {
        await using var db = await _factory.CreateDbContextAsync();
        db.PsaReferenceItems.AddRange(companies.Select(c => Reference(integrationId, PsaReferenceKind.Company, c.Id, c.Name, domain: c.Domain)));
        await db.SaveChangesAsync();
    }

    private async Task AddReferenceAsync(Guid integrationId, PsaReferenceKind kind, long psaId, string name, long? parent = null, string? code = null,
        string? type = null, bool isActive = true)
    {
        await using var db = await _factory.CreateDbContextAsync();
        db.PsaReferenceItems.Add(Reference(integrationId, kind, psaId, name, parent, code, type: type, isActive: isActive));
        await db.SaveChangesAsync();
    }

    private static PsaReferenceItem Reference(Guid integrationId, PsaReferenceKind kind, long psaId, string name, long? parent = null, string? code = null,
        string? domain = null, string? type = null, bool isActive = true) => new()
    {
        IntegrationId = integrationId, Kind = kind, PsaId = psaId, ParentPsaId = parent, Name = name, Code = code, Domain = domain, Type = type,
        IsActive = isActive, SearchText = (name + " " + code).Trim().ToLowerInvariant(), SyncedAt = DateTimeOffset.UtcNow,
    };

    private async Task<long> AddTenantAsync(string name, string? domain)
    {
        await using var db = await _factory.CreateDbContextAsync();
        var tenant = new Tenant { OrganizationId = _organizationId, ExternalId = $"tn-{Guid.NewGuid():N}", Name = name, Domain = domain };
        db.Tenants.Add(tenant);
        await db.SaveChangesAsync();
        return tenant.Id;
    }

    private async Task<long> AddProductAsync(string partNumber, string name)
    {
        await using var db = await _factory.CreateDbContextAsync();
        var product = new VendorProduct { OrganizationId = _organizationId, PartNumber = partNumber, Name = name, Recurring = true };
        db.VendorProducts.Add(product);
        await db.SaveChangesAsync();
        return product.Id;
    }

    private async Task AddUsageAsync(long tenantId, long productId, int quantity)
    {
        await using var db = await _factory.CreateDbContextAsync();
        db.TenantUsage.Add(new TenantUsage { OrganizationId = _organizationId, TenantId = tenantId, ProductId = productId, Quantity = quantity, AsOf = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
    }
}

public sealed class SqliteMappingServiceTests : MappingServiceTests
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlMappingServiceTests(PostgreSqlFixture postgres) : MappingServiceTests
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() =>
        new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
