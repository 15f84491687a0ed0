namespace PsaPortal.Testing.Specs;

/// <summary>
/// Finds the folder that holds the vendor specifications (<c>connectwise/</c> and <c>autotask/</c>).
/// </summary>
public static class SpecsDirectory
{
    public const string EnvironmentVariable = "PSAPORTAL_SPECS_DIR";

    private const string SolutionFileName = "PsaPortal.sln";

    /// <summary>
    /// <see cref="EnvironmentVariable"/> if set; otherwise <c>../shared/specs</c> next to the folder
    /// holding PsaPortal.sln, searched upwards from <see cref="AppContext.BaseDirectory"/>.
    /// </summary>
    public static string Locate() =>
        Locate(Environment.GetEnvironmentVariable(EnvironmentVariable), AppContext.BaseDirectory);

    /// <summary>The same search with its inputs passed in, so it can be tested without process-wide state.</summary>
    public static string Locate(string? configuredDirectory, string startDirectory)
    {
        if (!string.IsNullOrWhiteSpace(configuredDirectory))
        {
            var configured = Path.GetFullPath(configuredDirectory);
            if (Directory.Exists(configured))
            {
                return configured;
            }

            throw new SpecsDirectoryNotFoundException(
                $"{EnvironmentVariable} is set to '{configuredDirectory}' (resolved to '{configured}'), but that directory does not exist. " +
                $"Set {EnvironmentVariable} to the folder that contains connectwise/ and autotask/, or unset it to use ../shared/specs next to {SolutionFileName}.");
        }

        var searched = new List<string>();
        for (var directory = new DirectoryInfo(startDirectory); directory is not null; directory = directory.Parent)
        {
            searched.Add(directory.FullName);
            if (!File.Exists(Path.Combine(directory.FullName, SolutionFileName)))
            {
                continue;
            }

            var specs = Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "specs"));
            if (Directory.Exists(specs))
            {
                return specs;
            }

            throw new SpecsDirectoryNotFoundException(
                $"Found {SolutionFileName} in '{directory.FullName}', but the specifications folder '{specs}' does not exist. " +
                $"Set the environment variable {EnvironmentVariable} to the folder that contains connectwise/ and autotask/.");
        }

        throw new SpecsDirectoryNotFoundException(
            $"{EnvironmentVariable} is not set and no {SolutionFileName} was found in '{startDirectory}' or any parent " +
            $"(looked in: {string.Join(", ", searched)}). " +
            $"Set the environment variable {EnvironmentVariable} to the folder that contains connectwise/ and autotask/.");
    }
}

public sealed class SpecsDirectoryNotFoundException(string message) : DirectoryNotFoundException(message);
