using PsaPortal.Integrations;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Ticketing;
using Microsoft.Extensions.DependencyInjection;

namespace PsaPortal.Web.IntegrationTests.Ticketing;

/// <summary>
/// The Tickets page's reads on each database provider: one row per incident and PSA ticket, filters, sorting and
/// paging done by the database, and nothing from another organization.
/// </summary>
public abstract class TicketQueriesTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private PortalFactory _factory = null!;
    private Guid _organizationId;
    private Guid _otherOrganizationId;
    private Guid _connectWise;
    private Guid _autotask;
    private readonly Dictionary<string, long> _incidents = [];

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    private TicketQueries Queries => _factory.Services.GetRequiredService<TicketQueries>();

    public async Task InitializeAsync()
    {
        _factory = new PortalFactory(await CreateDatabaseAsync());
        _organizationId = await _factory.AddOrganizationAsync("Northwind MSP");
        _otherOrganizationId = await _factory.AddOrganizationAsync("Contoso MSP");
        await SeedAsync();
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task ListAsync_NoFilter_OneRowPerIncidentAndPsaNewestFirstWithoutTicketLast()
    {
        var page = await Queries.ListAsync(_organizationId, new TicketFilter(), 0, 50);

        // INC-4 has a ticket in both PSAs (two rows), INC-5 none yet (one row without state); Contoso's incident is not here.
        Assert.Equal(6, page.TotalCount);
        Assert.Equal(["INC-5", "INC-4", "INC-4", "INC-3", "INC-2", "INC-1"], page.Items.Select(r => r.IncidentExternalId));
        // The PSAs of one incident in name order.
        Assert.Equal([PsaVendor.Autotask, PsaVendor.ConnectWise], page.Items.Where(r => r.IncidentExternalId == "INC-4").Select(r => r.Vendor!.Value));
        var untouched = page.Items[0];
        Assert.Equal((null, null, null, 0, null), (untouched.IncidentTicketId, untouched.Vendor, untouched.State, untouched.Attempts, untouched.UpdatedAt));
        var failed = page.Items.Single(r => r.IncidentExternalId == "INC-2");
        Assert.Equal(
            ("Ransomware behaviour blocked", "Critical", "Open", "Fabrikam Ltd", TicketState.Failed, (string?)null, "ConnectWise API user does not have permission to access Service > Priority", 3),
            (failed.Title, failed.Severity, failed.IncidentStatus, failed.TenantName, failed.State, failed.TicketNumber, failed.Error, failed.Attempts));
        var closed = page.Items.Single(r => r.IncidentExternalId == "INC-1");
        Assert.Equal((TicketState.Closed, "T20261201.0001", "https://psa.example/ticket/1", "Resolved"), (closed.State, closed.TicketNumber, closed.TicketUrl, closed.IncidentStatus));
        Assert.Equal(Start.AddMinutes(1), closed.DetectedAt);

        var other = await Queries.ListAsync(_otherOrganizationId, new TicketFilter(), 0, 50);
        Assert.Equal(["OTHER-1"], other.Items.Select(r => r.IncidentExternalId));
    }

    [Theory]
    [InlineData("ransomware", "INC-2")] // title, any case
    [InlineData("CONTOSO TRADERS", "INC-3")] // tenant
    [InlineData("inc-5", "INC-5")] // incident id
    [InlineData("T20261201.0001", "INC-1")] // ticket number
    [InlineData("4711", "INC-4")] // ConnectWise ticket number, not its Autotask twin
    public async Task ListAsync_Search_MatchesTitleTenantIncidentIdAndTicketNumber(string search, string expected)
    {
        var page = await Queries.ListAsync(_organizationId, new TicketFilter(Search: search), 0, 50);

        var row = Assert.Single(page.Items);
        Assert.Equal((expected, 1), (row.IncidentExternalId, page.TotalCount));
    }

    [Fact]
    public async Task ListAsync_Search_AnotherOrganizationsTicketNumber_FindsNothing()
    {
        var page = await Queries.ListAsync(_organizationId, new TicketFilter(Search: "OTHER"), 0, 50);

        Assert.Equal(0, page.TotalCount);
        Assert.Empty(page.Items);
    }

    [Fact]
    public async Task ListAsync_StatePsaFailedOnlyAndIncident_FilterInTheDatabase()
    {
        Assert.Equal(["INC-4", "INC-3"], await IdsAsync(new TicketFilter(State: TicketState.Open)));
        Assert.Equal(["INC-4", "INC-1"], await IdsAsync(new TicketFilter(Vendor: PsaVendor.Autotask)));
        Assert.Equal(["INC-2"], await IdsAsync(new TicketFilter(FailedOnly: true)));
        Assert.Empty(await IdsAsync(new TicketFilter(State: TicketState.Open, FailedOnly: true)));
        Assert.Equal(["INC-4"], await IdsAsync(new TicketFilter(State: TicketState.Open, Vendor: PsaVendor.Autotask)));

        // ?incident= carries the portal's incident id or the platform's external id; another organization's id finds nothing.
        Assert.Equal(["INC-4", "INC-4"], await IdsAsync(new TicketFilter(Incident: "INC-4")));
        Assert.Equal(["INC-3"], await IdsAsync(new TicketFilter(Incident: _incidents["INC-3"].ToString(System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Empty(await IdsAsync(new TicketFilter(Incident: _incidents["OTHER-1"].ToString(System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Empty(await IdsAsync(new TicketFilter(Incident: "OTHER-1")));
    }

    [Fact]
    public async Task ListAsync_SortedAndPaged_ByMeaningNotByName()
    {
        // Severity: Critical > High > Medium > Low, not alphabetical; ties newest incident first.
        Assert.Equal(["INC-2", "INC-4", "INC-4", "INC-5", "INC-3", "INC-1"], await IdsAsync(new TicketFilter(), "Severity desc"));
        // State: failed first, then work in progress, open, closed, and incidents without a ticket last.
        Assert.Equal(["INC-2", "INC-4", "INC-4", "INC-3", "INC-1", "INC-5"], await IdsAsync(new TicketFilter(), "State"));
        Assert.Equal(["INC-1", "INC-3", "INC-5", "INC-4", "INC-4", "INC-2"], await IdsAsync(new TicketFilter(), "TenantName"));

        var second = await Queries.ListAsync(_organizationId, new TicketFilter(), 2, 2, "DetectedAt");
        Assert.Equal(6, second.TotalCount);
        Assert.Equal(["INC-3", "INC-4"], second.Items.Select(r => r.IncidentExternalId));
    }

    [Theory]
    [InlineData("Error")]
    [InlineData("Title sideways")]
    [InlineData("Title; DROP TABLE Incidents")]
    public async Task ListAsync_UnknownSort_RefusedWithTheColumnsAllowed(string orderBy)
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => Queries.ListAsync(_organizationId, new TicketFilter(), 0, 50, orderBy));

        Assert.StartsWith($"Cannot sort tickets by \"{orderBy}\": use one of DetectedAt, Title, IncidentExternalId, Severity", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverviewAsync_SaysWhichPsasMakeTicketsAndCountsIncidentsAndFailures()
    {
        var overview = await Queries.OverviewAsync(_organizationId);

        Assert.Equal([PsaVendor.ConnectWise, PsaVendor.Autotask], overview.LinkedVendors);
        Assert.Equal([PsaVendor.ConnectWise], overview.TicketingVendors);
        Assert.Equal((5, 1, true), (overview.Incidents, overview.Failed, overview.TicketingOn));

        var other = await Queries.OverviewAsync(_otherOrganizationId);
        Assert.Equal((1, 0, 1, 0, false), (other.LinkedVendors.Count, other.TicketingVendors.Count, other.Incidents, other.Failed, other.TicketingOn));
    }

    private async Task<List<string>> IdsAsync(TicketFilter filter, string? orderBy = null) =>
        (await Queries.ListAsync(_organizationId, filter, 0, 50, orderBy)).Items.Select(r => r.IncidentExternalId).ToList();

    // ------------------------------------------------------------ the world

    private async Task SeedAsync()
    {
        await using var db = await _factory.CreateDbContextAsync();
        var connectWise = new Integration { OrganizationId = _organizationId, Vendor = PsaVendor.ConnectWise, Status = IntegrationStatus.Connected, UpdatedAt = Start };
        var autotask = new Integration { OrganizationId = _organizationId, Vendor = PsaVendor.Autotask, Status = IntegrationStatus.Connected, UpdatedAt = Start };
        db.Integrations.AddRange(connectWise, autotask);
        db.TicketingSettings.AddRange(
            new TicketingSettings { IntegrationId = connectWise.Id, Enabled = true, UpdatedAt = Start },
            new TicketingSettings { IntegrationId = autotask.Id, Enabled = false, UpdatedAt = Start });
        (_connectWise, _autotask) = (connectWise.Id, autotask.Id);

        Tenant Tenant(Guid organizationId, string externalId, string name) =>
            new() { OrganizationId = organizationId, ExternalId = externalId, Name = name, Status = TenantStatus.Active, CreatedAt = Start, UpdatedAt = Start };
        var adatum = Tenant(_organizationId, "t-1", "Adatum Corp");
        var fabrikam = Tenant(_organizationId, "t-2", "Fabrikam Ltd");
        var contoso = Tenant(_organizationId, "t-3", "Contoso Traders");
        var foreign = Tenant(_otherOrganizationId, "t-1", "Foreign Tenant");
        db.Tenants.AddRange(adatum, fabrikam, contoso, foreign);
        await db.SaveChangesAsync();

        Incident Incident(Guid organizationId, string externalId, Tenant tenant, string title, IncidentSeverity severity, IncidentStatus status, int minute) => new()
        {
            OrganizationId = organizationId, ExternalId = externalId, TenantId = tenant.Id, Title = title, Severity = severity, Status = status,
            DetectedAt = Start.AddMinutes(minute), UpdatedAt = Start.AddMinutes(minute), ReceivedAt = Start.AddMinutes(minute),
        };
        var incidents = new[]
        {
            Incident(_organizationId, "INC-1", adatum, "Impossible travel sign-in", IncidentSeverity.Low, IncidentStatus.Resolved, 1),
            Incident(_organizationId, "INC-2", fabrikam, "Ransomware behaviour blocked", IncidentSeverity.Critical, IncidentStatus.Open, 2),
            Incident(_organizationId, "INC-3", contoso, "Mailbox forwarding rule created", IncidentSeverity.Medium, IncidentStatus.Open, 3),
            Incident(_organizationId, "INC-4", fabrikam, "Malware quarantined", IncidentSeverity.High, IncidentStatus.Acknowledged, 4),
            Incident(_organizationId, "INC-5", fabrikam, "New admin account", IncidentSeverity.Medium, IncidentStatus.Open, 5),
            Incident(_otherOrganizationId, "OTHER-1", foreign, "Elsewhere", IncidentSeverity.Critical, IncidentStatus.Open, 6),
        };
        db.Incidents.AddRange(incidents);
        await db.SaveChangesAsync();
        foreach (var incident in incidents)
        {
            _incidents[incident.ExternalId] = incident.Id;
        }

        var otherIntegration = new Integration { OrganizationId = _otherOrganizationId, Vendor = PsaVendor.ConnectWise, Status = IntegrationStatus.Connected, UpdatedAt = Start };
        db.Integrations.Add(otherIntegration);
        IncidentTicket Ticket(Guid organizationId, Guid integrationId, string incident, TicketState state, string? number, int attempts, string? error = null) => new()
        {
            OrganizationId = organizationId, IntegrationId = integrationId, IncidentId = _incidents[incident], State = state, ExternalReference = $"psaportal-{incident}",
            TicketNumber = number, TicketUrl = number is null ? null : $"https://psa.example/ticket/{number[^1]}", Error = error, Attempts = attempts,
            CreatedAt = Start, UpdatedAt = Start.AddHours(1),
        };
        db.IncidentTickets.AddRange(
            Ticket(_organizationId, _autotask, "INC-1", TicketState.Closed, "T20261201.0001", 2),
            Ticket(_organizationId, _connectWise, "INC-2", TicketState.Failed, null, 3, "ConnectWise API user does not have permission to access Service > Priority"),
            Ticket(_organizationId, _connectWise, "INC-3", TicketState.Open, "4702", 1),
            Ticket(_organizationId, _connectWise, "INC-4", TicketState.UpdatePending, "4711", 1),
            Ticket(_organizationId, _autotask, "INC-4", TicketState.Open, "T20261201.0004", 1),
            Ticket(_otherOrganizationId, otherIntegration.Id, "OTHER-1", TicketState.Open, "OTHER-9", 1));
        await db.SaveChangesAsync();
    }
}

public sealed class SqliteTicketQueriesTests : TicketQueriesTests
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlTicketQueriesTests(PostgreSqlFixture postgres) : TicketQueriesTests
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
