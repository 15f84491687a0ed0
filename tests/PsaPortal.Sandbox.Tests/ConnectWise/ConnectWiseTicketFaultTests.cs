using System.Diagnostics;
using System.Net;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.ConnectWise;

/// <summary>
/// The ConnectWise faults ticketing is tested with: <c>RefuseTicketClose</c> (a close answered 200 with the ticket left
/// open, as a status workflow does) and <c>Faults.SlowWriteAnswerMilliseconds</c> (a write applied at once, its answer
/// held back; reads and searches answered without the hold).
/// </summary>
public sealed class ConnectWiseTicketFaultTests(SandboxHost host) : IClassFixture<SandboxHost>, IDisposable
{
    private const int ClosedStatus = 4;

    public void Dispose() => host.Sandbox.ConnectWise.Configure(_ => new());

    private static async Task<long> CreateAsync(HttpClient client, string summary) =>
        (await JsonAsync(await client.PostAsync("service/tickets", Json(new { summary, company = new { id = 2 } })), HttpStatusCode.Created))["id"]!.GetValue<long>();

    [Fact]
    public async Task PatchTicket_RefuseTicketClose_Answers200WithTheTicketStillOpen()
    {
        // Arrange
        using var client = host.ConnectWise();
        var id = await CreateAsync(client, "Workflow keeps me open");
        host.Sandbox.ConnectWise.Configure(s => s with { RefuseTicketClose = true });

        // Act
        var response = await client.PatchAsync($"service/tickets/{id}", Json(new[] { new { op = "replace", path = "status", value = new { id = ClosedStatus } } }));

        // Assert
        var answered = await JsonAsync(response, HttpStatusCode.OK);
        Assert.False(answered["closedFlag"]!.GetValue<bool>());
        Assert.Equal("New", answered["status"]!["name"]!.GetValue<string>());
        var read = await JsonAsync(await client.GetAsync($"service/tickets/{id}"));
        Assert.False(read["closedFlag"]!.GetValue<bool>());
        Assert.Equal("New", read["status"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task PutTicket_RefuseTicketClose_Answers200WithTheTicketStillOpen()
    {
        // Arrange
        using var client = host.ConnectWise();
        var id = await CreateAsync(client, "Put keeps me open");
        var ticket = (System.Text.Json.Nodes.JsonObject)await JsonAsync(await client.GetAsync($"service/tickets/{id}"));
        ticket["status"] = new System.Text.Json.Nodes.JsonObject { ["id"] = ClosedStatus };
        host.Sandbox.ConnectWise.Configure(s => s with { RefuseTicketClose = true });

        // Act
        var answered = await JsonAsync(await client.PutAsync($"service/tickets/{id}", Json(ticket.ToJsonString())), HttpStatusCode.OK);

        // Assert
        Assert.False(answered["closedFlag"]!.GetValue<bool>());
        Assert.False(JsonRecords.GetBoolean(host.Sandbox.ConnectWise.Data.Tickets.Find(id)!["closedFlag"]));
    }

    [Fact]
    public async Task PatchTicket_RefuseTicketCloseAndAChangeThatDoesNotClose_IsApplied_AndTurnedOffTheCloseWorks()
    {
        // Arrange
        using var client = host.ConnectWise();
        var id = await CreateAsync(client, "Only closing is refused");
        host.Sandbox.ConnectWise.Configure(s => s with { RefuseTicketClose = true });

        // Act
        var renamed = await JsonAsync(await client.PatchAsync($"service/tickets/{id}", Json("""[{"op":"replace","path":"summary","value":"Renamed while refusing closes"}]""")));
        host.Sandbox.ConnectWise.Configure(s => s with { RefuseTicketClose = false });
        var closed = await JsonAsync(await client.PatchAsync($"service/tickets/{id}", Json(new[] { new { op = "replace", path = "status", value = new { id = ClosedStatus } } })));

        // Assert
        Assert.Equal("Renamed while refusing closes", renamed["summary"]!.GetValue<string>());
        Assert.True(closed["closedFlag"]!.GetValue<bool>());
        Assert.Equal("Closed", closed["status"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task PostTicket_SlowWriteAnswer_TicketExistsBeforeTheAnswerArrives()
    {
        // Arrange
        using var client = host.ConnectWise();
        const int hold = 3000;
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { SlowWriteAnswerMilliseconds = hold } });
        var summary = "Slow answer " + Guid.NewGuid().ToString("N")[..8];
        var watch = Stopwatch.StartNew();

        // Act
        var posting = client.PostAsync("service/tickets", Json(new { summary, company = new { id = 2 } }));
        var seenAt = await WaitUntilAsync(() => host.Sandbox.ConnectWise.Data.Tickets.All().Any(t => JsonRecords.GetString(t["summary"]) == summary), watch);
        var answeredWhenSeen = posting.IsCompleted;
        var created = await JsonAsync(await posting, HttpStatusCode.Created);
        var answeredAt = watch.Elapsed;

        // Assert
        Assert.False(answeredWhenSeen, $"the ticket appeared at {seenAt.TotalMilliseconds:F0} ms, after the answer");
        HeldBack(answeredAt, hold);
        Assert.Equal(summary, created["summary"]!.GetValue<string>());
        var entry = host.Sandbox.ConnectWise.RequestLog.Entries().Last(e => e.Method == "POST" && e.Path.EndsWith("service/tickets", StringComparison.Ordinal));
        Assert.Equal(hold, entry.InjectedDelayMilliseconds);
    }

    [Fact]
    public async Task ReadsAndSearches_SlowWriteAnswer_AreNotHeldBack()
    {
        // Arrange
        using var client = host.ConnectWise();
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { SlowWriteAnswerMilliseconds = 3000 } });
        var before = host.Sandbox.ConnectWise.RequestLog.TotalCount;

        // Act
        await JsonAsync(await client.GetAsync("service/tickets/1"));
        await ArrayAsync(await client.GetAsync("service/tickets?conditions=" + Uri.EscapeDataString("board/id = 1")));
        var search = await client.PostAsync("service/tickets/search", Json("""{"conditions":"board/id = 1"}"""));

        // Assert
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        var entries = host.Sandbox.ConnectWise.RequestLog.Entries().Where(e => e.Sequence > before).ToList();
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.Equal(0, e.InjectedDelayMilliseconds));
    }

    [Fact]
    public async Task PatchTicket_SlowWriteAnswerAndClientGivesUp_ChangeIsStillApplied()
    {
        // Arrange
        using var client = host.ConnectWise();
        var id = await CreateAsync(client, "Patched, answer lost to the timeout");
        host.Sandbox.ConnectWise.Configure(s => s with { Faults = new FaultSettings { SlowWriteAnswerMilliseconds = 5000 } });
        using var impatient = host.ConnectWise();
        impatient.Timeout = TimeSpan.FromMilliseconds(800);

        // Act
        await Assert.ThrowsAsync<TaskCanceledException>(() =>
            impatient.PatchAsync($"service/tickets/{id}", Json("""[{"op":"replace","path":"summary","value":"Applied before the timeout"}]""")));

        // Assert
        host.Sandbox.ConnectWise.Configure(_ => new());
        var read = await JsonAsync(await client.GetAsync($"service/tickets/{id}"));
        Assert.Equal("Applied before the timeout", read["summary"]!.GetValue<string>());
    }

    private static async Task<TimeSpan> WaitUntilAsync(Func<bool> condition, Stopwatch watch)
    {
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the write was never applied");
            await Task.Delay(20);
        }

        return watch.Elapsed;
    }
}
