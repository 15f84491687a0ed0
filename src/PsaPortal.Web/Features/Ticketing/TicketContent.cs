using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PsaPortal.Integrations;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Ticketing;

/// <summary>The incident as a ticket needs it: its own fields and its tenant's name.</summary>
public sealed record TicketIncident(
    long Id,
    string ExternalId,
    string Title,
    string? Description,
    IncidentSeverity Severity,
    IncidentStatus Status,
    string TenantName,
    DateTimeOffset DetectedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ResolvedAt)
{
    public bool IsResolved => Status is IncidentStatus.Resolved or IncidentStatus.Closed;
}

/// <summary>
/// What a ticket says: its summary within the PSA's length limit, its description with the incident's details and a
/// link back to the portal, the note (ConnectWise) or description (Autotask) an update writes, and the external
/// reference that finds the ticket again.
/// </summary>
public static class TicketContent
{
    /// <summary>ConnectWise Ticket.summary is at most 100 characters (spec: <c>summary:string[&lt;=100]!</c>).</summary>
    public const int ConnectWiseSummaryMaxLength = 100;

    /// <summary>Autotask Ticket.title is at most 255 characters.</summary>
    public const int AutotaskTitleMaxLength = 255;

    /// <summary>Autotask Ticket.description is at most 8,000 characters.</summary>
    public const int AutotaskDescriptionMaxLength = 8000;

    public const string ReferencePrefix = "psaportal-";

    private const string Ellipsis = "…";

    public static int SummaryMaxLength(PsaVendor vendor) => vendor == PsaVendor.ConnectWise ? ConnectWiseSummaryMaxLength : AutotaskTitleMaxLength;

    /// <summary>
    /// "psaportal-{external id}"; an id too long for the PSA's field (ConnectWise externalXRef holds 100) keeps its
    /// start and ends with a hash of the whole id, so two long ids never share a reference.
    /// </summary>
    public static string ExternalReference(string incidentExternalId)
    {
        var reference = ReferencePrefix + incidentExternalId;
        if (reference.Length <= IncidentTicket.ReferenceMaxLength)
        {
            return reference;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(incidentExternalId)))[..16];
        return reference[..(IncidentTicket.ReferenceMaxLength - hash.Length - 1)] + "-" + hash;
    }

    /// <summary>"[Severity] Title", cut on a word boundary with "…" when it is longer than the PSA allows.</summary>
    public static string Summary(TicketIncident incident, PsaVendor vendor) => Truncate($"[{incident.Severity}] {Collapse(incident.Title)}", SummaryMaxLength(vendor));

    /// <summary>
    /// Shortens <paramref name="text"/> to at most <paramref name="maxLength"/> characters, ending in "…": at the last
    /// space when that keeps most of the room, otherwise mid-word (one very long word).
    /// </summary>
    public static string Truncate(string text, int maxLength)
    {
        text = text.Trim();
        if (text.Length <= maxLength)
        {
            return text;
        }

        var room = maxLength - Ellipsis.Length;
        var cut = text[..room];
        var space = cut.LastIndexOf(' ');
        if (space >= room / 2)
        {
            cut = cut[..space];
        }

        return cut.TrimEnd(' ', ',', ';', ':', '-', '.') + Ellipsis;
    }

    /// <summary>The ticket's first description: the incident's details, its description and where to see it in the portal.</summary>
    public static string Description(TicketIncident incident, Uri? portalUrl, PsaVendor vendor)
    {
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Security incident reported by the vendor platform.")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Severity: {incident.Severity}")
            .AppendLine(CultureInfo.InvariantCulture, $"Tenant: {incident.TenantName}")
            .AppendLine(CultureInfo.InvariantCulture, $"Detected at: {Format(incident.DetectedAt)}")
            .AppendLine(CultureInfo.InvariantCulture, $"Status: {incident.Status}")
            .AppendLine(CultureInfo.InvariantCulture, $"External id: {incident.ExternalId}");
        if (PortalLink(portalUrl, incident.Id) is { } link)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"In PsaPortal: {link}");
        }

        if (!string.IsNullOrWhiteSpace(incident.Description))
        {
            text.AppendLine().AppendLine(incident.Description.Trim());
        }

        var description = text.ToString().TrimEnd();
        return vendor == PsaVendor.Autotask ? Truncate(description, AutotaskDescriptionMaxLength) : description;
    }

    /// <summary>ConnectWise: the note an incident change adds to its ticket.</summary>
    public static string UpdateNote(TicketIncident incident, Uri? portalUrl)
    {
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Incident updated on the vendor platform at {Format(incident.UpdatedAt)}.")
            .AppendLine(CultureInfo.InvariantCulture, $"Title: {Collapse(incident.Title)}")
            .AppendLine(CultureInfo.InvariantCulture, $"Severity: {incident.Severity}")
            .AppendLine(CultureInfo.InvariantCulture, $"Status: {incident.Status}");
        if (incident.ResolvedAt is { } resolved)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Resolved at: {Format(resolved)}");
        }

        if (PortalLink(portalUrl, incident.Id) is { } link)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"In PsaPortal: {link}");
        }

        if (!string.IsNullOrWhiteSpace(incident.Description))
        {
            text.AppendLine().AppendLine(incident.Description.Trim());
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>The Tickets page filtered to the incident: <c>{Portal:PublicUrl}/tickets?incident=ID</c>; null without a public URL.</summary>
    public static string? PortalLink(Uri? portalUrl, long incidentId) =>
        portalUrl is null ? null : $"{portalUrl.AbsoluteUri.TrimEnd('/')}/tickets?incident={incidentId.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// ConnectWise: the ticket's page on the site people sign in to (the API host without its <c>api-</c> prefix), through
    /// the <c>v4_6_release</c> codebase that routes to the company's current version.
    /// </summary>
    public static string ConnectWiseTicketUrl(string siteUrl, string companyId, long ticketId)
    {
        var site = new Uri(siteUrl.Contains("://", StringComparison.Ordinal) ? siteUrl : "https://" + siteUrl);
        var host = site.Host.StartsWith("api-", StringComparison.OrdinalIgnoreCase) ? site.Host[4..] : site.Host;
        var root = new UriBuilder(site) { Host = host, Query = string.Empty, Fragment = string.Empty }.Uri.AbsoluteUri.TrimEnd('/');
        return string.Create(CultureInfo.InvariantCulture,
            $"{root}/v4_6_release/services/system_io/Service/fv_sr100_request.rails?service_recid={ticketId}&companyName={Uri.EscapeDataString(companyId)}");
    }

    /// <summary>Autotask: the ticket detail page in the zone's web application.</summary>
    public static string? AutotaskTicketUrl(Uri? webUrl, long ticketId) =>
        webUrl is null ? null : string.Create(CultureInfo.InvariantCulture, $"{webUrl.AbsoluteUri.TrimEnd('/')}/Mvc/ServiceDesk/TicketDetail.mvc?workspace=False&ids%5B0%5D={ticketId}&ticketId={ticketId}");

    private static string Collapse(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
