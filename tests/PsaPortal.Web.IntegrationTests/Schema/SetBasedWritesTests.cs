using Microsoft.EntityFrameworkCore;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.IntegrationTests.Api;

namespace PsaPortal.Web.IntegrationTests.Schema;

/// <summary>
/// The multi-row statements read back through EF exactly as written, on each provider: more rows than one statement
/// holds, nulls, quotes and non-ASCII text, enums, decimals and DateTimeOffset through SQLite's ticks converter (compared
/// in a query, not only read back), inside a transaction that rolls back whole.
/// </summary>
public abstract class SetBasedWritesTests : IAsyncLifetime
{
    private ApiPortal _portal = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _portal = await ApiPortal.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task InsertAndUpdate_ManyRowsOfEveryType_ReadBackAsWritten()
    {
        var at = new DateTimeOffset(2026, 3, 4, 5, 6, 7, 890, TimeSpan.Zero);
        // Many more rows than one statement takes (7 columns: 14 rows), names a SQL string would have to escape.
        var tenants = Enumerable.Range(1, 1500).Select(i => new Tenant
        {
            OrganizationId = _portal.OrganizationId, ExternalId = $"SB-{i:D4}", Name = i % 3 == 0 ? $"O'Brien \"{i}\"; DROP TABLE x; -- Ünïcode 🛡" : $"Tenant {i}",
            Domain = i % 2 == 0 ? null : $"t{i}.example", Status = (TenantStatus)(i % 3), CreatedAt = at.AddSeconds(i), UpdatedAt = at,
        }).ToList();
        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await SetBasedWrites.InsertAsync(db, tenants, CancellationToken.None);
            await transaction.CommitAsync();
        }

        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            var stored = await db.Tenants.AsNoTracking().Where(t => t.ExternalId.StartsWith("SB-")).OrderBy(t => t.ExternalId).ToListAsync();
            Assert.Equal(tenants.Select(Row), stored.Select(Row));
            // The converter's order holds in a query: CreatedAt was written one second apart.
            Assert.Equal(500, await db.Tenants.CountAsync(t => t.ExternalId.StartsWith("SB-") && t.CreatedAt > at.AddSeconds(1000)));

            var changed = stored.Where(t => t.Id % 2 == 0).ToList();
            foreach (var tenant in changed)
            {
                (tenant.Name, tenant.Domain, tenant.Status, tenant.UpdatedAt) = ($"Renamed {tenant.ExternalId} ‘quoted’", tenant.Domain is null ? "now.example" : null, TenantStatus.Deleted, at.AddDays(1));
            }

            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                await SetBasedWrites.UpdateAsync(db, changed, [nameof(Tenant.Name), nameof(Tenant.Domain), nameof(Tenant.Status), nameof(Tenant.UpdatedAt)], CancellationToken.None);
                await transaction.CommitAsync();
            }

            var again = await db.Tenants.AsNoTracking().Where(t => t.ExternalId.StartsWith("SB-")).OrderBy(t => t.ExternalId).ToListAsync();
            Assert.Equal(stored.Select(Row), again.Select(Row));
            Assert.Equal(changed.Count, await db.Tenants.CountAsync(t => t.ExternalId.StartsWith("SB-") && t.UpdatedAt == at.AddDays(1)));
        }
    }

    [Fact]
    public async Task Insert_ThatFailsPartWay_LeavesNothingOnceTheTransactionRollsBack()
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var rows = Enumerable.Range(1, 600).Select(i => new Tenant
        {
            OrganizationId = _portal.OrganizationId, ExternalId = i == 599 ? "DUP-0001" : $"DUP-{i:D4}", Name = "Duplicate", CreatedAt = DateTimeOffset.UnixEpoch,
            UpdatedAt = DateTimeOffset.UnixEpoch,
        }).ToList();

        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            // The unique (OrganizationId, ExternalId) index refuses the last statement's duplicate after earlier statements ran.
            await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => SetBasedWrites.InsertAsync(db, rows, CancellationToken.None));
        }

        Assert.Equal(0, await db.Tenants.CountAsync(t => t.ExternalId.StartsWith("DUP-")));
    }

    private static string Row(Tenant t) => $"{t.ExternalId}|{t.Name}|{t.Domain}|{t.Status}|{t.CreatedAt:O}|{t.UpdatedAt:O}|{t.OrganizationId}";
}

public sealed class SqliteSetBasedWritesTests : SetBasedWritesTests
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlSetBasedWritesTests(PostgreSqlFixture postgres) : SetBasedWritesTests
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
