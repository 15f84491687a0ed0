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

    /// <summary>
    /// The answer was held back for the hold, give or take the runtime timer's granularity: a
    /// timer may fire a millisecond or so before its time (CI once saw 2,999.6 ms for 3,000).
    /// </summary>
    public static void HeldBack(TimeSpan answeredAfter, int holdMilliseconds) =>
        Assert.True(answeredAfter >= TimeSpan.FromMilliseconds(holdMilliseconds - 15), $"answered after {answeredAfter.TotalMilliseconds:F1} ms, expected at least {holdMilliseconds} ms");

    public static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    public static StringContent Json(object value) => Json(JsonSerializer.Serialize(value));
}
