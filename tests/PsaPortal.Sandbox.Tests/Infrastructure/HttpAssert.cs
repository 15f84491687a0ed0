using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PsaPortal.Sandbox.Tests.Infrastructure;

public static class HttpAssert
{
    public static async Task<JsonNode> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    public static async Task<JsonArray> ArrayAsync(HttpResponseMessage response) => (JsonArray)await JsonAsync(response);

    public static List<long> Ids(JsonArray items) => [.. items.Select(i => i!["id"]!.GetValue<long>())];

    public static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    public static StringContent Json(object value) => Json(JsonSerializer.Serialize(value));
}
