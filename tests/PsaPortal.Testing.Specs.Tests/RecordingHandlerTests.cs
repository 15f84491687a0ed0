using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace PsaPortal.Testing.Specs.Tests;

public sealed class RecordingHandlerTests
{
    private const string ConnectWiseBase = "https://api-na.myconnectwise.net/v4_6_release/apis/3.0/";

    [Fact]
    public async Task SendAsync_JsonPost_RecordsMethodUriBodiesStatusAndHeaderNames()
    {
        var recorder = new RecordingHandler(new StubHandler(_ => StubHandler.Json(HttpStatusCode.Created, """{"id":204}""")));
        using var client = new HttpClient(recorder) { BaseAddress = new Uri(ConnectWiseBase) };
        client.DefaultRequestHeaders.Add("clientId", "portal");

        using var response = await client.PostAsJsonAsync("finance/agreements/17/additions", new { billCustomer = "Billable" });

        var exchange = Assert.Single(recorder.Exchanges);
        Assert.Equal(HttpMethod.Post, exchange.Method);
        Assert.Equal(new Uri(ConnectWiseBase + "finance/agreements/17/additions"), exchange.RequestUri);
        Assert.Equal("""{"billCustomer":"Billable"}""", exchange.RequestBody);
        Assert.Equal("application/json", exchange.RequestContentType);
        Assert.Equal(201, exchange.StatusCode);
        Assert.Equal("""{"id":204}""", exchange.ResponseBody);
        Assert.Contains("clientId", exchange.RequestHeaderNames);
    }

    [Fact]
    public async Task SendAsync_AfterRecording_CallerStillReadsWholeResponseBody()
    {
        var recorder = new RecordingHandler(new StubHandler(_ => StubHandler.Json(HttpStatusCode.OK, """[{"id":1}]""")));
        using var client = new HttpClient(recorder);

        var body = await client.GetStringAsync(new Uri(ConnectWiseBase + "company/companies"));

        Assert.Equal("""[{"id":1}]""", body);
        Assert.Equal(body, recorder.Exchanges[0].ResponseBody);
    }

    [Fact]
    public async Task SendAsync_InnerHandlerThrows_RecordsFailureAndRethrows()
    {
        var recorder = new RecordingHandler(new StubHandler(_ => throw new HttpRequestException("connection reset")));
        using var client = new HttpClient(recorder);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(ConnectWiseBase + "system/info")));

        var exchange = Assert.Single(recorder.Exchanges);
        Assert.Null(exchange.StatusCode);
        Assert.Equal("connection reset", exchange.Failure);
    }

    [Fact]
    public async Task Clear_AfterTraffic_EmptiesRecording()
    {
        var recorder = new RecordingHandler(new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.NoContent)));
        using var client = new HttpClient(recorder);
        using var response = await client.DeleteAsync(new Uri(ConnectWiseBase + "service/tickets/5"));

        recorder.Clear();

        Assert.Empty(recorder.Exchanges);
    }

    [Fact]
    public async Task AllConform_ConformingConnectWiseTraffic_DoesNotThrow()
    {
        var recorder = new RecordingHandler(new StubHandler(request => request.Method == HttpMethod.Delete
            ? new HttpResponseMessage(HttpStatusCode.NoContent)
            : request.Method == HttpMethod.Post
                ? StubHandler.Json(HttpStatusCode.Created, """{"id":204,"product":{"id":310},"billCustomer":"Billable"}""")
                : StubHandler.Json(HttpStatusCode.OK, """[{"id":204,"product":{"id":310},"billCustomer":"Billable","quantity":3}]""")));
        using var client = new HttpClient(recorder) { BaseAddress = new Uri(ConnectWiseBase) };

        using var created = await client.PostAsJsonAsync("finance/agreements/17/additions", new { product = new { id = 310 }, billCustomer = "Billable" });
        using var listed = await client.GetAsync(new Uri("finance/agreements/17/additions?pageSize=1000", UriKind.Relative));
        using var deleted = await client.DeleteAsync(new Uri("finance/agreements/17/additions/204", UriKind.Relative));

        SpecAssert.AllConform(VendorSpec.ConnectWise, recorder.Exchanges);
        Assert.Equal(3, recorder.Exchanges.Count);
    }

    [Fact]
    public async Task AllConform_NonConformingAutotaskTraffic_ThrowsListingEveryViolation()
    {
        var recorder = new RecordingHandler(new StubHandler(request => request.RequestUri!.AbsolutePath.EndsWith("/query", StringComparison.Ordinal)
            ? StubHandler.Json(HttpStatusCode.OK, """{"items":[{"id":"1","companyName":"A"}],"pageDetails":{"count":1,"nextPageUrl":null}}""")
            : StubHandler.Json(HttpStatusCode.OK, """{"itemId":5}""")));
        using var client = new HttpClient(recorder) { BaseAddress = new Uri("https://webservices14.autotask.net/ATServicesRest/") };
        client.DefaultRequestHeaders.Add("ApiIntegrationCode", "code");
        client.DefaultRequestHeaders.Add("UserName", "api@example.com");
        client.DefaultRequestHeaders.Add("Secret", "s3cret");

        using var query = await client.PostAsJsonAsync("V1.0/Companies/query", new { filter = new[] { new { op = "eq", field = "id", value = 1 } } });
        // Raw JSON: PostAsJsonAsync would camel-case the misspelt name for us.
        using var ticket = new StringContent("""{"companyID":1,"Title":"x"}""", Encoding.UTF8, "application/json");
        using var create = await client.PostAsync(new Uri("V1.0/Tickets", UriKind.Relative), ticket);
        using var unknown = await client.PostAsJsonAsync("V1.0/Unicorns", new { });

        var error = Assert.Throws<SpecConformanceException>(() => SpecAssert.AllConform(VendorSpec.Autotask, recorder.Exchanges));

        Assert.StartsWith("3 of 3 recorded exchange(s) do not conform to Autotask PSA", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.items[0].id: expected integer, got string", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.Title: property is not declared in TicketModel (did you mean 'title'?)", error.Message, StringComparison.Ordinal);
        Assert.Contains("POST /V1.0/Unicorns is not in spec Autotask PSA", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("response 200 of POST /V1.0/Unicorns", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AllConform_NoTraffic_ThrowsBecauseNothingWasChecked()
    {
        var error = Assert.Throws<SpecConformanceException>(() => SpecAssert.AllConform(VendorSpec.ConnectWise, []));

        Assert.Contains("No traffic was recorded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllConform_ResponseWithoutSchema_ThrowsUnlessNoSchemaAllowed()
    {
        var recorder = new RecordingHandler(new StubHandler(_ => StubHandler.Json(HttpStatusCode.Unauthorized, """{"errors":["bad secret"]}""")));
        using var client = new HttpClient(recorder);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("https://webservices14.autotask.net/atservicesrest/v1.0/Companies/7"));
        request.Headers.Add("ApiIntegrationCode", "code");
        request.Headers.Add("UserName", "api@example.com");
        request.Headers.Add("Secret", "wrong");
        using var response = await client.SendAsync(request);

        var error = Assert.Throws<SpecConformanceException>(() => SpecAssert.AllConform(VendorSpec.Autotask, recorder.Exchanges));
        SpecAssert.AllConform(VendorSpec.Autotask, recorder.Exchanges, allowNoSchema: true);

        Assert.Contains("(no schema)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_MultipartUpload_ChecksRouteButReportsBodyAsNoSchema()
    {
        var exchange = new RecordedExchange(
            HttpMethod.Post,
            new Uri(ConnectWiseBase + "finance/agreements/17/additions"),
            [],
            "multipart/form-data",
            "--boundary--",
            201,
            "application/json",
            """{"id":1,"product":{"id":2},"billCustomer":"Billable"}""",
            null);

        var report = SpecConformance.Check(VendorSpec.ConnectWise, exchange);

        Assert.Equal(SchemaCoverage.NoSchema, report.Request.Coverage);
        Assert.True(report.Request.Conforms, report.Request.ToString());
        Assert.Equal(SchemaCoverage.Validated, report.Response!.Coverage);
    }

    [Fact]
    public void Check_InvalidJsonResponse_ReportsParseError()
    {
        var exchange = new RecordedExchange(
            HttpMethod.Get, new Uri(ConnectWiseBase + "system/info"), [], null, null, 200, "application/json", "{not json", null);

        var report = SpecConformance.Check(VendorSpec.ConnectWise, exchange);

        Assert.StartsWith("body is not valid JSON", report.Response!.Violations.Single().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Conforms_ReportWithViolations_ThrowsWithEveryViolation()
    {
        var report = VendorSpec.ConnectWise.ValidateRequest(HttpMethod.Post, "/company/companies", Json.Parse("""{ "name": 5 }"""));

        var error = Assert.Throws<SpecConformanceException>(() => SpecAssert.Conforms(report));

        Assert.Equal(
            new StringBuilder()
                .Append("request body of POST /company/companies: 2 violation(s)")
                .Append("\n  $.identifier: required property is missing")
                .Append("\n  $.name: expected string, got integer")
                .ToString(),
            error.Message);
    }
}
