using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Live;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>
/// The matrix for the live status hub (each role connects, hears its own organization and never the other's, and the
/// hub offers no method a client could call to join another group) and for the ingest API (an API key of organization
/// A reads and writes A's data only, whatever the address or filter).
/// </summary>
public sealed class AuthorizationMatrixHubAndApiTests(AuthorizationMatrixPortal portal) : IClassFixture<AuthorizationMatrixPortal>, IAsyncLifetime
{
    private readonly List<SignalRJsonClient> _connections = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task Hub_SignedOut_IsRefused()
    {
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => ConnectAsync(cookie: null));

        Assert.Equal(HttpStatusCode.Unauthorized, failure.StatusCode);
    }

    [Fact]
    public async Task Hub_EachRole_HearsItsOrganizationOnly()
    {
        var listeners = new Dictionary<string, SignalRJsonClient>
        {
            ["Admin"] = await ConnectAsync(portal.Cookie(MatrixRole.Admin)),
            ["Full Member"] = await ConnectAsync(portal.Cookie(MatrixRole.FullMember)),
            ["Sales"] = await ConnectAsync(portal.Cookie(MatrixRole.Sales)),
        };
        var foreign = await ConnectAsync(portal.ForeignAdminCookie);
        var audit = portal.Factory.Services.GetRequiredService<AuditLog>();

        await audit.RecordAsync(portal.B.Id, Actor.Portal, "Matrix event", $"{AuthorizationMatrixPortal.ForeignMarker} subject");
        await audit.RecordAsync(portal.A.Id, Actor.Portal, "Matrix event", "Northwind subject");

        foreach (var (role, listener) in listeners)
        {
            var envelope = await NextMatrixEventAsync(listener);
            Assert.True(envelope.OrganizationId == portal.A.Id, $"{role} of A received an event of organization {envelope.OrganizationId}.");
            Assert.Equal("Northwind subject", envelope.Data.GetProperty("subject").GetString());
        }

        var theirs = await NextMatrixEventAsync(foreign);
        Assert.Equal(portal.B.Id, theirs.OrganizationId);
        await Task.Delay(300);
        foreach (var (role, listener) in listeners)
        {
            while (listener.Invocations.TryRead(out var extra))
            {
                Assert.DoesNotContain(AuthorizationMatrixPortal.ForeignMarker, extra.Arguments.Single().GetRawText(), StringComparison.Ordinal);
            }
        }

        while (foreign.Invocations.TryRead(out var extra))
        {
            Assert.DoesNotContain("Northwind", extra.Arguments.Single().GetRawText(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Hubs_OfferNoMethodToClients()
    {
        // Clients can call any public method of a hub. The portal's hubs take the group from the signed-in user's claims
        // when the connection opens; a method taking an organization or a group name would let a client choose.
        var hubs = portal.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => e.Metadata.GetMetadata<HubMetadata>()?.HubType)
            .OfType<Type>().Where(t => t.Assembly == typeof(StatusHub).Assembly).Distinct().ToList();
        var callable = hubs.SelectMany(h => h.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.Name is not (nameof(Hub.OnConnectedAsync) or nameof(Hub.OnDisconnectedAsync)))
            .Select(m => $"{h.Name}.{m.Name}")).ToList();

        Assert.Equal([typeof(StatusHub)], hubs);
        Assert.True(callable.Count == 0,
            "These hub methods can be called by any connected client; add a rule to the authorization matrix and a test of who may call them: " + string.Join(", ", callable));
    }

    [Fact]
    public async Task Api_KeyOfA_ListsAndFiltersOnlyA()
    {
        using var client = portal.RawClient(apiToken: portal.A.ApiToken);

        foreach (var url in new[]
                 {
                     "/api/v1/tenants", "/api/v1/tenants?pageSize=500", "/api/v1/tenants/t-1", "/api/v1/tenants/t-1/usage",
                     "/api/v1/tenants/t-1/usage/history", "/api/v1/tenants/t-1/usage/history?partNumber=p-1", "/api/v1/products", "/api/v1/products/p-1",
                     "/api/v1/incidents", "/api/v1/incidents/inc-1", "/api/v1/invoice-lines", "/api/v1/invoice-lines?invoiceMonth=2026-11",
                     "/api/v1/invoice-lines/line-1",
                 })
        {
            using var response = await client.GetAsync(url);
            var body = await response.Content.ReadAsStringAsync();

            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)response.StatusCode}: {body}");
            Assert.DoesNotContain(AuthorizationMatrixPortal.ForeignMarker, body, StringComparison.OrdinalIgnoreCase);
        }

        using var own = await client.GetAsync("/api/v1/tenants/t-1");
        Assert.Contains("Northwind Tenant", await own.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Api_KeyOfA_CannotReadOrChangeBsOwnRecords()
    {
        using var b = portal.RawClient(apiToken: portal.B.ApiToken);
        using var a = portal.RawClient(apiToken: portal.A.ApiToken);
        using (var created = await b.PutAsync("/api/v1/tenants/only-zebra", Json(new { name = "Zebra Only Tenant" })))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var read = await a.GetAsync("/api/v1/tenants/only-zebra");
        using var usage = await a.GetAsync("/api/v1/tenants/only-zebra/usage");
        using var deleted = await a.DeleteAsync("/api/v1/tenants/only-zebra");
        using var incident = await a.PutAsync("/api/v1/incidents/inc-zebra",
            Json(new { tenantExternalId = "only-zebra", title = "Planted", severity = "High", status = "Open", detectedAt = "2026-11-29T12:00:00Z" }));

        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, usage.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, incident.StatusCode);
        await using var db = await portal.Factory.CreateDbContextAsync();
        var tenant = await db.Tenants.SingleAsync(t => t.ExternalId == "only-zebra");
        Assert.Equal((portal.B.Id, "Zebra Only Tenant", PsaPortal.Web.Features.Platform.TenantStatus.Active), (tenant.OrganizationId, tenant.Name, tenant.Status));
        Assert.False(await db.Incidents.AnyAsync(i => i.ExternalId == "inc-zebra"));
    }

    [Fact]
    public async Task Api_KeyOfA_WritesTheSameExternalIdInAOnly()
    {
        using var a = portal.RawClient(apiToken: portal.A.ApiToken);

        using var response = await a.PutAsync("/api/v1/products/p-1", Json(new { name = "Northwind Product", cost = 1, retailPrice = 3, recurring = true }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var db = await portal.Factory.CreateDbContextAsync();
        var theirs = await db.VendorProducts.SingleAsync(p => p.OrganizationId == portal.B.Id && p.PartNumber == "p-1");
        Assert.Equal(("Zebra Product", 2m), (theirs.Name, theirs.RetailPrice));
    }

    private static StringContent Json(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

    private static async Task<PortalEventEnvelope> NextMatrixEventAsync(SignalRJsonClient listener)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var invocation = await listener.Invocations.ReadAsync(timeout.Token);
            if (invocation.Target != StatusHub.EventMethod)
            {
                continue;
            }

            var envelope = invocation.Arguments.Single().Deserialize<PortalEventEnvelope>(JsonSerializerOptions.Web)!;
            if (envelope.Kind == "audit.recorded" && envelope.Data.GetProperty("action").GetString() == "Matrix event")
            {
                return envelope;
            }
        }
    }

    private async Task<SignalRJsonClient> ConnectAsync(string? cookie)
    {
        var http = portal.Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var sockets = portal.Factory.Server.CreateWebSocketClient();
        if (cookie is not null)
        {
            http.DefaultRequestHeaders.Add("Cookie", cookie);
            sockets.ConfigureRequest = request => request.Headers.Cookie = cookie;
        }

        var client = await SignalRJsonClient.ConnectAsync(http, new Uri(portal.Factory.Server.BaseAddress, StatusHub.Path), sockets.ConnectAsync);
        _connections.Add(client);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(StatusHub.ReadyMethod, (await client.Invocations.ReadAsync(timeout.Token)).Target);
        return client;
    }
}
