using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PsaPortal.Integrations;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.SystemLogs;

namespace PsaPortal.Web.IntegrationTests.SystemLogs;

/// <summary>
/// What jobs wrote to System Logs just before the portal stops is stored, not dropped with the queue: a writer of its
/// own on the portal's SQLite database, stopped the moment 2,000 records are queued.
/// </summary>
public sealed class SystemLogWriterShutdownTests : IAsyncLifetime
{
    private PortalFactory _factory = null!;
    private Guid _organizationId;

    public async Task InitializeAsync()
    {
        _factory = new PortalFactory(new PortalDatabase.Sqlite());
        _organizationId = await _factory.AddOrganizationAsync("Northwind MSP");
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Stop_RightAfterRecordsAreQueued_StoresEveryOne()
    {
        // Arrange
        var dbFactory = _factory.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        var writer = new SystemLogWriter(dbFactory, TimeProvider.System, NullLogger<SystemLogWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        const int count = 2_000;

        // Act
        for (var i = 0; i < count; i++)
        {
            writer.Write(_organizationId, PsaVendor.ConnectWise, "Shutdown test", LogLevelName.Information, $"record {i}");
        }

        await writer.StopAsync(CancellationToken.None);

        // Assert
        await using var db = await dbFactory.CreateDbContextAsync();
        var stored = await db.SystemLog.Where(e => e.Operation == "Shutdown test").Select(e => e.Message).ToListAsync();
        Assert.Equal(count, stored.Count);
        Assert.Equal(count, stored.Distinct().Count());
        Assert.Equal(0, writer.Dropped);
    }

    [Fact]
    public async Task Stop_BeforeTheWritingLoopEverRan_StillStoresWhatWasQueued()
    {
        // Arrange: the host stopping before the writer's loop started (its Task.Run not yet scheduled) is, for the
        // writer, a stop without a loop.
        var dbFactory = _factory.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        var writer = new SystemLogWriter(dbFactory, TimeProvider.System, NullLogger<SystemLogWriter>.Instance);
        for (var i = 0; i < 700; i++)
        {
            writer.Write(_organizationId, PsaVendor.ConnectWise, "Never started", LogLevelName.Information, $"record {i}");
        }

        // Act
        await writer.StopAsync(CancellationToken.None);

        // Assert
        await using var db = await dbFactory.CreateDbContextAsync();
        Assert.Equal(700, await db.SystemLog.CountAsync(e => e.Operation == "Never started"));
    }
}
