using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Recording;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Web.Features.SystemLogs;

/// <summary>What jobs write to System Logs.</summary>
public interface IJobLog
{
    void Write(Guid organizationId, PsaVendor vendor, string job, LogLevelName level, string message);
}

/// <summary>
/// Receives every PSA call record and job event on the caller's path (cheap: a bounded queue) and writes them to the
/// database in batches. When the queue is full the oldest are dropped and counted, never the caller slowed down.
/// </summary>
internal sealed class SystemLogWriter : BackgroundService, IPsaCallRecorder, IJobLog
{
    private const int MaxBatch = 500;

    /// <summary>How long shutdown waits for the queued records to be stored (the host allows 30 s in all).</summary>
    internal static readonly TimeSpan ShutdownAllowance = TimeSpan.FromSeconds(10);
    private readonly IDbContextFactory<PortalDbContext> _dbFactory;
    private readonly ILogger<SystemLogWriter> _logger;
    private readonly TimeProvider _time;
    private readonly Channel<SystemLogEntry> _queue;

    /// <summary>The batch being written; only the writing loop touches it, and StopAsync once the loop has ended.</summary>
    private readonly List<SystemLogEntry> _batch = new(MaxBatch);
    private long _dropped;
    private volatile bool _writing;

    public SystemLogWriter(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, ILogger<SystemLogWriter> logger)
    {
        _dbFactory = dbFactory;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<SystemLogEntry>(
            new BoundedChannelOptions(50_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>Records dropped because the database could not keep up.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Record(PsaCallRecord record)
    {
        if (ToEntry(record) is { } entry)
        {
            _queue.Writer.TryWrite(entry);
        }
    }

    public void Write(Guid organizationId, PsaVendor vendor, string job, LogLevelName level, string message) =>
        _queue.Writer.TryWrite(new SystemLogEntry
        {
            OrganizationId = organizationId,
            StartedAt = _time.GetUtcNow(),
            Source = SystemLogSource.Job,
            Vendor = vendor.ToString(),
            Level = level,
            Operation = Clip(job, 100),
            Message = Clip(message, 1000),
        });

    /// <summary>Waits until everything queued so far is stored; for tests.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        while (_queue.Reader.Count > 0 || _writing)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                _writing = true;
                await WriteNextBatchAsync(stoppingToken);
                _writing = _queue.Reader.Count > 0;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync stores the batch this interrupted and what is still queued.
        }
    }

    /// <summary>
    /// At shutdown, once the writing loop has ended: the batch a stop interrupted and what is still queued are stored
    /// before the process ends. The loop may also never have begun: since .NET 10 <see cref="BackgroundService"/> starts
    /// <see cref="ExecuteAsync"/> with <c>Task.Run</c>, and a stop before that task ran cancels it unstarted (CI saw 2,000
    /// queued records and none stored).
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (ExecuteTask is null or { IsCompleted: true } && (_batch.Count > 0 || _queue.Reader.Count > 0))
        {
            await StoreWhatIsLeftAsync();
        }
    }

    /// <summary>Stores the rest for at most <see cref="ShutdownAllowance"/>; what cannot be stored by then is counted in the log.</summary>
    private async Task StoreWhatIsLeftAsync()
    {
        using var allowance = new CancellationTokenSource(ShutdownAllowance, _time);
        try
        {
            do
            {
                await WriteNextBatchAsync(allowance.Token);
            }
            while (_queue.Reader.Count > 0);
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("System Logs could not store {Count} records before shutdown", _batch.Count + _queue.Reader.Count);
        }
        finally
        {
            _writing = false;
        }
    }

    /// <summary>Tops the batch up from the queue to <see cref="MaxBatch"/>, stores it and empties it; a cancelled write leaves it for StopAsync.</summary>
    private async Task WriteNextBatchAsync(CancellationToken cancellationToken)
    {
        while (_batch.Count < MaxBatch && _queue.Reader.TryRead(out var entry))
        {
            _batch.Add(entry);
        }

        await WriteAsync(_batch, cancellationToken);
        _batch.Clear();
    }

    private async Task WriteAsync(List<SystemLogEntry> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        // While the database cannot be reached the batch waits and is tried again (new records queue up behind it, the
        // oldest dropped if the queue fills): what the PSA answered during an outage is the record people need after it.
        var waited = false;
        while (true)
        {
            try
            {
                await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
                db.SystemLog.AddRange(batch);
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException && DatabaseFailures.IsTransient(exception))
            {
                if (!waited)
                {
                    _logger.LogWarning(exception, "System Logs wait for the database to store {Count} records", batch.Count);
                    waited = true;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                _logger.LogError(exception, "Could not store {Count} PSA call records", batch.Count);
                return;
            }
        }
    }

    private static SystemLogEntry? ToEntry(PsaCallRecord record)
    {
        if (!IntegrationConnectionName.TryParse(record.ConnectionName, out var organizationId))
        {
            return null;
        }

        return new SystemLogEntry
        {
            OrganizationId = organizationId,
            StartedAt = record.StartedAt,
            Source = SystemLogSource.PsaCall,
            Vendor = record.Vendor.ToString(),
            Level = record.StatusCode switch
            {
                null or >= 500 => LogLevelName.Error,
                >= 400 => LogLevelName.Warning,
                _ => LogLevelName.Information,
            },
            Operation = Clip(record.Operation, 100),
            Method = Clip(record.Method, 10),
            Url = Clip(record.Url, 2000),
            StatusCode = record.StatusCode,
            DurationMs = (int)Math.Min(int.MaxValue, record.Duration.TotalMilliseconds),
            Attempt = record.Attempt,
            CorrelationId = Clip(record.CorrelationId, 64),
            RequestHeaders = Clip(string.Join('\n', record.RequestHeaders.Select(h => $"{h.Key}: {h.Value}")), 4000),
            Failure = record.Failure is null ? null : Clip(record.Failure, 2000),
        };
    }

    private static string Clip(string value, int maxLength) => value.Length <= maxLength ? value : value[..maxLength];
}
