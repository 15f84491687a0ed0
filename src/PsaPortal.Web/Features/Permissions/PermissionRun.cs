using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PsaPortal.Integrations;

namespace PsaPortal.Web.Features.Permissions;

/// <summary>One Verify Permissions pass over an integration's permission catalog, and its results as they came in.</summary>
public sealed class PermissionRun
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid OrganizationId { get; set; }

    public PsaVendor Vendor { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public required string StartedBy { get; set; }

    public int Total { get; set; }

    public int Passed { get; set; }

    public int Failed { get; set; }

    public int CouldNotCheck { get; set; }

    public List<PermissionRunResult> Results { get; set; } = [];

    public bool IsRunning => FinishedAt is null;
}

public sealed class PermissionRunResult
{
    public long Id { get; set; }

    public Guid RunId { get; set; }

    public int Order { get; set; }

    public required string Capability { get; set; }

    public required string Permission { get; set; }

    public required string HowChecked { get; set; }

    public required string Outcome { get; set; }

    public string? Message { get; set; }

    public DateTimeOffset CompletedAt { get; set; }
}

internal sealed class PermissionRunConfiguration : IEntityTypeConfiguration<PermissionRun>
{
    public void Configure(EntityTypeBuilder<PermissionRun> builder)
    {
        builder.Property(r => r.Vendor).HasConversion<string>().HasMaxLength(20);
        builder.Property(r => r.StartedBy).HasMaxLength(256);
        builder.HasIndex(r => new { r.OrganizationId, r.Vendor, r.StartedAt });
        builder.HasMany(r => r.Results).WithOne().HasForeignKey(r => r.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class PermissionRunResultConfiguration : IEntityTypeConfiguration<PermissionRunResult>
{
    public void Configure(EntityTypeBuilder<PermissionRunResult> builder)
    {
        builder.Property(r => r.Capability).HasMaxLength(40);
        builder.Property(r => r.Permission).HasMaxLength(200);
        builder.Property(r => r.HowChecked).HasMaxLength(300);
        builder.Property(r => r.Outcome).HasMaxLength(20);
        builder.Property(r => r.Message).HasMaxLength(1000);
    }
}
