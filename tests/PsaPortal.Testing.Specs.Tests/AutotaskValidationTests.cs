using static PsaPortal.Testing.Specs.Tests.Json;

namespace PsaPortal.Testing.Specs.Tests;

/// <summary>Bodies built by hand from the Autotask swagger for the operations PsaPortal uses.</summary>
public sealed class AutotaskValidationTests
{
    private static readonly string[] AuthHeaders = ["ApiIntegrationCode", "UserName", "Secret", "Content-Type"];

    private static VendorSpec Spec => VendorSpec.Autotask;

    [Fact]
    public void ValidateRequest_CompaniesQueryWithNestedFilterAndHeaders_Conforms()
    {
        // Filter.value is declared as an empty object; the vendor documents integers, strings, booleans and arrays there.
        var body = Parse("""
            {
              "maxRecords": 500,
              "includeFields": ["id", "companyName"],
              "filter": [
                { "op": "or", "items": [
                  { "op": "eq", "field": "companyName", "value": "Smith & Sons" },
                  { "op": "in", "field": "id", "value": [1, 2, 3] } ] },
                { "op": "eq", "field": "isActive", "value": true }
              ]
            }
            """);

        var report = Spec.ValidateRequest(HttpMethod.Post, "/v1.0/Companies/query", body, AuthHeaders);

        Assert.Equal("request body of POST /V1.0/Companies/query", report.Subject);
        Assert.Equal(SchemaCoverage.Validated, report.Coverage);
        Assert.True(report.Conforms, report.ToString());
    }

    [Fact]
    public void ValidateRequest_CompaniesQueryWithBadShapes_ReportsEveryViolation()
    {
        var body = Parse("""
            {
              "MaxRecords": 10,
              "maxRecords": "500",
              "filter": [ { "op": "eq", "field": 7, "items": [ { "op": "eq", "udf": "yes" } ] } ]
            }
            """);

        var report = Spec.ValidateRequest(HttpMethod.Post, "/v1.0/Companies/query", body, AuthHeaders);

        Assert.Equal(
            [
                "$.MaxRecords: property is not declared in QueryModel (did you mean 'maxRecords'?)",
                "$.maxRecords: expected integer, got string",
                "$.filter[0].field: expected string, got integer",
                "$.filter[0].items[0].udf: expected boolean, got string",
            ],
            Lines(report));
    }

    [Fact]
    public void ValidateRequest_CompaniesQueryWithoutAuthHeaders_ReportsEachRequiredHeader()
    {
        var report = Spec.ValidateRequest(HttpMethod.Post, "/v1.0/Companies/query", Parse("""{ "filter": [] }"""), headerNames: ["Content-Type"]);

        Assert.Equal(
            ["header.ApiIntegrationCode: required header is missing", "header.UserName: required header is missing", "header.Secret: required header is missing"],
            Lines(report));
    }

    [Fact]
    public void ValidateRequest_UrlQueryWithoutSearch_ReportsRequiredQueryParameter()
    {
        var withSearch = Spec.ValidateRequest(HttpMethod.Get, "/v1.0/Companies/query?search=%7B%22filter%22%3A%5B%5D%7D", body: null, AuthHeaders);
        var withoutSearch = Spec.ValidateRequest(HttpMethod.Get, "/v1.0/Companies/query", body: null, AuthHeaders);

        Assert.True(withSearch.Conforms, withSearch.ToString());
        Assert.Equal(["query.search: required query parameter is missing"], Lines(withoutSearch));
    }

    [Fact]
    public void ValidateResponse_CompaniesQueryWrappedItemsWithNulls_Conforms()
    {
        // Swagger 2.0 cannot say nullable; Autotask sends null for every unset field, including nextPageUrl.
        var body = Parse("""
            {
              "items": [
                { "id": 0, "companyName": "Autotask Demo", "isActive": true, "address2": null, "createDate": "2020-01-15T00:00:00.000Z",
                  "userDefinedFields": [ { "name": "Tier", "value": "Gold" } ] },
                { "id": 29683520, "companyName": "Smith & Sons", "isActive": true, "parentCompanyID": null, "lastActivityDate": "2025-06-30T13:14:15.12" }
              ],
              "pageDetails": { "count": 2, "requestCount": 500, "prevPageUrl": null, "nextPageUrl": null }
            }
            """);

        var report = Spec.ValidateResponse(HttpMethod.Post, "/v1.0/Companies/query", 200, body);

        Assert.Equal(SchemaCoverage.Validated, report.Coverage);
        Assert.True(report.Conforms, report.ToString());
    }

    [Fact]
    public void ValidateResponse_CompaniesQueryAsBareArray_ReportsMissingWrapper()
    {
        var report = Spec.ValidateResponse(HttpMethod.Post, "/v1.0/Companies/query", 200, Parse("""[ { "id": 1 } ]"""));

        Assert.Equal(["$: expected object, got array"], Lines(report));
    }

    [Fact]
    public void ValidateResponse_CompaniesQueryItemsWithWrongTypes_ReportsItemPaths()
    {
        var body = Parse("""
            {
              "items": [ { "id": 1, "companyName": "A" }, { "id": 2, "companyName": 42, "companyType": "Customer", "createDate": "yesterday" } ],
              "pageDetails": { "count": "2", "nextPageUrl": null }
            }
            """);

        var report = Spec.ValidateResponse(HttpMethod.Post, "/v1.0/Companies/query", 200, body);

        Assert.Equal(
            [
                "$.items[1].companyName: expected string, got integer",
                "$.items[1].companyType: expected integer, got string",
                "$.items[1].createDate: expected date-time (ISO 8601, e.g. 2025-01-31T00:00:00Z), got \"yesterday\"",
                "$.pageDetails.count: expected integer, got string",
            ],
            Lines(report));
    }

    [Fact]
    public void ValidateRequest_ContractServiceAdjustmentValid_Conforms()
    {
        var body = Parse("""
            { "contractID": 29684001, "contractServiceID": 29684010, "serviceID": 8, "unitChange": -2,
              "effectiveDate": "2025-03-01T00:00:00", "adjustedUnitPrice": 12.5, "allowRepeatService": false }
            """);

        var report = Spec.ValidateRequest(HttpMethod.Post, "/v1.0/ContractServiceAdjustments", body, AuthHeaders);

        Assert.Equal("request body of POST /V1.0/ContractServiceAdjustments", report.Subject);
        Assert.True(report.Conforms, report.ToString());
    }

    [Fact]
    public void ValidateRequest_ContractServiceAdjustmentWithReadOnlyAndFractionalUnits_ReportsBoth()
    {
        var body = Parse("""{ "contractID": 1, "unitChange": 1.5, "soapParentPropertyId": { } }""");

        var report = Spec.ValidateRequest(HttpMethod.Post, "/v1.0/ContractServiceAdjustments", body, AuthHeaders);

        Assert.Equal(
            ["$.unitChange: expected integer, got number", "$.soapParentPropertyId: read-only property must not be sent in a request"],
            Lines(report));
    }

    [Fact]
    public void ValidateResponse_CreateResultWithNumericItemId_ConformsBecauseItemIdIsAnyValue()
    {
        var report = Spec.ValidateResponse(HttpMethod.Post, "/v1.0/ContractServiceAdjustments", 200, Parse("""{ "itemId": 29684321 }"""));

        Assert.Equal(SchemaCoverage.Validated, report.Coverage);
        Assert.True(report.Conforms, report.ToString());
    }

    [Fact]
    public void ValidateRequest_TicketPostValid_Conforms()
    {
        var body = Parse("""
            { "companyID": 29683520, "title": "Licence count changed", "description": "M365 from 10 to 12",
              "status": 1, "priority": 2, "queueID": 29682833, "dueDateTime": "2025-03-01T17:00:00Z",
              "userDefinedFields": [ { "name": "Source", "value": "Vendor portal" } ] }
            """);

        var report = Spec.ValidateRequest(HttpMethod.Post, "/V1.0/Tickets", body, AuthHeaders);

        Assert.True(report.Conforms, report.ToString());
    }

    [Fact]
    public void ValidateRequest_TicketPostWithPascalCaseAndWrongTypes_ReportsEachWithPath()
    {
        // PascalCase is what the outdated 2020 swagger used; the current file is camelCase.
        var body = Parse("""{ "CompanyID": 1, "title": 12, "status": "New", "userDefinedFields": { "name": "x" } }""");

        var report = Spec.ValidateRequest(HttpMethod.Post, "/v1.0/tickets", body, AuthHeaders);

        Assert.Equal(
            [
                "$.CompanyID: property is not declared in TicketModel (did you mean 'companyID'?)",
                "$.title: expected string, got integer",
                "$.status: expected integer, got string",
                "$.userDefinedFields: expected array, got object",
            ],
            Lines(report));
    }

    [Fact]
    public void ValidateResponse_Unauthorized401WithBody_ReportsNoSchema()
    {
        var report = Spec.ValidateResponse(HttpMethod.Post, "/v1.0/Tickets", 401, Parse("""{ "errors": ["Unauthorized"] }"""));

        Assert.Equal(SchemaCoverage.NoSchema, report.Coverage);
        Assert.True(report.Conforms);
        Assert.Contains(report.Notes, note => note == "no schema: POST /V1.0/Tickets declares response 401 without a schema");
    }

    [Fact]
    public void ValidateResponse_Status500_ReportsUndeclaredStatus()
    {
        var report = Spec.ValidateResponse(HttpMethod.Post, "/v1.0/Tickets", 500, Parse("""{ "errors": ["Value does not fall within the expected range."] }"""));

        Assert.Equal(["$: status 500 is not declared for POST /V1.0/Tickets (declared: 200, 401, 403)"], Lines(report));
    }

    [Fact]
    public void ValidateResponse_PostCreatedAs201_IsNotMappedBecauseAutotaskSuccessCodesAreOfficial()
    {
        var report = Spec.ValidateResponse(HttpMethod.Post, "/v1.0/Tickets", 201, Parse("""{ "itemId": 5 }"""));

        Assert.False(report.Conforms);
        Assert.Empty(report.Notes);
    }
}
