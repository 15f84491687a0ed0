using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PsaPortal.Integrations;

namespace PsaPortal.Web.Features.Integrations;

public enum IntegrationStatus
{
    NotConnected,
    Connected,
}

/// <summary>
/// One organization's link to one PSA. Secrets (the ConnectWise private key, the Autotask secret and tracking
/// identifier) are stored only as Data Protection ciphertext (<see cref="IntegrationSecrets"/>) and never leave the
/// server in clear.
/// </summary>
public sealed class Integration
{
    public const int UrlMaxLength = 300;
    public const int FieldMaxLength = 100;

    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid OrganizationId { get; set; }

    public PsaVendor Vendor { get; set; }

    public IntegrationStatus Status { get; set; }

    // ConnectWise
    public string? SiteUrl { get; set; }

    public string? CompanyId { get; set; }

    public string? PublicKey { get; set; }

    public string? ProtectedPrivateKey { get; set; }

    // Autotask
    public string? UserName { get; set; }

    public string? ProtectedSecret { get; set; }

    public string? ProtectedIntegrationCode { get; set; }

    /// <summary>Where Autotask zone discovery is asked; null for Autotask's own.</summary>
    public string? ZoneDiscoveryUrl { get; set; }

    /// <summary>What the PSA reported when the connection was last confirmed (ConnectWise version, Autotask zone).</summary>
    public string? ApiVersion { get; set; }

    public DateTimeOffset? ConnectedAt { get; set; }

    /// <summary>When every kind of PSA reference data was last copied into the portal ("Last Sync to Platform").</summary>
    public DateTimeOffset? ReferenceSyncedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }

    public bool HasCredentials => ProtectedPrivateKey is not null || ProtectedSecret is not null;
}

internal sealed class IntegrationConfiguration : IEntityTypeConfiguration<Integration>
{
    public void Configure(EntityTypeBuilder<Integration> builder)
    {
        builder.HasIndex(i => new { i.OrganizationId, i.Vendor }).IsUnique();
        builder.Property(i => i.Vendor).HasConversion<string>().HasMaxLength(20);
        builder.Property(i => i.Status).HasConversion<string>().HasMaxLength(20);
        builder.Property(i => i.SiteUrl).HasMaxLength(Integration.UrlMaxLength);
        builder.Property(i => i.ZoneDiscoveryUrl).HasMaxLength(Integration.UrlMaxLength);
        builder.Property(i => i.CompanyId).HasMaxLength(Integration.FieldMaxLength);
        builder.Property(i => i.PublicKey).HasMaxLength(Integration.FieldMaxLength);
        builder.Property(i => i.UserName).HasMaxLength(Integration.FieldMaxLength * 2);
        builder.Property(i => i.ApiVersion).HasMaxLength(Integration.FieldMaxLength);
        builder.Property(i => i.UpdatedBy).HasMaxLength(256);
    }
}
