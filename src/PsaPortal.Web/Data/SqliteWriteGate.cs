using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace PsaPortal.Web.Data;

/// <summary>
/// SQLite lets one transaction write at a time. Microsoft.Data.Sqlite waits for the write lock by putting the thread
/// to sleep (150 ms at a time, up to the busy timeout), so under load every waiting writer held a thread-pool thread:
/// 100 ingest requests a second took every thread, the writer holding the lock could not get one back to finish, and
/// the whole portal stalled (no billing progress, circuits closed after SignalR's 30-second client timeout). This gate
/// queues the portal's own writers in memory instead: a transaction (EF's own around SaveChanges, or an explicit one)
/// waits here without a thread before it sends BEGIN, and the next writer goes as soon as the previous one commits or
/// rolls back. A writer that cannot get in within its context's command timeout, else the connection's busy timeout
/// (Default Timeout, 30 s unless the connection string says otherwise), gets SQLite's own "database is locked" error, which
/// <see cref="DatabaseFailures.IsTransient"/> knows. Another process on the same file still meets SQLite's own lock.
/// </summary>
public sealed class SqliteWriteGate : DbTransactionInterceptor, IDbConnectionInterceptor
{
    private const int SqliteBusy = 5;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<Guid, byte> _holders = new();

    /// <summary>Writers waiting for the gate right now (for the load figures).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    private int _waiting;

    public override InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        if (!_holders.ContainsKey(eventData.ConnectionId))
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                Enter(_gate.Wait(Timeout(connection, eventData)), eventData.ConnectionId, Timeout(connection, eventData));
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        return result;
    }

    public override async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        if (!_holders.ContainsKey(eventData.ConnectionId))
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                Enter(await _gate.WaitAsync(Timeout(connection, eventData), cancellationToken), eventData.ConnectionId, Timeout(connection, eventData));
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        return result;
    }

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Leave(eventData.ConnectionId);

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Leave(eventData.ConnectionId);
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Leave(eventData.ConnectionId);

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Leave(eventData.ConnectionId);
        return Task.CompletedTask;
    }

    // A BEGIN or ROLLBACK that failed leaves no transaction. A COMMIT that failed may leave one open until the
    // transaction is disposed, which closes the connection EF opened for it (below).
    public override void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData)
    {
        if (eventData.Action != "Commit")
        {
            Leave(eventData.ConnectionId);
        }
    }

    public override Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionFailed(transaction, eventData);
        return Task.CompletedTask;
    }

    // A transaction disposed without Commit or Rollback (an exception in between) is rolled back by SQLite without an
    // interceptor call; its connection closes or is disposed right after, and that lets the next writer in.
    void IDbConnectionInterceptor.ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => Leave(eventData.ConnectionId);

    Task IDbConnectionInterceptor.ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        Leave(eventData.ConnectionId);
        return Task.CompletedTask;
    }

    void IDbConnectionInterceptor.ConnectionDisposed(DbConnection connection, ConnectionEndEventData eventData) => Leave(eventData.ConnectionId);

    Task IDbConnectionInterceptor.ConnectionDisposedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        Leave(eventData.ConnectionId);
        return Task.CompletedTask;
    }

    // The context's command timeout when it set one (the ingest API waits less), else the connection's busy timeout.
    private static TimeSpan Timeout(DbConnection connection, TransactionStartingEventData eventData) =>
        TimeSpan.FromSeconds(eventData.Context?.Database.GetCommandTimeout() is > 0 and var seconds ? seconds
            : connection is SqliteConnection { DefaultTimeout: > 0 } sqlite ? sqlite.DefaultTimeout : 30);

    private void Enter(bool entered, Guid connectionId, TimeSpan timeout)
    {
        if (!entered)
        {
            throw new SqliteException(
                $"SQLite Error 5: 'database is locked': another write of the portal's held the database for longer than the busy timeout ({timeout.TotalSeconds:0} s).",
                SqliteBusy);
        }

        _holders[connectionId] = 0;
    }

    private void Leave(Guid connectionId)
    {
        if (_holders.TryRemove(connectionId, out _))
        {
            _gate.Release();
        }
    }
}
