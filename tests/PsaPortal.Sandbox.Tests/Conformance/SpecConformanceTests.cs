using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Sandbox.Tests.Infrastructure;
using PsaPortal.Testing.Specs;
using static PsaPortal.Sandbox.Tests.Infrastructure.HttpAssert;

namespace PsaPortal.Sandbox.Tests.Conformance;

/// <summary>
/// Every route the sandbox serves exists in the vendor's specification with the same method (or is a
/// deviation listed in src/PsaPortal.Sandbox/DEVIATIONS.md), and every JSON body it returns while a
/// request walks every one of those routes validates against the operation's schema.
/// </summary>
public sealed partial class SpecConformanceTests(SandboxHost host) : IClassFixture<SandboxHost>
{
    private const string ConnectWiseApi = "/sandbox/connectwise/{codebase}/apis/3.0/";
    private const string AutotaskApi = "/sandbox/autotask/{zone}/atservicesrest/v1.0/";

    [Fact]
    public void ServedRoutes_EachRouteAndMethod_IsInTheSpecOrListedAsDeviation()
    {
        // Arrange
        var deviations = ListedRouteDeviations();
        var served = ServedRoutes().ToList();
        var failures = new List<string>();

        // Act
        foreach (var (vendor, method, template) in served)
        {
            var spec = vendor == "connectwise" ? VendorSpec.ConnectWise : VendorSpec.Autotask;
            var concrete = ParameterPattern().Replace(template, "1");
            if (!spec.TryFindOperation(new HttpMethod(method), concrete, out _, out var failure) && !deviations.Contains(Key(vendor, method, template)))
            {
                failures.Add($"{Key(vendor, method, template)}: {failure}");
            }
        }

        var stale = deviations.Except(served.Select(r => Key(r.Vendor, r.Method, r.Template)), StringComparer.OrdinalIgnoreCase).ToList();

        // Assert
        Assert.True(served.Count > 80, $"only {served.Count} routes found; the endpoint enumeration is broken");
        Assert.True(failures.Count == 0, "Routes not in the spec and not listed in DEVIATIONS.md:\n" + string.Join("\n", failures));
        Assert.True(stale.Count == 0, "DEVIATIONS.md lists routes the sandbox does not serve:\n" + string.Join("\n", stale));
    }

    [Fact]
    public async Task ServedRoutes_WalkingEveryRoute_EveryJsonBodyConformsToTheSpec()
    {
        // Arrange
        var connectWiseRecorder = new RecordingHandler(new HttpClientHandler());
        var autotaskRecorder = new RecordingHandler(new HttpClientHandler());
        using var connectWise = host.ConnectWise();
        using var recordedConnectWise = Recorded(connectWise, connectWiseRecorder);
        using var autotask = host.Autotask();
        using var recordedAutotask = Recorded(autotask, autotaskRecorder);
        using var plain = host.CreateClient();
        host.Sandbox.ConnectWise.RequestLog.Clear();
        host.Sandbox.Autotask.RequestLog.Clear();

        // Act
        await WalkConnectWiseAsync(recordedConnectWise, connectWise, plain);
        await WalkAutotaskAsync(recordedAutotask, plain);

        // Assert
        var walked = host.Sandbox.ConnectWise.RequestLog.Entries().Concat(host.Sandbox.Autotask.RequestLog.Entries())
            .Select(e => $"{e.Method} {e.Route}").ToHashSet(StringComparer.OrdinalIgnoreCase);
        var missed = ServedEndpoints().Where(e => !walked.Contains($"{e.Method} {e.Pattern}")).Select(e => $"{e.Method} {e.Pattern}").ToList();
        Assert.True(missed.Count == 0, "Routes the walk did not reach (add a request for each):\n" + string.Join("\n", missed));
        SpecAssert.AllConform(VendorSpec.ConnectWise, connectWiseRecorder.Exchanges);
        SpecAssert.AllConform(VendorSpec.Autotask, autotaskRecorder.Exchanges.Where(e => !e.RequestUri.AbsolutePath.Contains("/query/next", StringComparison.OrdinalIgnoreCase)));
        Assert.All(autotaskRecorder.Exchanges.Concat(connectWiseRecorder.Exchanges), e => Assert.InRange(e.StatusCode ?? 0, 200, 499));
    }

    private static async Task WalkConnectWiseAsync(HttpClient client, HttpClient unrecorded, HttpClient plain)
    {
        string[] collections =
        [
            "company/companies", "company/companies/statuses", "company/contacts", "service/boards", "service/boards/1/teams", "service/boards/1/statuses",
            "service/priorities", "service/sources", "service/tickets", "service/tickets/1/notes", "finance/agreements", "finance/agreements/types",
            "finance/agreements/1/additions", "procurement/catalog",
        ];
        foreach (var collection in collections)
        {
            await Ok(client.GetAsync($"{collection}?pageSize=3"));
            await Ok(client.GetAsync($"{collection}/count"));
            await Ok(client.GetAsync($"{collection}/1"));
        }

        await Ok(client.GetAsync("company/companies?fields=id,name,status/name&orderBy=name%20desc&pageSize=2"));
        await client.GetAsync("company/companies?conditions=name%20%3D");
        await client.GetAsync("company/companies/999999");
        await unrecorded.GetAsync("company/unknownresource");
        await Ok(client.PostAsync("service/tickets/search?pageSize=2", Json("""{"conditions":"id < 10","orderBy":"id desc"}""")));
        await Ok(client.GetAsync("system/info"));
        await Ok(client.GetAsync("system/mySecurity"));
        // The multipart request has no JSON schema to check, so the upload goes unrecorded and only its response is validated.
        using var form = new MultipartFormDataContent
        {
            { new StringContent("Agreement"), "recordType" },
            { new StringContent("1"), "recordId" },
            { new ByteArrayContent("x"u8.ToArray()), "file", "x.txt" },
        };
        var document = await unrecorded.PostAsync("system/documents", form);
        await Ok(client.GetAsync("system/documents"));
        await Ok(client.GetAsync("system/documents?recordType=Agreement&recordId=1"));
        await Ok(client.GetAsync("system/documents/count?recordType=Agreement&recordId=1"));
        using (var body = System.Text.Json.JsonDocument.Parse(await document.Content.ReadAsStringAsync()))
        {
            SpecAssert.Conforms(VendorSpec.ConnectWise.ValidateResponse(HttpMethod.Post, "/system/documents", (int)document.StatusCode, body.RootElement));
            // The download is the file itself, not JSON.
            await Ok(unrecorded.GetAsync($"system/documents/{body.RootElement.GetProperty("id").GetInt64()}/download"));
        }

        var ticket = (JsonObject)await JsonAsync(await client.PostAsync("service/tickets", Json("""{"summary":"Conformance","company":{"id":1},"initialDescription":"walk"}""")), System.Net.HttpStatusCode.Created);
        var ticketId = ticket["id"]!.GetValue<long>();
        await Ok(client.PatchAsync($"service/tickets/{ticketId}", Json("""[{"op":"replace","path":"summary","value":"Patched"}]""")));
        await Ok(client.PutAsync($"service/tickets/{ticketId}", Json(ticket.ToJsonString())));
        await Ok(client.PostAsync($"service/tickets/{ticketId}/notes", Json("""{"text":"note","detailDescriptionFlag":true}""")));
        await client.PostAsync("service/tickets", Json("""{"summary":"No team","company":{"id":1},"board":{"id":2}}"""));

        var addition = (JsonObject)await JsonAsync(await client.PostAsync("finance/agreements/1/additions", Json("""{"product":{"id":4},"billCustomer":"Billable","quantity":3}""")), System.Net.HttpStatusCode.Created);
        var additionId = addition["id"]!.GetValue<long>();
        await Ok(client.PatchAsync($"finance/agreements/1/additions/{additionId}", Json("""[{"op":"replace","path":"quantity","value":4}]""")));
        await Ok(client.PutAsync($"finance/agreements/1/additions/{additionId}", Json(addition.ToJsonString())));
        await Ok(client.DeleteAsync($"finance/agreements/1/additions/{additionId}"));

        var item = (JsonObject)await JsonAsync(await client.PostAsync("procurement/catalog",
            Json("""{"identifier":"CONF-1","description":"Conformance","customerDescription":"Conformance","subcategory":{"id":1},"type":{"id":1},"productClass":"Service","price":1.5}""")),
            System.Net.HttpStatusCode.Created);
        var itemId = item["id"]!.GetValue<long>();
        await Ok(client.PatchAsync($"procurement/catalog/{itemId}", Json("""[{"op":"replace","path":"price","value":2.5}]""")));
        await Ok(client.PutAsync($"procurement/catalog/{itemId}", Json(item.ToJsonString())));
        // A refused item is not a valid request, so only the error body is validated.
        var refused = await unrecorded.PostAsync("procurement/catalog", Json("""{"identifier":"CONF-1"}"""));
        using (var body = System.Text.Json.JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
        {
            SpecAssert.Conforms(VendorSpec.ConnectWise.ValidateResponse(HttpMethod.Post, "/procurement/catalog", (int)refused.StatusCode, body.RootElement));
        }

        await Ok(plain.GetAsync("/sandbox/connectwise/login/companyinfo/sandbox"));
    }

    private async Task WalkAutotaskAsync(HttpClient client, HttpClient plain)
    {
        const string everything = """{"filter":[{"op":"exist","field":"id"}],"maxRecords":2}""";
        foreach (var entity in new[] { "Companies", "Contacts", "Tickets", "Contracts", "ContractServices", "ContractServiceUnits", "Services", "Resources" })
        {
            var page = await JsonAsync(await client.PostAsync($"{entity}/query", Json(everything)));
            await Ok(client.GetAsync($"{entity}/query?search={Uri.EscapeDataString(everything)}"));
            await Ok(client.PostAsync($"{entity}/query/count", Json(everything)));
            await Ok(client.GetAsync($"{entity}/query/count?search={Uri.EscapeDataString(everything)}"));
            await Ok(client.GetAsync($"{entity}/{page["items"]![0]!["id"]}"));
            await Ok(client.GetAsync($"{entity}/entityInformation"));
            await Ok(client.GetAsync($"{entity}/entityInformation/fields"));
            var next = page["pageDetails"]!["nextPageUrl"]!.GetValue<string>();
            await Ok(client.PostAsync(next, null));
            await Ok(client.GetAsync(next));
        }

        await Ok(client.GetAsync("ContractServiceAdjustments/entityInformation"));
        await Ok(client.GetAsync("ContractServiceAdjustments/entityInformation/fields"));
        await Ok(client.GetAsync("ThresholdInformation"));
        await Ok(client.GetAsync("zoneInformation?user=full@psaportal-sandbox.example"));
        await Ok(plain.GetAsync("/sandbox/autotask/atservicesrest/v1.0/zoneInformation?user=full@psaportal-sandbox.example"));

        foreach (var (entity, id, create) in new[]
        {
            ("Companies", 1001L, """{"companyName":"Conformance Co","companyType":1,"phone":"555-0000","ownerResourceID":29682885}"""),
            ("Tickets", 7001L, """{"companyID":1001,"title":"Conformance","status":1,"priority":2,"queueID":8}"""),
            ("Contracts", 5001L, """{"companyID":1001,"contractName":"Conformance","contractType":7,"startDate":"2026-01-01T00:00:00","endDate":"2026-12-31T00:00:00","status":1}"""),
            ("Services", 1L, """{"name":"Conformance Service","unitPrice":1.5,"periodType":1,"billingCodeID":29682801}"""),
        })
        {
            await Ok(client.PostAsync(entity, Json(create)));
            await Ok(client.PatchAsync(entity, Json($$"""{"id":{{id}}}""")));
            var item = (await JsonAsync(await client.GetAsync($"{entity}/{id}")))["item"]!.ToJsonString();
            await Ok(client.PutAsync(entity, Json(item)));
        }

        foreach (var (path, childId, create, patch) in new[]
        {
            ("Companies/1001/Contacts", 1001L, """{"firstName":"Conf","lastName":"Ormance","isActive":1}""", """{"id":1001,"title":"Owner"}"""),
            ("Contracts/5001/Services", 1L, """{"serviceID":10,"unitPrice":0.35}""", """{"id":1,"invoiceDescription":"changed"}"""),
        })
        {
            await Ok(client.GetAsync(path));
            await Ok(client.PostAsync(path, Json(create)));
            await Ok(client.PatchAsync(path, Json(patch)));
            var item = (await JsonAsync(await client.GetAsync($"{path}/{childId}")))["item"]!.ToJsonString();
            await Ok(client.PutAsync(path, Json(item)));
        }

        await Ok(client.GetAsync("Contracts/5001/ServiceUnits"));
        await Ok(client.GetAsync("Contracts/5001/ServiceUnits/1"));
        await Ok(client.PostAsync("Contracts/5001/ServiceAdjustments", Json("""{"serviceID":1,"effectiveDate":"2026-06-20T00:00:00","unitChange":2}""")));
        await Ok(client.PostAsync("ContractServiceAdjustments", Json("""{"contractID":5001,"serviceID":1,"effectiveDate":"2026-06-21T00:00:00","unitChange":1}""")));
    }

    private static HttpClient Recorded(HttpClient template, RecordingHandler recorder)
    {
        var client = new HttpClient(recorder) { BaseAddress = template.BaseAddress };
        foreach (var header in template.DefaultRequestHeaders)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation(header.Key, header.Value);
        }

        return client;
    }

    private static async Task Ok(Task<HttpResponseMessage> call)
    {
        var response = await call;
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private IEnumerable<(string Method, string Pattern)> ServedEndpoints() =>
        host.Services.GetServices<EndpointDataSource>()
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && (raw.StartsWith("/sandbox/connectwise", StringComparison.Ordinal) || raw.StartsWith("/sandbox/autotask", StringComparison.Ordinal))
                && !raw.Contains("/_sandbox", StringComparison.Ordinal) && !raw.Contains("{**", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(method => (method, e.RoutePattern.RawText!)));

    /// <summary>(vendor, method, path relative to the API root with plain {parameters}).</summary>
    private IEnumerable<(string Vendor, string Method, string Template)> ServedRoutes()
    {
        foreach (var (method, pattern) in ServedEndpoints())
        {
            var plainPattern = ConstraintPattern().Replace(pattern, "{$1}");
            if (plainPattern.StartsWith(ConnectWiseApi, StringComparison.Ordinal))
            {
                yield return ("connectwise", method, "/" + plainPattern[ConnectWiseApi.Length..]);
            }
            else if (plainPattern.StartsWith(AutotaskApi, StringComparison.OrdinalIgnoreCase))
            {
                yield return ("autotask", method, "/V1.0/" + plainPattern[AutotaskApi.Length..]);
            }
            else if (plainPattern.StartsWith("/sandbox/autotask/atservicesrest/", StringComparison.OrdinalIgnoreCase))
            {
                yield return ("autotask", method, "/" + plainPattern["/sandbox/autotask/atservicesrest/".Length..]);
            }
            else
            {
                var vendor = plainPattern.Split('/')[2];
                yield return (vendor, method, plainPattern[("/sandbox/" + vendor).Length..]);
            }
        }
    }

    /// <summary>The route table of DEVIATIONS.md: rows like <c>| `GET autotask /V1.0/{Entity}/query/next` | why |</c>.</summary>
    private static HashSet<string> ListedRouteDeviations()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PsaPortal.sln")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        var text = File.ReadAllText(Path.Combine(directory.FullName, "src", "PsaPortal.Sandbox", "DEVIATIONS.md"));
        var listed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match row in DeviationRow().Matches(text))
        {
            var (method, vendor, template) = (row.Groups[1].Value, row.Groups[2].Value, row.Groups[3].Value);
            if (template.Contains("{Entity}", StringComparison.Ordinal))
            {
                foreach (var entity in new[] { "Companies", "Contacts", "Tickets", "Contracts", "ContractServices", "ContractServiceUnits", "Services", "Resources" })
                {
                    listed.Add(Key(vendor, method, template.Replace("{Entity}", entity, StringComparison.Ordinal)));
                }
            }
            else
            {
                listed.Add(Key(vendor, method, template));
            }
        }

        return listed;
    }

    private static string Key(string vendor, string method, string template) => $"{method} {vendor} {template}";

    [GeneratedRegex(@"\{([A-Za-z]+)(:[^}]*)?\}")]
    private static partial Regex ConstraintPattern();

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex ParameterPattern();

    [GeneratedRegex(@"^\| `(GET|POST|PUT|PATCH|DELETE) (connectwise|autotask) ([^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex DeviationRow();
}
