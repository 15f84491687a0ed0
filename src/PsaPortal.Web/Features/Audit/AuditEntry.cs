using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace PsaPortal.Web.Features.Audit;

/// <summary>Who did what, when, in one organization. Entries are only ever added; they outlive what they describe.</summary>
public sealed class AuditEntry
{
    public const int ActionMaxLength = 100;
    public const int TextMaxLength = 500;

    public long Id { get; set; }

    public Guid OrganizationId { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>The user's id, or null for the portal itself (a scheduled job).</summary>
    public string? ActorId { get; set; }

    public required string ActorName { get; set; }

    public required string Action { get; set; }

    public string? Subject { get; set; }

    public string? Details { get; set; }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.Property(e => e.ActorId).HasMaxLength(450);
        builder.Property(e => e.ActorName).HasMaxLength(256);
        builder.Property(e => e.Action).HasMaxLength(AuditEntry.ActionMaxLength);
        builder.Property(e => e.Subject).HasMaxLength(AuditEntry.TextMaxLength);
        builder.Property(e => e.Details).HasMaxLength(AuditEntry.TextMaxLength);
        builder.HasIndex(e => new { e.OrganizationId, e.At });
    }
}
