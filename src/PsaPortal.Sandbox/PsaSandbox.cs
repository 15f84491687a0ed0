using System.Text.Json;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.ConnectWise;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;

namespace PsaPortal.Sandbox;

/// <summary>
/// The sandbox as a whole: one simulated ConnectWise site and one Autotask database, seeded from the
/// same canonical data. Resolve it from DI to drive the sandbox from in-process tests.
/// </summary>
public sealed class PsaSandbox
{
    /// <param name="time">The host's clock (real time by default); the sandbox runs on a <see cref="SandboxClock"/> over it.</param>
    public PsaSandbox(SandboxOptions options, TimeProvider time)
    {
        Clock = new SandboxClock(time);
        ConnectWise = new ConnectWiseSandbox(options.ConnectWise, Clock, options.RequestLogCapacity);
        Autotask = new AutotaskSandbox(options.Autotask, Clock, options.RequestLogCapacity);
        SeedData = SandboxSeedData.Generate(options.Seed, options.CompanyCount, options.ReferenceDate ?? DateOnly.FromDateTime(Clock.GetUtcNow().UtcDateTime));
        ConnectWise.Seed(SeedData);
        Autotask.Seed(SeedData);
    }

    public ConnectWiseSandbox ConnectWise { get; }

    public AutotaskSandbox Autotask { get; }

    public SandboxSeedData SeedData { get; private set; }

    /// <summary>Every time-based behaviour of both vendors reads this clock; tests call <see cref="SandboxClock.Advance"/> instead of waiting.</summary>
    public SandboxClock Clock { get; }

    /// <summary>Regenerates both vendors' data from a new seed and size (settings, members and logs are kept).</summary>
    public void Reseed(int seed, int companyCount, DateOnly? referenceDate = null)
    {
        SeedData = SandboxSeedData.Generate(seed, companyCount, referenceDate ?? SeedData.ReferenceDate);
        ConnectWise.Seed(SeedData);
        Autotask.Seed(SeedData);
    }

    public async Task SaveSnapshotAsync(string path, CancellationToken cancellationToken = default)
    {
        var snapshot = new JsonObject
        {
            ["seed"] = SeedData.Seed,
            ["companyCount"] = SeedData.CompanyCount,
            ["referenceDate"] = SeedData.ReferenceDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            ["connectwise"] = ExportTables(ConnectWise.Data.Tables),
            ["autotask"] = ExportTables(Autotask.Data.Tables),
        };
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var temporary = path + ".tmp";
        await using (var stream = File.Create(temporary))
        await using (var writer = new Utf8JsonWriter(stream, JsonRecords.WriterOptions))
        {
            JsonRecords.Write(writer, snapshot, hrefBase: null);
        }

        File.Move(temporary, path, overwrite: true);
    }

    public async Task LoadSnapshotAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var stream = File.OpenRead(path);
        var snapshot = (JsonObject)(await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken))!;
        SeedData = SandboxSeedData.Generate(
            snapshot["seed"]!.GetValue<int>(),
            snapshot["companyCount"]!.GetValue<int>(),
            DateOnly.Parse(snapshot["referenceDate"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        ImportTables(ConnectWise.Data.Tables, snapshot["connectwise"] as JsonObject);
        ImportTables(Autotask.Data.Tables, snapshot["autotask"] as JsonObject);
    }

    internal static JsonObject ExportTables(IEnumerable<RecordTable> tables)
    {
        var result = new JsonObject();
        foreach (var table in tables)
        {
            result[table.Name] = new JsonArray([.. table.All().Select(r => (JsonNode)r.DeepClone())]);
        }

        return result;
    }

    internal static void ImportTables(IEnumerable<RecordTable> tables, JsonObject? source)
    {
        if (source is null)
        {
            return;
        }

        foreach (var table in tables)
        {
            if (source[table.Name] is not JsonArray rows)
            {
                continue;
            }

            table.Clear();
            foreach (var row in rows.OfType<JsonObject>())
            {
                table.Insert((JsonObject)row.DeepClone());
            }
        }
    }
}
