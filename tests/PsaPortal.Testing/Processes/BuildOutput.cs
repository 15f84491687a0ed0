namespace PsaPortal.Testing.Processes;

/// <summary>
/// Where the programs the process tests (crash, cluster) start were built: each project's own <c>bin/&lt;Configuration&gt;/&lt;tfm&gt;</c>
/// folder (the test project references them, so building the tests builds them), in the same configuration as this
/// test assembly.
/// </summary>
internal static class BuildOutput
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string PortalDll => Program("src/PsaPortal.Web", "PsaPortal.Web.dll");

    public static string SandboxDll => Program("src/PsaPortal.Sandbox", "PsaPortal.Sandbox.dll");

    /// <summary><c>artifacts/</c> at the repository root (ignored by git): where the trial report is written.</summary>
    public static string ArtifactsDirectory => Directory.CreateDirectory(Path.Combine(RepositoryRoot, "artifacts")).FullName;

    private static string Program(string projectDirectory, string dll)
    {
        // The test assembly (CrashTests, ClusterTests) lives in tests/<project>/bin/<Configuration>/<tfm>/.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var targetFramework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var path = Path.Combine(RepositoryRoot, projectDirectory, "bin", configuration, targetFramework, dll);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{dll} is not built at {path}; build the solution ({configuration}) first.", path);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PsaPortal.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No PsaPortal.sln above {AppContext.BaseDirectory}.");
    }
}
