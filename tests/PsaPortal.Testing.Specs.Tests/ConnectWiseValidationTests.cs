using static PsaPortal.Testing.Specs.Tests.Json;

namespace PsaPortal.Testing.Specs.Tests;

/// <summary>Bodies built by hand from the ConnectWise file for the operations PsaPortal uses.</summary>
public sealed class ConnectWiseValidationTests
{
    private static VendorSpec Spec => VendorSpec.ConnectWise;

    private const string ValidAddition = """
        {
          "product": { "id": 310, "identifier": "M365-BP" },
          "billCustomer": "Billable",
          "quantity": 12,
          "unitPrice": 19.5,
          "effectiveDate": "2025-02-01T00:00:00Z",
          "invoiceDescription": "Microsoft 365 Business Premium",
          "taxableFlag": true
        }
        """;

    [Fact]
    public void ValidateRequest_CompanyPostWithRequiredFields_Conforms()
    {
        var body = Parse("""
            {
              "identifier": "SmithSons",
              "name": "Smith & \"Sons\" (AU)",
              "status": { "id": 1, "name": "Active" },
              "types": [ { "id": 5, "name": "Customer" } ],
              "addressLine1": "1 George St",
              "integratorTags": ["vendor-portal"]
            }
            """);

        var report = Spec.ValidateRequest(HttpMethod.Post, "/company/companies", body);

        Assert.Equal(SchemaCoverage.Validated, report.Coverage);
        Assert.Empty(Lines(report));
    }

    [Fact]
    public void ValidateRequest_CompanyPostMissingIdentifierAndNameTooLong_ReportsBoth()
    {
        var body = Parse($$"""{ "name": "{{new string('x', 51)}}" }""");

        var report = Spec.ValidateRequest(HttpMethod.Post, "/company/companies", body);

        Assert.Equal(
            ["$.identifier: required property is missing", "$.name: length 51 exceeds maxLength 50"],
            Lines(report));
    }

    [Fact]
    public void ValidateRequest_MaxLengthWithAstralCharacters_CountsCodePoints()
    {
        // 30 emoji are 60 UTF-16 units but 30 characters: within identifier's maxLength of 30.
        var body = Parse($$"""{ "identifier": "{{string.Concat(Enumerable.Repeat("😀", 30))}}", "name": "Emoji Pty" }""");

        var report = Spec.ValidateRequest(HttpMethod.Post, "/company/companies", body);

        Assert.Empty(Lines(report));
    }

    [Fact]
    public void ValidateResponse_CompaniesListWithStringIdAndBadNestedStatus_ReportsIndexedPaths()
    {
        var body = Parse("""
            [
              { "id": 1, "identifier": "A", "name": "Alpha", "status": { "id": 1, "name": "Active" } },
              { "id": 2, "identifier": "B", "name": "Beta", "status": { "id": "1", "name": "Active" } },
              { "id": "3", "identifier": "C", "name": "Gamma" }
            ]
            """);

        var report = Spec.ValidateResponse(HttpMethod.Get, "/company/companies?page=1&pageSize=3", 200, body);

        Assert.Equal(
            ["$[1].status.id: expected integer, got string", "$[2].id: expected integer, got string"],
            Lines(report));
    }

    [Fact]
    public void ValidateResponse_CompanyInfoDictionaryWithNumber_ReportsAdditionalPropertiesType()
    {
        var body = Parse("""{ "id": 1, "identifier": "A", "name": "Alpha", "_info": { "lastUpdated": "2025-01-01T00:00:00Z", "updatedBy": 7 } }""");

        var report = Spec.ValidateResponse(HttpMethod.Get, "/company/companies/1", 200, body);

        Assert.Equal(["$._info.updatedBy: expected string, got integer"], Lines(report));
    }

    [Fact]
    public void ValidateResponse_IdBeyondInt32_ReportsOutOfRange()
    {
        var body = Parse("""{ "id": 3000000000, "identifier": "A", "name": "Alpha" }""");

        var report = Spec.ValidateResponse(HttpMethod.Get, "/company/companies/1", 200, body);

        Assert.Equal(["$.id: expected int32, got 3000000000 (out of range)"], Lines(report));
    }

    [Fact]
    public void ValidateRequest_AdditionPostValid_Conforms()
    {
        var report = Spec.ValidateRequest(HttpMethod.Post, "/finance/agreements/17/additions", Parse(ValidAddition));

        Assert.Equal("request body of POST /finance/agreements/{parentId}/additions", report.Subject);
        Assert.Equal(SchemaCoverage.Validated, report.Coverage);
        Assert.True(report.Conforms, report.ToString());
    }

    [Fact]
    public void ValidateRequest_AdditionWithUnknownEnumBadDateAndFractionalAgreementId_ReportsEveryViolation()
    {
        var body = Parse("""
            {
              "product": { "id": 310 },
              "billCustomer": "Invoice",
              "effectiveDate": "01/02/2025",
              "agreementId": 17.5
            }
            """);

        var report = Spec.ValidateRequest(HttpMethod.Post, "/finance/agreements/17/additions", body);

        Assert.Equal(
            [
                "$.billCustomer: expected one of [Billable, DoNotBill, NoCharge], got \"Invoice\"",
                "$.effectiveDate: expected date-time (ISO 8601, e.g. 2025-01-31T00:00:00Z), got \"01/02/2025\"",
                "$.agreementId: expected integer, got number",
            ],
            Lines(report));
    }

    [Fact]
    public void ValidateRequest_AdditionNullOnNullableAndOnNonNullable_ReportsOnlyNonNullable()
    {
        // quantity is nullable in the file, description is not.
        var body = Parse("""{ "product": { "id": 310 }, "billCustomer": "Billable", "quantity": null, "description": null }""");

        var report = Spec.ValidateRequest(HttpMethod.Post, "/finance/agreements/17/additions", body);

        Assert.Equal(["$.description: expected string, got null"], Lines(report));
    }

    [Fact]
    public void ValidateRequest_AdditionWithoutBody_ReportsRequiredBody()
    {
        var report = Spec.ValidateRequest(HttpMethod.Post, "/finance/agreements/17/additions", body: null);

        Assert.Equal(["$: request body is required (Addition), but none was sent"], Lines(report));
    }

    [Fact]
    public void ValidateRequest_AdditionPatchOperations_ConformsWithScalarValues()
    {
        // PatchOperation.value is declared as a bare object (.NET object); the vendor takes scalars there.
        var body = Parse("""
            [
              { "op": "replace", "path": "quantity", "value": 14 },
              { "op": "replace", "path": "cancelledDate", "value": "2025-03-01T00:00:00Z" }
            ]
            """);

        var report = Spec.ValidateRequest(HttpMethod.Patch, "/finance/agreements/17/additions/204", body);

        Assert.Equal(SchemaCoverage.Validated, report.Coverage);
        Assert.Empty(Lines(report));
    }

    [Fact]
    public void ValidateRequest_AdditionPatchAsPlainObject_ReportsExpectedArray()
    {
        var body = Parse("""{ "op": "replace", "path": "quantity", "value": 14 }""");

        var report = Spec.ValidateRequest(HttpMethod.Patch, "/finance/agreements/17/additions/204", body);

        Assert.Equal(["$: expected array, got object"], Lines(report));
    }

    [Fact]
    public void ValidateRequest_NonNumericPathParameter_ReportsParameter()
    {
        var report = Spec.ValidateRequest(HttpMethod.Post, "/finance/agreements/abc/additions", Parse(ValidAddition));

        Assert.Equal(["path.parentId: expected integer, got 'abc'"], Lines(report));
    }

    [Fact]
    public void ValidateRequest_NonNumericPageQueryParameter_ReportsParameter()
    {
        var report = Spec.ValidateRequest(HttpMethod.Get, "/finance/agreements/17/additions?page=two", body: null);

        Assert.Equal(["query.page: expected integer, got 'two'"], Lines(report));
        Assert.Equal(SchemaCoverage.NoBody, report.Coverage);
    }

    [Fact]
    public void ValidateResponse_AdditionPost201_Conforms()
    {
        var body = Parse("""{ "id": 204, "product": { "id": 310, "identifier": "M365-BP" }, "billCustomer": "Billable", "agreementId": 17, "extPrice": 234.0 }""");

        var report = Spec.ValidateResponse(HttpMethod.Post, "/finance/agreements/17/additions", 201, body);

        Assert.True(report.Conforms, report.ToString());
        Assert.Empty(report.Notes);
    }

    [Fact]
    public void ValidateResponse_SearchPostAnswering200_ChecksGuessed201SchemaAndSaysSo()
    {
        // The reconstructed file declares 201 for every POST, also for /search, which really answers 200.
        var body = Parse("""[ { "id": 1, "summary": "Printer", "company": { "id": 2 } }, { "id": 2, "summary": 5, "company": { "id": 2 } } ]""");

        var report = Spec.ValidateResponse(HttpMethod.Post, "/service/tickets/search", 200, body);

        Assert.Equal(["$[1].summary: expected string, got integer"], Lines(report));
        Assert.Contains(report.Notes, note => note.Contains("status 200 checked against the declared 201", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateResponse_TicketErrorBody_ValidatesAgainstDefaultErrorSchema()
    {
        var valid = Parse("""
            { "code": "InvalidObject", "message": "ticket object is invalid",
              "errors": [ { "code": "InvalidObject", "message": "The board has no default team.", "resource": "ticket", "field": "board" } ] }
            """);
        var invalid = Parse("""{ "code": 400, "message": "bad", "errors": { "field": "board" } }""");

        var validReport = Spec.ValidateResponse(HttpMethod.Post, "/service/tickets", 400, valid);
        var invalidReport = Spec.ValidateResponse(HttpMethod.Post, "/service/tickets", 400, invalid);

        Assert.True(validReport.Conforms, validReport.ToString());
        Assert.Equal(["$.code: expected string, got integer", "$.errors: expected array, got object"], Lines(invalidReport));
    }

    [Fact]
    public void ValidateRequest_TicketPostWithEnumsAndCustomFields_Conforms()
    {
        var body = Parse("""
            {
              "summary": "New user: Jane",
              "company": { "id": 19 },
              "board": { "id": 1, "name": "Help Desk" },
              "priority": { "id": 4 },
              "severity": "Medium",
              "impact": "Low",
              "customFields": [ { "id": 3, "caption": "Asset tag", "type": "Text", "entryMethod": "EntryField", "value": "A-1001" } ]
            }
            """);

        var report = Spec.ValidateRequest(HttpMethod.Post, "/service/tickets", body);

        Assert.True(report.Conforms, report.ToString());
    }

    [Fact]
    public void ValidateRequest_TicketWithMisspeltAndUnknownProperties_ReportsThemWithSpellingHint()
    {
        var body = Parse("""{ "Summary": "x", "summary": "x", "company": { "id": 19, "colour": "red" } }""");

        var report = Spec.ValidateRequest(HttpMethod.Post, "/service/tickets", body);

        Assert.Equal(
            ["$.Summary: property is not declared in Ticket (did you mean 'summary'?)", "$.company.colour: property is not declared in CompanyReference"],
            Lines(report));
    }

    [Fact]
    public void ValidateRequest_UnknownPropertyWithAllowUnknownProperties_Conforms()
    {
        var body = Parse("""{ "summary": "x", "company": { "id": 19 }, "portalExtra": true }""");

        var report = Spec.ValidateRequest(HttpMethod.Post, "/service/tickets", body, options: new ValidationOptions { AllowUnknownProperties = true });

        Assert.True(report.Conforms, report.ToString());
    }

    [Fact]
    public void ValidateResponse_TicketListWithFieldsQuery_SkipsRequiredAndSaysSo()
    {
        var body = Parse("""[ { "id": 1 }, { "id": 2 } ]""");

        var selected = Spec.ValidateResponse(HttpMethod.Get, "/service/tickets?fields=id", 200, body);
        var full = Spec.ValidateResponse(HttpMethod.Get, "/service/tickets", 200, body);

        Assert.True(selected.Conforms, selected.ToString());
        Assert.Contains(selected.Notes, note => note.Contains("fields=", StringComparison.Ordinal));
        Assert.Contains("$[0].summary: required property is missing", Lines(full));
    }

    [Fact]
    public void ValidateResponse_TicketDelete204WithoutBody_IsNoBodyAndConforms()
    {
        var report = Spec.ValidateResponse(HttpMethod.Delete, "/service/tickets/5", 204, body: null);

        Assert.Equal(SchemaCoverage.NoBody, report.Coverage);
        Assert.True(report.Conforms);
    }

    [Fact]
    public void ValidateResponse_GetWithoutDeclaredSchema_ReportsNoSchema()
    {
        var report = Spec.ValidateResponse(HttpMethod.Get, "/system/members/5/image", 200, Parse("""{ "anything": 1 }"""));

        Assert.Equal(SchemaCoverage.NoSchema, report.Coverage);
        Assert.Contains(report.Notes, note => note.StartsWith("no schema:", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateResponse_SuccessBodyMissing_ReportsExpectedBody()
    {
        var report = Spec.ValidateResponse(HttpMethod.Get, "/company/companies/1", 200, body: null);

        Assert.Equal(["$: expected a body (Company), got none"], Lines(report));
    }

    [Fact]
    public void ValidateResponse_UnknownRoute_ReportsNotInSpec()
    {
        var report = Spec.ValidateResponse(HttpMethod.Get, "/company/unicorns", 200, Parse("[]"));

        Assert.False(report.Conforms);
        Assert.Contains("is not in spec ConnectWise PSA", report.Violations[0].Message, StringComparison.Ordinal);
    }
}
