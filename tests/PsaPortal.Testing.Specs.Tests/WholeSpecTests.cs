using System.Text.Json;
using System.Text.RegularExpressions;

namespace PsaPortal.Testing.Specs.Tests;

/// <summary>Runs every operation of both files through the router and the validator.</summary>
public sealed partial class WholeSpecTests
{
    public static TheoryData<string> Vendors => new() { "ConnectWise", "Autotask" };

    [Theory]
    [MemberData(nameof(Vendors))]
    public void FindOperation_EveryTemplateFilledWithValues_MapsBackToItself(string vendor)
    {
        var spec = SpecFor(vendor);
        var mismatches = new List<string>();

        foreach (var operation in spec.Operations)
        {
            var concretePath = ParameterToken().Replace(operation.PathTemplate, "1");
            var found = spec.FindOperation(new HttpMethod(operation.Method), concretePath).Operation;
            if (!ReferenceEquals(found, operation))
            {
                mismatches.Add($"{operation.Method} {concretePath} -> {found.PathTemplate}, expected {operation.PathTemplate}");
            }
        }

        Assert.Equal(spec.OperationCount, spec.Operations.Count());
        Assert.Empty(mismatches);
    }

    [Theory]
    [MemberData(nameof(Vendors))]
    public void ValidateResponseBody_EveryDeclaredResponseWithEmptyObject_NeverThrows(string vendor)
    {
        var spec = SpecFor(vendor);
        var emptyObject = Json.Parse("{}");
        var checkedResponses = 0;

        foreach (var operation in spec.Operations)
        {
            foreach (var code in operation.DeclaredStatusCodes.Where(code => code != "default"))
            {
                var report = operation.ValidateResponseBody(int.Parse(code, System.Globalization.CultureInfo.InvariantCulture), emptyObject);
                Assert.NotNull(report.Subject);
                checkedResponses++;
            }
        }

        Assert.True(checkedResponses >= spec.OperationCount, $"only {checkedResponses} responses checked");
    }

    private static VendorSpec SpecFor(string vendor) => vendor == "Autotask" ? VendorSpec.Autotask : VendorSpec.ConnectWise;

    [GeneratedRegex(@"\{[^}]*\}", RegexOptions.CultureInvariant)]
    private static partial Regex ParameterToken();
}
