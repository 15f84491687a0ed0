using System.Diagnostics;
using System.Net;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Tests.Infrastructure;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.Autotask;

/// <summary>
/// <c>Faults.SlowWriteAnswerMilliseconds</c> on Autotask: a ticket POST is applied at once and answered only after the
/// hold; queries (POST …/query) and GETs are answered without it, so a client can look up what its timed-out write did.
/// </summary>
public sealed class AutotaskTicketFaultTests(SandboxHost host) : IClassFixture<SandboxHost>, IDisposable
{
    public void Dispose() => host.Sandbox.Autotask.Configure(_ => new());

    [Fact]
    public async Task PostTicket_SlowWriteAnswer_TicketQueryableByExternalIdBeforeTheAnswerArrives()
    {
        // Arrange
        using var client = host.Autotask();
        using var reader = host.Autotask();
        const int hold = 3000;
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { SlowWriteAnswerMilliseconds = hold } });
        var reference = "psaportal-" + Guid.NewGuid().ToString("N")[..10];
        var query = Json($$"""{"filter":[{"op":"eq","field":"externalID","value":"{{reference}}"}]}""");
        var watch = Stopwatch.StartNew();

        // Act
        var posting = client.PostAsync("Tickets", Json($$"""{"companyID":1001,"title":"Slow answer","status":1,"priority":2,"queueID":8,"externalID":"{{reference}}"}"""));
        while (!host.Sandbox.Autotask.Data.Tickets.All().Any(t => JsonRecords.GetString(t["externalID"]) == reference))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the ticket was never created");
            await Task.Delay(20);
        }

        var found = await JsonAsync(await reader.PostAsync("Tickets/query", query));
        var answeredWhenFound = posting.IsCompleted;
        var created = await JsonAsync(await posting);
        var answeredAt = watch.Elapsed;

        // Assert
        Assert.False(answeredWhenFound, "the query came back after the POST's answer");
        var item = Assert.Single(found["items"]!.AsArray())!;
        Assert.Equal(created["itemId"]!.GetValue<long>(), item["id"]!.GetValue<long>());
        HeldBack(answeredAt, hold);
        var log = host.Sandbox.Autotask.RequestLog.Entries();
        Assert.Equal(hold, log.Last(e => e.Method == "POST" && e.Path.EndsWith("/Tickets", StringComparison.Ordinal)).InjectedDelayMilliseconds);
        Assert.Equal(0, log.Last(e => e.Path.EndsWith("/Tickets/query", StringComparison.Ordinal)).InjectedDelayMilliseconds);
    }

    [Fact]
    public async Task PatchTicket_SlowWriteAnswer_HeldBack_GetIsNot()
    {
        // Arrange
        using var client = host.Autotask();
        var created = await JsonAsync(await client.PostAsync("Tickets", Json("""{"companyID":1001,"title":"Patch me","status":1,"priority":2,"queueID":8}""")));
        var id = created["itemId"]!.GetValue<long>();
        host.Sandbox.Autotask.Configure(s => s with { Faults = new FaultSettings { SlowWriteAnswerMilliseconds = 1500 } });
        var before = host.Sandbox.Autotask.RequestLog.TotalCount;

        // Act
        var patched = await client.PatchAsync("Tickets", Json($$"""{"id":{{id}},"description":"Updated while slow"}"""));
        var read = await JsonAsync(await client.GetAsync($"Tickets/{id}"));

        // Assert
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal("Updated while slow", read["item"]!["description"]!.GetValue<string>());
        var entries = host.Sandbox.Autotask.RequestLog.Entries().Where(e => e.Sequence > before).ToList();
        Assert.Equal([("PATCH", 1500d), ("GET", 0d)], entries.Select(e => (e.Method, e.InjectedDelayMilliseconds)).ToList());
    }
}
