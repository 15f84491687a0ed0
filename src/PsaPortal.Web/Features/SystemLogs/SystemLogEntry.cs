using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace PsaPortal.Web.Features.SystemLogs;

public enum LogLevelName
{
    Information,
    Warning,
    Error,
}

public enum SystemLogSource
{
    PsaCall,
    Job,
}

/// <summary>
/// One line of System Logs: an HTTP attempt a PSA client made (already redacted by the client's call recorder), or
/// an event of a background job (started, finished, failed).
/// </summary>
public sealed class SystemLogEntry
{
    public long Id { get; set; }

    public Guid OrganizationId { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public SystemLogSource Source { get; set; }

    public required string Vendor { get; set; }

    public LogLevelName Level { get; set; }

    /// <summary>The client call (e.g. ListAdditions) or the job (e.g. Verify Permissions).</summary>
    public required string Operation { get; set; }

    public string? Method { get; set; }

    public string? Url { get; set; }

    /// <summary>What a job event says, for a person.</summary>
    public string? Message { get; set; }

    public int? StatusCode { get; set; }

    public int DurationMs { get; set; }

    public int Attempt { get; set; }

    public string? CorrelationId { get; set; }

    /// <summary>Request headers with every credential replaced, as "Name: value" lines.</summary>
    public string? RequestHeaders { get; set; }

    public string? Failure { get; set; }
}

internal sealed class SystemLogEntryConfiguration : IEntityTypeConfiguration<SystemLogEntry>
{
    public void Configure(EntityTypeBuilder<SystemLogEntry> builder)
    {
        builder.Property(e => e.Source).HasConversion<string>().HasMaxLength(20);
        builder.Property(e => e.Message).HasMaxLength(1000);
        builder.Property(e => e.Vendor).HasMaxLength(20);
        builder.Property(e => e.Level).HasConversion<string>().HasMaxLength(20);
        builder.Property(e => e.Operation).HasMaxLength(100);
        builder.Property(e => e.Method).HasMaxLength(10);
        builder.Property(e => e.Url).HasMaxLength(2000);
        builder.Property(e => e.CorrelationId).HasMaxLength(64);
        builder.Property(e => e.RequestHeaders).HasMaxLength(4000);
        builder.Property(e => e.Failure).HasMaxLength(2000);
        builder.HasIndex(e => new { e.OrganizationId, e.StartedAt });
    }
}
