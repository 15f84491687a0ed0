using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PsaPortal.Sandbox.Hosting;

/// <summary>Loads the state from <see cref="SandboxOptions.SnapshotPath"/> at start-up and writes it back at shutdown.</summary>
internal sealed partial class SandboxSnapshotService(PsaSandbox sandbox, IOptions<SandboxOptions> options, ILogger<SandboxSnapshotService> logger) : IHostedService
{
    // A host can be stopped twice at once (WebApplicationFactory stops it while Program's RunAsync stops it too): one save at a time.
    // Not disposed: the second stop may outlive the service provider, and a SemaphoreSlim without a wait handle holds nothing.
    private readonly SemaphoreSlim _saving = new(1, 1);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var path = options.Value.SnapshotPath;
        if (!string.IsNullOrEmpty(path) && File.Exists(path))
        {
            await sandbox.LoadSnapshotAsync(path, cancellationToken);
            LogLoaded(path);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var path = options.Value.SnapshotPath;
        if (!string.IsNullOrEmpty(path))
        {
            await _saving.WaitAsync(CancellationToken.None);
            try
            {
                await sandbox.SaveSnapshotAsync(path, cancellationToken);
            }
            finally
            {
                _saving.Release();
            }

            LogSaved(path);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox state loaded from {Path}")]
    private partial void LogLoaded(string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox state saved to {Path}")]
    private partial void LogSaved(string path);
}
