using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Testing;
using PsaPortal.Web.IntegrationTests.Api;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>
/// The corpus through the ingest API: every malformed body at every batch endpoint, and every text input as a tenant
/// name. Field-by-field payloads are Api/HostilePayloadTests' 493 generated cases; these add the shared corpus. Each is
/// answered as problem details naming the field (or stored exactly), no row changes, and /health/ready still answers.
/// </summary>
public sealed class HostileInputApiTests : IAsyncLifetime
{
    // Every endpoint that reads a body: the batches, the combined batch and each single-item PUT.
    private static readonly (string Method, string Url)[] BodyEndpoints =
    [
        ("POST", "/api/v1/tenants/batch"), ("POST", "/api/v1/products/batch"), ("POST", "/api/v1/usage/batch"), ("POST", "/api/v1/incidents/batch"),
        ("POST", "/api/v1/invoice-lines/batch"), ("POST", "/api/v1/batch"), ("PUT", "/api/v1/tenants/T-9"), ("PUT", "/api/v1/products/P-9"),
        ("PUT", "/api/v1/incidents/I-9"), ("PUT", "/api/v1/invoice-lines/L-9"),
    ];

    private ApiPortal _portal = null!;

    public async Task InitializeAsync() => _portal = await ApiPortal.StartAsync(new PortalDatabase.Sqlite());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task MalformedJson_EveryBodyAtEveryBodyEndpoint_RefusedAsProblemDetailsAndNothingStored()
    {
        var failures = new List<string>();
        var before = await _portal.CountsAsync();
        foreach (var endpoint in BodyEndpoints)
        {
            foreach (var input in HostileInputs.MalformedJsonBodies)
            {
                using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), endpoint.Url) { Content = ApiPortal.Json(input.Value) };
                var response = await _portal.Client.SendAsync(request);
                var status = (int)response.StatusCode;
                var body = await response.Content.ReadAsStringAsync();
                if (status is not (400 or 413 or 415 or 422) || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    failures.Add($"{endpoint} {input}: {status} {response.Content.Headers.ContentType?.MediaType} {body[..Math.Min(body.Length, 120)]}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(before, await _portal.CountsAsync());
        Assert.Equal(HttpStatusCode.OK, (await _portal.Client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task TenantName_EveryTextInput_RefusedNamingItemsNameOrStoredExactly()
    {
        var failures = new List<string>();
        var inputs = HostileInputs.Text;
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            var before = await _portal.CountsAsync();
            var response = await _portal.Client.PostAsync("/api/v1/tenants/batch",
                ApiPortal.Json(JsonSerializer.Serialize(new { items = new[] { new { externalId = $"H-{i}", name = input.Value } } })));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                await using var db = await _portal.Factory.CreateDbContextAsync();
                var stored = await db.Tenants.Where(t => t.ExternalId == $"H-{i}").Select(t => t.Name).SingleAsync();
                // JSON cannot carry a lone surrogate: the reader puts U+FFFD in its place, which is what is stored.
                var expected = HostileInputs.WithLoneSurrogatesReplaced(input.Value.Trim());
                if (stored != expected || HostileInputs.HasInvisibleOrControl(stored) || stored.IndexOfAny(['<', '>']) >= 0)
                {
                    failures.Add($"{input}: stored as {stored[..Math.Min(stored.Length, 80)]}");
                }

                continue;
            }

            var problem = await response.Content.ReadAsStringAsync();
            if (response.StatusCode is not (HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge)
                || !(problem.Contains("items[0].name", StringComparison.Ordinal) || response.StatusCode == HttpStatusCode.RequestEntityTooLarge))
            {
                failures.Add($"{input}: {(int)response.StatusCode} {problem[..Math.Min(problem.Length, 160)]}");
            }

            if (await _portal.CountsAsync() != before)
            {
                failures.Add($"{input}: refused but rows changed");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(HttpStatusCode.OK, (await _portal.Client.GetAsync("/health/ready")).StatusCode);
    }
}
