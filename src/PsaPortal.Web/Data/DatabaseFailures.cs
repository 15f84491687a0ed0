using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace PsaPortal.Web.Data;

/// <summary>
/// Which database failures pass by themselves: the server restarting or unreachable, a connection dropped, the SQLite
/// file locked for longer than the busy timeout. Work that meets one is resumed later from what was committed, never
/// failed for good (a billing run, see <c>BillingSyncJob</c>); anything else is a real error.
/// </summary>
public static class DatabaseFailures
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    public static bool IsTransient(Exception? exception) => exception switch
    {
        null => false,
        // Npgsql marks connection failures, timeouts and most server-side "try again" states itself; a server shutting
        // down (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now) is added because it ends every open
        // session of a restart.
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" } => true,
        NpgsqlException { IsTransient: true } => true,
        SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked } => true,
        DbException { IsTransient: true } => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsTransient),
        _ => IsTransient(exception.InnerException),
    };
}
