using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PsaPortal.Testing.Processes;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.ClusterTests;

/// <summary>
/// The cluster's one PostgreSQL database seen from the test process: the portal's own PostgreSQL context and
/// migrations, and the Data Protection key ring kept in that database exactly as the nodes keep it (application name
/// "PsaPortal", keys in the context's <c>DataProtectionKeys</c>), so a secret the harness protects is one every node
/// can read, and a node that could not would fail the run rather than pass the test.
/// </summary>
internal sealed class PostgreSqlPortalStore : IPortalStore, IDisposable
{
    /// <summary>The application name the portal gives Data Protection (PortalApplication.AddPortal).</summary>
    private const string DataProtectionApplicationName = "PsaPortal";

    private readonly ServiceProvider _services;

    public PostgreSqlPortalStore(string connectionString)
    {
        ConnectionString = connectionString;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<PostgreSqlPortalDbContext>(options => options.UseNpgsql(connectionString));
        services.AddDataProtection().SetApplicationName(DataProtectionApplicationName).PersistKeysToDbContext<PostgreSqlPortalDbContext>();
        _services = services.BuildServiceProvider();
        Secrets = new IntegrationSecrets(_services.GetRequiredService<IDataProtectionProvider>());
    }

    public string ConnectionString { get; }

    public IntegrationSecrets Secrets { get; }

    public PortalDbContext CreateDbContext() =>
        new PostgreSqlPortalDbContext(new DbContextOptionsBuilder<PostgreSqlPortalDbContext>().UseNpgsql(ConnectionString).Options);

    public async Task MigrateAsync()
    {
        await using var db = CreateDbContext();
        await db.Database.MigrateAsync();
    }

    /// <summary>One value of a plain SQL query (for Quartz's own tables, which the portal's model does not map).</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var values = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    public void Dispose() => _services.Dispose();
}
