namespace PsaPortal.Web.Data;

public enum DatabaseProvider
{
    Sqlite,
    PostgreSql,
}

/// <summary>The <c>Database</c> configuration section.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Applies pending migrations when the portal starts. On by default so the embedded database needs no step.</summary>
    public bool MigrateOnStartup { get; set; } = true;
}

/// <summary>The <c>Storage</c> configuration section: where the portal keeps files of its own.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>Folder for the SQLite file and the Data Protection key ring; relative paths are under the content root.</summary>
    public string DataDirectory { get; set; } = "data";
}
