using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit;

namespace PsaPortal.Testing;

/// <summary>
/// A throwaway PostgreSQL server from Debian's <c>postgresql</c> package: initdb into a temporary folder, started on a
/// free loopback port with durability off (tests need speed, not crash safety), removed on dispose. Stands in for
/// Testcontainers, which cannot run here (docs/adr/0003-sqlite-and-postgresql.md).
/// </summary>
public sealed class PostgreSqlServer : IAsyncDisposable
{
    private readonly string _binDirectory;
    private readonly string _dataDirectory;
    private readonly bool _runAsPostgresUser;

    private PostgreSqlServer(string binDirectory, string dataDirectory, int port, bool runAsPostgresUser)
    {
        _binDirectory = binDirectory;
        _dataDirectory = dataDirectory;
        _runAsPostgresUser = runAsPostgresUser;
        Port = port;
    }

    public int Port { get; }

    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=15";

    public static async Task<PostgreSqlServer> StartAsync()
    {
        var binDirectory = FindBinDirectory();
        // initdb refuses to run as root; as root the server runs as Debian's postgres user instead.
        var runAsPostgresUser = Environment.UserName == "root";
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"psaportal-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDirectory);
        if (runAsPostgresUser)
        {
            await RunAsync("chown", ["postgres:postgres", dataDirectory], asPostgres: false);
        }

        var server = new PostgreSqlServer(binDirectory, dataDirectory, LoopbackPort.Free(), runAsPostgresUser);
        await server.RunToolAsync("initdb", ["-D", server.Cluster, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
        await server.StartClusterAsync();
        return server;
    }

    private string Cluster => Path.Combine(_dataDirectory, "cluster");

    private Task StartClusterAsync()
    {
        var settings = $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={_dataDirectory} " +
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400";
        return RunToolAsync("pg_ctl", ["-D", Cluster, "-l", Path.Combine(_dataDirectory, "server.log"), "-o", settings, "-w", "-t", "60", "start"]);
    }

    /// <summary>
    /// Stops the server as an operator's restart does (every session ended with "terminating connection due to
    /// administrator command"), keeps it down for <paramref name="down"/>, and starts it again on the same port.
    /// </summary>
    public async Task RestartAsync(TimeSpan down)
    {
        await RunToolAsync("pg_ctl", ["-D", Cluster, "-m", "fast", "-w", "-t", "60", "stop"]);
        await Task.Delay(down);
        await StartClusterAsync();
    }

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= $"psaportal_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        // Each test's portal has its own pool; idle connections are closed within seconds so that many fixtures in a
        // row do not hold the server's connection slots long after their tests ended.
        return $"Host=127.0.0.1;Port={Port};Username=postgres;Database={name};Timeout=15;Connection Idle Lifetime=5;Connection Pruning Interval=1";
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunToolAsync("pg_ctl", ["-D", Cluster, "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private Task RunToolAsync(string tool, string[] arguments) =>
        RunAsync(Path.Combine(_binDirectory, tool), arguments, _runAsPostgresUser);

    private static async Task RunAsync(string fileName, string[] arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asPostgres)
        {
            foreach (var prefix in new[] { "-u", "postgres", "--", fileName })
            {
                start.ArgumentList.Add(prefix);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(fileName)} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}\n{await error}");
        }
    }

    private static string FindBinDirectory()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        var fromPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return candidates.Concat(fromPath).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
            ?? throw new InvalidOperationException(
                "PostgreSQL server programs (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin or on PATH. " +
                "Install Debian's postgresql package (apt-get install -y postgresql); ./build.sh test does this for you.");
    }
}

/// <summary>One PostgreSQL server shared by every test of a collection; each test host gets its own database.</summary>
public sealed class PostgreSqlFixture : IAsyncLifetime
{
    public PostgreSqlServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgreSqlServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
