using System.Net;
using System.Text.Json.Nodes;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Sandbox.ConnectWise;

namespace PsaPortal.Integrations.Tests.ConnectWise;

/// <summary>Every ConnectWise call against the sandbox over real HTTP.</summary>
public sealed class ConnectWiseApiTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly TestClients _clients = new(host);

    public void Dispose()
    {
        host.ResetSettings();
        _clients.Dispose();
    }

    [Fact]
    public async Task GetSystemInfo_FirstCall_DiscoversCodebaseAndReturnsVersion()
    {
        // Act
        var info = await _clients.ConnectWise().GetSystemInfoAsync();

        // Assert
        Assert.Equal("v2025.1.0", info.Version);
        Assert.True(info.IsCloud);
        var urls = _clients.Calls.Records.Select(r => r.Url).ToList();
        Assert.EndsWith("/sandbox/connectwise/login/companyinfo/sandbox", urls[0], StringComparison.Ordinal);
        Assert.EndsWith("/sandbox/connectwise/v2025_1/apis/3.0/system/info", urls[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListCompanies_SmallPages_WalksEveryLinkPage()
    {
        // Arrange
        using var clients = new TestClients(host, o => o with { ConnectWise = o.ConnectWise with { PageSize = 7 } });
        var expected = host.Sandbox.ConnectWise.Data.Companies.Count;

        // Act
        var companies = await clients.ConnectWise().ListCompaniesAsync(null).ToListAsync();

        // Assert
        Assert.Equal(expected, companies.Count);
        Assert.Equal(companies.Select(c => c.Id).Order(), companies.Select(c => c.Id));
        var pages = clients.Calls.Records.Count(r => r.Url.Contains("company/companies", StringComparison.Ordinal));
        Assert.Equal((expected + 6) / 7, pages);
        Assert.All(clients.Traffic.Exchanges.Where(e => e.RequestUri.AbsolutePath.EndsWith("company/companies", StringComparison.Ordinal)),
            e => Assert.Contains("pagination-type", e.RequestHeaderNames, StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task ListPriorities_SmallPages_FollowsNavigableNextLinks()
    {
        // Arrange
        using var clients = new TestClients(host, o => o with { ConnectWise = o.ConnectWise with { PageSize = 2 } });

        // Act
        var priorities = await clients.ConnectWise().ListPrioritiesAsync().ToListAsync();

        // Assert
        Assert.Equal(host.Sandbox.ConnectWise.Data.Priorities.Count, priorities.Count);
        var pages = clients.Traffic.Exchanges.Where(e => e.RequestUri.AbsolutePath.EndsWith("service/priorities", StringComparison.Ordinal)).ToList();
        Assert.Equal((priorities.Count + 1) / 2, pages.Count);
        Assert.All(pages.Skip(1), p => Assert.Contains("page=", p.RequestUri.Query, StringComparison.Ordinal));
        Assert.All(pages, p => Assert.DoesNotContain("pagination-type", p.RequestHeaderNames, StringComparer.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("Smith & \"Sons\" (AU)", new long[] { 9001 })]
    [InlineData("x\" or name like \"*", new long[0])]
    [InlineData("Smith", new long[] { 9002 })]
    [InlineData("Back\\slash \"quoted\\\"", new long[] { 9004 })]
    public async Task ListCompanies_HostileNameCondition_MatchesOnlyThatName(string name, long[] expected)
    {
        // Arrange
        AddCompany(9001, "Smith & \"Sons\" (AU)");
        AddCompany(9002, "Smith");
        AddCompany(9003, "Smith & ");
        AddCompany(9004, "Back\\slash \"quoted\\\"");

        // Act
        var companies = await _clients.ConnectWise().ListCompaniesAsync(ConnectWiseCondition.Field("name").EqualTo(name)).ToListAsync();

        // Assert
        Assert.Equal(expected, companies.Select(c => c.Id));
    }

    [Fact]
    public async Task ReferenceLists_Sandbox_ReturnSeededSetup()
    {
        // Arrange
        var api = _clients.ConnectWise();

        // Act
        var statuses = await api.ListCompanyStatusesAsync().ToListAsync();
        var boards = await api.ListBoardsAsync().ToListAsync();
        var teams = await api.ListBoardTeamsAsync(boards[0].Id).ToListAsync();
        var boardStatuses = await api.ListBoardStatusesAsync(boards[0].Id).ToListAsync();
        var priorities = await api.ListPrioritiesAsync().ToListAsync();
        var sources = await api.ListSourcesAsync().ToListAsync();
        var types = await api.ListAgreementTypesAsync().ToListAsync();
        var contacts = await api.ListContactsAsync(ConnectWiseCondition.Field("company/id").EqualTo(1)).ToListAsync();

        // Assert
        Assert.Contains(statuses, s => s is { Name: "Active", IsDefault: true });
        Assert.Equal(["Help Desk", "Security Alerts", "Projects"], boards.Select(b => b.Name));
        Assert.Contains(teams, t => t.IsDefault);
        Assert.Contains(boardStatuses, s => s is { Name: "Closed", IsClosed: true });
        Assert.Single(priorities, p => p.IsDefault);
        Assert.Contains(sources, s => s.Name == "Phone" && s.IsDefault);
        Assert.Contains(types, t => t.Name == "Managed Services");
        Assert.All(contacts, c => Assert.Equal(1, c.CompanyId));
        Assert.NotEmpty(contacts);
    }

    [Fact]
    public async Task Tickets_CreateUpdateNoteClose_FollowTheBoardsStatuses()
    {
        // Arrange
        var api = _clients.ConnectWise();

        // Act
        var created = await api.CreateTicketAsync(new PsaTicketDraft("Malware detected on LAPTOP-7", 1, "Found by the platform", BoardId: 1, PriorityId: 2, SourceId: 4));
        var updated = await api.UpdateTicketAsync(created.Id, new PsaTicketChange(Summary: "Malware quarantined on LAPTOP-7", PriorityId: 1));
        var noteId = await api.AddTicketNoteAsync(created.Id, "Quarantine confirmed", internalNote: true);
        var closed = await api.CloseTicketAsync(created.Id);

        // Assert
        Assert.Equal(1, created.BoardId);
        Assert.False(created.IsClosed);
        Assert.Equal("Malware quarantined on LAPTOP-7", updated.Summary);
        Assert.Equal(1, updated.PriorityId);
        Assert.True(noteId > 0);
        Assert.True(closed.IsClosed);
        Assert.Equal("Closed", closed.StatusName);
    }

    [Fact]
    public async Task CreateTicket_SummaryTooLong_ThrowsValidationWithVendorField()
    {
        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => _clients.ConnectWise().CreateTicketAsync(new PsaTicketDraft(new string('x', 101), 1)));

        // Assert
        Assert.Equal(PsaErrorKind.Validation, failure.Kind);
        Assert.Equal("summary", failure.Field);
        Assert.Equal("InvalidObject", failure.VendorCode);
        Assert.Contains("maximum length of 100", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Additions_ListForManyAgreementsCreatePatchCancel_RoundTrip()
    {
        // Arrange
        var api = _clients.ConnectWise();
        var agreements = await api.ListAgreementsAsync(ConnectWiseCondition.Field("agreementStatus").EqualTo("Active")).Take(6).ToListAsync();
        var agreementIds = agreements.Select(a => a.Id).ToList();
        var active = ConnectWiseCondition.Field("cancelledDate").IsNull();

        // Act
        var lines = await api.ListAdditionsAsync(agreementIds, active).ToListAsync();
        var created = await api.CreateAdditionAsync(agreementIds[0], new PsaAdditionDraft(lines[0].ProductId == 1 ? 2 : 1, 12, new DateOnly(2026, 6, 1), UnitPrice: 4.5m));
        var patched = await api.SetAdditionQuantityAsync(agreementIds[0], created.Id, 15);
        var cancelled = await api.CancelAdditionAsync(agreementIds[0], created.Id, new DateOnly(2026, 6, 30));
        var afterCancel = await api.ListAdditionsAsync([agreementIds[0]], active).ToListAsync();

        // Assert
        Assert.Equal(6, agreements.Count);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Contains(l.AgreementId, agreementIds));
        Assert.All(lines, l => Assert.Null(l.CancelledDate));
        Assert.Equal(agreementIds.Where(id => lines.Any(l => l.AgreementId == id)), lines.Select(l => l.AgreementId).Distinct());
        Assert.Equal(12, created.Quantity);
        Assert.Equal(15, patched.Quantity);
        Assert.Equal(new DateOnly(2026, 6, 30), cancelled.CancelledDate);
        Assert.DoesNotContain(afterCancel, l => l.Id == created.Id);
    }

    [Fact]
    public async Task ListAgreementLines_NeutralFacade_ReadsAdditionsOfEachAgreement()
    {
        // Arrange
        IPsaApi api = _clients.ConnectWise();
        var agreements = await api.ListAgreementsAsync(1).ToListAsync();

        // Act
        var lines = await api.ListAgreementLinesAsync([.. agreements.Select(a => a.Id)]).ToListAsync();

        // Assert
        Assert.All(agreements, a => Assert.Equal(1, a.CompanyId));
        var expected = host.Sandbox.ConnectWise.Data.Additions.All().Count(r => agreements.Any(a => a.Id == long.Parse(r["agreementId"]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(expected, lines.Count);
    }

    [Fact]
    public async Task Catalog_ListActive_ReturnsProductsWithoutRetiredOnes()
    {
        // Act
        var products = await _clients.ConnectWise().ListCatalogAsync(ConnectWiseCondition.Field("inactiveFlag").EqualTo(false)).ToListAsync();

        // Assert
        Assert.NotEmpty(products);
        Assert.DoesNotContain(products, p => p.Identifier == "LEGACY-AV");
    }

    [Fact]
    public async Task UploadAgreementDocument_Csv_IsAttachedToThatAgreement()
    {
        // Arrange
        using var vendor = host.ConnectWiseHttp();

        // Act
        var document = await _clients.ConnectWise().UploadAgreementDocumentAsync(3, "invoice-lines.csv", "sku,quantity\nBKP-M365-USER,4\n"u8.ToArray());
        var onAgreement = JsonNode.Parse(await vendor.GetStringAsync("system/documents?recordType=Agreement&recordId=3"))!.AsArray();
        var onOtherAgreement = JsonNode.Parse(await vendor.GetStringAsync("system/documents?recordType=Agreement&recordId=4"))!.AsArray();

        // Assert
        Assert.Equal("invoice-lines.csv", document.FileName);
        var attached = Assert.Single(onAgreement)!;
        Assert.Equal(document.Id, attached["id"]!.GetValue<long>());
        Assert.Equal("invoice-lines.csv", attached["fileName"]!.GetValue<string>());
        Assert.Equal(29, attached["size"]!.GetValue<int>());
        Assert.Empty(onOtherAgreement);
        var upload = _clients.Traffic.Exchanges.Single(e => e.RequestUri.AbsolutePath.EndsWith("system/documents", StringComparison.Ordinal));
        Assert.StartsWith("multipart/form-data", upload.RequestContentType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadAgreementDocument_AgreementMissing_ThrowsValidationNamingTheRecord()
    {
        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => _clients.ConnectWise().UploadAgreementDocumentAsync(987654, "lines.csv", "a,b\n"u8.ToArray()));

        // Assert
        Assert.Equal(PsaErrorKind.Validation, failure.Kind);
        Assert.Equal("recordId", failure.Field);
    }

    [Fact]
    public async Task AnyCall_WrongPrivateKey_ThrowsUnauthorized()
    {
        // Arrange
        var connection = _clients.ConnectWiseConnection() with { PrivateKey = "not-the-key" };

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => _clients.Factory.CreateConnectWise(connection).GetSystemInfoAsync());

        // Assert
        Assert.Equal(PsaErrorKind.Unauthorized, failure.Kind);
        Assert.Equal(HttpStatusCode.Unauthorized, failure.StatusCode);
        Assert.Equal("UserNotAuthenticated", failure.VendorMessage);
    }

    [Fact]
    public async Task AnyCall_UnknownCompanyId_ThrowsUnauthorizedNamingTheCompany()
    {
        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(() => _clients.Factory.CreateConnectWise(_clients.ConnectWiseConnection(companyId: "nosuchmsp")).GetSystemInfoAsync());

        // Assert
        Assert.Equal(PsaErrorKind.Unauthorized, failure.Kind);
        Assert.Contains("\"nosuchmsp\"", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PsaPortalNoPrio", "ListPriorities", "ConnectWise API user does not have permission to access Service > Priority.")]
    [InlineData("PsaPortalNoAgrEd", "SetAdditionQuantity", "ConnectWise API user does not have permission to edit Finance > Agreements.")]
    [InlineData("PsaPortalReadOnly", "CreateTicket", "ConnectWise API user does not have permission to add to Service > Service Tickets.")]
    [InlineData("PsaPortalTicketing", "ListCatalog", "ConnectWise API user does not have permission to access Procurement > Product Catalog.")]
    public async Task Call_MemberWithoutRight_ThrowsForbiddenNamingTheFunction(string member, string call, string expected)
    {
        // Arrange
        var api = _clients.ConnectWise(TestClients.CwMember(member));
        Func<Task> act = call switch
        {
            "ListPriorities" => () => api.ListPrioritiesAsync().ToListAsync().AsTask(),
            "SetAdditionQuantity" => () => api.SetAdditionQuantityAsync(1, 1, 3),
            "CreateTicket" => () => api.CreateTicketAsync(new PsaTicketDraft("Denied", 1)),
            _ => () => api.ListCatalogAsync(null).ToListAsync().AsTask(),
        };

        // Act
        var failure = await Assert.ThrowsAsync<PsaException>(act);

        // Assert
        Assert.Equal(PsaErrorKind.Forbidden, failure.Kind);
        Assert.Equal(expected, failure.Message);
        Assert.Equal("Security", failure.VendorCode);
    }

    [Fact]
    public async Task Call_CodebaseMovedAfterDiscovery_RediscoversOnceAndSucceeds()
    {
        // Arrange
        var api = _clients.ConnectWise();
        await api.GetSystemInfoAsync();
        host.Sandbox.ConnectWise.Configure(s => s with { Codebase = "v2025_2/" });

        // Act
        var info = await api.GetSystemInfoAsync();

        // Assert
        Assert.NotNull(info);
        var records = _clients.Calls.Records;
        Assert.Equal(2, records.Count(r => r.Url.Contains("login/companyinfo", StringComparison.Ordinal)));
        Assert.Contains(records, r => r.StatusCode == 404 && r.Url.Contains("/v2025_1/", StringComparison.Ordinal));
        Assert.EndsWith("/v2025_2/apis/3.0/system/info", records[^1].Url, StringComparison.Ordinal);
    }

    private void AddCompany(long id, string name)
    {
        var companies = host.Sandbox.ConnectWise.Data.Companies;
        if (companies.Find(id) is null)
        {
            companies.Insert(new JsonObject { ["id"] = id, ["identifier"] = $"Hostile{id}", ["name"] = name, ["deletedFlag"] = false });
        }
    }
}
