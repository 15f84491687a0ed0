using System.Globalization;
using System.Text.Json.Nodes;
using PsaPortal.Testing.Processes;
using PsaPortal.Integrations;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Reference;

namespace PsaPortal.Testing.BillingScenarios;

/// <summary>
/// ConnectWise: each tenant on its company's "Managed Services" agreement; counts changed (PATCH) and products the
/// agreement lacks added (POST), so a crash can fall between a write and its record. Company 2's SEC-EDR-STD sits on
/// two agreements and must fail with DESIGN.md's message.
/// </summary>
internal sealed class ConnectWiseScenario(IPortalStore store, SandboxProcess sandbox) : BillingScenario(store, sandbox)
{
    public const string PublicKey = "SbxFullPublic01";
    public const string PrivateKey = "SbxFullPrivate01";
    public const string MultipleAgreements =
        "Multiple agreements contain the mapped product for this company. Only one agreement per company should have the product. Resolve in ConnectWise.";

    /// <summary>Share of ordinary tenants that start using a product their agreement lacks, per trial.</summary>
    private const double AddedProductShare = 0.04;

    private (JsonObject? Data, ConnectWiseState? State) _parsed;

    public override PsaVendor Vendor => PsaVendor.ConnectWise;

    protected override void DescribeConnection(Integration integration)
    {
        integration.SiteUrl = Sandbox.ConnectWiseSiteUrl;
        integration.CompanyId = "sandbox";
        integration.PublicKey = PublicKey;
        integration.ProtectedPrivateKey = Store.Secrets.Protect(PrivateKey);
        integration.ApiVersion = "ConnectWise 2025.1";
    }

    /// <summary>
    /// The company's other agreements come from the cache (the engine reads only those few live), so the harness caches
    /// the agreements and their active additions as a reference sync would.
    /// </summary>
    protected override IEnumerable<PsaReferenceItem> ReferenceCache(JsonObject data, Guid integrationId, DateTimeOffset now)
    {
        foreach (var agreement in ConnectWiseState.Records(data, "finance/agreements"))
        {
            var name = JsonRecords.GetString(agreement["name"]) ?? "";
            yield return new PsaReferenceItem
            {
                IntegrationId = integrationId, Kind = PsaReferenceKind.Agreement, PsaId = JsonRecords.GetId(agreement), ParentPsaId = ConnectWiseState.Long(agreement["company"]?["id"]),
                Name = name, SearchText = name.ToLowerInvariant(), Type = JsonRecords.GetString(agreement["type"]?["name"]),
                StartDate = agreement["startDate"] is null ? null : ConnectWiseState.Date(agreement["startDate"]),
                EndDate = agreement["endDate"] is null ? null : ConnectWiseState.Date(agreement["endDate"]),
                IsActive = JsonRecords.GetBoolean(agreement["cancelledFlag"]) != true, SyncGeneration = 1, SyncedAt = now,
            };
        }

        foreach (var addition in new ConnectWiseState(data).Additions.Where(a => !a.Cancelled))
        {
            var name = SandboxSeedData.Products.FirstOrDefault(p => p.Number == addition.ProductId)?.Description ?? $"product {addition.ProductId}";
            yield return new PsaReferenceItem
            {
                IntegrationId = integrationId, Kind = PsaReferenceKind.Addition, PsaId = addition.Id, ParentPsaId = addition.AgreementId, ProductPsaId = addition.ProductId,
                Name = name, SearchText = name.ToLowerInvariant(), SyncGeneration = 1, SyncedAt = now,
            };
        }
    }

    protected override IReadOnlyList<CompanyMapping> MapCompanies(JsonObject data)
    {
        var state = new ConnectWiseState(data);
        var managed = state.Agreements.Where(a => a.Name == "Managed Services" && !a.Cancelled).ToLookup(a => a.CompanyId);
        return state.CompanyNames
            .Where(c => managed[c.Key].Any())
            .OrderBy(c => c.Key)
            .Select(c =>
            {
                var agreement = managed[c.Key].First();
                var usage = state.Additions.Where(a => a.AgreementId == agreement.Id && !a.Cancelled)
                    .GroupBy(a => a.ProductId)
                    .Select(g => (state.ProductIdentifiers[g.Key], (int)g.First().Quantity))
                    .ToList();
                return new CompanyMapping((int)c.Key, c.Key, c.Value, agreement.Id, agreement.Name, usage);
            })
            .ToList();
    }

    protected override decimal? PsaQuantity(JsonObject data, long agreementPsaId, long psaProductId) =>
        State(data).ActiveAdditions(agreementPsaId, psaProductId).FirstOrDefault()?.Quantity;

    protected override (string? Message, bool MayFail) KnownFailure(JsonObject data, int companyNumber, long agreementPsaId, string sku) =>
        companyNumber == 2 && sku == "SEC-EDR-STD" ? (MultipleAgreements, false) : (null, companyNumber == 2);

    protected override IEnumerable<(long TenantId, IReadOnlyList<string> Skus)> AddedProducts(JsonObject data, Random random, ILookup<long, string> usedSkus)
    {
        foreach (var (tenantId, company) in CompanyNumberOfTenant.OrderBy(t => t.Key))
        {
            if (!IsOrdinaryCompany(company) || random.NextDouble() >= AddedProductShare)
            {
                continue;
            }

            var unused = SandboxSeedData.Products.Select(p => p.Sku).Except(usedSkus[tenantId]).ToList();
            if (unused.Count > 0)
            {
                yield return (tenantId, [unused[random.Next(unused.Count)]]);
            }
        }
    }

    protected override int NewCount(Random random, int psaQuantity)
    {
        int count;
        do
        {
            count = 1 + random.Next(400);
        }
        while (count == psaQuantity);
        return count;
    }

    public override IReadOnlyList<string> VerifyPsa(JsonObject before, JsonObject after, IReadOnlyList<ExpectedRow> rows, IReadOnlyDictionary<(long TenantId, long ProductId), BillingRunItem> items)
    {
        var problems = new List<string>();
        var was = new ConnectWiseState(before);
        var now = new ConnectWiseState(after);
        var touched = new HashSet<long>();
        var expectedCreations = 0;
        foreach (var row in rows)
        {
            var item = items.GetValueOrDefault((row.TenantId, row.VendorProductId));
            var failed = item?.Outcome == BillingOutcome.Failed;
            var previous = was.ActiveAdditions(row.AgreementPsaId, row.PsaProductId);
            var current = now.ActiveAdditions(row.AgreementPsaId, row.PsaProductId);
            touched.UnionWith(current.Select(a => a.Id));
            if (row.MustSync || (row.MayFail && !failed))
            {
                if (current.Count != 1)
                {
                    problems.Add($"{row}: {current.Count} active additions ({string.Join(", ", current.Select(Describe))}), expected exactly one with quantity {row.Count}");
                    continue;
                }

                if (current[0].Quantity != row.Count)
                {
                    problems.Add($"{row}: addition {current[0].Id} has quantity {current[0].Quantity.ToString(CultureInfo.InvariantCulture)}");
                }

                if (previous.Count == 1 && current[0].Id != previous[0].Id)
                {
                    problems.Add($"{row}: addition {previous[0].Id} was replaced by {current[0].Id} instead of updated");
                }

                expectedCreations += previous.Count == 0 ? 1 : 0;
            }
            else if (!previous.SequenceEqual(current))
            {
                problems.Add($"{row}: the row failed ({item?.Message}) yet the PSA changed: before [{string.Join(", ", previous.Select(Describe))}], after [{string.Join(", ", current.Select(Describe))}]");
            }
        }

        var created = now.Additions.Select(a => a.Id).Except(was.Additions.Select(a => a.Id)).ToList();
        if (created.Count != expectedCreations)
        {
            problems.Add($"{created.Count} additions were created ({string.Join(", ", created.Take(20))}), expected {expectedCreations}: every missing one once, none twice");
        }

        var previousById = was.Additions.ToDictionary(a => a.Id);
        foreach (var addition in now.Additions.Where(a => !touched.Contains(a.Id)))
        {
            if (!previousById.TryGetValue(addition.Id, out var earlier))
            {
                problems.Add($"addition {Describe(addition)} on agreement {addition.AgreementId} was created but belongs to no row");
            }
            else if (earlier != addition)
            {
                problems.Add($"addition {addition.Id} belongs to no row but changed: {Describe(earlier)} -> {Describe(addition)}");
            }
        }

        foreach (var gone in was.Additions.Select(a => a.Id).Except(now.Additions.Select(a => a.Id)))
        {
            problems.Add($"addition {gone} was deleted");
        }

        return problems;
    }

    private ConnectWiseState State(JsonObject data)
    {
        if (!ReferenceEquals(_parsed.Data, data))
        {
            _parsed = (data, new ConnectWiseState(data));
        }

        return _parsed.State!;
    }

    private static string Describe(Addition addition) =>
        $"#{addition.Id} product {addition.ProductId} qty {addition.Quantity.ToString(CultureInfo.InvariantCulture)}{(addition.Cancelled ? " cancelled" : "")}";
}
