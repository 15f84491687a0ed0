using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace PsaPortal.Sandbox;

/// <summary>
/// Standalone host: <c>dotnet run --project src/PsaPortal.Sandbox -- --urls http://127.0.0.1:5099 --seed 7 --companies 500</c>.
/// Any <see cref="SandboxOptions"/> value can be set as <c>--Sandbox:Name=value</c>.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, string> ShortSwitches = new(StringComparer.Ordinal)
    {
        ["--seed"] = "Sandbox:Seed",
        ["--companies"] = "Sandbox:CompanyCount",
        ["--snapshot"] = "Sandbox:SnapshotPath",
        ["--prefix"] = "Sandbox:PathPrefix",
    };

    public static void Main(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Configuration.AddCommandLine(args, ShortSwitches);
        builder.Services.AddPsaSandbox(options => builder.Configuration.GetSection("Sandbox").Bind(options));

        var app = builder.Build();
        var prefix = builder.Configuration["Sandbox:PathPrefix"] ?? "/sandbox";
        app.MapPsaSandbox(prefix);
        app.MapGet("/", () => $"PsaPortal sandbox: ConnectWise at {prefix}/connectwise, Autotask at {prefix}/autotask. See docs/sandbox.md.");
        app.Run();
    }
}
