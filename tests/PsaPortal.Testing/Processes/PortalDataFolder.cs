using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Testing.Processes;

/// <summary>
/// The child portal's data folder, seen from the test process: the same SQLite file (<c>psaportal.db</c>) and the same
/// Data Protection key ring (<c>keys/</c>, application name "PsaPortal"), so what the harness writes — an integration
/// with protected secrets, mappings, usage, a queued run — is what the portal reads when it starts.
/// </summary>
internal sealed class PortalDataFolder : IPortalStore, IDisposable
{
    /// <summary>The application name the portal gives Data Protection (PortalApplication.AddPortal).</summary>
    private const string DataProtectionApplicationName = "PsaPortal";

    public PortalDataFolder()
    {
        Path = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"psaportal-crash-{Guid.NewGuid():N}")).FullName;
        var provider = DataProtectionProvider.Create(new DirectoryInfo(System.IO.Path.Combine(Path, "keys")),
            builder => builder.SetApplicationName(DataProtectionApplicationName));
        Secrets = new IntegrationSecrets(provider);
    }

    public string Path { get; }

    public string DatabaseFile => System.IO.Path.Combine(Path, "psaportal.db");

    /// <summary>Protects secrets exactly as the portal's own <see cref="IntegrationSecrets"/> will unprotect them.</summary>
    public IntegrationSecrets Secrets { get; }

    public PortalDbContext CreateDbContext() =>
        new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>()
            .UseSqlite($"Data Source={DatabaseFile};Default Timeout=60")
            .Options);

    /// <summary>Creates the schema the way the portal does at start-up (its own migrations).</summary>
    public async Task MigrateAsync()
    {
        await using var db = CreateDbContext();
        await db.Database.MigrateAsync();
    }

    /// <summary>Left on disk when disposed, so a failed trial's database and journal can be read afterwards.</summary>
    public bool Keep { get; set; }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Keep)
        {
            return;
        }

        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A killed child may still be releasing the file; the temp folder is cleaned by the OS eventually.
        }
    }
}
