using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Options;
using PsaPortal.Web.Infrastructure;

namespace PsaPortal.Web.Data;

/// <summary>
/// Runs before the web server takes requests: applies migrations (when configured to), then each seeder in turn.
/// The embedded default thereby creates its database on first start. On PostgreSQL the whole of it runs under a
/// database lock (<see cref="ClusterLocks.AcquireStartupAsync"/>), so nodes starting together take turns.
/// </summary>
internal sealed class DatabaseInitializer(
    IServiceProvider services,
    IOptions<DatabaseOptions> options,
    IEnumerable<IDatabaseSeeder> seeders,
    ILogger<DatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // One node at a time migrates and seeds a shared PostgreSQL database; the next finds the work done.
        await using var startup = await services.GetRequiredService<ClusterLocks>().AcquireStartupAsync(cancellationToken);
        if (options.Value.MigrateOnStartup)
        {
            await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(cancellationToken);
            // The history table first: on an empty database, asking for the applied migrations (here, and inside
            // Migrate) would log a failed query as an error.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                logger.LogInformation("Applying {Count} migration(s) on {Provider}: {Migrations}", pending.Count, options.Value.Provider, pending);
                await db.Database.MigrateAsync(cancellationToken);
            }
        }

        if (options.Value.Provider == DatabaseProvider.Sqlite)
        {
            // Write-ahead logging: readers (every open page) never wait for a writer and a writer waits only for the
            // one before it, instead of every commit waiting for all readers. The mode is kept in the file.
            await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(cancellationToken);
            await db.Database.OpenConnectionAsync(cancellationToken);
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            var mode = (string?)await command.ExecuteScalarAsync(cancellationToken);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                logger.LogWarning("The SQLite database stayed in journal mode {Mode} instead of WAL; pages and writers will wait for each other", mode);
            }
        }

        foreach (var seeder in seeders)
        {
            await seeder.SeedAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Something that must exist in the database before the portal serves requests; runs in registration order.</summary>
public interface IDatabaseSeeder
{
    Task SeedAsync(CancellationToken cancellationToken);
}
