using System.Diagnostics;
using Xunit.Abstractions;

namespace PsaPortal.Testing.Specs.Tests;

public sealed class SpecLoadingTests(ITestOutputHelper output)
{
    // Generous for a shared 2-core machine; a cold load measures about 0.2 s per file.
    private static readonly TimeSpan LoadBudget = TimeSpan.FromSeconds(3);

    [Fact]
    public void ConnectWise_FirstLoad_IndexesEveryPathWithinBudget()
    {
        var spec = VendorSpec.ConnectWise;
        output.WriteLine($"{spec.Name}: {spec.PathCount} paths, {spec.OperationCount} operations, loaded in {spec.LoadTime.TotalMilliseconds:F0} ms");

        Assert.Equal(SpecFormat.OpenApi3, spec.Format);
        Assert.Equal(1812, spec.PathCount);
        Assert.Equal(3050, spec.OperationCount);
        Assert.True(spec.LoadTime < LoadBudget, $"loading took {spec.LoadTime}");
    }

    [Fact]
    public void Autotask_FirstLoad_IndexesEveryPathWithinBudget()
    {
        var spec = VendorSpec.Autotask;
        output.WriteLine($"{spec.Name}: {spec.PathCount} paths, {spec.OperationCount} operations, loaded in {spec.LoadTime.TotalMilliseconds:F0} ms");

        Assert.Equal(SpecFormat.Swagger2, spec.Format);
        Assert.Equal(2077, spec.PathCount);
        Assert.Equal(3009, spec.OperationCount);
        Assert.True(spec.LoadTime < LoadBudget, $"loading took {spec.LoadTime}");
    }

    [Fact]
    public void Load_SameFileAgain_ReturnsCachedInstanceAtOnce()
    {
        var first = VendorSpec.Autotask;

        var stopwatch = Stopwatch.StartNew();
        var second = VendorSpec.Load(first.FilePath, VendorSpecOptions.Autotask);
        stopwatch.Stop();

        Assert.Same(first, second);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromMilliseconds(50), $"cached load took {stopwatch.Elapsed}");
    }

    [Fact]
    public void ApiRoot_EachVendor_IsThePrefixTheirPathsHangOff()
    {
        Assert.Equal("/apis/3.0", VendorSpec.ConnectWise.ApiRoot);
        Assert.Equal("/ATServicesRest", VendorSpec.Autotask.ApiRoot);
    }

    [Fact]
    public void Load_JsonThatIsNoSpecification_ThrowsInvalidData()
    {
        var file = Path.Combine(Path.GetTempPath(), $"not-a-spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{"hello": "world"}""");
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => VendorSpec.Load(file, VendorSpecOptions.ConnectWise));

            Assert.Contains("neither a Swagger 2.0 nor an OpenAPI 3.0", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
