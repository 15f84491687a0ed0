using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.IntegrationTests.Api;

/// <summary>
/// SQLite's one writer, under load: the file runs in WAL mode, writers wait for each other in the portal's gate without
/// holding a thread (the load run's stall: 48 threads asleep in Microsoft.Data.Sqlite's busy retry, the portal frozen),
/// and an ingest request that cannot get the database in time is a 503 with Retry-After, nothing written.
/// </summary>
public sealed class SqliteWriteGateTests : IAsyncLifetime
{
    private ApiPortal _portal = null!;

    public async Task InitializeAsync() => _portal = await ApiPortal.StartAsync(new PortalDatabase.Sqlite());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task TheDatabaseFile_RunsInWalMode()
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";

        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task WritersQueuedBehindAnOpenTransaction_HoldNoThread_AndAllFinishWhenItCommits()
    {
        var gate = _portal.Factory.Services.GetRequiredService<SqliteWriteGate>();
        await using var holder = await _portal.Factory.CreateDbContextAsync();
        var transaction = await holder.Database.BeginTransactionAsync();
        var threadsBefore = ThreadPool.ThreadCount;

        var writers = Enumerable.Range(1, 60).Select(async i =>
        {
            await using var db = await _portal.Factory.CreateDbContextAsync();
            db.Tenants.Add(new Tenant { OrganizationId = _portal.OrganizationId, ExternalId = $"GATE-{i}", Name = $"Gate {i}", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            db.Tenants.Add(new Tenant { OrganizationId = _portal.OrganizationId, ExternalId = $"GATE-{i}-B", Name = $"Gate {i} B", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }).ToList();
        await WaitUntilAsync(() => gate.Waiting == 60);

        // Sixty writers wait, none of them on a thread: without the gate each sat in Thread.Sleep inside SQLite's busy retry.
        Assert.All(writers, w => Assert.False(w.IsCompleted));
        Assert.True(ThreadPool.ThreadCount < threadsBefore + 30, $"{ThreadPool.ThreadCount} pool threads while 60 writers wait (before: {threadsBefore})");

        await transaction.CommitAsync();
        await transaction.DisposeAsync();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30));
        await using var check = await _portal.Factory.CreateDbContextAsync();
        Assert.Equal(120, await check.Tenants.CountAsync(t => t.ExternalId.StartsWith("GATE-")));
        Assert.Equal(0, gate.Waiting);
    }

    [Fact]
    public async Task AWriterThatCannotGetIn_WithinItsTimeout_MeetsSqlitesTransientBusyError()
    {
        await using var holder = await _portal.Factory.CreateDbContextAsync();
        await using var transaction = await holder.Database.BeginTransactionAsync();
        await using var db = await _portal.Factory.CreateDbContextAsync();
        db.Database.SetCommandTimeout(1);
        db.Tenants.Add(new Tenant { OrganizationId = _portal.OrganizationId, ExternalId = "LATE-1", Name = "Late", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
        db.Tenants.Add(new Tenant { OrganizationId = _portal.OrganizationId, ExternalId = "LATE-2", Name = "Late 2", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => db.SaveChangesAsync());

        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        Assert.True(DatabaseFailures.IsTransient(error), error.ToString());
        Assert.Equal(5, Assert.IsType<SqliteException>(error is SqliteException ? error : error.InnerException).SqliteErrorCode);
    }

    [Fact]
    public async Task IngestThatCannotGetTheDatabase_Answers503WithRetryAfter_AndWritesNothing()
    {
        var before = await _portal.CountsAsync();
        // The key's first use records LastUsedAt (a write of its own, outside the ingest's transaction); do it first.
        Assert.Equal(HttpStatusCode.OK, (await _portal.Client.GetAsync("/api/v1/tenants")).StatusCode);
        await using var holder = await _portal.Factory.CreateDbContextAsync();
        var transaction = await holder.Database.BeginTransactionAsync();

        var response = await _portal.Client.PostAsJsonAsync("/api/v1/tenants/batch",
            new { items = new[] { new { externalId = "BUSY-1", name = "Busy one", status = "Active" } } }, JsonSerializerOptions.Web);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(ApiFeature.DatabaseBusyRetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(ApiFeature.DatabaseBusyTitle, problem.GetProperty("title").GetString());
        Assert.Contains("nothing of this request was written", problem.GetProperty("detail").GetString());

        await transaction.RollbackAsync();
        await transaction.DisposeAsync();
        Assert.Equal(before, await _portal.CountsAsync());
        // Once the database is free the same request goes through.
        var again = await _portal.Client.PostAsJsonAsync("/api/v1/tenants/batch",
            new { items = new[] { new { externalId = "BUSY-1", name = "Busy one", status = "Active" } } }, JsonSerializerOptions.Web);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task IngestQueuedBehindABatchWaitingForTheDatabase_Answers503WithinItsOwnWait()
    {
        Assert.Equal(HttpStatusCode.OK, (await _portal.Client.GetAsync("/api/v1/tenants")).StatusCode);
        await using var holder = await _portal.Factory.CreateDbContextAsync();
        await using var transaction = await holder.Database.BeginTransactionAsync();
        var first = _portal.Client.PostAsJsonAsync("/api/v1/tenants/batch",
            new { items = new[] { new { externalId = "BUSY-1", name = "Busy one" } } }, JsonSerializerOptions.Web);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var watch = Stopwatch.StartNew();

        // Queued while the writer waits for the database with the first batch, then given only what is left of its own wait.
        var second = await _portal.Client.PostAsJsonAsync("/api/v1/tenants/batch",
            new { items = new[] { new { externalId = "BUSY-2", name = "Busy two" } } }, JsonSerializerOptions.Web);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(ApiFeature.DatabaseBusyRetryAfterSeconds), second.Headers.RetryAfter?.Delta);
        Assert.InRange(watch.Elapsed, PlatformIngest.DatabaseWait - TimeSpan.FromSeconds(1), PlatformIngest.DatabaseWait + TimeSpan.FromSeconds(3));
        Assert.Equal(0, (await _portal.CountsAsync()).Tenants);
    }

    [Fact]
    public async Task BatchQueuedWhenThePortalStops_IsStillWritten_OneSentAfterIsRefusedWithItsReason()
    {
        var ingest = _portal.Factory.Services.GetRequiredService<PlatformIngest>();
        var gate = _portal.Factory.Services.GetRequiredService<SqliteWriteGate>();
        Task<IngestResult> Send(string id) => ingest.IngestAsync(_portal.OrganizationId, new PlatformBatch { Tenants = [new TenantInput { ExternalId = id, Name = id }] }, "test");
        await using var holder = await _portal.Factory.CreateDbContextAsync();
        var transaction = await holder.Database.BeginTransactionAsync();
        // The writer waits for the database with the first batch; the second queues behind it.
        var first = Send("STOP-1");
        await WaitUntilAsync(() => gate.Waiting == 1);
        var second = Send("STOP-2");
        await WaitUntilAsync(() => ingest.Queued == 1);

        // The portal stops while both wait; the database is free a moment later.
        var stopping = ingest.StopAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        await transaction.CommitAsync();
        await transaction.DisposeAsync();
        await stopping;

        Assert.Equal(new IngestCounts(1, 0, 0), (await first).Tenants);
        Assert.Equal(new IngestCounts(1, 0, 0), (await second).Tenants);
        var refused = await Assert.ThrowsAsync<IngestNotWrittenException>(() => Send("STOP-3"));
        Assert.Equal("The portal is stopping, so the batch was not written. Send it again in a moment.", refused.Message);
        await using var db = await _portal.Factory.CreateDbContextAsync();
        Assert.Equal(["STOP-1", "STOP-2"], await db.Tenants.Where(t => t.ExternalId.StartsWith("STOP-")).Select(t => t.ExternalId).OrderBy(id => id).ToListAsync());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "timed out waiting");
            await Task.Delay(20);
        }
    }
}
