namespace PsaPortal.Testing.Specs.Tests;

public sealed class RouteMatchingTests
{
    private static VendorSpec ConnectWise => VendorSpec.ConnectWise;

    private static VendorSpec Autotask => VendorSpec.Autotask;

    [Fact]
    public void FindOperation_ConnectWiseAdditionsOfAgreement_ReturnsTemplateAndParentId()
    {
        var match = ConnectWise.FindOperation(HttpMethod.Get, "/finance/agreements/17/additions");

        Assert.Equal("/finance/agreements/{parentId}/additions", match.Operation.PathTemplate);
        Assert.Equal("GET", match.Operation.Method);
        Assert.Equal("getFinanceAgreementsByParentIdAdditions", match.Operation.OperationId);
        Assert.Equal("17", match.PathParameters["parentId"]);
    }

    [Fact]
    public void FindOperation_ConnectWiseAdditionById_CapturesBothParameters()
    {
        var match = ConnectWise.FindOperation(HttpMethod.Patch, "finance/agreements/17/additions/204");

        Assert.Equal("/finance/agreements/{parentId}/additions/{id}", match.Operation.PathTemplate);
        Assert.Equal("17", match.PathParameters["parentId"]);
        Assert.Equal("204", match.PathParameters["id"]);
    }

    [Theory]
    [InlineData("/company/companies/count", "/company/companies/count")]
    [InlineData("/company/companies/42", "/company/companies/{id}")]
    [InlineData("/finance/agreements/17/additions/count", "/finance/agreements/{parentId}/additions/count")]
    public void FindOperation_ConnectWiseLiteralAndParameterBothMatch_LiteralWins(string path, string expectedTemplate)
    {
        var match = ConnectWise.FindOperation(HttpMethod.Get, path);

        Assert.Equal(expectedTemplate, match.Operation.PathTemplate);
    }

    [Theory]
    [InlineData("/v1.0/Companies/query", "/V1.0/Companies/query")]
    [InlineData("/v1.0/Companies/entityInformation", "/V1.0/Companies/entityInformation")]
    [InlineData("/v1.0/Companies/1234", "/V1.0/Companies/{id}")]
    public void FindOperation_AutotaskLiteralAndParameterBothMatch_LiteralWins(string path, string expectedTemplate)
    {
        var match = Autotask.FindOperation(HttpMethod.Get, path);

        Assert.Equal(expectedTemplate, match.Operation.PathTemplate);
    }

    [Theory]
    [InlineData("/v1.0/Companies/query")]
    [InlineData("/V1.0/companies/QUERY")]
    [InlineData("/V1.0/Companies/query")]
    public void FindOperation_AutotaskPathInAnyCase_FindsCompaniesQuery(string path)
    {
        var match = Autotask.FindOperation(HttpMethod.Post, path);

        Assert.Equal("/V1.0/Companies/query", match.Operation.PathTemplate);
        Assert.Equal("Companies_Query", match.Operation.OperationId);
    }

    [Fact]
    public void FindOperation_ConnectWisePathInOtherCase_IsNotInSpecBecauseMatchingIsExact()
    {
        var found = ConnectWise.TryFindOperation(HttpMethod.Get, "/Company/Companies", out _, out var failure);

        Assert.False(found);
        Assert.Contains("no path template matches", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void FindOperation_UnknownPath_ThrowsNotInSpecNamingRequestAndFile()
    {
        var error = Assert.Throws<SpecMismatchException>(() => ConnectWise.FindOperation(HttpMethod.Get, "/company/unicorns"));

        Assert.Equal(
            $"GET /company/unicorns is not in spec ConnectWise PSA ({Path.GetFileName(VendorSpec.ConnectWiseFileName)}): no path template matches.",
            error.Message);
    }

    [Fact]
    public void FindOperation_KnownPathUndeclaredMethod_ThrowsListingDeclaredMethods()
    {
        var error = Assert.Throws<SpecMismatchException>(() => ConnectWise.FindOperation(HttpMethod.Delete, "/company/companies"));

        Assert.Contains("not in spec", error.Message, StringComparison.Ordinal);
        Assert.Contains("matches /company/companies, which declares only GET, POST", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindOperation_AutotaskPatchOnEntityId_IsNotInSpecBecausePatchGoesToCollection()
    {
        // Autotask updates through the collection URL with the id in the body.
        Assert.Throws<SpecMismatchException>(() => Autotask.FindOperation(HttpMethod.Patch, "/v1.0/Tickets/5"));

        Assert.Equal("/V1.0/Tickets", Autotask.FindOperation(HttpMethod.Patch, "/v1.0/Tickets").Operation.PathTemplate);
    }

    [Fact]
    public void FindOperation_PathStillCarryingApiRoot_ThrowsWithHintToPassRelativePath()
    {
        var error = Assert.Throws<SpecMismatchException>(() => Autotask.FindOperation(HttpMethod.Post, "/atservicesrest/v1.0/Companies/query"));

        Assert.Contains("Pass the path relative to the API root '/ATServicesRest'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindOperation_TemplateWithTrailingSlash_MatchesPathWithoutIt()
    {
        var match = ConnectWise.FindOperation(HttpMethod.Get, "/service/boards/3/skillMappings");

        Assert.Equal("/service/boards/{parentId}/skillMappings/", match.Operation.PathTemplate);
    }

    [Fact]
    public void FindOperation_SegmentMixingLiteralAndParameter_CapturesParameter()
    {
        // The upstream file really has "/finance/agreements/types{id}/copy" (missing slash).
        var match = ConnectWise.FindOperation(HttpMethod.Post, "/finance/agreements/types12/copy");

        Assert.Equal("/finance/agreements/types{id}/copy", match.Operation.PathTemplate);
        Assert.Equal("12", match.PathParameters["id"]);
    }

    [Fact]
    public void FindOperation_PathWithQueryString_IgnoresQuery()
    {
        var match = ConnectWise.FindOperation(HttpMethod.Get, "/service/tickets?conditions=id%3D5&page=2");

        Assert.Equal("/service/tickets", match.Operation.PathTemplate);
    }

    [Fact]
    public void GetApiRelativePath_ConnectWiseCloudUri_ReturnsPathAndQueryAfterApis30()
    {
        var relative = ConnectWise.GetApiRelativePath(new Uri("https://api-na.myconnectwise.net/v4_6_release/apis/3.0/finance/agreements/17/additions?page=2"));

        Assert.Equal("/finance/agreements/17/additions?page=2", relative);
    }

    [Fact]
    public void GetApiRelativePath_AutotaskSandboxMount_ReturnsPathAfterAtServicesRest()
    {
        var relative = Autotask.GetApiRelativePath(new Uri("http://127.0.0.1:5000/sandbox/autotask/atservicesrest/v1.0/Companies/query"));

        Assert.Equal("/v1.0/Companies/query", relative);
        Assert.Equal("/V1.0/Companies/query", Autotask.FindOperation(HttpMethod.Post, relative).Operation.PathTemplate);
    }

    [Fact]
    public void GetApiRelativePath_UriOutsideApiRoot_ThrowsNamingRoot()
    {
        var error = Assert.Throws<SpecMismatchException>(() =>
            ConnectWise.GetApiRelativePath(new Uri("https://na.myconnectwise.net/login/companyinfo/acme")));

        Assert.Contains("is not under the ConnectWise PSA API root '/apis/3.0'", error.Message, StringComparison.Ordinal);
    }
}
