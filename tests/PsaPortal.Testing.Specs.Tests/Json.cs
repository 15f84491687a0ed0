using System.Text.Json;

namespace PsaPortal.Testing.Specs.Tests;

/// <summary>Builds the JsonElement bodies the tests validate.</summary>
internal static class Json
{
    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>Violations as "path: message" lines, so a failing assertion shows them all.</summary>
    public static string[] Lines(ValidationReport report) => [.. report.Violations.Select(v => v.ToString())];
}
