using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PsaPortal.Testing;

namespace PsaPortal.Web.IntegrationTests.Api;

/// <summary>One portal with a tenant (T-1) and a product (P-1), shared by the hostile payload cases.</summary>
public sealed class HostilePayloadPortal : IAsyncLifetime
{
    public ApiPortal Portal { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Portal = await ApiPortal.StartAsync(new PortalDatabase.Sqlite());
        await (await Portal.Client.PostJsonAsync("/api/v1/tenants/batch", new { items = new[] { new { externalId = "T-1", name = "Contoso" } } })).JsonAsync(HttpStatusCode.OK);
        await (await Portal.Client.PostJsonAsync("/api/v1/products/batch",
            new { items = new[] { new { partNumber = "P-1", name = "EDR", cost = 1m, retailPrice = 2m, recurring = true } } })).JsonAsync(HttpStatusCode.OK);
    }

    public async Task DisposeAsync() => await Portal.DisposeAsync();
}

/// <summary>
/// Malformed and hostile requests, generated field by field for every kind (missing, null, wrong type, too long,
/// control characters, script tags, SQL-ish text, huge, negative and NaN numbers, bad dates, unknown enum values) and
/// request by request (not JSON, wrong media type, unknown or duplicate properties, deep nesting, 5,001 items, too
/// large). Each must answer 400, 413 or 415 as application/problem+json, name the offending field, and leave every
/// platform table as it was.
/// </summary>
public sealed class HostilePayloadTests(HostilePayloadPortal fixture) : IClassFixture<HostilePayloadPortal>
{
    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Fact]
    public void Cases_AreMoreThanTwoHundred() => Assert.True(Cases.Count >= 200, $"only {Cases.Count} cases");

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task HostileRequest_IsRefusedWithProblemDetailsNamingTheFieldAndWritesNothing(string name)
    {
        var hostile = Cases[name];
        var before = await fixture.Portal.CountsAsync();
        using var request = new HttpRequestMessage(hostile.Method, hostile.Url) { Content = hostile.Content() };

        var response = await fixture.Portal.Client.SendAsync(request);

        var problem = await response.ProblemAsync(hostile.Status);
        if (hostile.Field is not null)
        {
            var errors = problem.Errors();
            Assert.True(errors.ContainsKey(hostile.Field), $"{hostile.Field} not named in: {string.Join(", ", errors.Keys)}");
            if (hostile.Only)
            {
                Assert.Equal([hostile.Field], errors.Keys);
            }
        }

        Assert.Equal(before, await fixture.Portal.CountsAsync());
    }

    [Fact]
    public async Task HostileButLegalText_IsStoredVerbatim()
    {
        const string title = "Robert'); DROP TABLE Tenants;-- & \"friends\"";
        const string description = "<script>alert('x')</script>\n' OR 1=1 --\tend";

        var response = await fixture.Portal.Client.PutJsonAsync("/api/v1/incidents/VERBATIM-1",
            new { tenantExternalId = "T-1", title, description, severity = "Low", status = "Open", detectedAt = "2026-01-01T00:00:00Z" });
        var stored = await (await fixture.Portal.Client.GetAsync("/api/v1/incidents/VERBATIM-1")).JsonAsync(HttpStatusCode.OK);

        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal(title, stored.GetProperty("title").GetString());
        Assert.Equal(description, stored.GetProperty("description").GetString());
        Assert.Equal(1, (await fixture.Portal.CountsAsync()).Tenants);
    }

    public sealed record HostileCase(HttpMethod Method, string Url, Func<HttpContent?> Content, HttpStatusCode Status, string? Field, bool Only = true);

    private enum FieldKind
    {
        Id,
        Name,
        Text,
        Domain,
        Choice,
        Quantity,
        Amount,
        SignedAmount,
        Flag,
        Moment,
        Date,
        Month,
    }

    private sealed record Field(string Name, FieldKind Kind, bool Required, int MaxLength = 0);

    private sealed record Resource(string Name, string BatchUrl, string? PutUrl, string? Key, JsonObject Valid, Field[] Fields);

    private static readonly Resource[] Resources =
    [
        new("tenant", "/api/v1/tenants/batch", "/api/v1/tenants/H-1", "externalId",
            new JsonObject { ["externalId"] = "H-1", ["name"] = "Hostile Co", ["domain"] = "hostile.example", ["status"] = "Active" },
            [new("externalId", FieldKind.Id, true, 100), new("name", FieldKind.Name, true, 200), new("domain", FieldKind.Domain, false, 253), new("status", FieldKind.Choice, false)]),
        new("product", "/api/v1/products/batch", "/api/v1/products/H-1", "partNumber",
            new JsonObject { ["partNumber"] = "H-1", ["name"] = "Hostile product", ["description"] = "d", ["cost"] = 1.5m, ["retailPrice"] = 3m, ["recurring"] = true },
            [
                new("partNumber", FieldKind.Id, true, 100), new("name", FieldKind.Name, true, 200), new("description", FieldKind.Text, false, 2000),
                new("cost", FieldKind.Amount, true), new("retailPrice", FieldKind.Amount, true), new("recurring", FieldKind.Flag, true),
            ]),
        new("usage", "/api/v1/usage/batch", null, null,
            new JsonObject { ["tenantExternalId"] = "T-1", ["partNumber"] = "P-1", ["quantity"] = 5, ["asOf"] = "2026-01-01T00:00:00Z" },
            [new("tenantExternalId", FieldKind.Id, true, 100), new("partNumber", FieldKind.Id, true, 100), new("quantity", FieldKind.Quantity, true), new("asOf", FieldKind.Moment, false)]),
        new("incident", "/api/v1/incidents/batch", "/api/v1/incidents/H-1", "externalId",
            new JsonObject
            {
                ["externalId"] = "H-1", ["tenantExternalId"] = "T-1", ["title"] = "Hostile", ["description"] = "d", ["severity"] = "High", ["status"] = "Open",
                ["detectedAt"] = "2026-01-01T00:00:00Z", ["updatedAt"] = "2026-01-01T01:00:00Z", ["resolvedAt"] = "2026-01-01T02:00:00Z",
            },
            [
                new("externalId", FieldKind.Id, true, 100), new("tenantExternalId", FieldKind.Id, true, 100), new("title", FieldKind.Name, true, 300),
                new("description", FieldKind.Text, false, 20_000), new("severity", FieldKind.Choice, true), new("status", FieldKind.Choice, true),
                new("detectedAt", FieldKind.Moment, true), new("updatedAt", FieldKind.Moment, false), new("resolvedAt", FieldKind.Moment, false),
            ]),
        new("invoice line", "/api/v1/invoice-lines/batch", "/api/v1/invoice-lines/H-1", "externalId",
            new JsonObject
            {
                ["externalId"] = "H-1", ["tenantExternalId"] = "T-1", ["partNumber"] = "P-1", ["chargeType"] = "CycleFee", ["billingCycle"] = "Monthly",
                ["chargeStartDate"] = "2026-01-01", ["chargeEndDate"] = "2026-01-31", ["quantity"] = 2m, ["unitPrice"] = 3m, ["cost"] = 1m, ["invoiceMonth"] = "2026-01",
            },
            [
                new("externalId", FieldKind.Id, true, 100), new("tenantExternalId", FieldKind.Id, true, 100), new("partNumber", FieldKind.Id, true, 100),
                new("chargeType", FieldKind.Choice, true), new("billingCycle", FieldKind.Choice, true), new("chargeStartDate", FieldKind.Date, true),
                new("chargeEndDate", FieldKind.Date, true), new("quantity", FieldKind.SignedAmount, true), new("unitPrice", FieldKind.SignedAmount, true),
                new("cost", FieldKind.SignedAmount, true), new("invoiceMonth", FieldKind.Month, true),
            ]),
    ];

    private static readonly JsonNode? Missing = JsonValue.Create("\u0001missing\u0001");

    /// <summary>The hostile values of each kind of field; <see cref="Missing"/> leaves the field out.</summary>
    private static IEnumerable<(string Label, JsonNode? Value)> Mutations(Field field)
    {
        if (field.Required)
        {
            yield return ("missing", Missing);
            yield return ("null", null);
        }

        const string script = "<script>alert(1)</script>";
        const string sql = "x'; DROP TABLE Tenants;--";
        switch (field.Kind)
        {
            case FieldKind.Id:
                yield return ("wrong type", 123);
                yield return ("empty", "");
                yield return ("too long", new string('a', field.MaxLength + 1));
                yield return ("control characters", "T\u0000-1");
                yield return ("script tag", script);
                yield return ("SQL-ish", sql);
                yield return ("space", "T 1");
                yield return ("unicode", "Tënant");
                break;
            case FieldKind.Name:
                yield return ("wrong type", true);
                yield return ("blank", "   ");
                yield return ("too long", new string('n', field.MaxLength + 1));
                yield return ("control characters", "Acme\u0007 Corp");
                yield return ("bidi override", "Acme\u202Egnp.exe");
                yield return ("script tag", script);
                yield return ("object", new JsonObject { ["first"] = "Acme" });
                break;
            case FieldKind.Text:
                yield return ("wrong type", 42);
                yield return ("too long", new string('d', field.MaxLength + 1));
                yield return ("control characters", "a\u0000b");
                yield return ("escape sequence", "\u001b[31mred");
                break;
            case FieldKind.Domain:
                yield return ("wrong type", 1);
                yield return ("too long", string.Join(".", Enumerable.Repeat(new string('a', 60), 5)) + ".example");
                yield return ("script tag", script);
                yield return ("SQL-ish", sql);
                yield return ("URL", "https://contoso.com/path");
                yield return ("IP address", "10.0.0.1");
                yield return ("single label", "localhost");
                yield return ("control characters", "conto\u0000so.com");
                yield return ("space", "con toso.com");
                yield return ("underscore", "con_toso.com");
                yield return ("port", "contoso.com:443");
                break;
            case FieldKind.Choice:
                yield return ("wrong type", 1);
                yield return ("wrong case", "ACTIVE");
                yield return ("unknown value", "Archived");
                yield return ("script tag", script);
                yield return ("SQL-ish", sql);
                break;
            case FieldKind.Quantity:
                yield return ("number as string", "12");
                yield return ("NaN string", "NaN");
                yield return ("fraction", 1.5m);
                yield return ("huge", JsonNode.Parse("1e30"));
                yield return ("over range", 10_000_001);
                yield return ("negative", -1);
                yield return ("wrong type", true);
                break;
            case FieldKind.Amount or FieldKind.SignedAmount:
                yield return ("number as string", "12.5");
                yield return ("NaN string", "NaN");
                yield return ("Infinity string", "Infinity");
                yield return ("huge", JsonNode.Parse("1e30"));
                yield return ("over range", 1_000_000_000_000m);
                yield return ("too many decimals", 1.23456m);
                yield return ("wrong type", false);
                if (field.Kind == FieldKind.Amount)
                {
                    yield return ("negative", -0.01m);
                }

                break;
            case FieldKind.Flag:
                yield return ("string", "true");
                yield return ("number", 1);
                break;
            case FieldKind.Moment:
                yield return ("wrong type", 20260101);
                yield return ("no time zone", "2026-01-01T00:00:00");
                yield return ("date only", "2026-01-01");
                yield return ("impossible date", "2026-02-30T00:00:00Z");
                yield return ("words", "yesterday");
                yield return ("far future", "2099-01-01T00:00:00Z");
                yield return ("before 2000", "1999-12-31T23:59:59Z");
                yield return ("SQL-ish", sql);
                break;
            case FieldKind.Date:
                yield return ("wrong type", 20260101);
                yield return ("US format", "01/02/2026");
                yield return ("impossible date", "2026-02-30");
                yield return ("with time", "2026-01-01T00:00:00Z");
                yield return ("out of range", "1999-01-01");
                break;
            case FieldKind.Month:
                yield return ("wrong type", 202601);
                yield return ("month 13", "2026-13");
                yield return ("one digit", "2026-1");
                yield return ("words", "January 2026");
                yield return ("full date", "2026-01-01");
                break;
        }
    }

    private static readonly Dictionary<string, HostileCase> Cases = Build();

    private static Dictionary<string, HostileCase> Build()
    {
        var cases = new Dictionary<string, HostileCase>(StringComparer.Ordinal);
        void Add(string name, HostileCase hostile) => cases.Add(name, hostile);
        HostileCase Json(HttpMethod method, string url, string json, HttpStatusCode status, string? field, bool only = true) =>
            new(method, url, () => new StringContent(json, Encoding.UTF8, "application/json"), status, field, only);

        foreach (var resource in Resources)
        {
            foreach (var field in resource.Fields)
            {
                foreach (var (label, value) in Mutations(field))
                {
                    var item = (JsonObject)resource.Valid.DeepClone();
                    if (ReferenceEquals(value, Missing))
                    {
                        item.Remove(field.Name);
                    }
                    else
                    {
                        item[field.Name] = value?.DeepClone();
                    }

                    var body = new JsonObject { ["items"] = new JsonArray(item) }.ToJsonString();
                    Add($"{resource.Name} batch: {field.Name} {label}", Json(HttpMethod.Post, resource.BatchUrl, body, HttpStatusCode.BadRequest, $"items[0].{field.Name}"));
                }
            }

            var valid = new JsonObject { ["items"] = new JsonArray(resource.Valid.DeepClone()) }.ToJsonString();
            var keyField = resource.Key ?? "asOf";
            var duplicate = new JsonObject { ["items"] = new JsonArray(resource.Valid.DeepClone(), resource.Valid.DeepClone()) }.ToJsonString();
            Add($"{resource.Name} batch: duplicate key", Json(HttpMethod.Post, resource.BatchUrl, duplicate, HttpStatusCode.BadRequest, $"items[1].{keyField}"));
            Add($"{resource.Name} batch: 5,001 items", new(HttpMethod.Post, resource.BatchUrl, () => new StringContent(
                new JsonObject { ["items"] = new JsonArray(Enumerable.Range(0, 5001).Select(_ => (JsonNode)resource.Valid.DeepClone()).ToArray()) }.ToJsonString(),
                Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "items"));
            Add($"{resource.Name} batch: no items", Json(HttpMethod.Post, resource.BatchUrl, """{"items":[]}""", HttpStatusCode.BadRequest, "items"));
            Add($"{resource.Name} batch: items missing", Json(HttpMethod.Post, resource.BatchUrl, "{}", HttpStatusCode.BadRequest, "items"));
            Add($"{resource.Name} batch: items null", Json(HttpMethod.Post, resource.BatchUrl, """{"items":null}""", HttpStatusCode.BadRequest, "items"));
            Add($"{resource.Name} batch: items not an array", Json(HttpMethod.Post, resource.BatchUrl, """{"items":{"a":1}}""", HttpStatusCode.BadRequest, "items"));
            Add($"{resource.Name} batch: null item", Json(HttpMethod.Post, resource.BatchUrl, """{"items":[null]}""", HttpStatusCode.BadRequest, "items[0]"));
            Add($"{resource.Name} batch: unknown property", Json(HttpMethod.Post, resource.BatchUrl,
                valid.Replace("{\"items\":[{", "{\"items\":[{\"isAdmin\":true,", StringComparison.Ordinal), HttpStatusCode.BadRequest, "items[0].isAdmin"));
            Add($"{resource.Name} batch: unknown top-level property", Json(HttpMethod.Post, resource.BatchUrl,
                valid.Replace("{\"items\"", "{\"organizationId\":\"00000000-0000-0000-0000-000000000001\",\"items\"", StringComparison.Ordinal), HttpStatusCode.BadRequest, "organizationId"));
            Add($"{resource.Name} batch: property twice", Json(HttpMethod.Post, resource.BatchUrl,
                valid.Replace("{\"items\":[{", "{\"items\":[{\"name\":\"a\",\"name\":\"b\",", StringComparison.Ordinal), HttpStatusCode.BadRequest, null));

            var urls = resource.PutUrl is null ? [(HttpMethod.Post, resource.BatchUrl)] : new[] { (HttpMethod.Post, resource.BatchUrl), (HttpMethod.Put, resource.PutUrl) };
            foreach (var (method, url) in urls)
            {
                var what = $"{resource.Name} {(method == HttpMethod.Put ? "PUT" : "batch")}";
                Add($"{what}: not JSON", Json(method, url, "name=Contoso&status=Active", HttpStatusCode.BadRequest, "body"));
                Add($"{what}: truncated JSON", Json(method, url, valid[..(valid.Length / 2)], HttpStatusCode.BadRequest, null));
                Add($"{what}: empty body", Json(method, url, "", HttpStatusCode.BadRequest, "body"));
                Add($"{what}: null body", Json(method, url, "null", HttpStatusCode.BadRequest, "body"));
                Add($"{what}: array body", Json(method, url, "[1,2,3]", HttpStatusCode.BadRequest, "body"));
                Add($"{what}: string body", Json(method, url, "\"<script>\"", HttpStatusCode.BadRequest, "body"));
                Add($"{what}: trailing comma", Json(method, url, valid.Insert(valid.Length - 1, ","), HttpStatusCode.BadRequest, null));
                Add($"{what}: comment", Json(method, url, "/* hi */" + valid, HttpStatusCode.BadRequest, null));
                Add($"{what}: deep nesting", Json(method, url, new string('[', 200) + new string(']', 200), HttpStatusCode.BadRequest, null));
                Add($"{what}: deep nesting in a field", Json(method, url, "{\"items\":[{\"name\":" + new string('[', 100) + new string(']', 100) + "}]}", HttpStatusCode.BadRequest, null));
                Add($"{what}: invalid UTF-8", new(method, url, () => new ByteArrayContent([.. "{\"items\":[{\"name\":\""u8, 0xC3, 0x28, .. "\"}]}"u8])
                {
                    Headers = { ContentType = new("application/json") },
                }, HttpStatusCode.BadRequest, null));
                Add($"{what}: text/plain", new(method, url, () => new StringContent(valid, Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType, null));
                Add($"{what}: form", new(method, url, () => new FormUrlEncodedContent([new("items", "x")]), HttpStatusCode.UnsupportedMediaType, null));
                Add($"{what}: no content type", new(method, url, () => new ByteArrayContent(Encoding.UTF8.GetBytes(valid)), HttpStatusCode.UnsupportedMediaType, null));
                Add($"{what}: XML", new(method, url, () => new StringContent("<items><item/></items>", Encoding.UTF8, "application/xml"), HttpStatusCode.UnsupportedMediaType, null));
            }

            if (resource.PutUrl is not null)
            {
                var single = (JsonObject)resource.Valid.DeepClone();
                single[resource.Key!] = "SOMETHING-ELSE";
                Add($"{resource.Name} PUT: key differs from the address", Json(HttpMethod.Put, resource.PutUrl, single.ToJsonString(), HttpStatusCode.BadRequest, resource.Key));
                var bad = (JsonObject)resource.Valid.DeepClone();
                var second = resource.Fields[1];
                bad[second.Name] = second.Kind == FieldKind.Id ? "has space" : new string('x', 20_001);
                Add($"{resource.Name} PUT: {second.Name} invalid", Json(HttpMethod.Put, resource.PutUrl, bad.ToJsonString(), HttpStatusCode.BadRequest, second.Name));
                Add($"{resource.Name} PUT: key in the address invalid", Json(HttpMethod.Put, resource.PutUrl.Replace("H-1", "H%201", StringComparison.Ordinal),
                    resource.Valid.ToJsonString().Replace("\"H-1\"", "null", StringComparison.Ordinal), HttpStatusCode.BadRequest, resource.Key));
            }
        }

        Add("mixed batch: 5,001 items in all", new(HttpMethod.Post, "/api/v1/batch", () => new StringContent(new JsonObject
        {
            ["tenants"] = new JsonArray(Enumerable.Range(0, 2500).Select(i => (JsonNode)new JsonObject { ["externalId"] = $"M-{i}", ["name"] = "M" }).ToArray()),
            ["usage"] = new JsonArray(Enumerable.Range(0, 2501).Select(i => (JsonNode)new JsonObject { ["tenantExternalId"] = $"M-{i % 2500}", ["partNumber"] = "P-1", ["quantity"] = 1 }).ToArray()),
        }.ToJsonString(), Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "body"));
        Add("mixed batch: usage of a tenant that is not there", Json(HttpMethod.Post, "/api/v1/batch",
            """{"tenants":[{"externalId":"NEW","name":"New"}],"usage":[{"tenantExternalId":"NEWER","partNumber":"P-1","quantity":1}]}""",
            HttpStatusCode.BadRequest, "usage[0].tenantExternalId"));
        Add("mixed batch: unknown list", Json(HttpMethod.Post, "/api/v1/batch", """{"users":[]}""", HttpStatusCode.BadRequest, "users"));
        Add("tenants batch: 17 MB", new(HttpMethod.Post, "/api/v1/tenants/batch", () => new StringContent(
            "{\"items\":[{\"externalId\":\"BIG\",\"name\":\"" + new string('x', 17 * 1024 * 1024) + "\"}]}", Encoding.UTF8, "application/json"),
            HttpStatusCode.RequestEntityTooLarge, null));
        Add("tenants batch: 17 MB without a length (chunked)", new(HttpMethod.Post, "/api/v1/tenants/batch", () => new UnannouncedJsonContent(
            "{\"items\":[{\"externalId\":\"BIG\",\"name\":\"" + new string('x', 17 * 1024 * 1024) + "\"}]}"),
            HttpStatusCode.RequestEntityTooLarge, null));
        Add("unknown endpoint", new(HttpMethod.Post, "/api/v1/tenants/T-1/erase", () => new StringContent("{}", Encoding.UTF8, "application/json"), HttpStatusCode.NotFound, null));
        Add("wrong method", new(HttpMethod.Get, "/api/v1/usage/batch", () => null, HttpStatusCode.NotFound, null));
        Add("usage GET: page size over 1000", new(HttpMethod.Get, "/api/v1/tenants?pageSize=1001", () => null, HttpStatusCode.BadRequest, "pageSize"));
        Add("tenants GET: page 0", new(HttpMethod.Get, "/api/v1/tenants?page=0", () => null, HttpStatusCode.BadRequest, "page"));
        Add("tenants GET: page not a number", new(HttpMethod.Get, "/api/v1/tenants?page=abc", () => null, HttpStatusCode.BadRequest, "page"));
        Add("tenants GET: huge page", new(HttpMethod.Get, "/api/v1/tenants?page=99999999999", () => null, HttpStatusCode.BadRequest, "page"));
        Add("tenants GET: updatedSince without zone", new(HttpMethod.Get, "/api/v1/tenants?updatedSince=2026-01-01T00:00:00", () => null, HttpStatusCode.BadRequest, "updatedSince"));
        Add("incidents GET: updatedSince SQL-ish", new(HttpMethod.Get, "/api/v1/incidents?updatedSince=1%27%20OR%201%3D1", () => null, HttpStatusCode.BadRequest, "updatedSince"));
        return cases;
    }
}
