using System.Net;
using System.Text.Json.Nodes;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Sandbox.Autotask;

namespace PsaPortal.Integrations.Tests.Autotask;

/// <summary>Every Autotask call against the sandbox over real HTTP.</summary>
public sealed class AutotaskApiTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly TestClients _clients = new(host);

    public void Dispose()
    {
        host.ResetSettings();
        _clients.Dispose();
    }

    [Fact]
    public async Task Calls_SeveralInARow_DiscoverTheZoneOnceByUsername()
    {
        // Arrange
        var api = _clients.Autotask();

        // Act
        var threshold = await api.GetThresholdInformationAsync();
        await api.CountAsync("Companies", null);
        await api.GetEntityInformationAsync("Tickets");

        // Assert
        Assert.Equal(10_000, threshold.RequestThreshold);
        var discoveries = _clients.Calls.Records.Where(r => r.Url.Contains("zoneInformation", StringComparison.Ordinal)).ToList();
        var discovery = Assert.Single(discoveries);
        Assert.Contains("user=full%40psaportal-sandbox.example", discovery.Url, StringComparison.Ordinal);
        Assert.All(_clients.Calls.Records.Except(discoveries), r => Assert.Contains("/webservices5/ATServicesRest/V1.0/", r.Url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Call_DatabaseMovedToAnotherZone_ReResolvesOnceAfter401()
    {
        // Arrange
        var api = _clients.Autotask();
        await api.CountAsync("Companies", null);
        host.Sandbox.Autotask.Configure(s => s with { ZoneNumber = 16 });

        // Act
        var count = await api.CountAsync("Companies", null);

        // Assert
        Assert.Equal(host.Sandbox.Autotask.Data.Companies.Count, count);
        var records = _clients.Calls.Records;
        Assert.Equal(2, records.Count(r => r.Url.Contains("zoneInformation", StringComparison.Ordinal)));
        Assert.Contains(records, r => r.StatusCode == 401 && r.Url.Contains("/webservices5/", StringComparison.Ordinal));
        Assert.Contains("/webservices16/", records[^1].Url, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wrong-secret", null, "Autotask rejected the API user's credentials. Check the username and secret of the API-only user.")]
    [InlineData(null, "NOTOURCODE", "Autotask did not accept the API Tracking Identifier. Check it in Admin > Resources (Users) > the API user's Security tab.")]
    public async Task AnyCall_BadCredentials_ThrowsUnauthorized(string? secret, string? integrationCode, string expected)
    {
        // Arrange
        var api = _clients.Factory.CreateAutotask(_clients.AutotaskConnection(secret: secret, integrationCode: integrationCode));

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => api.GetThresholdInformationAsync());

        // Assert
        Assert.Equal(PsaErrorKind.Unauthorized, failure.Kind);
        Assert.Equal(expected, failure.Message);
    }

    [Fact]
    public async Task AnyCall_UnknownUser_ThrowsUnauthorizedNamingTheUser()
    {
        // Arrange
        var connection = _clients.AutotaskConnection() with { UserName = "nobody@psaportal-sandbox.example" };

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => _clients.Factory.CreateAutotask(connection).GetThresholdInformationAsync());

        // Assert
        Assert.Equal(PsaErrorKind.Unauthorized, failure.Kind);
        Assert.Contains("\"nobody@psaportal-sandbox.example\"", failure.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.InternalServerError, failure.StatusCode);
    }

    [Theory]
    [InlineData("nocontracts", "QueryContracts", "Autotask API user does not have permission to query Contracts.")]
    [InlineData("noadjust", "CreateAdjustment", "Autotask API user does not have permission to create ContractServiceAdjustments.")]
    [InlineData("readonly", "CreateTicket", "Autotask API user does not have permission to create Tickets.")]
    [InlineData("noticket", "QueryTickets", "Autotask API user does not have permission to query Tickets.")]
    public async Task Call_UserWithoutRight_ThrowsForbiddenNamingEntityAndAction(string user, string call, string expected)
    {
        // Arrange
        var api = _clients.Autotask(TestClients.AtUser(user));
        Func<Task> act = call switch
        {
            "QueryContracts" => () => api.QueryContractsAsync(null).ToListAsync().AsTask(),
            "CreateAdjustment" => () => api.CreateContractServiceAdjustmentAsync(new PsaUnitAdjustment(1, 1, new DateOnly(2026, 6, 1), 1)),
            "CreateTicket" => () => api.CreateTicketAsync(new PsaTicketDraft("Denied", FirstCompanyId, StatusId: 1, PriorityId: 2)),
            _ => () => api.QueryTicketsAsync(null).ToListAsync().AsTask(),
        };

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(act);

        // Assert
        Assert.Equal(PsaErrorKind.Forbidden, failure.Kind);
        Assert.Equal(expected, failure.Message);
        Assert.Equal(HttpStatusCode.Forbidden, failure.StatusCode);
    }

    [Fact]
    public async Task QueryCompanies_SmallPages_FollowsNextPageUrlToTheEnd()
    {
        // Arrange
        using var clients = new TestClients(host, o => o with { Autotask = o.Autotask with { PageSize = 6 } });
        var expected = host.Sandbox.Autotask.Data.Companies.Count;

        // Act
        var companies = await clients.Autotask().QueryCompaniesAsync(null).ToListAsync();

        // Assert
        Assert.Equal(expected, companies.Count);
        Assert.Equal(companies.Count, companies.Select(c => c.Id).Distinct().Count());
        var pages = clients.Traffic.Exchanges.Where(e => e.RequestUri.AbsolutePath.Contains("/Companies/query", StringComparison.Ordinal)).ToList();
        Assert.Equal((expected + 5) / 6, pages.Count);
        Assert.All(pages, p => Assert.Equal(HttpMethod.Post, p.Method));
    }

    [Theory]
    [InlineData("Acme \"Ltd\", {\"op\":\"exist\",\"field\":\"id\"}", new long[] { 9101 })]
    [InlineData("\"}]}", new long[] { 9102 })]
    [InlineData("Acme", new long[0])]
    public async Task QueryCompanies_HostileNameFilter_MatchesOnlyThatName(string name, long[] expected)
    {
        // Arrange
        AddCompany(9101, "Acme \"Ltd\", {\"op\":\"exist\",\"field\":\"id\"}");
        AddCompany(9102, "\"}]}");

        // Act
        var companies = await _clients.Autotask().QueryCompaniesAsync(AutotaskFilter.Where("companyName").Equal(name)).ToListAsync();

        // Assert
        Assert.Equal(expected, companies.Select(c => c.Id));
    }

    [Fact]
    public async Task QueryCompanies_InLongerThanVendorLimit_SplitsIntoQueriesWithinTheLimit()
    {
        // Arrange
        using var clients = new TestClients(host, o => o with { Autotask = o.Autotask with { MaxInValues = 5 } });
        var ids = host.Sandbox.Autotask.Data.Companies.All().Select(c => long.Parse(c["id"]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)).Take(23).ToList();

        // Act
        var companies = await clients.Autotask().QueryCompaniesAsync(AutotaskFilter.And(
            AutotaskFilter.Where("id").In(ids),
            AutotaskFilter.Where("companyName").Exists())).ToListAsync();

        // Assert
        Assert.Equal(ids.Order(), companies.Select(c => c.Id).Order());
        var queries = clients.Traffic.Exchanges.Where(e => e.RequestUri.AbsolutePath.EndsWith("/Companies/query", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, queries.Count);
        Assert.All(queries, q => Assert.True(JsonNode.Parse(q.RequestBody!)!["filter"]![0]!["value"]!.AsArray().Count <= 5));
    }

    [Fact]
    public async Task QueryCompanies_NestedAndOr_AppliesGrouping()
    {
        // Arrange
        AddCompany(9101, "Acme \"Ltd\", {\"op\":\"exist\",\"field\":\"id\"}");
        AddCompany(9102, "\"}]}");
        var filter = AutotaskFilter.Or(
            AutotaskFilter.And(AutotaskFilter.Where("id").AtLeast(9101), AutotaskFilter.Where("companyName").BeginsWith("Acme")),
            AutotaskFilter.Where("id").Equal(FirstCompanyId));

        // Act
        var companies = await _clients.Autotask().QueryCompaniesAsync(filter).ToListAsync();

        // Assert
        Assert.Equal([FirstCompanyId, 9101], companies.Select(c => c.Id).Order());
    }

    [Fact]
    public async Task Metadata_TicketsEntity_ReportsAccessAndPicklists()
    {
        // Arrange
        var api = _clients.Autotask();

        // Act
        var access = await api.GetEntityInformationAsync("Tickets");
        var fields = await api.GetFieldsAsync("Tickets");

        // Assert
        Assert.True(access.MayQuery && access.MayCreate && access.MayUpdate);
        var status = fields.Single(f => f.Name == "status");
        Assert.Contains(status.Picklist, p => p is { Value: "5", Label: "Complete" });
        Assert.Contains(fields.Single(f => f.Name == "priority").Picklist, p => p.IsDefault);
    }

    [Fact]
    public async Task Tickets_CreateUpdateCompleteReopen_RoundTripReportsClosedFromCompletedDate()
    {
        // Arrange
        var api = _clients.Autotask();

        // Act
        var created = await api.CreateTicketAsync(new PsaTicketDraft("Suspicious sign-in blocked", FirstCompanyId, "From the platform", BoardId: AutotaskPicklists.MonitoringAlertQueue, PriorityId: 2, StatusId: 1));
        var updated = await api.UpdateTicketAsync(created.Id, new PsaTicketChange(Summary: "Suspicious sign-in blocked (2)", PriorityId: 1));
        var completed = await api.SetTicketStatusAsync(created.Id, AutotaskPicklists.CompleteStatus);
        var found = await api.QueryTicketsAsync(AutotaskFilter.Where("id").Equal(created.Id)).SingleAsync();
        var inProgress = AutotaskPicklists.Statuses.Single(status => status.Label == "In Progress").Value;
        var reopened = await api.SetTicketStatusAsync(created.Id, inProgress);

        // Assert
        Assert.Equal(AutotaskPicklists.MonitoringAlertQueue, created.BoardId);
        Assert.False(created.IsClosed);
        Assert.Equal("Suspicious sign-in blocked (2)", updated.Summary);
        Assert.Equal(1, updated.PriorityId);
        Assert.False(updated.IsClosed);
        Assert.Equal(AutotaskPicklists.CompleteStatus, completed.StatusId);
        Assert.True(completed.IsClosed);
        Assert.Equal(created.Id, found.Id);
        Assert.True(found.IsClosed);
        Assert.False(reopened.IsClosed);
    }

    [Fact]
    public async Task QueryTickets_CompleteStatus_AreReportedClosed()
    {
        // Act
        var complete = await _clients.Autotask().QueryTicketsAsync(AutotaskFilter.Where("status").Equal(AutotaskPicklists.CompleteStatus)).ToListAsync();
        var open = await _clients.Autotask().QueryTicketsAsync(AutotaskFilter.Where("status").NotEqual(AutotaskPicklists.CompleteStatus)).ToListAsync();

        // Assert
        Assert.NotEmpty(complete);
        Assert.All(complete, t => Assert.True(t.IsClosed));
        Assert.All(open, t => Assert.False(t.IsClosed));
    }

    [Fact]
    public async Task GetTicket_MissingId_ThrowsNotFound()
    {
        var failure = await Assert.ThrowsAsync<PsaException>(() => _clients.Autotask().GetTicketAsync(987654321));

        Assert.Equal(PsaErrorKind.NotFound, failure.Kind);
    }

    [Fact]
    public async Task Billing_ContractsServicesUnitsAndAdjustment_RoundTrip()
    {
        // Arrange
        IAutotaskApi api = _clients.Autotask();
        var contracts = await api.QueryContractsAsync(AutotaskFilter.Where("contractType").Equal(7)).Take(5).ToListAsync();
        var lines = await ((IPsaApi)api).ListAgreementLinesAsync([.. contracts.Select(c => c.Id)]).ToListAsync();
        var line = lines[0];
        var units = await api.QueryContractServiceUnitsAsync(AutotaskFilter.Where("contractServiceID").Equal(line.Id)).ToListAsync();
        var current = units.Single(u => u.StartDate <= new DateOnly(2026, 6, 15) && new DateOnly(2026, 6, 15) <= u.EndDate);

        // Act
        var adjustmentId = await api.CreateContractServiceAdjustmentAsync(new PsaUnitAdjustment(line.AgreementId, line.Id, current.StartDate, 3));
        var after = await api.QueryContractServiceUnitsAsync(AutotaskFilter.And(
            AutotaskFilter.Where("contractServiceID").Equal(line.Id),
            AutotaskFilter.Where("startDate").AtMost(new DateTime(2026, 6, 15)),
            AutotaskFilter.Where("endDate").AtLeast(new DateTime(2026, 6, 15)))).SingleAsync();
        var services = await api.QueryServicesAsync(AutotaskFilter.Where("id").Equal(line.ProductId)).ToListAsync();
        var resources = await api.QueryResourcesAsync(AutotaskFilter.Where("userName").Equal("full@psaportal-sandbox.example")).ToListAsync();
        var companyContracts = await ((IPsaApi)api).ListAgreementsAsync(contracts[0].CompanyId).ToListAsync();

        // Assert
        Assert.All(contracts, c => Assert.Equal("Recurring Service", c.Type));
        Assert.All(lines, l => Assert.Contains(l.AgreementId, contracts.Select(c => c.Id)));
        Assert.True(adjustmentId > 0);
        Assert.Equal(current.Units + 3, after.Units);
        Assert.Single(services);
        Assert.Single(resources);
        Assert.Contains(companyContracts, c => c.Id == contracts[0].Id);
    }

    private long FirstCompanyId => long.Parse(host.Sandbox.Autotask.Data.Companies.All()[0]["id"]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);

    private void AddCompany(long id, string name)
    {
        var companies = host.Sandbox.Autotask.Data.Companies;
        if (companies.Find(id) is null)
        {
            companies.Insert(new JsonObject { ["id"] = id, ["companyName"] = name, ["companyType"] = 1, ["isActive"] = true, ["phone"] = "555", ["ownerResourceID"] = 29682885 });
        }
    }
}
