using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Testing.Processes;

/// <summary>
/// A child portal's database and Data Protection key ring, seen from the test process: what the harness writes (an
/// integration with protected secrets, mappings, usage, a queued run) is what the portal reads. A SQLite data folder
/// (<see cref="PortalDataFolder"/>) or a PostgreSQL database shared by several nodes (<see cref="PostgreSqlPortalStore"/>).
/// </summary>
internal interface IPortalStore
{
    /// <summary>Protects secrets exactly as the portal's own <see cref="IntegrationSecrets"/> will unprotect them.</summary>
    IntegrationSecrets Secrets { get; }

    PortalDbContext CreateDbContext();

    /// <summary>Creates the schema the way the portal does at start-up (its own migrations).</summary>
    Task MigrateAsync();
}
