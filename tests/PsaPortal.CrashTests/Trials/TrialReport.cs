using Xunit.Abstractions;

namespace PsaPortal.CrashTests.Trials;

/// <summary>
/// The trial table: each line goes to the test output and to <c>artifacts/crash-trials.txt</c> (ignored by git), so
/// the trials of a CI run can be quoted and a failed one replayed from its seed.
/// </summary>
internal sealed class TrialReport
{
    private static readonly Lock FileLock = new();

    public TrialReport(string path, string header)
    {
        FilePath = path;
        lock (FileLock)
        {
            File.WriteAllText(path, header + Environment.NewLine);
        }
    }

    public string FilePath { get; }

    public void Write(ITestOutputHelper output, string line)
    {
        output.WriteLine(line);
        lock (FileLock)
        {
            File.AppendAllText(FilePath, line + Environment.NewLine);
        }
    }
}
