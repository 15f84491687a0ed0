using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace PsaPortal.Web.Features.SystemLogs;

public enum LogLevelName
{
    Information,
    Warning,
    Error,
}

/// <summary>One HTTP attempt a PSA client made, already redacted by the client's call recorder.</summary>
public sealed class PsaCallLogEntry
{
    public long Id { get; set; }

    public Guid OrganizationId { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public required string Vendor { get; set; }

    public LogLevelName Level { get; set; }

    public required string Operation { get; set; }

    public required string Method { get; set; }

    public required string Url { get; set; }

    public int? StatusCode { get; set; }

    public int DurationMs { get; set; }

    public int Attempt { get; set; }

    public required string CorrelationId { get; set; }

    /// <summary>Request headers with every credential replaced, as "Name: value" lines.</summary>
    public string? RequestHeaders { get; set; }

    public string? Failure { get; set; }
}

internal sealed class PsaCallLogEntryConfiguration : IEntityTypeConfiguration<PsaCallLogEntry>
{
    public void Configure(EntityTypeBuilder<PsaCallLogEntry> builder)
    {
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
