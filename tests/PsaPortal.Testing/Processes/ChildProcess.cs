using System.Diagnostics;

namespace PsaPortal.Testing.Processes;

/// <summary>
/// A built .NET program (<c>dotnet Some.dll …</c>) run as a child process, its output appended to a log file so a
/// failed trial can be read afterwards. <see cref="Kill"/> is SIGKILL on Linux: no shutdown hooks, no flushing, the
/// way a power cut or the OOM killer ends a process. Its standard input is a pipe from this process (<see cref="WriteLine"/>):
/// a child that reads it sees it close when this process ends, however it ends.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ChildProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <param name="environment">
    /// The host environment (ASPNETCORE_ENVIRONMENT); Production unless a test needs what only Development gives a
    /// program run from its build output, such as the static web assets (scripts) a browser loads.
    /// </param>
    /// <param name="standardOutput">Also given each line the child writes to its standard output, for a child that reports to its parent.</param>
    /// <param name="variables">Environment variables for the child alone (runtime settings such as <c>DOTNET_GCHeapHardLimit</c>).</param>
    public static ChildProcess Start(
        string dllPath, IEnumerable<string> arguments, string logPath, string environment = "Production", Action<string>? standardOutput = null,
        IReadOnlyDictionary<string, string>? variables = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dllPath)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dllPath);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The child reads only what it is given: no Development settings unless asked, no console colour codes in the log.
        info.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        info.Environment["DOTNET_ENVIRONMENT"] = environment;
        info.Environment["NO_COLOR"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in variables ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            Write(log, e.Data);
            if (e.Data is not null)
            {
                standardOutput?.Invoke(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start dotnet {dllPath}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Write(log, $"--- started pid {process.Id}: dotnet {dllPath} {string.Join(' ', info.ArgumentList.Skip(1))}");
        return new ChildProcess(process, log);
    }

    /// <summary>One line to the child's standard input.</summary>
    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>SIGKILL to the process and every process it started; returns once it is gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit();
        Write(_log, $"--- pid {_process.Id} killed (SIGKILL)");
    }

    /// <summary>Asks the process to stop (SIGTERM), and kills it if it has not stopped within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        // Process has no portable SIGTERM; the kill command sends it to this one pid.
        using (var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
        {
            await term!.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
        _log.Dispose();
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The last lines of a killed child may arrive after the log was closed.
            }
        }
    }
}
