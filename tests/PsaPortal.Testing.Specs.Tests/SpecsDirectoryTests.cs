namespace PsaPortal.Testing.Specs.Tests;

public sealed class SpecsDirectoryTests : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("specs-dir-tests-");

    public void Dispose() => _scratch.Delete(recursive: true);

    [Fact]
    public void Locate_VariableNamesExistingFolder_ReturnsThatFolder()
    {
        var located = SpecsDirectory.Locate(_scratch.FullName, startDirectory: "/");

        Assert.Equal(_scratch.FullName, located);
    }

    [Fact]
    public void Locate_VariableNamesMissingFolder_ThrowsNamingVariableAndFolder()
    {
        var missing = Path.Combine(_scratch.FullName, "nope");

        var error = Assert.Throws<SpecsDirectoryNotFoundException>(() => SpecsDirectory.Locate(missing, AppContext.BaseDirectory));

        Assert.Contains(SpecsDirectory.EnvironmentVariable, error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Locate_NoVariableInsideRepository_ReturnsSharedSpecsBesideSolutionFolder()
    {
        var located = SpecsDirectory.Locate(configuredDirectory: null, AppContext.BaseDirectory);

        var solutionFolder = FindSolutionFolder();
        Assert.Equal(Path.GetFullPath(Path.Combine(solutionFolder, "..", "shared", "specs")), located);
        Assert.True(File.Exists(Path.Combine(located, VendorSpec.ConnectWiseFileName)));
        Assert.True(File.Exists(Path.Combine(located, VendorSpec.AutotaskFileName)));
    }

    [Fact]
    public void Locate_NoSolutionAboveStart_ThrowsListingSearchedFoldersAndVariable()
    {
        var start = Directory.CreateDirectory(Path.Combine(_scratch.FullName, "deep", "er")).FullName;

        var error = Assert.Throws<SpecsDirectoryNotFoundException>(() => SpecsDirectory.Locate(null, start));

        Assert.Contains(start, error.Message, StringComparison.Ordinal);
        Assert.Contains(_scratch.FullName, error.Message, StringComparison.Ordinal);
        Assert.Contains($"Set the environment variable {SpecsDirectory.EnvironmentVariable}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Locate_SolutionWithoutSharedSpecs_ThrowsNamingExpectedFolder()
    {
        var repository = Directory.CreateDirectory(Path.Combine(_scratch.FullName, "main"));
        File.WriteAllText(Path.Combine(repository.FullName, "PsaPortal.sln"), string.Empty);

        var error = Assert.Throws<SpecsDirectoryNotFoundException>(() => SpecsDirectory.Locate(null, repository.FullName));

        Assert.Contains(Path.Combine(_scratch.FullName, "shared", "specs"), error.Message, StringComparison.Ordinal);
        Assert.Contains(SpecsDirectory.EnvironmentVariable, error.Message, StringComparison.Ordinal);
    }

    private static string FindSolutionFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PsaPortal.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The test assembly does not run inside the repository.");
    }
}
