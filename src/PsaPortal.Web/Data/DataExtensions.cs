using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace PsaPortal.Web.Data;

public static class DataExtensions
{
    public const string ConnectionStringName = "Portal";

    /// <summary>
    /// Registers <see cref="IDbContextFactory{PortalDbContext}"/> (one context per operation) and a scoped
    /// <see cref="PortalDbContext"/> for ASP.NET Core Identity, on the provider that configuration selects.
    /// </summary>
    public static IHostApplicationBuilder AddPortalData(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<DatabaseOptions>(builder.Configuration.GetSection(DatabaseOptions.SectionName));
        services.Configure<StorageOptions>(builder.Configuration.GetSection(StorageOptions.SectionName));

        var options = builder.Configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);

        switch (options.Provider)
        {
            case DatabaseProvider.Sqlite:
                connectionString ??= $"Data Source={Path.Combine(builder.GetDataDirectory(), "psaportal.db")}";
                AddProvider<SqlitePortalDbContext>(services, o => o.UseSqlite(connectionString));
                break;
            case DatabaseProvider.PostgreSql:
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    throw new InvalidOperationException(
                        $"Database:Provider is PostgreSql but ConnectionStrings:{ConnectionStringName} is not set.");
                }

                AddProvider<PostgreSqlPortalDbContext>(services, o => o.UseNpgsql(connectionString));
                break;
            default:
                throw new InvalidOperationException($"Unknown Database:Provider '{options.Provider}'. Use Sqlite or PostgreSql.");
        }

        return builder;
    }

    /// <summary>The absolute data directory, created if missing.</summary>
    public static string GetDataDirectory(this IHostApplicationBuilder builder)
    {
        var configured = builder.Configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>()?.DataDirectory ?? "data";
        var path = Path.GetFullPath(configured, builder.Environment.ContentRootPath);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Applies migrations when configured to; the embedded default is created on first start.</summary>
    public static async Task MigratePortalDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        if (!services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStartup)
        {
            return;
        }

        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
    }

    private static void AddProvider<TContext>(IServiceCollection services, Action<DbContextOptionsBuilder> configure)
        where TContext : PortalDbContext
    {
        services.AddDbContextFactory<TContext>(configure);
        services.AddSingleton<IDbContextFactory<PortalDbContext>>(sp =>
            new PortalDbContextFactory<TContext>(sp.GetRequiredService<IDbContextFactory<TContext>>()));
        services.AddScoped<PortalDbContext>(sp => sp.GetRequiredService<IDbContextFactory<TContext>>().CreateDbContext());
    }

    private sealed class PortalDbContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<PortalDbContext>
        where TContext : PortalDbContext
    {
        public PortalDbContext CreateDbContext() => inner.CreateDbContext();
    }
}
