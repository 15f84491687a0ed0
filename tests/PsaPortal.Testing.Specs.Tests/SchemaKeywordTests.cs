using static PsaPortal.Testing.Specs.Tests.Json;

namespace PsaPortal.Testing.Specs.Tests;

/// <summary>Validator corners the vendor files barely reach, checked against a small purpose-made document.</summary>
public sealed class SchemaKeywordTests : IDisposable
{
    private const string Document = """
        {
          "openapi": "3.0.1",
          "servers": [ { "url": "https://{host}/api" } ],
          "paths": {
            "/widgets": {
              "post": {
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/WidgetAlias" } } } },
                "responses": { "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Combined" } } } } }
              },
              "put": {
                "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Loop1" } } } },
                "responses": { "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Missing" } } } } }
              }
            }
          },
          "components": {
            "schemas": {
              "WidgetAlias": { "$ref": "#/components/schemas/WidgetAlias2" },
              "WidgetAlias2": { "$ref": "#/components/schemas/Widget" },
              "Widget": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": false,
                "properties": {
                  "name": { "type": "string", "maxLength": 5 },
                  "tags": { "type": "array", "items": { "type": "string", "enum": ["a", "b"] } },
                  "blob": { "type": "string", "format": "byte" }
                }
              },
              "Combined": { "allOf": [ { "$ref": "#/components/schemas/Widget" } ] },
              "Loop1": { "$ref": "#/components/schemas/Loop2" },
              "Loop2": { "$ref": "#/components/schemas/Loop1" }
            }
          }
        }
        """;

    private readonly string _file = Path.Combine(Path.GetTempPath(), $"keyword-spec-{Guid.NewGuid():N}.json");
    private readonly VendorSpec _spec;

    public SchemaKeywordTests()
    {
        File.WriteAllText(_file, Document);
        _spec = VendorSpec.Load(_file, new VendorSpecOptions { DisplayName = "Widgets" });
    }

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void ApiRoot_ServerUrlWithVariables_KeepsOnlyLiteralPath()
    {
        Assert.Equal("/api", _spec.ApiRoot);
    }

    [Fact]
    public void ValidateRequest_ChainOfReferences_ValidatesAgainstFinalSchemaAndNamesIt()
    {
        var body = Parse("""{ "name": "toolong", "tags": ["a", "c"], "blob": "not base64!", "extra": 1 }""");

        var report = _spec.ValidateRequest(HttpMethod.Post, "/widgets", body);

        Assert.Equal(
            [
                "$.name: length 7 exceeds maxLength 5",
                "$.tags[1]: expected one of [a, b], got \"c\"",
                "$.blob: expected base64 (format byte), got text that is not base64",
                "$.extra: property is not allowed by Widget (additionalProperties: false)",
            ],
            Lines(report));
    }

    [Fact]
    public void ValidateRequest_AdditionalPropertiesFalse_HoldsEvenWhenUnknownPropertiesAllowed()
    {
        var report = _spec.ValidateRequest(HttpMethod.Post, "/widgets", Parse("""{ "name": "ok", "extra": 1 }"""),
            options: new ValidationOptions { AllowUnknownProperties = true });

        Assert.Equal(["$.extra: property is not allowed by Widget (additionalProperties: false)"], Lines(report));
    }

    [Fact]
    public void ValidateResponse_SchemaUsingAllOf_ReportsUnsupportedKeywordInsteadOfPassing()
    {
        var report = _spec.ValidateResponse(HttpMethod.Post, "/widgets", 200, Parse("""{ "name": "ok" }"""));

        Assert.Equal(["$: schema Combined uses 'allOf', which this validator does not implement"], Lines(report));
    }

    [Fact]
    public void ValidateRequest_CircularReference_ReportsInsteadOfLooping()
    {
        var report = _spec.ValidateRequest(HttpMethod.Put, "/widgets", Parse("{}"));

        Assert.Contains("is longer than 32 hops (circular?)", Assert.Single(report.Violations).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateResponse_DanglingReference_ReportsUnresolvedReference()
    {
        var report = _spec.ValidateResponse(HttpMethod.Put, "/widgets", 200, Parse("{}"));

        Assert.Equal([$"$: schema reference '#/components/schemas/Missing' does not resolve in {Path.GetFileName(_file)}"], Lines(report));
    }

    [Fact]
    public void ValidateRequest_OptionalBodyAbsent_IsNoBody()
    {
        var report = _spec.ValidateRequest(HttpMethod.Put, "/widgets", body: null);

        Assert.Equal(SchemaCoverage.NoBody, report.Coverage);
        Assert.True(report.Conforms);
    }
}
