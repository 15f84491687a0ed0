using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.ConnectWise;

/// <summary>Every ConnectWise collection the sandbox serves.</summary>
public sealed class ConnectWiseData
{
    public ConnectWiseData()
    {
        // Child collections are served per parent; the index makes one parent's read cost its own rows.
        Additions.AddIndex("agreementId");
        BoardTeams.AddIndex("boardId");
        TicketNotes.AddIndex("ticketId");
    }

    public RecordTable Companies { get; } = new("company/companies");

    public RecordTable CompanyStatuses { get; } = new("company/companies/statuses");

    public RecordTable Contacts { get; } = new("company/contacts");

    public RecordTable Boards { get; } = new("service/boards");

    public RecordTable BoardTeams { get; } = new("service/boards/teams");

    public RecordTable BoardStatuses { get; } = new("service/boards/statuses");

    public RecordTable Priorities { get; } = new("service/priorities");

    public RecordTable Sources { get; } = new("service/sources");

    public RecordTable Tickets { get; } = new("service/tickets");

    public RecordTable TicketNotes { get; } = new("service/tickets/notes");

    public RecordTable Agreements { get; } = new("finance/agreements");

    public RecordTable AgreementTypes { get; } = new("finance/agreements/types");

    public RecordTable Additions { get; } = new("finance/agreements/additions");

    public RecordTable Catalog { get; } = new("procurement/catalog");

    public RecordTable Documents { get; } = new("system/documents");

    /// <summary>
    /// The record each document is attached to (<c>{id: document id, recordType, recordId}</c>). Kept
    /// apart because <c>DocumentInfo</c> has no such fields: clients find attachments with
    /// <c>GET system/documents?recordType=…&amp;recordId=…</c>.
    /// </summary>
    public RecordTable DocumentRecords { get; } = new("system/documents/records");

    /// <summary>Each uploaded document's bytes (<c>{id: document id, content: base64}</c>), served by <c>system/documents/{id}/download</c>.</summary>
    public RecordTable DocumentContents { get; } = new("system/documents/contents");

    public IEnumerable<RecordTable> Tables =>
    [
        Companies, CompanyStatuses, Contacts, Boards, BoardTeams, BoardStatuses, Priorities, Sources, Tickets, TicketNotes,
        Agreements, AgreementTypes, Additions, Catalog, Documents, DocumentRecords, DocumentContents,
    ];

    public RecordTable? Table(string name) => Tables.FirstOrDefault(t => t.Name == name);
}
