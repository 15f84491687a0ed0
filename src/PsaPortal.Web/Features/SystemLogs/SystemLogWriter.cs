using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations.Recording;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Web.Features.SystemLogs;

/// <summary>
/// Receives every PSA call record on the request path (cheap: a bounded queue) and writes them to the database in
/// batches. When the queue is full the oldest records are dropped and counted, never the caller slowed down.
/// </summary>
internal sealed class SystemLogWriter : BackgroundService, IPsaCallRecorder
{
    private const int MaxBatch = 500;
    private readonly IDbContextFactory<PortalDbContext> _dbFactory;
    private readonly ILogger<SystemLogWriter> _logger;
    private readonly Channel<PsaCallRecord> _queue;
    private long _dropped;
    private volatile bool _writing;

    public SystemLogWriter(IDbContextFactory<PortalDbContext> dbFactory, ILogger<SystemLogWriter> logger)
    {
        _dbFactory = dbFactory;
        _logger = logger;
        _queue = Channel.CreateBounded<PsaCallRecord>(
            new BoundedChannelOptions(50_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>Records dropped because the database could not keep up.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Record(PsaCallRecord record) => _queue.Writer.TryWrite(record);

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
        var batch = new List<PsaCallLogEntry>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                _writing = true;
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var record))
                {
                    if (ToEntry(record) is { } entry)
                    {
                        batch.Add(entry);
                    }
                }

                await WriteAsync(batch, stoppingToken);
                batch.Clear();
                _writing = _queue.Reader.Count > 0;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WriteAsync(List<PsaCallLogEntry> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
            db.PsaCallLog.AddRange(batch);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            _logger.LogError(exception, "Could not store {Count} PSA call records", batch.Count);
        }
    }

    private static PsaCallLogEntry? ToEntry(PsaCallRecord record)
    {
        if (!IntegrationConnectionName.TryParse(record.ConnectionName, out var organizationId))
        {
            return null;
        }

        return new PsaCallLogEntry
        {
            OrganizationId = organizationId,
            StartedAt = record.StartedAt,
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
