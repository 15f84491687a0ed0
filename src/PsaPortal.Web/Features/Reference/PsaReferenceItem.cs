using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Web.Features.Reference;

/// <summary>The kinds of PSA setup data the portal keeps a local copy of (ConnectWise kinds, then Autotask kinds).</summary>
public enum PsaReferenceKind
{
    // Both PSAs
    Company,

    // ConnectWise
    Agreement,
    Addition,
    AgreementType,
    CatalogProduct,
    Board,
    BoardTeam,
    Priority,
    Source,

    // Autotask
    Contract,
    ContractService,
    Service,
    TicketQueue,
    TicketStatus,
    TicketPriority,
}

/// <summary>
/// One cached PSA record of any <see cref="PsaReferenceKind"/>, with the few fields the pages filter and show.
/// Rows are replaced by each reference sync: seen rows get the sync's generation, rows not seen are removed.
/// </summary>
public sealed class PsaReferenceItem
{
    public const int NameMaxLength = 300;
    public const int CodeMaxLength = 100;
    public const int DomainMaxLength = 253;
    public const int TypeMaxLength = 100;

    public long Id { get; set; }

    public Guid IntegrationId { get; set; }

    public PsaReferenceKind Kind { get; set; }

    /// <summary>The record's id in the PSA (for picklists, the picklist value).</summary>
    public long PsaId { get; set; }

    /// <summary>The owning record: the company of an agreement or contract, the agreement of an addition, the contract of a contract service, the board of a team.</summary>
    public long? ParentPsaId { get; set; }

    public required string Name { get; set; }

    /// <summary>Lower-case name and code, for case-insensitive search on every provider.</summary>
    public required string SearchText { get; set; }

    /// <summary>ConnectWise company identifier, catalog identifier.</summary>
    public string? Code { get; set; }

    /// <summary>The company's web site host, for domain matching.</summary>
    public string? Domain { get; set; }

    /// <summary>The product (catalog item / service) of an addition or contract service.</summary>
    public long? ProductPsaId { get; set; }

    /// <summary>Agreement type, contract type.</summary>
    public string? Type { get; set; }

    public DateOnly? StartDate { get; set; }

    public DateOnly? EndDate { get; set; }

    public bool IsActive { get; set; } = true;

    public bool IsDefault { get; set; }

    public long SyncGeneration { get; set; }

    public DateTimeOffset SyncedAt { get; set; }
}

/// <summary>How the last reference sync of one kind went, per integration.</summary>
public sealed class PsaReferenceSyncState
{
    public const int ErrorMaxLength = 1000;

    public Guid IntegrationId { get; set; }

    public PsaReferenceKind Kind { get; set; }

    public DateTimeOffset? LastSyncedAt { get; set; }

    public DateTimeOffset? LastAttemptAt { get; set; }

    public int Count { get; set; }

    public long Generation { get; set; }

    /// <summary>Why the last attempt failed; null when it succeeded.</summary>
    public string? Error { get; set; }
}

internal sealed class PsaReferenceItemConfiguration : IEntityTypeConfiguration<PsaReferenceItem>
{
    public void Configure(EntityTypeBuilder<PsaReferenceItem> builder)
    {
        builder.HasOne<Integration>().WithMany().HasForeignKey(i => i.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(i => i.Kind).HasConversion<string>().HasMaxLength(30);
        builder.Property(i => i.Name).HasMaxLength(PsaReferenceItem.NameMaxLength);
        builder.Property(i => i.SearchText).HasMaxLength(PsaReferenceItem.NameMaxLength + PsaReferenceItem.CodeMaxLength + 1);
        builder.Property(i => i.Code).HasMaxLength(PsaReferenceItem.CodeMaxLength);
        builder.Property(i => i.Domain).HasMaxLength(PsaReferenceItem.DomainMaxLength);
        builder.Property(i => i.Type).HasMaxLength(PsaReferenceItem.TypeMaxLength);
        builder.HasIndex(i => new { i.IntegrationId, i.Kind, i.PsaId }).IsUnique();
        builder.HasIndex(i => new { i.IntegrationId, i.Kind, i.ParentPsaId });
        builder.HasIndex(i => new { i.IntegrationId, i.Kind, i.Name });
    }
}

internal sealed class PsaReferenceSyncStateConfiguration : IEntityTypeConfiguration<PsaReferenceSyncState>
{
    public void Configure(EntityTypeBuilder<PsaReferenceSyncState> builder)
    {
        builder.HasKey(s => new { s.IntegrationId, s.Kind });
        builder.HasOne<Integration>().WithMany().HasForeignKey(s => s.IntegrationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(s => s.Kind).HasConversion<string>().HasMaxLength(30);
        builder.Property(s => s.Error).HasMaxLength(PsaReferenceSyncState.ErrorMaxLength);
    }
}
