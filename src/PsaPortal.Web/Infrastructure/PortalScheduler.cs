using System.Globalization;
using Microsoft.Extensions.Options;
using Npgsql;
using PsaPortal.Web.Data;
using Quartz;

namespace PsaPortal.Web.Infrastructure;

/// <summary>The <c>Scheduler</c> configuration section (docs/architecture.md, Clustering).</summary>
public sealed class SchedulerOptions
{
    public const string SectionName = "Scheduler";
    public const string AutoInstanceId = "AUTO";

    /// <summary>
    /// Quartz keeps its jobs and triggers in the portal's PostgreSQL database and shares them with every node that has
    /// this on (tables <c>qrtz_*</c>, created by the PostgreSQL migrations). Off: the in-memory store of one process.
    /// </summary>
    public bool Clustered { get; set; }

    /// <summary>How often a node records that it is alive; a dead node's jobs are taken over after about twice this.</summary>
    public TimeSpan CheckinInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The node's name in the cluster, unique per node; <c>AUTO</c> lets Quartz make one.</summary>
    public string InstanceId { get; set; } = AutoInstanceId;
}

/// <summary>
/// Quartz for the portal: the in-memory store (one process, the default) or, with <c>Scheduler:Clustered</c>, the
/// clustered ADO.NET store on the portal's PostgreSQL database (docs/adr/0011). Read while the host is built, so a
/// clustered portal on SQLite refuses to start with a message that says what to change.
/// </summary>
public static class PortalScheduler
{
    public const string InstanceName = "PsaPortal";
    public const string TablePrefix = "qrtz_";

    public static IHostApplicationBuilder AddPortalScheduler(this IHostApplicationBuilder builder)
    {
        var options = Read(builder.Configuration);
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton<ClusterLocks>();
        if (options.Clustered)
        {
            var connectionString = builder.Configuration.GetConnectionString(DataExtensions.ConnectionStringName)!;
            builder.AddQuartz(quartz =>
            {
                quartz.UsePersistentStore(store =>
                {
                    store.UsePostgres(connectionString);
                    store.UseSystemTextJsonSerializer();
                    // Every job data value the portal stores is a string: kept readable, and no type can break a restore.
                    // A firing the stop interrupts (below) is stored again as a recovery trigger when its job ends by
                    // throwing OperationCanceledException, as after a crash: another node fires it on its next look at
                    // the store (a billing run resumes there from its journal), or this node when it starts again.
                    store.ConfigureStore(o =>
                    {
                        o.TablePrefix = TablePrefix;
                        o.StoreJobDataAsStrings = true;
                        o.RecoverFiringsCancelledByShutdown = true;
                    });
                    // A node is written off once it has missed one check-in by another interval: interval + threshold.
                    store.UseClustering(c =>
                    {
                        c.CheckinInterval = options.CheckinInterval;
                        c.CheckinMisfireThreshold = options.CheckinInterval;
                    });
                });
            });
        }

        // One ConfigureScheduler call for both stores: beside the clustered store's own call, a second one's setting
        // did not take effect.
        builder.AddQuartz(quartz => quartz.ConfigureScheduler(scheduler =>
        {
            // A stop cancels the running jobs' tokens and waits for them to end: a billing run then leaves itself Running
            // to resume (in a cluster, handed back for another node), a ticketing pass or export stops between items.
            // Without the interrupt the stop waited for the whole run, past any grace period a deployment gives.
            scheduler.ShutdownJobInterruption = ShutdownJobInterruption.WhenWaitingForJobs;
            if (options.Clustered)
            {
                // Triggers another node stores (a handed-back firing, Sync now pressed there) are found within this,
                // not Quartz's default 30 s: one indexed query per interval and node.
                scheduler.IdleWaitTime = options.CheckinInterval;
                scheduler.InstanceName = InstanceName;
                if (!options.InstanceId.Equals(SchedulerOptions.AutoInstanceId, StringComparison.OrdinalIgnoreCase))
                {
                    scheduler.InstanceId = options.InstanceId;
                }
            }
        }));
        builder.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        builder.Services.AddHostedService<StopSchedulerFirst>();
        return builder;
    }

    /// <summary>
    /// Shuts Quartz down in the host's stopping phase, before any hosted service's <c>StopAsync</c>. Hosted services stop
    /// one after another, and in one CI run a billing run went on to its end while the services that stop before
    /// Quartz's took their time (the node was killed at its grace period). Quartz's own stop later joins this one.
    /// </summary>
    private sealed class StopSchedulerFirst(IServiceProvider services) : IHostedLifecycleService
    {
        // Taken at start: a host stopped twice (a test host disposed after it stopped) has no container the second time.
        private QuartzHostedService? _quartz;

        public Task StoppingAsync(CancellationToken cancellationToken) => _quartz?.StopAsync(cancellationToken) ?? Task.CompletedTask;

        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _quartz = services.GetServices<IHostedService>().OfType<QuartzHostedService>().Single();
            return Task.CompletedTask;
        }

        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>The section, checked: a clustered scheduler needs PostgreSQL and its connection string.</summary>
    public static SchedulerOptions Read(IConfiguration configuration)
    {
        var options = new SchedulerOptions();
        var section = configuration.GetSection(SchedulerOptions.SectionName);
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException exception)
        {
            throw new InvalidOperationException(
                $"The Scheduler section cannot be read ({exception.GetBaseException().Message}). Scheduler:Clustered is true or false, Scheduler:CheckinInterval a time span such as 00:00:05.",
                exception);
        }

        if (!options.Clustered)
        {
            return options;
        }

        var provider = configuration.GetSection(DatabaseOptions.SectionName).GetValue<DatabaseProvider?>(nameof(DatabaseOptions.Provider)) ?? DatabaseProvider.Sqlite;
        if (provider != DatabaseProvider.PostgreSql)
        {
            throw new InvalidOperationException(
                "Scheduler:Clustered is true but Database:Provider is Sqlite. A clustered scheduler keeps its jobs in the portal's PostgreSQL database, " +
                "which every node shares: set Database:Provider=PostgreSql and ConnectionStrings:Portal, or set Scheduler:Clustered=false to run one node on SQLite.");
        }

        if (string.IsNullOrWhiteSpace(configuration.GetConnectionString(DataExtensions.ConnectionStringName)))
        {
            throw new InvalidOperationException($"Scheduler:Clustered is true but ConnectionStrings:{DataExtensions.ConnectionStringName} is not set.");
        }

        if (options.CheckinInterval < TimeSpan.FromMilliseconds(500) || options.CheckinInterval > TimeSpan.FromMinutes(10))
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Scheduler:CheckinInterval must be between 00:00:00.5 and 00:10:00, e.g. 00:00:05 (it is {options.CheckinInterval})."));
        }

        if (string.IsNullOrWhiteSpace(options.InstanceId) || options.InstanceId.Length > 200)
        {
            throw new InvalidOperationException("Scheduler:InstanceId must be AUTO or a name of at most 200 characters, unique per node.");
        }

        return options;
    }
}

/// <summary>
/// "One at a time per integration" across every node. In-process gates (a <see cref="SemaphoreSlim"/> per integration)
/// only hold inside one process; with <c>Scheduler:Clustered</c> the work is also taken under a PostgreSQL session
/// advisory lock, held on a connection of its own for as long as the work runs. A node that dies loses its session,
/// so the lock is released at once and the node that recovers the work can take it. One node: no database lock at all.
/// </summary>
public sealed class ClusterLocks(
    IOptions<SchedulerOptions> scheduler,
    IOptions<DatabaseOptions> database,
    IConfiguration configuration,
    ILogger<ClusterLocks> logger)
{
    private const string StartupLockName = "database-startup";

    private static readonly IAsyncDisposable Nothing = new Held(null, 0, null);

    public bool Enabled => scheduler.Value.Clustered;

    /// <summary>Waits until no other node holds <paramref name="name"/>, then holds it until the result is disposed.</summary>
    public async Task<IAsyncDisposable> AcquireAsync(string name, CancellationToken cancellationToken) =>
        Enabled ? (await HoldAsync(name, wait: true, cancellationToken))! : Nothing;

    /// <summary>
    /// Holds <paramref name="name"/> if no node holds it now, else null at once. One node: always held (there is no
    /// other node).
    /// </summary>
    public async Task<IAsyncDisposable?> TryAcquireAsync(string name, CancellationToken cancellationToken) =>
        Enabled ? await HoldAsync(name, wait: false, cancellationToken) : Nothing;

    /// <summary>
    /// Held while a node migrates and seeds the database. On PostgreSQL always, clustered or not: two nodes starting
    /// together on one database otherwise apply the same migration (42701, column already exists) or create the same
    /// Identity role (23505) at once, and one of them dies at start-up. SQLite serves one process: nothing to hold.
    /// </summary>
    public async Task<IAsyncDisposable> AcquireStartupAsync(CancellationToken cancellationToken) =>
        database.Value.Provider == DatabaseProvider.PostgreSql ? (await HoldAsync(StartupLockName, wait: true, cancellationToken))! : Nothing;

    /// <summary>The lock on a connection of its own, held until disposed; null when not waiting and another session holds it.</summary>
    private async Task<IAsyncDisposable?> HoldAsync(string name, bool wait, CancellationToken cancellationToken)
    {
        var key = KeyOf(name);
        var connection = new NpgsqlConnection(configuration.GetConnectionString(DataExtensions.ConnectionStringName));
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(wait ? "SELECT pg_advisory_lock(@key)" : "SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", key);
            var held = await command.ExecuteScalarAsync(cancellationToken);
            if (wait || (bool)held!)
            {
                return new Held(connection, key, logger);
            }

            await connection.DisposeAsync();
            return null;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A stable 64-bit key for a lock name (FNV-1a over its UTF-16 code units), the same on every node.</summary>
    public static long KeyOf(string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in name)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    private sealed class Held(NpgsqlConnection? connection, long key, ILogger? logger) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (connection is null)
            {
                return;
            }

            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
                command.Parameters.AddWithValue("key", key);
                await command.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
            {
                // The session is gone (the server restarted): so is the lock.
                logger?.LogDebug(exception, "Releasing cluster lock {Key}: the session had already ended", key);
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }
}
