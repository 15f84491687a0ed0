using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Permissions;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Testing.Specs;

namespace PsaPortal.Integrations.Tests.Conformance;

/// <summary>
/// Drives every client call against the sandbox with the spec recorder innermost, then checks each
/// exchange (method, path, query types, body schema, headers) against the vendor's specification.
/// Discovery calls live outside the API root and are not in the specifications, so they are left out.
/// </summary>
public sealed class RequestConformanceTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly TestClients _clients = new(host);

    public void Dispose() => _clients.Dispose();

    [Fact]
    public async Task EveryConnectWiseCall_AgainstSandbox_ConformsToTheSpecification()
    {
        // Arrange
        var api = _clients.ConnectWise();

        // Act
        await api.GetSystemInfoAsync();
        await api.GetMySecurityAsync();
        await api.ListCompaniesAsync(ConnectWiseCondition.Field("name").Contains("a")).Take(3).ToListAsync();
        await api.ListCompanyStatusesAsync().ToListAsync();
        await api.ListContactsAsync(ConnectWiseCondition.Field("company/id").EqualTo(1)).ToListAsync();
        await api.ListBoardsAsync().ToListAsync();
        await api.ListBoardTeamsAsync(1).ToListAsync();
        await api.ListBoardStatusesAsync(1).ToListAsync();
        await api.ListPrioritiesAsync().ToListAsync();
        await api.ListSourcesAsync().ToListAsync();
        var ticket = await api.CreateTicketAsync(new PsaTicketDraft("Conformance ticket", 1, "Body", BoardId: 1, PriorityId: 3, SourceId: 4));
        await api.UpdateTicketAsync(ticket.Id, new PsaTicketChange("Conformance ticket (updated)", PriorityId: 2));
        await api.AddTicketNoteAsync(ticket.Id, "A note", internalNote: false);
        await api.CloseTicketAsync(ticket.Id);
        var agreements = await api.ListAgreementsAsync(1).ToListAsync();
        await api.ListAgreementTypesAsync().ToListAsync();
        await api.ListAdditionsAsync(agreements.Select(a => a.Id), ConnectWiseCondition.Field("cancelledDate").IsNull()).ToListAsync();
        var addition = await api.CreateAdditionAsync(agreements[0].Id, new PsaAdditionDraft(9, 2, new DateOnly(2026, 6, 1), 3.5m, 1.25m, "Conformance"));
        await api.SetAdditionQuantityAsync(agreements[0].Id, addition.Id, 3);
        await api.CancelAdditionAsync(agreements[0].Id, addition.Id, new DateOnly(2026, 6, 30));
        await api.ListCatalogAsync(null).ToListAsync();
        await api.UploadAgreementDocumentAsync(agreements[0].Id, "lines.csv", "a,b\n1,2\n"u8.ToArray());
        await new ConnectWisePermissionCatalog(api).RunAsync().ToListAsync();

        // Assert
        var exchanges = _clients.Traffic.Exchanges.Where(e => !e.RequestUri.AbsolutePath.Contains("/login/companyinfo/", StringComparison.Ordinal)).ToList();
        Assert.True(exchanges.Count >= 30, $"only {exchanges.Count} exchanges recorded");
        SpecAssert.AllConform(VendorSpec.ConnectWise, exchanges, allowNoSchema: true);
    }

    [Fact]
    public async Task EveryAutotaskCall_AgainstSandbox_ConformsToTheSpecification()
    {
        // Arrange
        var api = _clients.Autotask();
        var company = (await api.QueryCompaniesAsync(AutotaskFilter.Where("isActive").Equal(true)).FirstAsync()).Id;

        // Act
        await api.GetThresholdInformationAsync();
        await api.GetEntityInformationAsync("Tickets");
        await api.GetFieldsAsync("Tickets");
        await api.CountAsync("Companies", AutotaskFilter.Where("companyName").BeginsWith("A"));
        var ticket = await api.CreateTicketAsync(new PsaTicketDraft("Conformance ticket", company, "Body", BoardId: 8, PriorityId: 2, StatusId: 1));
        await api.UpdateTicketAsync(ticket.Id, new PsaTicketChange("Conformance ticket (updated)"));
        await api.SetTicketStatusAsync(ticket.Id, 5);
        await api.QueryTicketsAsync(AutotaskFilter.Where("companyID").Equal(company)).ToListAsync();
        var contracts = await api.QueryContractsAsync(AutotaskFilter.And(AutotaskFilter.Where("contractType").Equal(7), AutotaskFilter.Where("status").Equal(1))).Take(3).ToListAsync();
        var lines = await ((IPsaApi)api).ListAgreementLinesAsync([.. contracts.Select(c => c.Id)]).ToListAsync();
        await api.QueryContractServiceUnitsAsync(AutotaskFilter.Where("contractServiceID").In(lines.Select(l => l.Id))).ToListAsync();
        await api.CreateContractServiceAdjustmentAsync(new PsaUnitAdjustment(lines[0].AgreementId, lines[0].Id, new DateOnly(2026, 6, 1), 1));
        await api.QueryServicesAsync(null).ToListAsync();
        await api.QueryResourcesAsync(AutotaskFilter.Where("isActive").Equal(true)).ToListAsync();
        await new AutotaskPermissionCatalog(api).RunAsync().ToListAsync();

        // Assert: the swagger lists neither zone discovery nor the next-page route (see the sandbox's DEVIATIONS.md).
        var exchanges = _clients.Traffic.Exchanges
            .Where(e => !e.RequestUri.AbsolutePath.EndsWith("/zoneInformation", StringComparison.OrdinalIgnoreCase)
                && !e.RequestUri.AbsolutePath.EndsWith("/query/next", StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.True(exchanges.Count >= 20, $"only {exchanges.Count} exchanges recorded");
        SpecAssert.AllConform(VendorSpec.Autotask, exchanges, allowNoSchema: true);
    }
}
