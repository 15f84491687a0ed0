using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Testing;

namespace PsaPortal.Web.IntegrationTests.Cluster;

/// <summary>
/// Two nodes started at the same moment on one new PostgreSQL database, both with <c>Database:MigrateOnStartup</c>:
/// without the start-up lock one of them died applying a migration the other had just applied (42701) or creating a
/// role the other had just created (23505). Both must start, each migration applied once, each role created once.
/// </summary>
public sealed class ConcurrentStartTests : IAsyncLifetime
{
    private PostgreSqlServer _server = null!;

    public async Task InitializeAsync() => _server = await PostgreSqlServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task TwoNodesStartingTogetherOnANewDatabase_BothStart_EachMigrationAndRoleOnce()
    {
        for (var round = 1; round <= 3; round++)
        {
            var database = new PortalDatabase.PostgreSql(await _server.CreateDatabaseAsync());
            await using var first = new PortalFactory(database);
            await using var second = new PortalFactory(database);
            var starts = new[] { first, second }.Select(factory => Task.Run(() => factory.Server)).ToArray();
            var failed = new List<string>();
            foreach (var start in starts)
            {
                try
                {
                    await start;
                }
                catch (Exception exception)
                {
                    failed.Add(exception.GetBaseException().Message);
                }
            }

            Assert.True(failed.Count == 0, $"Round {round}: {failed.Count} of 2 nodes failed to start: {string.Join(" | ", failed)}");
            await using var db = await first.CreateDbContextAsync();
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
            var roles = await db.Set<IdentityRole>().Select(r => r.Name).ToListAsync();
            Assert.Equal(roles.Distinct().Count(), roles.Count);
            Assert.NotEmpty(roles);
        }
    }
}
