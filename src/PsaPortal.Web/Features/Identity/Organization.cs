using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace PsaPortal.Web.Features.Identity;

/// <summary>A partner MSP. Every user belongs to exactly one; no organization ever sees another's data.</summary>
public sealed class Organization
{
    public const int NameMaxLength = 200;

    public Guid Id { get; set; } = Guid.NewGuid();

    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class OrganizationConfiguration : IEntityTypeConfiguration<Organization>
{
    public void Configure(EntityTypeBuilder<Organization> builder)
    {
        builder.Property(o => o.Name).HasMaxLength(Organization.NameMaxLength);
        builder.HasIndex(o => o.Name).IsUnique();
    }
}
