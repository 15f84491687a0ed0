using System.Diagnostics;
using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Bench.Benchmarks;

/// <summary>
/// The Mapping page's service at scale, on SQLite: 10,000 tenants named as the demo platform names the sandbox's
/// 10,000 companies, all cached; then Suggest, the grid's queries (first page, a deep filtered page, search, sort by
/// state), the company picker's search, and Accept all above a score. Options: --tenants 10000 --runs 5.
/// </summary>
internal sealed class MappingBenchmark : IBenchmark
{
    public string Name => "mapping";

    public string Description => "Mapping at 10,000 tenants x 10,000 PSA companies, SQLite: Suggest, grid pages, picker search, bulk accept (time, peak memory)";

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var size = arguments.Int("tenants", 10_000);
        var runs = arguments.Int("runs", 5);
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        await using var factory = new PortalFactory(new PortalDatabase.Sqlite());
        var organizationId = await factory.AddOrganizationAsync("Bench MSP");
        var seed = SandboxSeedData.Generate(1, size, DateOnly.FromDateTime(DateTime.UtcNow));
        var integrationId = await ArrangeAsync(factory, organizationId, seed, cancellationToken);
        var user = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, "bench"), new Claim(ClaimTypes.Role, PortalRoles.Admin), new Claim(PortalClaims.OrganizationId, organizationId.ToString())], "Bench"));
        var mapping = factory.Services.GetRequiredService<MappingService>();
        Console.WriteLine($"mapping: {seed.Companies.Count(c => c.DuplicateOfNumber is null):N0} tenants, {seed.Companies.Count:N0} cached ConnectWise companies, SQLite, {runs} runs per query");

        var watch = Stopwatch.StartNew();
        var suggested = await mapping.SuggestAsync(user, integrationId, cancellationToken);
        Console.WriteLine($"Suggest: {watch.Elapsed.TotalSeconds:F2} s — {suggested.Message}");

        await TimeAsync("grid: first page (all, by tenant, 25)", runs, () => mapping.ListAsync(user, integrationId, new MappingQuery(), cancellationToken));
        await TimeAsync("grid: suggested, page at row 5,000 (100)", runs,
            () => mapping.ListAsync(user, integrationId, new MappingQuery(MappingFilter.Suggested, Skip: 5_000, Take: 100), cancellationToken));
        await TimeAsync("grid: unmapped only (25)", runs, () => mapping.ListAsync(user, integrationId, new MappingQuery(MappingFilter.Unmapped), cancellationToken));
        await TimeAsync("grid: search \"dental\" (25)", runs, () => mapping.ListAsync(user, integrationId, new MappingQuery(Search: "dental"), cancellationToken));
        await TimeAsync("grid: sort by state, descending, page 200 (25)", runs,
            () => mapping.ListAsync(user, integrationId, new MappingQuery(Sort: MappingSort.State, Descending: true, Skip: 5_000), cancellationToken));
        await TimeAsync("picker: companies containing \"harbor\" (50)", runs, () => mapping.SearchCompaniesAsync(user, integrationId, "harbor", cancellationToken: cancellationToken));

        watch.Restart();
        var accepted = await mapping.AcceptAboveAsync(user, integrationId, 0.9, cancellationToken);
        Console.WriteLine($"Accept all ≥ 90 %: {watch.Elapsed.TotalMilliseconds:F0} ms — {accepted.Message}");
        await TimeAsync("grid: mapped, first page (25)", runs, () => mapping.ListAsync(user, integrationId, new MappingQuery(MappingFilter.Mapped), cancellationToken));

        Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024):N0} MiB (portal and benchmark in one process)");
        return 0;
    }

    private static async Task<Guid> ArrangeAsync(PortalFactory factory, Guid organizationId, SandboxSeedData seed, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var now = DateTimeOffset.UtcNow;
        var integration = new Integration { OrganizationId = organizationId, Vendor = PsaVendor.ConnectWise, Status = IntegrationStatus.Connected, UpdatedAt = now, ReferenceSyncedAt = now };
        db.Integrations.Add(integration);
        db.PsaReferenceItems.AddRange(seed.Companies.Select(c => new PsaReferenceItem
        {
            IntegrationId = integration.Id, Kind = PsaReferenceKind.Company, PsaId = c.Number, Name = c.Name, Code = c.Identifier, Domain = c.Domain,
            SearchText = $"{c.Name} {c.Identifier}".ToLowerInvariant(), IsActive = c.DuplicateOfNumber is null, SyncedAt = now,
        }));
        db.Tenants.AddRange(seed.Companies.Where(c => c.DuplicateOfNumber is null).Select(c => new Tenant
        {
            OrganizationId = organizationId, ExternalId = $"tn-{c.Number:D5}", Name = seed.PlatformName(c),
            Domain = c.Number % 6 == 0 ? null : c.Domain, CreatedAt = now, UpdatedAt = now,
        }));
        await db.SaveChangesAsync(cancellationToken);
        return integration.Id;
    }

    private static async Task TimeAsync<T>(string what, int runs, Func<Task<T>> query)
    {
        await query();
        var times = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var watch = Stopwatch.StartNew();
            await query();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        Console.WriteLine($"{what}: median {times[times.Count / 2]:F0} ms, max {times[^1]:F0} ms");
    }
}
