using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Core;
using PsaPortal.Web.Features.Ticketing;

namespace PsaPortal.Web.IntegrationTests.Ticketing;

/// <summary>
/// A real restart: a portal is stopped with ticket rows unfinished in its SQLite database (as a crash or a shutdown
/// mid-pass leaves them), and a new portal instance starts over the same database file, on the same port, with the
/// sandbox's state carried over through its snapshot file. Without any new platform data, the start-up pickup must
/// adopt the ticket the PSA already has and create each missing ticket exactly once.
/// </summary>
public sealed class TicketSyncRestartTests
{
    [Theory]
    [InlineData(PsaVendor.ConnectWise)]
    [InlineData(PsaVendor.Autotask)]
    public async Task Restart_RowsLeftPendingAndCreating_NewPortalCreatesEachMissingTicketOnceAndAdoptsTheExistingOne(PsaVendor vendor)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"psaportal-ticket-restart-{Guid.NewGuid():N}");
        var snapshot = Path.Combine(dataDirectory, "sandbox.json");
        string done = TicketSyncWorld.Id("done"), adopted = TicketSyncWorld.Id("adopt"), pending = TicketSyncWorld.Id("pending"),
            creating = TicketSyncWorld.Id("creating"), arrived = TicketSyncWorld.Id("arrived");
        string[] missing = [pending, creating, arrived];
        long doneTicketId, adoptedTicketId;
        int port;
        try
        {
            await using (var first = await TicketSyncWorld.StartAsync(vendor, dataDirectory: dataDirectory, sandboxSnapshot: snapshot))
            {
                port = first.Port;
                await first.SetUpAsync();
                await first.PushAsync(done);
                await first.PushAsync(adopted);
                doneTicketId = (await first.WaitForAsync(done, TicketState.Open)).TicketPsaId!.Value;
                adoptedTicketId = (await first.WaitForAsync(adopted, TicketState.Open)).TicketPsaId!.Value;

                // Ticketing off while the crash is staged, so no pass of this portal touches the rows.
                await using var db = await first.CreateDbContextAsync();
                await db.TicketingSettings.Where(s => s.IntegrationId == first.IntegrationId).ExecuteUpdateAsync(s => s.SetProperty(x => x.Enabled, false));
                foreach (var id in missing)
                {
                    await first.PushAsync(id, tenant: id == arrived ? TicketSyncWorld.UnmappedTenant : TicketSyncWorld.MappedTenant);
                }

                // Pending: admitted, never claimed. Creating: claimed and committed, the creation never sent.
                // The adopted one: its creation reached the PSA, the answer was never recorded. The arrived one has no row.
                var now = DateTimeOffset.UtcNow;
                foreach (var (id, state) in new[] { (pending, TicketState.Pending), (creating, TicketState.Creating) })
                {
                    var incidentId = await db.Incidents.Where(i => i.ExternalId == id).Select(i => i.Id).SingleAsync();
                    db.IncidentTickets.Add(new IncidentTicket
                    {
                        OrganizationId = first.OrganizationId, IntegrationId = first.IntegrationId, IncidentId = incidentId, State = state,
                        ExternalReference = TicketContent.ExternalReference(id), Attempts = state == TicketState.Creating ? 1 : 0, CreatedAt = now, UpdatedAt = now,
                    });
                }

                await db.SaveChangesAsync();
                await db.IncidentTickets.Where(t => t.TicketPsaId == adoptedTicketId).ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.State, TicketState.Creating).SetProperty(x => x.TicketPsaId, (long?)null)
                    .SetProperty(x => x.TicketNumber, (string?)null).SetProperty(x => x.TicketUrl, (string?)null));
                await db.TicketingSettings.Where(s => s.IntegrationId == first.IntegrationId).ExecuteUpdateAsync(s => s.SetProperty(x => x.Enabled, true));

                // Nothing asks this portal for a pass: the rows stay as staged until it stops.
                await Task.Delay(TimeSpan.FromSeconds(1));
                Assert.Equal(TicketState.Pending, (await first.TicketOfAsync(pending)).State);
                Assert.Equal(TicketState.Creating, (await first.TicketOfAsync(creating)).State);
                Assert.Equal(TicketState.Creating, (await first.TicketOfAsync(adopted)).State);
                Assert.False(await db.IncidentTickets.AnyAsync(t => t.IncidentId == db.Incidents.Single(i => i.ExternalId == arrived).Id));
                Assert.All(missing, id => Assert.Empty(first.PsaTicketsWith(TicketContent.ExternalReference(id))));
            }

            Assert.True(File.Exists(snapshot), "the sandbox wrote no snapshot at shutdown");

            await using var second = await TicketSyncWorld.StartAsync(vendor, dataDirectory: dataDirectory, port: port, sandboxSnapshot: snapshot);
            await second.AttachAsync();
            var log = vendor == PsaVendor.ConnectWise ? second.Sandbox.ConnectWise.RequestLog : second.Sandbox.Autotask.RequestLog;

            var resumed = new Dictionary<string, IncidentTicket>();
            foreach (var id in missing.Append(adopted))
            {
                resumed[id] = await second.WaitForAsync(id, TicketState.Open, TimeSpan.FromSeconds(60));
            }

            // Let any straggling call of the pickup reach the log before it is read.
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(adoptedTicketId, resumed[adopted].TicketPsaId);
            Assert.NotNull(resumed[adopted].TicketUrl);
            Assert.Equal(doneTicketId, (await second.TicketOfAsync(done)).TicketPsaId);
            foreach (var id in missing.Append(adopted).Append(done))
            {
                var ticket = Assert.Single(second.PsaTicketsWith(TicketContent.ExternalReference(id)));
                Assert.Equal((await second.TicketOfAsync(id)).TicketPsaId, JsonRecords.GetId(ticket));
            }

            var arrivedTicket = second.PsaTicket(resumed[arrived].TicketPsaId!.Value);
            Assert.Equal(second.DefaultCompanyPsaId, TicketSyncWorld.Long(vendor == PsaVendor.ConnectWise ? arrivedTicket["company"]!["id"] : arrivedTicket["companyID"]));
            var creates = log.Entries().Count(e => e.Method == "POST" && e.Status is >= 200 and < 300
                && (e.Path.EndsWith("/service/tickets", StringComparison.Ordinal) || e.Path.EndsWith("/Tickets", StringComparison.Ordinal)));
            Assert.Equal(missing.Length, creates);
            await using var check = await second.CreateDbContextAsync();
            Assert.Equal(5, await check.IncidentTickets.CountAsync(t => t.IntegrationId == second.IntegrationId));
        }
        finally
        {
            for (var attempt = 0; attempt < 5 && Directory.Exists(dataDirectory); attempt++)
            {
                try
                {
                    Directory.Delete(dataDirectory, recursive: true);
                }
                catch (IOException)
                {
                    await Task.Delay(200);
                }
            }
        }
    }
}
