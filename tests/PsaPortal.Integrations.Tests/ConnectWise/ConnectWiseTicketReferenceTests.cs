using System.Text.Json.Nodes;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Integrations.Tests.ConnectWise;

/// <summary>
/// The ticket calls ticketing relies on to never create a ticket twice: the external reference written on a new ticket
/// as <c>externalXRef</c> and read back, and <see cref="IConnectWiseApi.ListTicketsAsync"/> finding tickets by conditions,
/// against the sandbox over real HTTP.
/// </summary>
public sealed class ConnectWiseTicketReferenceTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly TestClients _clients = new(host);

    public void Dispose()
    {
        host.ResetSettings();
        _clients.Dispose();
    }

    private static string Reference() => "psaportal-inc-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task CreateTicket_WithExternalReference_WritesExternalXRefAndReadsItBack()
    {
        // Arrange
        var api = _clients.ConnectWise();
        var reference = Reference();

        // Act
        var created = await api.CreateTicketAsync(new PsaTicketDraft("Ransomware blocked on FILESRV01", 1, "Details", BoardId: 1, ExternalReference: reference));
        var read = await api.GetTicketAsync(created.Id);

        // Assert
        Assert.Equal(reference, created.ExternalReference);
        Assert.Equal(reference, read.ExternalReference);
        Assert.Equal(created.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), created.TicketNumber);
        Assert.Equal(reference, JsonRecords.GetString(host.Sandbox.ConnectWise.Data.Tickets.Find(created.Id)!["externalXRef"]));
        var post = Assert.Single(_clients.Traffic.Exchanges, e => e.Method == HttpMethod.Post && e.RequestUri.AbsolutePath.EndsWith("service/tickets", StringComparison.Ordinal));
        Assert.Equal(reference, JsonNode.Parse(post.RequestBody!)!["externalXRef"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateTicket_WithoutExternalReference_SendsNoExternalXRef()
    {
        // Arrange
        var api = _clients.ConnectWise();

        // Act
        var created = await api.CreateTicketAsync(new PsaTicketDraft("Phishing mail reported", 1, BoardId: 1));

        // Assert
        Assert.Null(created.ExternalReference);
        var post = Assert.Single(_clients.Traffic.Exchanges, e => e.Method == HttpMethod.Post && e.RequestUri.AbsolutePath.EndsWith("service/tickets", StringComparison.Ordinal));
        Assert.Null(JsonNode.Parse(post.RequestBody!)!["externalXRef"]);
    }

    [Fact]
    public async Task ListTickets_ExternalXRefCondition_FindsOnlyTheTicketCarryingIt()
    {
        // Arrange
        var api = _clients.ConnectWise();
        var (mine, other) = (Reference(), Reference());
        var created = await api.CreateTicketAsync(new PsaTicketDraft("Mine", 1, BoardId: 1, ExternalReference: mine));
        await api.CreateTicketAsync(new PsaTicketDraft("Other", 1, BoardId: 1, ExternalReference: other));

        // Act
        var found = await api.ListTicketsAsync(ConnectWiseCondition.Field("externalXRef").EqualTo(mine)).ToListAsync();

        // Assert
        var ticket = Assert.Single(found);
        Assert.Equal((created.Id, mine, "Mine"), (ticket.Id, ticket.ExternalReference, ticket.Summary));
        var list = _clients.Calls.Records.Last();
        Assert.Contains("service/tickets?", list.Url, StringComparison.Ordinal);
        Assert.Contains("conditions=externalXRef", list.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListTickets_ReferenceNoTicketCarries_ReturnsNothing()
    {
        // Act
        var found = await _clients.ConnectWise().ListTicketsAsync(ConnectWiseCondition.Field("externalXRef").EqualTo(Reference())).ToListAsync();

        // Assert
        Assert.Empty(found);
    }

    [Fact]
    public async Task ListTickets_ReferenceWithQuotes_IsEscapedAndFoundExactly()
    {
        // Arrange
        var api = _clients.ConnectWise();
        var reference = "psaportal-inc \"7\" " + Guid.NewGuid().ToString("N")[..6];
        var created = await api.CreateTicketAsync(new PsaTicketDraft("Quoted", 1, BoardId: 1, ExternalReference: reference));

        // Act
        var found = await api.ListTicketsAsync(ConnectWiseCondition.Field("externalXRef").EqualTo(reference)).ToListAsync();

        // Assert
        Assert.Equal(created.Id, Assert.Single(found).Id);
    }

    [Fact]
    public async Task ListTickets_MoreTicketsThanAPage_WalksEveryPageForwardOnly()
    {
        // Arrange
        using var clients = new TestClients(host, o => o with { ConnectWise = o.ConnectWise with { PageSize = 7 } });
        var expected = host.Sandbox.ConnectWise.Data.Tickets.All()
            .Where(t => JsonRecords.GetId((JsonObject)t["board"]!) == 1).Select(JsonRecords.GetId).Order().ToList();
        Assert.True(expected.Count > 14, $"the seed has {expected.Count} tickets on board 1");

        // Act
        var found = await clients.ConnectWise().ListTicketsAsync(ConnectWiseCondition.Field("board/id").EqualTo(1)).ToListAsync();

        // Assert
        Assert.Equal(expected, found.Select(t => t.Id).Order().ToList());
        var pages = clients.Calls.Records.Where(r => r.Url.Contains("service/tickets?", StringComparison.Ordinal)).ToList();
        Assert.Equal((expected.Count + 6) / 7, pages.Count);
        Assert.All(pages.Skip(1), p => Assert.Contains("pageId=", p.Url, StringComparison.Ordinal));
    }
}
