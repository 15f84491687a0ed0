using PsaPortal.Integrations;
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Ticketing;

namespace PsaPortal.Web.IntegrationTests.Ticketing;

/// <summary>
/// The PostgreSQL server restarts while a ticketing pass is creating tickets. The pass is interrupted; without any new
/// incident arriving, ticketing must try again by itself once the database is back and end with exactly one PSA ticket
/// per incident (a ticket whose creation was committed as Creating is looked up, never created twice).
/// </summary>
public sealed class TicketSyncDatabaseFaultTests
{
    [Fact]
    public async Task PostgreSqlRestartedMidPass_PassResumesByItself_EveryIncidentGetsExactlyOneTicket()
    {
        await using var server = await PostgreSqlServer.StartAsync();
        await using var world = await TicketSyncWorld.StartAsync(PsaVendor.ConnectWise, new PortalDatabase.PostgreSql(await server.CreateDatabaseAsync()));
        await world.SetUpAsync();
        // Every ConnectWise call takes a second, so the pass over 16 incidents is still creating when the server goes down.
        world.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { LatencyMilliseconds = 1000 } });
        var incidents = Enumerable.Range(0, 16).Select(_ => TicketSyncWorld.Id("outage")).ToList();
        foreach (var id in incidents)
        {
            await world.PushAsync(id);
        }

        await world.WaitForAsync(incidents[0], TicketState.Open, TimeSpan.FromSeconds(60));
        await server.RestartAsync(TimeSpan.FromSeconds(3));

        foreach (var id in incidents)
        {
            var ticket = await world.WaitForAsync(id, TicketState.Open, TimeSpan.FromSeconds(90));
            var inPsa = Assert.Single(world.PsaTicketsWith(TicketContent.ExternalReference(id)));
            Assert.Equal(ticket.TicketPsaId, TicketSyncWorld.Long(inPsa["id"]));
        }
    }
}
