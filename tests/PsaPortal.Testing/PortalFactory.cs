using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.StaticWebAssets;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PsaPortal.Testing;

/// <summary>Where a test portal keeps its data: a fresh SQLite file, or a fresh database on a test PostgreSQL server.</summary>
public abstract record PortalDatabase
{
    public sealed record Sqlite : PortalDatabase;

    public sealed record PostgreSql(string ConnectionString) : PortalDatabase;
}

/// <summary>
/// The real portal (its own Program) on a database of the test's choosing, with its data folder in a temporary directory.
/// In-memory test server by default; <see cref="WebApplicationFactory{TEntryPoint}.UseKestrel()"/> gives a real port for browsers.
/// </summary>
public sealed class PortalFactory : WebApplicationFactory<Program>
{
    private readonly PortalDatabase _database;
    private readonly IReadOnlyDictionary<string, string?> _settings;

    public PortalFactory(PortalDatabase database, IReadOnlyDictionary<string, string?>? settings = null)
    {
        _database = database;
        _settings = settings ?? new Dictionary<string, string?>();
        DataDirectory = Path.Combine(Path.GetTempPath(), $"psaportal-test-{Guid.NewGuid():N}");
    }

    public string DataDirectory { get; }

    /// <summary>Every line the portal logged, formatted with its exception, for tests that look for leaks.</summary>
    public ConcurrentQueue<string> LogLines { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environments.Production);
        // Serve wwwroot and Radzen's assets from the build output, as Development does; Production expects a publish folder.
        builder.UseStaticWebAssets();
        builder.UseSetting("Storage:DataDirectory", DataDirectory);
        switch (_database)
        {
            case PortalDatabase.Sqlite:
                builder.UseSetting("Database:Provider", "Sqlite");
                break;
            case PortalDatabase.PostgreSql pg:
                builder.UseSetting("Database:Provider", "PostgreSql");
                builder.UseSetting("ConnectionStrings:Portal", pg.ConnectionString);
                break;
        }

        builder.ConfigureLogging(logging => logging.AddProvider(new CollectingLoggerProvider(LogLines)));
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>A browser without JavaScript on the test server: its own cookies, redirects not followed.</summary>
    public PortalBrowser NewBrowser() =>
        new(CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));

    /// <summary>
    /// Every <c>psaportal.db*</c> file (the SQLite database, its WAL and shared memory) as it is now; none on PostgreSQL.
    /// SQLite removes the -wal file when its last connection closes, so one listed a moment ago and gone is skipped.
    /// </summary>
    public IReadOnlyList<DatabaseFile> ReadDatabaseFiles()
    {
        var files = new List<DatabaseFile>();
        foreach (var path in Directory.Exists(DataDirectory) ? Directory.GetFiles(DataDirectory, "psaportal.db*") : [])
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                files.Add(new DatabaseFile(Path.GetFileName(path), copy.ToArray()));
            }
            catch (FileNotFoundException)
            {
            }
        }

        return files;
    }

    public Task<PortalDbContext> CreateDbContextAsync() =>
        Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();

    public async Task<Guid> AddOrganizationAsync(string name)
    {
        await using var db = await CreateDbContextAsync();
        var organization = new Organization { Name = name, CreatedAt = DateTimeOffset.UtcNow };
        db.Organizations.Add(organization);
        await db.SaveChangesAsync();
        return organization.Id;
    }

    public async Task<Guid> OrganizationIdAsync(string name)
    {
        await using var db = await CreateDbContextAsync();
        return await db.Organizations.Where(o => o.Name == name).Select(o => o.Id).SingleAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Npgsql.NpgsqlConnection.ClearAllPools();
        await DeleteDataDirectoryAsync();
    }

    // A stopping host may still flush a file (SQLite's journal, the sandbox snapshot) for a moment after it returns.
    private async Task DeleteDataDirectoryAsync()
    {
        for (var attempt = 1; Directory.Exists(DataDirectory); attempt++)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException) when (attempt < 5)
            {
                await Task.Delay(200);
            }
        }
    }
}

/// <summary>One database file's bytes, searched for a secret in the encodings a database may store text in.</summary>
public sealed record DatabaseFile(string Name, byte[] Bytes)
{
    public bool Holds(string text) =>
        Bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(text)) >= 0 || Bytes.AsSpan().IndexOf(System.Text.Encoding.Unicode.GetBytes(text)) >= 0;
}

internal sealed class CollectingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new CollectingLogger(categoryName, lines);

    public void Dispose()
    {
    }

    private sealed class CollectingLogger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
