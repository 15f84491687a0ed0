using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.IntegrationTests.Api;

/// <summary>How many rows each platform table holds: what a refused request must leave as it was.</summary>
public sealed record PlatformRowCounts(int Tenants, int Products, int Usage, int History, int Incidents, int InvoiceLines);

/// <summary>
/// The real portal (in-memory test server, real database) with one organization and an API key for it, and an HTTP
/// client that sends the key.
/// </summary>
public sealed class ApiPortal : IAsyncDisposable
{
    private ApiPortal(PortalFactory factory, Guid organizationId, string token)
    {
        Factory = factory;
        OrganizationId = organizationId;
        Token = token;
        Client = ClientWith(token);
    }

    public PortalFactory Factory { get; }

    public Guid OrganizationId { get; }

    public string Token { get; }

    /// <summary>Sends the organization's key as <c>Authorization: Bearer</c>.</summary>
    public HttpClient Client { get; }

    public static async Task<ApiPortal> StartAsync(PortalDatabase database, string organization = "Northwind MSP")
    {
        var factory = new PortalFactory(database);
        var organizationId = await factory.AddOrganizationAsync(organization);
        var token = await CreateKeyAsync(factory, organizationId, "Platform sync");
        return new ApiPortal(factory, organizationId, token);
    }

    public static async Task<string> CreateKeyAsync(PortalFactory factory, Guid organizationId, string name)
    {
        var created = await factory.Services.GetRequiredService<ApiKeyService>().CreateAsync(User(organizationId, PortalRoles.Admin), name);
        Assert.True(created.Succeeded, created.Message);
        return created.Token!;
    }

    /// <summary>A signed-in user of the organization as the portal's services see one.</summary>
    public static ClaimsPrincipal User(Guid organizationId, string role, string email = "admin@msp.example") => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, $"user-{role}"),
            new Claim(ClaimTypes.Name, email),
            new Claim(ClaimTypes.Role, role),
            new Claim(PortalClaims.OrganizationId, organizationId.ToString()),
        ],
        "Test"));

    public HttpClient ClientWith(string? token)
    {
        var client = Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async Task<PlatformRowCounts> CountsAsync()
    {
        await using var db = await Factory.CreateDbContextAsync();
        return new PlatformRowCounts(
            await db.Tenants.CountAsync(), await db.VendorProducts.CountAsync(), await db.TenantUsage.CountAsync(),
            await db.TenantUsageHistory.CountAsync(), await db.Incidents.CountAsync(), await db.InvoiceLines.CountAsync());
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static StringContent Json(object value) => Json(JsonSerializer.Serialize(value, JsonSerializerOptions.Web));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
    }
}

/// <summary>Reads what the API answered, and says what it was when it was not what a test expected.</summary>
public static class ApiResponses
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response, System.Net.HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>A problem details answer: its status, media type, and the body to look into.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, System.Net.HttpStatusCode expected)
    {
        var problem = await response.JsonAsync(expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>The messages of a validation problem, by field path.</summary>
    public static Dictionary<string, string[]> Errors(this JsonElement problem) =>
        problem.GetProperty("errors").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(m => m.GetString()!).ToArray());

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, object body) =>
        client.PutAsync(url, ApiPortal.Json(body));

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body) =>
        client.PostAsync(url, ApiPortal.Json(body));

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(JsonSerializerOptions.Web))!;
}
