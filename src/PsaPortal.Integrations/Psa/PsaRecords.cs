namespace PsaPortal.Integrations.Psa;

// PSA-neutral records the portal's features work with. Vendor DTOs stay internal to the clients;
// these carry what both PSAs share, in one vocabulary (see the Dictionary page for the terms).

/// <summary>A ConnectWise company or an Autotask company (account).</summary>
/// <param name="Website">The company's web site as the PSA holds it (ConnectWise website, Autotask webAddress).</param>
public sealed record PsaCompany(long Id, string Name, string? Identifier, string? Status, bool IsActive, string? Website = null);

public sealed record PsaContact(long Id, long? CompanyId, string FirstName, string LastName, bool IsActive);

/// <summary>A named setup value: company status, priority, source, agreement type, board (queue)…</summary>
public sealed record PsaReference(long Id, string Name, bool IsDefault = false, bool IsInactive = false);

/// <summary>A team of a ConnectWise service board; a board without a default team cannot take tickets.</summary>
public sealed record PsaBoardTeam(long Id, long BoardId, string Name, bool IsDefault);

/// <summary>A status of one service board (status ids are per board).</summary>
public sealed record PsaBoardStatus(long Id, long BoardId, string Name, bool IsClosed, bool IsDefault, bool IsInactive, int SortOrder);

/// <summary>A ConnectWise agreement or an Autotask contract.</summary>
/// <param name="Type">Agreement type name, or the Autotask contract type ("Recurring Service"…).</param>
public sealed record PsaAgreement(long Id, long CompanyId, string Name, string? Type, DateOnly? StartDate, DateOnly? EndDate, string? Status, bool IsCancelled);

/// <summary>
/// A billed line of an agreement: a ConnectWise addition or an Autotask contract service.
/// <see cref="Quantity"/> is null for Autotask, where units live in contract service units.
/// </summary>
public sealed record PsaAgreementLine(
    long Id,
    long AgreementId,
    long ProductId,
    string? ProductIdentifier,
    decimal? Quantity,
    decimal? UnitPrice,
    decimal? UnitCost,
    DateOnly? EffectiveDate,
    DateOnly? CancelledDate,
    string? Description,
    string? InvoiceDescription = null);

/// <summary>A new ConnectWise addition; a null quantity, price or cost is left out and ConnectWise applies its default (1, the catalog's price and cost).</summary>
public sealed record PsaAdditionDraft(long ProductId, decimal? Quantity, DateOnly EffectiveDate, decimal? UnitPrice = null, decimal? UnitCost = null, string? InvoiceDescription = null);

/// <summary>The units of one Autotask contract service for one billing period.</summary>
public sealed record PsaServiceUnits(long Id, long ContractId, long ContractServiceId, long ServiceId, DateOnly StartDate, DateOnly EndDate, decimal Units);

/// <summary>An Autotask contract service adjustment: <see cref="UnitChange"/> is a delta, not the new count.</summary>
public sealed record PsaUnitAdjustment(long ContractId, long ContractServiceId, DateOnly EffectiveDate, int UnitChange);

/// <summary>A ConnectWise catalog product or an Autotask service.</summary>
/// <param name="SubcategoryId">ConnectWise: the catalog item's subcategory (required when creating one); null for Autotask.</param>
/// <param name="TypeId">ConnectWise: the catalog item's product type (required when creating one); null for Autotask.</param>
public sealed record PsaProduct(long Id, string Identifier, string Description, decimal? Price, decimal? Cost, bool IsInactive, long? SubcategoryId = null, long? TypeId = null);

/// <summary>Changes to a ConnectWise catalog item; null leaves a value as it is.</summary>
public sealed record PsaProductChange(string? Description = null, decimal? Price = null, decimal? Cost = null);

/// <summary>A new ConnectWise catalog item; the subcategory and type are required by ConnectWise.</summary>
public sealed record PsaProductDraft(string Identifier, string Description, long SubcategoryId, long TypeId, decimal? Price = null, decimal? Cost = null, string? CustomerDescription = null);

/// <param name="ExternalReference">What the creator wrote on the ticket to find it again (ConnectWise externalXRef, Autotask externalID).</param>
/// <param name="TicketNumber">The number people see (Autotask ticketNumber such as T20261202.0001; ConnectWise the id).</param>
public sealed record PsaTicket(long Id, string Summary, long CompanyId, long? BoardId, long? StatusId, string? StatusName, long? PriorityId, bool IsClosed,
    string? ExternalReference = null, string? TicketNumber = null);

/// <summary>A ticket to open. Board = ConnectWise service board or Autotask queue.</summary>
public sealed record PsaTicketDraft(
    string Summary,
    long CompanyId,
    string? Description = null,
    long? BoardId = null,
    long? PriorityId = null,
    long? StatusId = null,
    long? SourceId = null,
    long? ContactId = null,
    string? ExternalReference = null);

/// <summary>Changes to a ticket; null leaves a value as it is.</summary>
/// <param name="Description">Autotask: replaces the ticket's description (ConnectWise keeps it in notes instead).</param>
public sealed record PsaTicketChange(string? Summary = null, long? StatusId = null, long? PriorityId = null, string? Description = null);

public sealed record PsaDocument(long Id, string Title, string FileName);

public sealed record PsaSystemInfo(string Version, bool IsCloud, string? CloudRegion);

/// <summary>An Autotask resource (user); API users are resources too.</summary>
public sealed record PsaResource(long Id, string UserName, string? Email, string FirstName, string LastName, bool IsActive);
