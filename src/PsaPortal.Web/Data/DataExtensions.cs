using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace PsaPortal.Web.Data;

public static class DataExtensions
{
    public const string ConnectionStringName = "Portal";

    /// <summary>
    /// Registers <see cref="IDbContextFactory{PortalDbContext}"/> (one context per operation) and a scoped
    /// <see cref="PortalDbContext"/> for ASP.NET Core Identity. The provider is chosen from configuration when the
    /// factory is first resolved, so every configuration source (files, environment, test hosts) is honoured.
    /// </summary>
    public static IHostApplicationBuilder AddPortalData(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<DatabaseOptions>(builder.Configuration.GetSection(DatabaseOptions.SectionName));
        services.Configure<StorageOptions>(builder.Configuration.GetSection(StorageOptions.SectionName));

        // SQLite writers queue in memory, not on sleeping threads (SqliteWriteGate).
        services.AddSingleton<SqliteWriteGate>();
        services.AddDbContextFactory<SqlitePortalDbContext>((sp, o) => o.UseSqlite(SqliteConnectionString(sp)).AddInterceptors(sp.GetRequiredService<SqliteWriteGate>()));
        services.AddDbContextFactory<PostgreSqlPortalDbContext>((sp, o) => o.UseNpgsql(PostgreSqlConnectionString(sp)));
        services.AddSingleton<IDbContextFactory<PortalDbContext>>(sp =>
            sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider switch
            {
                DatabaseProvider.Sqlite => new PortalDbContextFactory<SqlitePortalDbContext>(sp.GetRequiredService<IDbContextFactory<SqlitePortalDbContext>>()),
                DatabaseProvider.PostgreSql => new PortalDbContextFactory<PostgreSqlPortalDbContext>(sp.GetRequiredService<IDbContextFactory<PostgreSqlPortalDbContext>>()),
                var other => throw new InvalidOperationException($"Unknown Database:Provider '{other}'. Use Sqlite or PostgreSql."),
            });
        services.AddScoped<PortalDbContext>(sp => sp.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext());
        services.AddHostedService<DatabaseInitializer>();
        return builder;
    }

    /// <summary>The absolute data directory (SQLite file, key ring), created if missing.</summary>
    public static string GetDataDirectory(this IServiceProvider services)
    {
        var path = services.DataDirectoryPath();
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The absolute data directory as configured, without creating it.</summary>
    public static string DataDirectoryPath(this IServiceProvider services) =>
        Path.GetFullPath(services.GetRequiredService<IOptions<StorageOptions>>().Value.DataDirectory,
            services.GetRequiredService<IHostEnvironment>().ContentRootPath);

    private static string SqliteConnectionString(IServiceProvider services) =>
        services.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName)
        ?? $"Data Source={Path.Combine(services.GetDataDirectory(), "psaportal.db")}";

    private static string PostgreSqlConnectionString(IServiceProvider services)
    {
        var connectionString = services.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName);
        return string.IsNullOrWhiteSpace(connectionString)
            ? throw new InvalidOperationException($"Database:Provider is PostgreSql but ConnectionStrings:{ConnectionStringName} is not set.")
            : connectionString;
    }

    private sealed class PortalDbContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<PortalDbContext>
        where TContext : PortalDbContext
    {
        public PortalDbContext CreateDbContext() => inner.CreateDbContext();
    }
}
