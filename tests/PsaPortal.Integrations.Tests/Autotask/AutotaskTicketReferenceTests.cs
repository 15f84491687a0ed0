using System.Globalization;
using System.Text.Json.Nodes;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Integrations.Tests.Autotask;

/// <summary>
/// The Autotask ticket calls ticketing relies on: the external reference written as <c>externalID</c> and found again
/// by a query, the ticket number from the read-back, the description an update replaces (and leaves alone when not
/// given), and the zone's web address for links, against the sandbox over real HTTP.
/// </summary>
public sealed class AutotaskTicketReferenceTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly TestClients _clients = new(host);

    public void Dispose()
    {
        host.ResetSettings();
        _clients.Dispose();
    }

    private long FirstCompanyId => JsonRecords.GetId(host.Sandbox.Autotask.Data.Companies.All()[0]);

    private static string Reference() => "psaportal-inc-" + Guid.NewGuid().ToString("N")[..10];

    private PsaTicketDraft Draft(string title, string? reference, string? description = "From the platform") =>
        new(title, FirstCompanyId, description, BoardId: AutotaskPicklists.MonitoringAlertQueue, PriorityId: 2, StatusId: 1, ExternalReference: reference);

    [Fact]
    public async Task CreateTicket_WithExternalReference_WritesExternalIDAndReadsBackItAndTheTicketNumber()
    {
        // Arrange
        var api = _clients.Autotask();
        var reference = Reference();

        // Act
        var created = await api.CreateTicketAsync(Draft("Suspicious sign-in blocked", reference));

        // Assert
        var stored = host.Sandbox.Autotask.Data.Tickets.Find(created.Id)!;
        Assert.Equal(reference, created.ExternalReference);
        Assert.Equal(reference, JsonRecords.GetString(stored["externalID"]));
        Assert.Matches(@"^T\d{8}\.\d{4}$", created.TicketNumber);
        Assert.Equal(JsonRecords.GetString(stored["ticketNumber"]), created.TicketNumber);
        var post = Assert.Single(_clients.Traffic.Exchanges, e => e.Method == HttpMethod.Post && e.RequestUri.AbsolutePath.EndsWith("/Tickets", StringComparison.Ordinal));
        Assert.Equal(reference, JsonNode.Parse(post.RequestBody!)!["externalID"]!.GetValue<string>());
        // The number exists only on the read-back: POST answers {"itemId":n}.
        Assert.Contains(_clients.Calls.Records, r => r.Method == "GET" && r.Url.EndsWith($"/Tickets/{created.Id}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task QueryTickets_ExternalIDFilter_FindsOnlyTheTicketCarryingIt()
    {
        // Arrange
        var api = _clients.Autotask();
        var (mine, other) = (Reference(), Reference());
        var created = await api.CreateTicketAsync(Draft("Mine", mine));
        await api.CreateTicketAsync(Draft("Other", other));

        // Act
        var found = await api.QueryTicketsAsync(AutotaskFilter.Where("externalID").Equal(mine)).ToListAsync();
        var none = await api.QueryTicketsAsync(AutotaskFilter.Where("externalID").Equal(Reference())).ToListAsync();

        // Assert
        var ticket = Assert.Single(found);
        Assert.Equal((created.Id, mine, created.TicketNumber), (ticket.Id, ticket.ExternalReference, ticket.TicketNumber));
        Assert.Empty(none);
    }

    [Fact]
    public async Task UpdateTicket_Description_ReplacesItAndKeepsTitleAndStatus()
    {
        // Arrange
        var api = _clients.Autotask();
        var created = await api.CreateTicketAsync(Draft("Malware quarantined", Reference(), "First description"));

        // Act
        var updated = await api.UpdateTicketAsync(created.Id, new PsaTicketChange(PriorityId: 1, Description: "Second description: the host was re-imaged."));

        // Assert
        var stored = host.Sandbox.Autotask.Data.Tickets.Find(created.Id)!;
        Assert.Equal("Second description: the host was re-imaged.", JsonRecords.GetString(stored["description"]));
        Assert.Equal("Malware quarantined", JsonRecords.GetString(stored["title"]));
        Assert.Equal((1L, 1L), (updated.StatusId, updated.PriorityId));
        var patch = Assert.Single(_clients.Traffic.Exchanges, e => e.Method == HttpMethod.Patch);
        Assert.Equal("Second description: the host was re-imaged.", JsonNode.Parse(patch.RequestBody!)!["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpdateTicket_WithoutDescription_LeavesTheDescriptionAsItWas()
    {
        // Arrange
        var api = _clients.Autotask();
        var created = await api.CreateTicketAsync(Draft("Brute force stopped", Reference(), "Kept description"));

        // Act
        await api.UpdateTicketAsync(created.Id, new PsaTicketChange(StatusId: 8));

        // Assert
        var stored = host.Sandbox.Autotask.Data.Tickets.Find(created.Id)!;
        Assert.Equal("Kept description", JsonRecords.GetString(stored["description"]));
        Assert.Equal(8, (long)stored["status"]!.GetValue<decimal>());
        var patch = Assert.Single(_clients.Traffic.Exchanges, e => e.Method == HttpMethod.Patch);
        Assert.Null(JsonNode.Parse(patch.RequestBody!)!["description"]);
    }

    [Fact]
    public async Task GetWebUrl_FirstCall_DiscoversTheZoneOnceAndReturnsItsWebUrl()
    {
        // Arrange
        var api = _clients.Autotask();

        // Act
        var webUrl = await api.GetWebUrlAsync();
        await api.QueryTicketsAsync(AutotaskFilter.Where("id").Equal(1)).ToListAsync();
        var again = await api.GetWebUrlAsync();

        // Assert
        var zone = host.Sandbox.Autotask.Settings.ZoneNumber.ToString(CultureInfo.InvariantCulture);
        Assert.Equal(new Uri(host.BaseAddress, $"sandbox/autotask/ww{zone}/"), webUrl);
        Assert.Equal(webUrl, again);
        Assert.Single(_clients.Calls.Records, r => r.Url.Contains("zoneInformation", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetWebUrl_ZoneOfAnotherNumber_FollowsTheZone()
    {
        // Arrange
        host.Sandbox.Autotask.Configure(s => s with { ZoneNumber = 14 });
        var api = _clients.Autotask();

        // Act
        var webUrl = await api.GetWebUrlAsync();

        // Assert
        Assert.Equal(new Uri(host.BaseAddress, "sandbox/autotask/ww14/"), webUrl);
    }
}
