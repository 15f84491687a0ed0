using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Core;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Ticketing;

namespace PsaPortal.Web.IntegrationTests.Ticketing;

/// <summary>
/// The ticket engine against the sandbox over real HTTP, for both PSAs: incidents pushed through the ingest path become
/// tickets on the configured board/queue, company, priority and status with the external reference; updates, closure
/// (confirmed by a re-read), failures with the PSA's words and Retry; exactly one ticket when the PSA answers a creation
/// only after the client gave up; resumption of rows left Creating.
/// </summary>
public sealed class TicketSyncScenarios
{
    [Theory]
    [InlineData(PsaVendor.ConnectWise)]
    [InlineData(PsaVendor.Autotask)]
    public async Task Push_NewUpdatedResolved_CreatesUpdatesAndClosesOneTicket(PsaVendor vendor)
    {
        await using var world = await TicketSyncWorld.StartAsync(vendor);
        await world.SetUpAsync();
        var id = TicketSyncWorld.Id("inc");

        await world.PushAsync(id, severity: "Critical");

        var row = await world.WaitForAsync(id, TicketState.Open);
        var ticket = Assert.Single(world.PsaTicketsWith(row.ExternalReference));
        Assert.Equal(row.TicketPsaId, JsonRecords.GetId(ticket));
        Assert.Equal("psaportal-" + id, row.ExternalReference);
        Assert.NotNull(row.TicketUrl);
        if (vendor == PsaVendor.ConnectWise)
        {
            Assert.Equal(world.Settings.BoardId, TicketSyncWorld.Long(ticket["board"]!["id"]));
            Assert.Equal(world.MappedCompanyPsaId, TicketSyncWorld.Long(ticket["company"]!["id"]));
            Assert.Equal(world.Settings.CriticalPriorityId, TicketSyncWorld.Long(ticket["priority"]!["id"]));
            Assert.Equal(world.Settings.SourceId, TicketSyncWorld.Long(ticket["source"]!["id"]));
            Assert.Equal(row.TicketPsaId.ToString(), row.TicketNumber);
            Assert.Contains($"service_recid={row.TicketPsaId}&companyName=sandbox", row.TicketUrl, StringComparison.Ordinal);
            Assert.StartsWith("[Critical] Ransomware", JsonRecords.GetString(ticket["summary"]), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(world.Settings.QueueId, TicketSyncWorld.Long(ticket["queueID"]));
            Assert.Equal(world.MappedCompanyPsaId, TicketSyncWorld.Long(ticket["companyID"]));
            Assert.Equal(world.Settings.CriticalPriorityId, TicketSyncWorld.Long(ticket["priority"]));
            Assert.Equal(world.Settings.NewStatusId, TicketSyncWorld.Long(ticket["status"]));
            Assert.Equal(JsonRecords.GetString(ticket["ticketNumber"]), row.TicketNumber);
            Assert.Contains($"TicketDetail.mvc?workspace=False&ids%5B0%5D={row.TicketPsaId}&ticketId={row.TicketPsaId}", row.TicketUrl, StringComparison.Ordinal);
            Assert.Contains("https://portal.tickets.example/tickets?incident=", JsonRecords.GetString(ticket["description"]), StringComparison.Ordinal);
        }

        await world.PushAsync(id, severity: "Low", title: "Ransomware behaviour blocked on FILESRV01 (second host)");
        var updated = await world.WaitForAsync(id, TicketState.Open, TimeSpan.FromSeconds(30));
        await WaitUntilAsync(() => vendor == PsaVendor.ConnectWise
            ? world.Sandbox.ConnectWise.Data.TicketNotes.All().Any(n => TicketSyncWorld.Long(n["ticketId"]) == row.TicketPsaId && JsonRecords.GetString(n["text"])!.Contains("second host", StringComparison.Ordinal))
            : TicketSyncWorld.Long(world.PsaTicket(row.TicketPsaId!.Value)["status"]) == world.Settings.UpdatedStatusId
              && TicketSyncWorld.Long(world.PsaTicket(row.TicketPsaId!.Value)["priority"]) == world.Settings.LowPriorityId);
        Assert.Equal(row.TicketPsaId, updated.TicketPsaId);

        await world.PushAsync(id, status: "Resolved");
        var closed = await world.WaitForAsync(id, TicketState.Closed);
        Assert.NotNull(closed.ClosedAt);
        var psaTicket = Assert.Single(world.PsaTicketsWith(row.ExternalReference));
        if (vendor == PsaVendor.ConnectWise)
        {
            Assert.True(JsonRecords.GetBoolean(psaTicket["closedFlag"]));
            Assert.Equal(world.Settings.ClosedStatusId, TicketSyncWorld.Long(psaTicket["status"]!["id"]));
        }
        else
        {
            Assert.Equal(world.Settings.AutotaskClosedStatusId, TicketSyncWorld.Long(psaTicket["status"]));
        }
    }

    [Theory]
    [InlineData(PsaVendor.ConnectWise)]
    [InlineData(PsaVendor.Autotask)]
    public async Task Push_TenantWithoutMappingAndLongTitle_DefaultCompanyAndSummaryCutOnAWord(PsaVendor vendor)
    {
        await using var world = await TicketSyncWorld.StartAsync(vendor);
        await world.SetUpAsync();
        var id = TicketSyncWorld.Id("long");
        var title = string.Join(' ', Enumerable.Repeat("Suspicious sign-in followed by mailbox rule creation", 5));

        await world.PushAsync(id, tenant: TicketSyncWorld.UnmappedTenant, title: title);

        var row = await world.WaitForAsync(id, TicketState.Open);
        var ticket = Assert.Single(world.PsaTicketsWith(row.ExternalReference));
        var summary = JsonRecords.GetString(ticket[vendor == PsaVendor.ConnectWise ? "summary" : "title"])!;
        Assert.Equal(world.DefaultCompanyPsaId, TicketSyncWorld.Long(vendor == PsaVendor.ConnectWise ? ticket["company"]!["id"] : ticket["companyID"]));
        Assert.True(summary.Length <= TicketContent.SummaryMaxLength(vendor), summary);
        Assert.EndsWith("…", summary, StringComparison.Ordinal);
        Assert.StartsWith(summary[..^1], "[High] " + title, StringComparison.Ordinal);
        Assert.Equal(' ', ("[High] " + title)[summary.Length - 1]);
    }

    [Fact]
    public async Task Resolve_ConnectWiseSilentlyRefusesClose_FailedWithMessage_RetryClosesAfterFix()
    {
        await using var world = await TicketSyncWorld.StartAsync(PsaVendor.ConnectWise);
        await world.SetUpAsync();
        var id = TicketSyncWorld.Id("refuse");
        await world.PushAsync(id);
        await world.WaitForAsync(id, TicketState.Open);
        world.Sandbox.ConnectWise.Configure(s => s with { RefuseTicketClose = true });

        await world.PushAsync(id, status: "Resolved");

        var failed = await world.WaitForAsync(id, TicketState.Failed);
        Assert.Equal(TicketSync.StepClose, failed.FailedStep);
        Assert.Contains($"ConnectWise kept ticket {failed.TicketPsaId} open", failed.Error, StringComparison.Ordinal);
        Assert.False(JsonRecords.GetBoolean(world.PsaTicket(failed.TicketPsaId!.Value)["closedFlag"]) == true);

        world.Sandbox.ConnectWise.Configure(s => s with { RefuseTicketClose = false });
        var sales = await world.Get<ITicketActions>().RetryAsync(world.UserIn(PortalRoles.Sales), failed.Id);
        Assert.False(sales.Accepted);
        Assert.Equal(TicketSync.SalesRefused, sales.Message);
        var retried = await world.Get<ITicketActions>().RetryAsync(world.UserIn(PortalRoles.FullMember), failed.Id);
        Assert.True(retried.Accepted, retried.Message);

        await world.WaitForAsync(id, TicketState.Closed);
        Assert.True(JsonRecords.GetBoolean(world.PsaTicket(failed.TicketPsaId!.Value)["closedFlag"]));
        await using var db = await world.CreateDbContextAsync();
        Assert.True(await db.AuditEntries.AnyAsync(a => a.OrganizationId == world.OrganizationId && a.Action == "Ticket retried"));
    }

    [Theory]
    [InlineData(PsaVendor.ConnectWise, "Priority 999 not found.")]
    [InlineData(PsaVendor.Autotask, "Picklist value [999] does not exist for priority.")]
    public async Task Push_PsaRefusesTheTicket_FailedWithThePsasMessage_RetrySucceedsAfterFix(PsaVendor vendor, string psaMessage)
    {
        await using var world = await TicketSyncWorld.StartAsync(vendor);
        await world.SetUpAsync(s => s.HighPriorityId = 999);
        var id = TicketSyncWorld.Id("bad");

        await world.PushAsync(id, severity: "High");

        var failed = await world.WaitForAsync(id, TicketState.Failed);
        Assert.Equal(TicketSync.StepCreate, failed.FailedStep);
        Assert.Contains(psaMessage, failed.Error, StringComparison.Ordinal);
        Assert.Empty(world.PsaTicketsWith(failed.ExternalReference));

        await using (var db = await world.CreateDbContextAsync())
        {
            var settings = await db.TicketingSettings.SingleAsync(s => s.IntegrationId == world.IntegrationId);
            settings.HighPriorityId = world.Settings.DefaultPriorityId;
            await db.SaveChangesAsync();
        }

        var retried = await world.Get<ITicketActions>().RetryAllFailedAsync(world.UserIn(PortalRoles.Admin));
        Assert.True(retried.Accepted, retried.Message);
        var open = await world.WaitForAsync(id, TicketState.Open);
        Assert.Single(world.PsaTicketsWith(open.ExternalReference));
    }

    [Fact]
    public async Task Push_ConnectWiseBoardLostItsDefaultTeam_FailedWithThePsasMessage_RetrySucceedsAfterFix()
    {
        // The settings were saved while the board had a Default Team; someone removed it in ConnectWise since.
        await using var world = await TicketSyncWorld.StartAsync(PsaVendor.ConnectWise);
        await world.SetUpAsync();
        var teams = world.Sandbox.ConnectWise.Data.BoardTeams;
        var team = teams.All().Single(t => JsonRecords.TryGetDecimal(t["boardId"], out var board) && (long)board == world.Settings.BoardId
            && JsonRecords.GetBoolean(t["defaultFlag"]) == true);
        var withoutDefault = (JsonObject)team.DeepClone();
        withoutDefault["defaultFlag"] = false;
        teams.Replace(withoutDefault);
        var id = TicketSyncWorld.Id("noteam");

        await world.PushAsync(id);

        var failed = await world.WaitForAsync(id, TicketState.Failed);
        Assert.Equal(TicketSync.StepCreate, failed.FailedStep);
        Assert.Contains(TicketingSettingsRules.ConnectWiseNoDefaultTeamError, failed.Error, StringComparison.Ordinal);
        Assert.Empty(world.PsaTicketsWith(failed.ExternalReference));

        teams.Replace(team);
        var retried = await world.Get<ITicketActions>().RetryAsync(world.UserIn(PortalRoles.Admin), failed.Id);
        Assert.True(retried.Accepted, retried.Message);
        var open = await world.WaitForAsync(id, TicketState.Open);
        Assert.Single(world.PsaTicketsWith(open.ExternalReference));
    }

    [Fact]
    public async Task Push_ConnectWiseMemberWithoutTicketRights_FailedWithThePermissionMessage()
    {
        await using var world = await TicketSyncWorld.StartAsync(PsaVendor.ConnectWise);
        await world.SetUpAsync();
        world.Sandbox.ConnectWise.Configure(s => s with { Faults = new() });
        await using (var db = await world.CreateDbContextAsync())
        {
            // The read-only member may read tickets but not add them: 403 on the POST.
            var integration = await db.Integrations.SingleAsync(i => i.Id == world.IntegrationId);
            integration.PublicKey = "SbxReadOnlyPublic";
            integration.ProtectedPrivateKey = world.Get<Features.Integrations.IntegrationSecrets>().Protect("SbxReadOnlyPrivate");
            await db.SaveChangesAsync();
        }

        var id = TicketSyncWorld.Id("forbidden");
        await world.PushAsync(id);

        var failed = await world.WaitForAsync(id, TicketState.Failed);
        Assert.Equal("ConnectWise API user does not have permission to add to Service > Service Tickets.", failed.Error);
    }

    [Theory]
    [InlineData(PsaVendor.ConnectWise)]
    [InlineData(PsaVendor.Autotask)]
    public async Task Push_PsaAnswersCreationAfterTheClientTimeout_ExactlyOneTicket(PsaVendor vendor)
    {
        await using var world = await TicketSyncWorld.StartAsync(vendor);
        await world.SetUpAsync();
        var slow = new FaultSettings { SlowWriteAnswerMilliseconds = (int)(TicketSyncWorld.AttemptTimeout.TotalMilliseconds * 2) };
        if (vendor == PsaVendor.ConnectWise)
        {
            world.Sandbox.ConnectWise.Configure(s => s with { Faults = slow });
        }
        else
        {
            world.Sandbox.Autotask.Configure(s => s with { Faults = slow });
        }

        var id = TicketSyncWorld.Id("slow");
        await world.PushAsync(id);

        var row = await world.WaitForAsync(id, TicketState.Open, TimeSpan.FromSeconds(60));
        var ticket = Assert.Single(world.PsaTicketsWith(row.ExternalReference));
        Assert.Equal(row.TicketPsaId, JsonRecords.GetId(ticket));
        var log = vendor == PsaVendor.ConnectWise ? world.Sandbox.ConnectWise.RequestLog : world.Sandbox.Autotask.RequestLog;
        var creates = log.Entries().Count(e => e.Method == "POST" && (e.Path.EndsWith("/service/tickets", StringComparison.Ordinal) || e.Path.EndsWith("/Tickets", StringComparison.Ordinal)));
        Assert.Equal(1, creates);
    }

    [Theory]
    [InlineData(PsaVendor.ConnectWise)]
    [InlineData(PsaVendor.Autotask)]
    public async Task Resume_RowsLeftCreating_AdoptsTheTicketThePsaHasAndCreatesTheMissingOneOnce(PsaVendor vendor)
    {
        string adopted = TicketSyncWorld.Id("adopt"), missing = TicketSyncWorld.Id("missing");
        long existingTicketId;
        await using (var first = await TicketSyncWorld.StartAsync(vendor))
        {
            await first.SetUpAsync();
            await first.PushAsync(adopted);
            var row = await first.WaitForAsync(adopted, TicketState.Open);
            existingTicketId = row.TicketPsaId!.Value;

            // As a crash leaves them: one creation reached the PSA but its answer was never recorded; one never left.
            await using var db = await first.CreateDbContextAsync();
            await db.TicketingSettings.Where(s => s.IntegrationId == first.IntegrationId).ExecuteUpdateAsync(s => s.SetProperty(x => x.Enabled, false));
            await first.PushAsync(missing);
            var incident = await db.Incidents.SingleAsync(i => i.ExternalId == missing);
            db.IncidentTickets.Add(new IncidentTicket
            {
                OrganizationId = first.OrganizationId, IntegrationId = first.IntegrationId, IncidentId = incident.Id, State = TicketState.Creating,
                ExternalReference = TicketContent.ExternalReference(missing), Attempts = 1, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            });
            await db.IncidentTickets.Where(t => t.TicketPsaId == existingTicketId).ExecuteUpdateAsync(s => s
                .SetProperty(x => x.State, TicketState.Creating).SetProperty(x => x.TicketPsaId, (long?)null).SetProperty(x => x.TicketNumber, (string?)null));
            await db.SaveChangesAsync();
            await db.TicketingSettings.Where(s => s.IntegrationId == first.IntegrationId).ExecuteUpdateAsync(s => s.SetProperty(x => x.Enabled, true));
            await first.Get<TicketSync>().RequestAsync(first.IntegrationId);
            var resumedAdopted = await first.WaitForAsync(adopted, TicketState.Open);
            var resumedMissing = await first.WaitForAsync(missing, TicketState.Open);

            Assert.Equal(existingTicketId, resumedAdopted.TicketPsaId);
            Assert.Single(first.PsaTicketsWith(resumedAdopted.ExternalReference));
            Assert.Single(first.PsaTicketsWith(resumedMissing.ExternalReference));
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the PSA did not reach the expected state in 30 s");
            await Task.Delay(50);
        }
    }
}

/// <summary>Summary and reference rules without a PSA.</summary>
public sealed class TicketContentTests
{
    [Fact]
    public void Truncate_LongTextWithSpaces_CutsAtAWordWithEllipsis()
    {
        var text = "alpha beta gamma delta epsilon";

        var cut = TicketContent.Truncate(text, 20);

        Assert.Equal("alpha beta gamma…", cut);
    }

    [Fact]
    public void Truncate_OneLongWord_CutsMidWordWithinTheLimit()
    {
        var cut = TicketContent.Truncate(new string('x', 150), 100);

        Assert.Equal(100, cut.Length);
        Assert.EndsWith("…", cut, StringComparison.Ordinal);
    }

    [Fact]
    public void ExternalReference_IdLongerThanTheField_UniqueAndWithinTheLimit()
    {
        var a = TicketContent.ExternalReference(new string('a', 120) + "1");
        var b = TicketContent.ExternalReference(new string('a', 120) + "2");

        Assert.NotEqual(a, b);
        Assert.True(a.Length <= IncidentTicket.ReferenceMaxLength);
        Assert.Equal("psaportal-inc-1", TicketContent.ExternalReference("inc-1"));
    }

    [Fact]
    public void ConnectWiseTicketUrl_ApiHost_OpensTheTicketOnTheSitePeopleSignInTo()
    {
        var url = TicketContent.ConnectWiseTicketUrl("https://api-na.myconnectwise.net", "acme", 42);

        Assert.Equal("https://na.myconnectwise.net/v4_6_release/services/system_io/Service/fv_sr100_request.rails?service_recid=42&companyName=acme", url);
    }

    [Fact]
    public void PortalLink_NoPublicUrl_Null()
    {
        Assert.Null(TicketContent.PortalLink(null, 5));
        Assert.Equal("https://p.example/tickets?incident=5", TicketContent.PortalLink(new Uri("https://p.example/"), 5));
    }
}
