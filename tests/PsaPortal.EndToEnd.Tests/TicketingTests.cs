using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PsaPortal.Integrations;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Core;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Ticketing;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>
/// Ticketing in Chromium against the real engine and the built-in ConnectWise sandbox: an operator turns ticketing on
/// in the Ticketing panel, the platform pushes incidents through the ingest API, and the Tickets page — never reloaded —
/// shows each ticket appear with its ConnectWise link, a tenant without a company fail with the reason, the resolved
/// incident's ticket turn Closed, and Retry after the fix create the missing ticket.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class TicketingTests(PortalUnderTest portal)
{
    private const int MappedCompany = 7;
    private const int DefaultCompany = 9;

    private PsaSandbox Sandbox => portal.GetService<PsaSandbox>();

    [Fact]
    public async Task IncidentsThroughTheApi_TicketsAppearLiveWithPsaLinks_FailureRetried_ResolvedTicketTurnsClosedLive()
    {
        var organization = await portal.CreateOrganizationAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxFullPublic01", "SbxFullPrivate01");
        var integrationId = await WaitForReferenceSyncAsync(organization);
        var token = (await portal.GetService<ApiKeyService>().CreateAsync(LivePortal.AdminOf(organization), "Platform")).Token!;
        using var api = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var run = Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        var (mappedTenant, unmappedTenant) = ($"tn-{run}-m", $"tn-{run}-u");
        await PutAsync(api, $"/api/v1/tenants/{mappedTenant}", new { name = $"Mapped Tenant {run}", status = "Active" });
        await PutAsync(api, $"/api/v1/tenants/{unmappedTenant}", new { name = $"Unmapped Tenant {run}", status = "Active" });
        await MapTenantAsync(integrationId, mappedTenant);

        var (page, errors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(page, organization.Operator);
        await page.GotoAsync("/tickets");
        await LivePortal.WaitForCircuitAsync(page);
        var empty = page.Locator("[data-testid=empty-state]");
        await Assertions.Expect(empty).ToContainTextAsync("Ticketing is off — turn it on under Integrations → ConnectWise → Ticketing");

        // Turn ticketing on in the panel the empty state leads to: board, closed status, default priority, then the switch.
        await empty.GetByText("Open ConnectWise settings").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/integrations/connectwise$"));
        var panel = page.Locator("[data-testid=ticketing-settings]");
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-Board]"), "Help Desk");
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-result]")).ToContainTextAsync("Help Desk");
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-ClosedStatus]"), null);
        await ChooseAsync(page, panel.Locator("[data-testid=ticketing-DefaultPriority]"), null);
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-missing]")).ToHaveCountAsync(0);
        await panel.Locator("[data-testid=ticketing-enabled]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=ticketing-enabled-label]")).ToHaveTextAsync("On: new incidents become tickets");

        await page.GotoAsync("/tickets");
        await LivePortal.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("[data-testid=empty-state]")).ToContainTextAsync("No incidents yet");
        // From here on the page must change only through live events: a reload would drop this marker.
        await page.EvaluateAsync("() => window.ticketsNotReloaded = true");

        var (resolved, failing, open) = ($"INC-{run}-1", $"INC-{run}-2", $"INC-{run}-3");
        var detected = DateTimeOffset.UtcNow.AddMinutes(-10);
        await PutIncidentAsync(api, resolved, mappedTenant, "Ransomware behaviour blocked on FILESRV01", "Critical", "Open", detected, detected);
        await PutIncidentAsync(api, failing, unmappedTenant, "Impossible travel sign-in for j.doe", "High", "Open", detected.AddMinutes(1), detected.AddMinutes(1));
        await PutIncidentAsync(api, open, mappedTenant, "Mailbox forwarding rule to an outside address", "Medium", "Open", detected.AddMinutes(2), detected.AddMinutes(2));

        // Each ticket appears with its ConnectWise number, linked to the ticket in ConnectWise in a new tab.
        var grid = page.Locator("[data-testid=tickets-grid]");
        var resolvedRow = Row(page, resolved);
        await Assertions.Expect(resolvedRow.Locator("[data-testid=ticket-state]")).ToHaveAttributeAsync("data-state", nameof(TicketState.Open), new() { Timeout = 60_000 });
        await Assertions.Expect(Row(page, open).Locator("[data-testid=ticket-state]")).ToHaveAttributeAsync("data-state", nameof(TicketState.Open), new() { Timeout = 60_000 });
        var stored = await TicketOfAsync(resolved);
        var link = resolvedRow.Locator("a[data-testid=ticket-link]");
        await Assertions.Expect(link.Locator("[data-testid=ticket-number]")).ToHaveTextAsync(stored.TicketNumber!);
        await Assertions.Expect(link).ToHaveAttributeAsync("href", stored.TicketUrl!);
        await Assertions.Expect(link).ToHaveAttributeAsync("target", "_blank");
        Assert.Contains("noopener", (await link.GetAttributeAsync("rel"))!.Split(' '));
        Assert.Contains($"service_recid={stored.TicketPsaId}", stored.TicketUrl, StringComparison.Ordinal);
        var psaTicket = Sandbox.ConnectWise.Data.Tickets.Find(stored.TicketPsaId!.Value)!;
        Assert.Equal("[Critical] Ransomware behaviour blocked on FILESRV01", JsonRecords.GetString(psaTicket["summary"]));
        Assert.Equal(MappedCompany, JsonRecords.GetId(psaTicket["company"]!.AsObject()));
        await Assertions.Expect(resolvedRow.Locator("[data-testid=incident-tenant]")).ToHaveTextAsync($"Mapped Tenant {run}");
        await Assertions.Expect(resolvedRow.Locator("[data-testid=ticket-psa]")).ToHaveTextAsync("ConnectWise");

        // The tenant without a company fails with the reason, and an operator may retry it.
        var failingRow = Row(page, failing);
        await Assertions.Expect(failingRow.Locator("[data-testid=ticket-state]")).ToHaveAttributeAsync("data-state", nameof(TicketState.Failed), new() { Timeout = 60_000 });
        await Assertions.Expect(failingRow.Locator("[data-testid=ticket-error]"))
            .ToHaveTextAsync($"Tenant Unmapped Tenant {run} is not mapped to a ConnectWise company and the ticketing settings name no default company.");
        await Assertions.Expect(failingRow.Locator("[data-testid=retry-ticket]")).ToBeEnabledAsync();
        await Assertions.Expect(page.Locator("[data-testid=retry-all-failed]")).ToContainTextAsync("Retry all failed (1)");

        // The platform resolves the first incident: its ticket is closed in ConnectWise and the row turns Closed.
        await PutIncidentAsync(api, resolved, mappedTenant, "Ransomware behaviour blocked on FILESRV01", "Critical", "Resolved", detected, DateTimeOffset.UtcNow);
        await Assertions.Expect(resolvedRow.Locator("[data-testid=ticket-state]")).ToHaveAttributeAsync("data-state", nameof(TicketState.Closed), new() { Timeout = 60_000 });
        Assert.Equal(TicketState.Closed, (await TicketOfAsync(resolved)).State);
        var closedStatus = Sandbox.ConnectWise.Data.Tickets.Find(stored.TicketPsaId.Value)!["status"]!.AsObject();
        var boardStatus = Sandbox.ConnectWise.Data.BoardStatuses.Find(JsonRecords.GetId(closedStatus))!;
        Assert.True(JsonRecords.GetBoolean(boardStatus["closedStatus"]));
        await Assertions.Expect(page.Locator(".rz-notification-item")).ToHaveCountAsync(0, new() { Timeout = 20_000 });
        await Assertions.Expect(grid.Locator("tbody tr[data-incident]")).ToHaveCountAsync(3);
        await LivePortal.ScreenshotAsync(page, "tickets-page");

        // Fixed in the settings (a default company), Retry creates the ticket, live.
        var fixedDefault = await portal.GetService<TicketingSettingsService>().SetAsync(LivePortal.AdminOf(organization), PsaVendor.ConnectWise, TicketingField.DefaultCompany, DefaultCompany);
        Assert.True(fixedDefault.Succeeded, fixedDefault.Message);
        await failingRow.Locator("[data-testid=retry-ticket]").ClickAsync();
        await Assertions.Expect(failingRow.Locator("[data-testid=ticket-state]")).ToHaveAttributeAsync("data-state", nameof(TicketState.Open), new() { Timeout = 60_000 });
        await Assertions.Expect(failingRow.Locator("a[data-testid=ticket-link] [data-testid=ticket-number]")).ToHaveTextAsync((await TicketOfAsync(failing)).TicketNumber!);
        await Assertions.Expect(failingRow.Locator("[data-testid=ticket-error]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=retry-all-failed]")).ToHaveCountAsync(0);
        Assert.True(await page.EvaluateAsync<bool>("() => window.ticketsNotReloaded === true"), "The Tickets page reloaded instead of updating live.");

        // The link a ticket's description carries back: the Tickets page filtered to that incident.
        var incidentId = (await TicketOfAsync(failing)).IncidentId;
        await page.GotoAsync($"/tickets?incident={incidentId}");
        await LivePortal.WaitForCircuitAsync(page);
        await Assertions.Expect(grid.Locator("tbody tr[data-incident]")).ToHaveCountAsync(1);
        await Assertions.Expect(Row(page, failing)).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=incident-filter]")).ToContainTextAsync(incidentId.ToString(CultureInfo.InvariantCulture));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Filters_LiveInTheAddress_AndSalesSeesRetryDisabledWithTheReason()
    {
        var organization = await portal.CreateOrganizationAsync();
        await portal.LinkConnectWiseAsync(organization, "SbxFullPublic01", "SbxFullPrivate01");
        var integrationId = await WaitForReferenceSyncAsync(organization);
        var run = Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        await SeedFailedTicketsAsync(organization.Id, integrationId, run);

        var (page, errors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(page, organization.Sales);
        await page.GotoAsync("/tickets");
        await LivePortal.WaitForCircuitAsync(page);
        // Ticketing is off for this organization: the rows are there, with the way to turn it on above them.
        await Assertions.Expect(page.Locator("[data-testid=ticketing-off]")).ToContainTextAsync("Ticketing is off — turn it on under Integrations → ConnectWise → Ticketing");
        await Assertions.Expect(page.Locator("[data-testid=tickets-grid] tbody tr[data-incident]")).ToHaveCountAsync(3);
        var retry = page.Locator("[data-testid=retry-ticket]");
        await Assertions.Expect(retry).ToHaveCountAsync(2);
        await Assertions.Expect(retry.First).ToBeDisabledAsync();
        await Assertions.Expect(retry.First).ToHaveAttributeAsync("title", TicketsPage.SalesRefused);
        await Assertions.Expect(page.Locator("[data-testid=retry-all-failed]")).ToBeDisabledAsync();

        // Failed only and a search go into the address; the same address opened afresh shows the same rows.
        await page.Locator("[data-testid=tickets-failed-only]").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"/tickets\?failed=true$"));
        await Assertions.Expect(page.Locator("[data-testid=tickets-grid] tbody tr[data-incident]")).ToHaveCountAsync(2);
        await page.Locator("[data-testid=tickets-search]").FillAsync($"INC-{run}-2");
        await page.Locator("[data-testid=tickets-search]").PressAsync("Enter");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($@"/tickets\?failed=true&q=INC-{run}-2$"));
        await Assertions.Expect(page.Locator("[data-testid=tickets-grid] tbody tr[data-incident]")).ToHaveCountAsync(1);
        var shared = page.Url;
        var (other, otherErrors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(other, organization.Operator);
        await other.GotoAsync(shared);
        await LivePortal.WaitForCircuitAsync(other);
        await Assertions.Expect(Row(other, $"INC-{run}-2")).ToBeVisibleAsync();
        await Assertions.Expect(other.Locator("[data-testid=tickets-grid] tbody tr[data-incident]")).ToHaveCountAsync(1);
        await Assertions.Expect(other.Locator("[data-testid=tickets-failed-only] .rz-chkbox-box")).ToHaveClassAsync(new Regex("rz-state-active"));

        // A state that does not exist is named, and every state is shown.
        await other.GotoAsync("/tickets?state=Bogus");
        await LivePortal.WaitForCircuitAsync(other);
        await Assertions.Expect(other.Locator("[data-testid=query-problem]")).ToContainTextAsync("There is no ticket state \"Bogus\"; showing every state.");
        await Assertions.Expect(other.Locator("[data-testid=tickets-grid] tbody tr[data-incident]")).ToHaveCountAsync(3);
        Assert.Empty(errors);
        Assert.Empty(otherErrors);
    }

    // ------------------------------------------------------------ helpers

    private static ILocator Row(IPage page, string incident) => page.Locator($"[data-testid=tickets-grid] tbody tr[data-incident='{incident}']");

    /// <summary>Opens a Radzen drop-down and picks the item with <paramref name="text"/> (the first item when null).</summary>
    private static async Task ChooseAsync(IPage page, ILocator dropDown, string? text)
    {
        await dropDown.ClickAsync();
        var items = page.Locator(".rz-dropdown-panel:visible .rz-dropdown-item");
        await (text is null ? items.First : items.Filter(new() { HasText = text }).First).ClickAsync();
        await Assertions.Expect(page.Locator(".rz-dropdown-panel:visible")).ToHaveCountAsync(0);
    }

    private static async Task PutAsync(HttpClient api, string path, object body)
    {
        var response = await api.PutAsJsonAsync(path, body);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static Task PutIncidentAsync(HttpClient api, string externalId, string tenant, string title, string severity, string status, DateTimeOffset detectedAt, DateTimeOffset updatedAt) =>
        PutAsync(api, $"/api/v1/incidents/{externalId}", new
        {
            tenantExternalId = tenant, title, description = "Raised by the vendor platform's detection engine.", severity, status,
            detectedAt = detectedAt.ToString("O", CultureInfo.InvariantCulture), updatedAt = updatedAt.ToString("O", CultureInfo.InvariantCulture),
            resolvedAt = status == "Resolved" ? updatedAt.ToString("O", CultureInfo.InvariantCulture) : null,
        });

    private async Task<Guid> WaitForReferenceSyncAsync(TestOrganization organization)
    {
        await using var db = await portal.Factory.CreateDbContextAsync();
        var integrationId = await db.Integrations.Where(i => i.OrganizationId == organization.Id).Select(i => i.Id).SingleAsync();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await db.Integrations.Where(i => i.Id == integrationId).Select(i => i.ReferenceSyncedAt).SingleAsync() is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "The reference sync after linking did not finish in time.");
            await Task.Delay(100);
        }

        return integrationId;
    }

    private async Task MapTenantAsync(Guid integrationId, string tenantExternalId)
    {
        await using var db = await portal.Factory.CreateDbContextAsync();
        var tenantId = await db.Tenants.Where(t => t.ExternalId == tenantExternalId).Select(t => t.Id).SingleAsync();
        db.TenantMappings.Add(new TenantMapping
        {
            IntegrationId = integrationId, TenantId = tenantId, CompanyPsaId = MappedCompany, CompanyName = Sandbox.SeedData.Companies.Single(c => c.Number == MappedCompany).Name,
            Origin = MappingOrigin.Person, UpdatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync();
    }

    private async Task<IncidentTicket> TicketOfAsync(string incidentExternalId)
    {
        await using var db = await portal.Factory.CreateDbContextAsync();
        return await (from t in db.IncidentTickets
                      join i in db.Incidents on t.IncidentId equals i.Id
                      where i.ExternalId == incidentExternalId
                      select t).AsNoTracking().SingleAsync();
    }

    /// <summary>Three incidents of an organization without ticketing on: two whose tickets failed earlier, one closed.</summary>
    private async Task SeedFailedTicketsAsync(Guid organizationId, Guid integrationId, string run)
    {
        var now = DateTimeOffset.UtcNow;
        await using var db = await portal.Factory.CreateDbContextAsync();
        var tenant = new Web.Features.Platform.Tenant
        {
            OrganizationId = organizationId, ExternalId = $"tn-{run}", Name = $"Tenant {run}", Status = Web.Features.Platform.TenantStatus.Active, CreatedAt = now, UpdatedAt = now,
        };
        db.Tenants.Add(tenant);
        await db.SaveChangesAsync();
        for (var number = 1; number <= 3; number++)
        {
            var incident = new Web.Features.Platform.Incident
            {
                OrganizationId = organizationId, ExternalId = $"INC-{run}-{number}", TenantId = tenant.Id, Title = $"Incident {number}",
                Severity = Web.Features.Platform.IncidentSeverity.High, Status = Web.Features.Platform.IncidentStatus.Open,
                DetectedAt = now.AddMinutes(-number), UpdatedAt = now.AddMinutes(-number), ReceivedAt = now,
            };
            db.Incidents.Add(incident);
            await db.SaveChangesAsync();
            db.IncidentTickets.Add(new IncidentTicket
            {
                OrganizationId = organizationId, IntegrationId = integrationId, IncidentId = incident.Id, ExternalReference = $"psaportal-{incident.ExternalId}",
                State = number == 3 ? TicketState.Closed : TicketState.Failed, FailedStep = number == 3 ? null : "Create", TicketNumber = number == 3 ? "4242" : null,
                Error = number == 3 ? null : "ConnectWise API user does not have permission to access Service > Priority", Attempts = number, CreatedAt = now, UpdatedAt = now,
            });
        }

        await db.SaveChangesAsync();
    }
}
