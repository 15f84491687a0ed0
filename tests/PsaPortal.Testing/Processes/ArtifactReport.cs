using Xunit.Abstractions;

namespace PsaPortal.Testing.Processes;

/// <summary>
/// A report of figures and trials: each line goes to the test output and to a file under <c>artifacts/</c> (ignored by
/// git), so the lines of a CI run can be quoted and a failed trial replayed from its seed.
/// </summary>
internal sealed class ArtifactReport
{
    private static readonly Lock FileLock = new();

    /// <summary>Starts the file with <paramref name="header"/>; <paramref name="append"/> keeps the lines of earlier runs.</summary>
    public ArtifactReport(string path, string header, bool append = false)
    {
        FilePath = path;
        lock (FileLock)
        {
            if (append)
            {
                File.AppendAllText(path, header + Environment.NewLine);
            }
            else
            {
                File.WriteAllText(path, header + Environment.NewLine);
            }
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
