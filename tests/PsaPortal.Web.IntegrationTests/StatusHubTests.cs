using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Users;

namespace PsaPortal.Web.IntegrationTests;

/// <summary>The status hub relays live events to signed-in users of the event's organization, and to nobody else.</summary>
public sealed class StatusHubTests : IAsyncLifetime
{
    private readonly PortalFactory _factory = new(new PortalDatabase.Sqlite());
    private readonly List<SignalRJsonClient> _connections = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task Publish_AuditRecorded_ReachesOwnOrganizationOnly()
    {
        var northwindCookie = await SetUpAndSignInAsync();
        var contoso = await AddOrganizationWithAdminAsync("Contoso IT", "admin@contoso.example");
        var northwindEvents = await ConnectAsync(northwindCookie);
        var contosoEvents = await ConnectAsync(contoso.Cookie);
        var northwindId = await _factory.OrganizationIdAsync("Northwind MSP");

        await _factory.Services.GetRequiredService<AuditLog>().RecordAsync(northwindId, Actor.Portal, "Test event", "subject-1");

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = await northwindEvents.Invocations.ReadAsync(timeout.Token);
        Assert.Equal(StatusHub.EventMethod, received.Target);
        var envelope = received.Arguments.Single().Deserialize<PortalEventEnvelope>(JsonSerializerOptions.Web)!;
        Assert.Equal("audit.recorded", envelope.Kind);
        Assert.Equal(northwindId, envelope.OrganizationId);
        Assert.Equal("Test event", envelope.Data.GetProperty("action").GetString());
        Assert.Equal("subject-1", envelope.Data.GetProperty("subject").GetString());
        await Task.Delay(500);
        Assert.False(contosoEvents.Invocations.TryRead(out _), "Contoso's connection received Northwind's event.");
    }

    [Fact]
    public async Task Connect_SignedOut_IsRefused()
    {
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => ConnectAsync(cookie: null));

        Assert.Equal(HttpStatusCode.Unauthorized, failure.StatusCode);
    }

    private async Task<SignalRJsonClient> ConnectAsync(string? cookie)
    {
        var http = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var sockets = _factory.Server.CreateWebSocketClient();
        if (cookie is not null)
        {
            http.DefaultRequestHeaders.Add("Cookie", cookie);
            sockets.ConfigureRequest = request => request.Headers.Cookie = cookie;
        }

        var client = await SignalRJsonClient.ConnectAsync(http, new Uri(_factory.Server.BaseAddress, StatusHub.Path), sockets.ConnectAsync);
        _connections.Add(client);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(StatusHub.ReadyMethod, (await client.Invocations.ReadAsync(timeout.Token)).Target);
        return client;
    }

    private async Task<string> SetUpAndSignInAsync()
    {
        var browser = _factory.NewBrowser();
        await browser.SetUpAsync("Northwind MSP", "owner@msp.example", "Correct-Horse-42");
        return await SignInCookieAsync("owner@msp.example", "Correct-Horse-42");
    }

    private async Task<(Guid Id, string Cookie)> AddOrganizationWithAdminAsync(string name, string email)
    {
        var id = await _factory.AddOrganizationAsync(name);
        var added = await _factory.Services.GetRequiredService<UserDirectory>().AddAsync(id, Actor.Portal, email, PortalRoles.Admin);
        return (id, await SignInCookieAsync(email, added.Password!));
    }

    private async Task<string> SignInCookieAsync(string email, string password)
    {
        var (response, _) = await _factory.NewBrowser().SignInAsync(email, password);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("PsaPortal.Auth=", StringComparison.Ordinal));
        return cookie.Split(';')[0];
    }

}
