using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Mapping;

/// <summary>Who put a tenant's company on its mapping.</summary>
public enum MappingOrigin
{
    /// <summary>No company yet.</summary>
    None,

    /// <summary>Filled by Suggest and not yet accepted: billing ignores it.</summary>
    Suggested,

    /// <summary>Chosen or accepted by a person; Suggest never touches it.</summary>
    Person,
}

/// <summary>
/// One tenant's place in one PSA: its company and the agreement (ConnectWise) or recurring contract (Autotask) its
/// billable counts go to. Names are copied from the cache so the row still reads well after the PSA renames or
/// removes the record.
/// </summary>
public sealed class TenantMapping
{
    public long Id { get; set; }

    public Guid IntegrationId { get; set; }

    public long TenantId { get; set; }

    public long? CompanyPsaId { get; set; }

    public string? CompanyName { get; set; }

    public MappingOrigin Origin { get; set; }

    /// <summary>The suggestion's score (0..1) while <see cref="Origin"/> is Suggested, or when it was accepted.</summary>
    public double? SuggestionScore { get; set; }

    /// <summary>How the suggestion matched: Domain, ExactName, SimilarName.</summary>
    public string? SuggestionKind { get; set; }

    /// <summary>The company of the last suggestion a person rejected; Suggest does not propose it again.</summary>
    public long? RejectedCompanyPsaId { get; set; }

    /// <summary>ConnectWise agreement or Autotask contract.</summary>
    public long? AgreementPsaId { get; set; }

    public string? AgreementName { get; set; }

    public bool ExportEnabled { get; set; }

    /// <summary>When billing last wrote this tenant's count to the PSA; remapping after that warns.</summary>
    public DateTimeOffset? LastBilledAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }
}

/// <summary>
/// Which PSA product a vendor product bills as, per integration: a ConnectWise catalog product (an addition on the
/// tenant's agreement) or an Autotask service (a contract service on the tenant's contract).
/// </summary>
public sealed class ProductMapping
{
    public long Id { get; set; }

    public Guid IntegrationId { get; set; }

    public long VendorProductId { get; set; }

    public long? PsaProductId { get; set; }

    public string? PsaProductName { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }
}

internal sealed class TenantMappingConfiguration : IEntityTypeConfiguration<TenantMapping>
{
    public void Configure(EntityTypeBuilder<TenantMapping> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(m => m.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(m => m.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(m => m.CompanyName).HasMaxLength(300);
        builder.Property(m => m.AgreementName).HasMaxLength(300);
        builder.Property(m => m.Origin).HasConversion<string>().HasMaxLength(20);
        builder.Property(m => m.SuggestionKind).HasMaxLength(20);
        builder.Property(m => m.UpdatedBy).HasMaxLength(256);
        builder.HasIndex(m => new { m.IntegrationId, m.TenantId }).IsUnique();
        builder.HasIndex(m => new { m.IntegrationId, m.AgreementPsaId });
    }
}

internal sealed class ProductMappingConfiguration : IEntityTypeConfiguration<ProductMapping>
{
    public void Configure(EntityTypeBuilder<ProductMapping> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(m => m.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<VendorProduct>().WithMany().HasForeignKey(m => m.VendorProductId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(m => m.PsaProductName).HasMaxLength(300);
        builder.Property(m => m.UpdatedBy).HasMaxLength(256);
        builder.HasIndex(m => new { m.IntegrationId, m.VendorProductId }).IsUnique();
    }
}
