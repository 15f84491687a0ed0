using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.IntegrationTests.Api;

/// <summary>
/// The ingest API's happy paths, idempotency and organization isolation, through the real HTTP pipeline on each
/// database provider (<see cref="SqliteIngestApiScenarios"/>, <see cref="PostgreSqlIngestApiScenarios"/>).
/// </summary>
public abstract class IngestApiScenarios : IAsyncLifetime
{
    private ApiPortal _portal = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _portal = await ApiPortal.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    private HttpClient Api => _portal.Client;

    private static readonly object[] Products =
    [
        new { partNumber = "SEC-EDR-STD", name = "Endpoint Detection Standard", description = "Per device", cost = 2.5m, retailPrice = 4.75m, recurring = true },
        new { partNumber = "BKP-M365-USER", name = "Microsoft 365 Backup", cost = 1.1m, retailPrice = 2m, recurring = true },
    ];

    [Fact]
    public async Task PutTenant_NewThenSameThenChanged_Answers201Then200AndStoresOneRow()
    {
        var created = await Api.PutJsonAsync("/api/v1/tenants/T-100", new { name = "Contoso Ltd", domain = "Contoso.COM", status = "Active" });
        var again = await Api.PutJsonAsync("/api/v1/tenants/T-100", new { externalId = "T-100", name = "Contoso Ltd", domain = "contoso.com" });
        var changed = await Api.PutJsonAsync("/api/v1/tenants/T-100", new { name = "Contoso Limited", domain = "bücher.example", status = "Suspended" });

        var first = await created.JsonAsync(HttpStatusCode.Created);
        Assert.Equal("/api/v1/tenants/T-100", created.Headers.Location?.OriginalString);
        Assert.Equal("contoso.com", first.GetProperty("domain").GetString());
        var second = await again.JsonAsync(HttpStatusCode.OK);
        Assert.Equal(first.GetProperty("updatedAt").GetString(), second.GetProperty("updatedAt").GetString());
        var third = await changed.JsonAsync(HttpStatusCode.OK);
        Assert.Equal("Contoso Limited", third.GetProperty("name").GetString());
        Assert.Equal("xn--bcher-kva.example", third.GetProperty("domain").GetString());
        Assert.Equal("Suspended", third.GetProperty("status").GetString());
        Assert.Equal(1, (await _portal.CountsAsync()).Tenants);
    }

    [Fact]
    public async Task TenantsBatch_SentTwice_CreatesThenReportsUnchangedAndListsInPages()
    {
        var items = Enumerable.Range(1, 25).Select(i => new { externalId = $"T-{i:D3}", name = $"Tenant {i}", domain = $"tenant{i}.example" }).ToArray();

        var first = await (await Api.PostJsonAsync("/api/v1/tenants/batch", new { items })).JsonAsync(HttpStatusCode.OK);
        var second = await (await Api.PostJsonAsync("/api/v1/tenants/batch", new { items })).JsonAsync(HttpStatusCode.OK);
        var page = await (await Api.GetAsync("/api/v1/tenants?page=3&pageSize=10")).JsonAsync(HttpStatusCode.OK);
        var one = await (await Api.GetAsync("/api/v1/tenants/T-007")).JsonAsync(HttpStatusCode.OK);

        Assert.Equal((25, 0, 0), Counts(first));
        Assert.Equal((0, 0, 25), Counts(second));
        Assert.Equal(25, page.GetProperty("total").GetInt32());
        Assert.Equal(["T-021", "T-022", "T-023", "T-024", "T-025"], page.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("externalId").GetString()));
        Assert.Equal("Tenant 7", one.GetProperty("name").GetString());
        Assert.Equal("Active", one.GetProperty("status").GetString());
    }

    [Fact]
    public async Task TenantsBatch_SentWithoutALength_IsReadWholeAcrossSeveralBuffers()
    {
        // About 200 KB in 8 KB writes: the body buffer starts at 16 KB and grows several times.
        var items = Enumerable.Range(1, 1000).Select(i => new { externalId = $"U-{i:D4}", name = $"Tenant {i} " + new string('n', 150) }).ToArray();
        var json = JsonSerializer.Serialize(new { items }, JsonSerializerOptions.Web);

        var response = await Api.PostAsync("/api/v1/tenants/batch", new UnannouncedJsonContent(json));

        Assert.Equal((1000, 0, 0), Counts(await response.JsonAsync(HttpStatusCode.OK)));
        var last = await (await Api.GetAsync("/api/v1/tenants/U-1000")).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(items[^1].name, last.GetProperty("name").GetString());
        Assert.True(json.Length > 150_000, $"{json.Length} characters");
    }

    [Fact]
    public async Task ListTenants_UpdatedSince_ReturnsOnlyLaterChanges()
    {
        await Api.PostJsonAsync("/api/v1/tenants/batch", new { items = new[] { new { externalId = "A", name = "Alpha" }, new { externalId = "B", name = "Beta" } } });
        await Task.Delay(50);
        var since = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        await Task.Delay(50);
        await Api.PutJsonAsync("/api/v1/tenants/B", new { name = "Beta Renamed" });

        var page = await (await Api.GetAsync($"/api/v1/tenants?updatedSince={Uri.EscapeDataString(since)}")).JsonAsync(HttpStatusCode.OK);

        Assert.Equal(["B"], page.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("externalId").GetString()));
    }

    [Fact]
    public async Task DeleteTenant_MarksDeletedAndKeepsUsageHistory()
    {
        await SeedTenantsAndProductsAsync();
        await Api.PostJsonAsync("/api/v1/usage/batch", new { items = new[] { new { tenantExternalId = "T-1", partNumber = "SEC-EDR-STD", quantity = 12, asOf = "2026-01-01T00:00:00Z" } } });

        var deleted = await Api.DeleteAsync("/api/v1/tenants/T-1");
        var tenant = await (await Api.GetAsync("/api/v1/tenants/T-1")).JsonAsync(HttpStatusCode.OK);
        var history = await (await Api.GetAsync("/api/v1/tenants/T-1/usage/history")).JsonAsync(HttpStatusCode.OK);
        var missing = await Api.DeleteAsync("/api/v1/tenants/NOPE");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal("Deleted", tenant.GetProperty("status").GetString());
        Assert.Equal(1, history.GetProperty("total").GetInt32());
        var problem = await missing.ProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("no tenant with external id 'NOPE'", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Products_PutBatchDeleteAndPutAgain_WithdrawsAndBringsBack()
    {
        var batch = await (await Api.PostJsonAsync("/api/v1/products/batch", new { items = Products })).JsonAsync(HttpStatusCode.OK);
        var put = await (await Api.PutJsonAsync("/api/v1/products/SEC-EDR-STD",
            new { name = "Endpoint Detection Standard", description = "Per device", cost = 2.5m, retailPrice = 4.9m, recurring = true })).JsonAsync(HttpStatusCode.OK);
        var deleted = await Api.DeleteAsync("/api/v1/products/BKP-M365-USER");
        var withdrawn = await (await Api.GetAsync("/api/v1/products/BKP-M365-USER")).JsonAsync(HttpStatusCode.OK);
        var back = await (await Api.PutJsonAsync("/api/v1/products/BKP-M365-USER",
            new { name = "Microsoft 365 Backup", cost = 1.1m, retailPrice = 2m, recurring = true })).JsonAsync(HttpStatusCode.OK);
        var list = await (await Api.GetAsync("/api/v1/products")).JsonAsync(HttpStatusCode.OK);

        Assert.Equal((2, 0, 0), Counts(batch));
        Assert.Equal(4.9m, put.GetProperty("retailPrice").GetDecimal());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(JsonValueKind.String, withdrawn.GetProperty("deletedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, back.GetProperty("deletedAt").ValueKind);
        Assert.Equal(2, list.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task UsageBatch_ReportsOutOfOrder_KeepsNewestAsCurrentAndEachReportOnce()
    {
        await SeedTenantsAndProductsAsync();
        var reports = new object[]
        {
            new { tenantExternalId = "T-1", partNumber = "SEC-EDR-STD", quantity = 30, asOf = "2026-01-03T00:00:00Z" },
            new { tenantExternalId = "T-1", partNumber = "SEC-EDR-STD", quantity = 10, asOf = "2026-01-01T00:00:00+02:00" },
            new { tenantExternalId = "T-1", partNumber = "BKP-M365-USER", quantity = 40, asOf = "2026-01-02T00:00:00Z" },
            new { tenantExternalId = "T-2", partNumber = "SEC-EDR-STD", quantity = 0, asOf = "2026-01-02T00:00:00Z" },
        };

        var first = await (await Api.PostJsonAsync("/api/v1/usage/batch", new { items = reports })).JsonAsync(HttpStatusCode.OK);
        var countsAfterFirst = await _portal.CountsAsync();
        var second = await (await Api.PostJsonAsync("/api/v1/usage/batch", new { items = reports })).JsonAsync(HttpStatusCode.OK);
        var countsAfterSecond = await _portal.CountsAsync();
        var older = await (await Api.PostJsonAsync("/api/v1/usage/batch",
            new { items = new[] { new { tenantExternalId = "T-1", partNumber = "SEC-EDR-STD", quantity = 5, asOf = "2025-12-01T00:00:00Z" } } })).JsonAsync(HttpStatusCode.OK);
        var current = await (await Api.GetAsync("/api/v1/tenants/T-1/usage")).JsonAsync(HttpStatusCode.OK);
        var history = await (await Api.GetAsync("/api/v1/tenants/T-1/usage/history?partNumber=SEC-EDR-STD")).JsonAsync(HttpStatusCode.OK);

        Assert.Equal((4, 0, 0), Counts(first));
        Assert.Equal((0, 0, 4), Counts(second));
        Assert.Equal(countsAfterFirst, countsAfterSecond);
        Assert.Equal(countsAfterFirst with { History = countsAfterFirst.History + 1 }, await _portal.CountsAsync());
        Assert.Equal((1, 0, 0), Counts(older));
        Assert.Equal([("BKP-M365-USER", 40), ("SEC-EDR-STD", 30)],
            current.GetProperty("items").EnumerateArray().Select(u => (u.GetProperty("partNumber").GetString(), u.GetProperty("quantity").GetInt32())));
        Assert.Equal([30, 10, 5], history.GetProperty("items").EnumerateArray().Select(h => h.GetProperty("quantity").GetInt32()));
        Assert.Equal("2025-12-31T22:00:00+00:00", history.GetProperty("items")[1].GetProperty("asOf").GetString());
    }

    [Fact]
    public async Task UsageBatch_SameAsOfNewQuantity_CorrectsTheReport()
    {
        await SeedTenantsAndProductsAsync();
        await Api.PostJsonAsync("/api/v1/usage/batch", new { items = new[] { new { tenantExternalId = "T-1", partNumber = "SEC-EDR-STD", quantity = 12, asOf = "2026-01-01T00:00:00Z" } } });

        var corrected = await (await Api.PostJsonAsync("/api/v1/usage/batch",
            new { items = new[] { new { tenantExternalId = "T-1", partNumber = "SEC-EDR-STD", quantity = 14, asOf = "2026-01-01T00:00:00.000Z" } } })).JsonAsync(HttpStatusCode.OK);
        var current = await (await Api.GetAsync("/api/v1/tenants/T-1/usage")).JsonAsync(HttpStatusCode.OK);

        Assert.Equal((0, 1, 0), Counts(corrected));
        Assert.Equal(14, current.GetProperty("items")[0].GetProperty("quantity").GetInt32());
        Assert.Equal(1, (await _portal.CountsAsync()).History);
    }

    [Fact]
    public async Task Incidents_PutBatchGetList_AndAnOlderUpdateIsIgnored()
    {
        await SeedTenantsAndProductsAsync();
        var incident = new
        {
            tenantExternalId = "T-1", title = "Ransomware behaviour blocked", description = "Process <b>evil.exe</b> quarantined\non host WS-12",
            severity = "High", status = "Open", detectedAt = "2026-01-05T08:00:00Z", updatedAt = "2026-01-05T09:00:00Z",
        };

        var created = await Api.PutJsonAsync("/api/v1/incidents/INC-1", incident);
        var resolved = await (await Api.PutJsonAsync("/api/v1/incidents/INC-1",
            incident with { status = "Resolved", updatedAt = "2026-01-05T10:00:00Z" })).JsonAsync(HttpStatusCode.OK);
        var stale = await (await Api.PostJsonAsync("/api/v1/incidents/batch", new
        {
            items = new object[]
            {
                new { externalId = "INC-1", incident.tenantExternalId, incident.title, severity = "High", status = "Acknowledged", incident.detectedAt, updatedAt = "2026-01-05T09:30:00Z" },
                new { externalId = "INC-2", tenantExternalId = "T-2", title = "Phishing link clicked", severity = "Medium", status = "Open", detectedAt = "2026-01-06T08:00:00Z" },
            },
        })).JsonAsync(HttpStatusCode.OK);
        var one = await (await Api.GetAsync("/api/v1/incidents/INC-1")).JsonAsync(HttpStatusCode.OK);
        var list = await (await Api.GetAsync("/api/v1/incidents?pageSize=1")).JsonAsync(HttpStatusCode.OK);

        await created.JsonAsync(HttpStatusCode.Created);
        Assert.Equal("Resolved", resolved.GetProperty("status").GetString());
        Assert.Equal((1, 0, 1), Counts(stale));
        Assert.Equal("Resolved", one.GetProperty("status").GetString());
        Assert.Equal(incident.description, one.GetProperty("description").GetString());
        Assert.Equal("T-1", one.GetProperty("tenantExternalId").GetString());
        Assert.Equal(2, list.GetProperty("total").GetInt32());
        Assert.Single(list.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task InvoiceLines_PutBatchAndListByMonth()
    {
        await SeedTenantsAndProductsAsync();
        object Line(string id, string month) => new
        {
            externalId = id, tenantExternalId = "T-1", partNumber = "SEC-EDR-STD", chargeType = "CycleFee", billingCycle = "Monthly",
            chargeStartDate = $"{month}-01", chargeEndDate = $"{month}-28", quantity = 25m, unitPrice = 4.75m, cost = 2.5m, invoiceMonth = month,
        };

        var put = await Api.PutAsync("/api/v1/invoice-lines/L-1", ApiPortal.Json(JsonSerializer.Serialize(Line("L-1", "2026-01"), JsonSerializerOptions.Web)));
        var batch = await (await Api.PostJsonAsync("/api/v1/invoice-lines/batch", new { items = new[] { Line("L-1", "2026-01"), Line("L-2", "2026-02"), Line("L-3", "2026-02") } }))
            .JsonAsync(HttpStatusCode.OK);
        var february = await (await Api.GetAsync("/api/v1/invoice-lines?invoiceMonth=2026-02")).JsonAsync(HttpStatusCode.OK);
        var one = await (await Api.GetAsync("/api/v1/invoice-lines/L-1")).JsonAsync(HttpStatusCode.OK);
        var badMonth = await Api.GetAsync("/api/v1/invoice-lines?invoiceMonth=2026-13");

        await put.JsonAsync(HttpStatusCode.Created);
        Assert.Equal((2, 0, 1), Counts(batch));
        Assert.Equal(["L-2", "L-3"], february.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("externalId").GetString()));
        Assert.Equal("2026-01", one.GetProperty("invoiceMonth").GetString());
        Assert.Equal("2026-01-28", one.GetProperty("chargeEndDate").GetString());
        Assert.Equal(25m, one.GetProperty("quantity").GetDecimal());
        Assert.Contains("invoiceMonth", (await badMonth.ProblemAsync(HttpStatusCode.BadRequest)).Errors().Keys);
    }

    [Fact]
    public async Task MixedBatch_NewTenantWithUsage_IsOneTransactionAndIdempotent()
    {
        var batch = new
        {
            tenants = new[] { new { externalId = "NEW-1", name = "Fabrikam" } },
            products = new[] { Products[0] },
            usage = new[] { new { tenantExternalId = "NEW-1", partNumber = "SEC-EDR-STD", quantity = 7, asOf = "2026-01-01T00:00:00Z" } },
            incidents = new[] { new { externalId = "I-1", tenantExternalId = "NEW-1", title = "Login from new country", severity = "Low", status = "Open", detectedAt = "2026-01-01T01:00:00Z" } },
            invoiceLines = new[]
            {
                new
                {
                    externalId = "L-1", tenantExternalId = "NEW-1", partNumber = "SEC-EDR-STD", chargeType = "UsageFee", billingCycle = "Monthly",
                    chargeStartDate = "2026-01-01", chargeEndDate = "2026-01-31", quantity = 7m, unitPrice = 4.75m, cost = 2.5m, invoiceMonth = "2026-01",
                },
            },
        };

        var first = await (await Api.PostJsonAsync("/api/v1/batch", batch)).JsonAsync(HttpStatusCode.OK);
        var snapshot = await SnapshotAsync();
        var second = await (await Api.PostJsonAsync("/api/v1/batch", batch)).JsonAsync(HttpStatusCode.OK);

        Assert.All(first.EnumerateObject(), kind => Assert.Equal(1, kind.Value.GetProperty("created").GetInt32()));
        Assert.All(second.EnumerateObject(), kind => Assert.Equal(1, kind.Value.GetProperty("unchanged").GetInt32()));
        Assert.Equal(snapshot, await SnapshotAsync());
    }

    [Fact]
    public async Task InvalidBatch_NamesEveryBadFieldAndWritesNothing()
    {
        await SeedTenantsAndProductsAsync();
        var before = await _portal.CountsAsync();

        var response = await Api.PostJsonAsync("/api/v1/usage/batch", new
        {
            items = new object?[]
            {
                new { tenantExternalId = "T-1", partNumber = "SEC-EDR-STD", quantity = 5 },
                new { tenantExternalId = "T-404", partNumber = "SEC-EDR-STD", quantity = 5 },
                new { tenantExternalId = "T-1", partNumber = "NOPE", quantity = -1 },
                null,
                new { tenantExternalId = "T-2", partNumber = "SEC-EDR-STD", quantity = 1, asOf = "2099-01-01T00:00:00Z" },
            },
        });

        var errors = (await response.ProblemAsync(HttpStatusCode.BadRequest)).Errors();
        Assert.Equal(["items[1].tenantExternalId", "items[2].quantity", "items[3]", "items[4].asOf"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("There is no tenant with external id 'T-404' in your organization or in this batch.", errors["items[1].tenantExternalId"].Single());
        Assert.Equal("Quantity must be a whole number from 0 to 10,000,000.", errors["items[2].quantity"].Single());
        Assert.Equal("As of cannot be more than 5 minutes in the future.", errors["items[4].asOf"].Single());
        Assert.Equal(before, await _portal.CountsAsync());
    }

    [Fact]
    public async Task AnotherOrganizationsData_IsNotFoundAndCannotBeReferenced()
    {
        await SeedTenantsAndProductsAsync();
        var contoso = await _portal.Factory.AddOrganizationAsync("Contoso IT");
        using var other = _portal.ClientWith(await ApiPortal.CreateKeyAsync(_portal.Factory, contoso, "Contoso sync"));

        var get = await other.GetAsync("/api/v1/tenants/T-1");
        var usage = await other.GetAsync("/api/v1/tenants/T-1/usage");
        var history = await other.GetAsync("/api/v1/tenants/T-1/usage/history");
        var delete = await other.DeleteAsync("/api/v1/tenants/T-1");
        var product = await other.GetAsync("/api/v1/products/SEC-EDR-STD");
        var report = await other.PostJsonAsync("/api/v1/usage/batch", new { items = new[] { new { tenantExternalId = "T-1", partNumber = "SEC-EDR-STD", quantity = 1 } } });
        var list = await (await other.GetAsync("/api/v1/tenants")).JsonAsync(HttpStatusCode.OK);

        foreach (var response in new[] { get, usage, history, delete, product })
        {
            await response.ProblemAsync(HttpStatusCode.NotFound);
        }

        var errors = (await report.ProblemAsync(HttpStatusCode.BadRequest)).Errors();
        Assert.Equal(["items[0].partNumber", "items[0].tenantExternalId"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0, list.GetProperty("total").GetInt32());
        var tenant = await (await Api.GetAsync("/api/v1/tenants/T-1")).JsonAsync(HttpStatusCode.OK);
        Assert.Equal("Active", tenant.GetProperty("status").GetString());
    }

    [Fact]
    public async Task SameExternalIdInTwoOrganizations_AreTwoTenants()
    {
        var contoso = await _portal.Factory.AddOrganizationAsync("Contoso IT");
        using var other = _portal.ClientWith(await ApiPortal.CreateKeyAsync(_portal.Factory, contoso, "Contoso sync"));

        await (await Api.PutJsonAsync("/api/v1/tenants/SHARED", new { name = "Northwind's" })).JsonAsync(HttpStatusCode.Created);
        await (await other.PutJsonAsync("/api/v1/tenants/SHARED", new { name = "Contoso's" })).JsonAsync(HttpStatusCode.Created);

        Assert.Equal("Northwind's", (await (await Api.GetAsync("/api/v1/tenants/SHARED")).JsonAsync(HttpStatusCode.OK)).GetProperty("name").GetString());
        Assert.Equal("Contoso's", (await (await other.GetAsync("/api/v1/tenants/SHARED")).JsonAsync(HttpStatusCode.OK)).GetProperty("name").GetString());
    }

    [Fact]
    public async Task UsageBatches_200AtOnce_AllSucceedEachWithItsOwnCountsAndTheDatabaseHoldsTheirUnion()
    {
        var tenants = Enumerable.Range(1, 50).Select(i => new { externalId = $"T-{i}", name = $"Tenant {i}" }).ToArray();
        await (await Api.PostJsonAsync("/api/v1/tenants/batch", new { items = tenants })).JsonAsync(HttpStatusCode.OK);
        await (await Api.PostJsonAsync("/api/v1/products/batch", new { items = Products })).JsonAsync(HttpStatusCode.OK);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        // Batch i reports 1 to 4 counts (so a batch answered with another's counts shows), each at its own as-of.
        var batches = Enumerable.Range(0, 200).Select(i => Enumerable.Range(0, 1 + i % 4).Select(k => new
        {
            tenantExternalId = $"T-{1 + (i + k * 13) % 50}", partNumber = k % 2 == 0 ? "SEC-EDR-STD" : "BKP-M365-USER", quantity = i * 10 + k,
            asOf = start.AddMinutes(i).ToString("O"),
        }).ToArray()).ToArray();

        var responses = await Task.WhenAll(batches.Select(async items => await (await Api.PostJsonAsync("/api/v1/usage/batch", new { items })).JsonAsync(HttpStatusCode.OK)));

        Assert.All(batches.Zip(responses), sent => Assert.Equal((sent.First.Length, 0, 0), Counts(sent.Second)));
        var reports = batches.SelectMany(b => b).ToList();
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var stored = await (from h in db.TenantUsageHistory
            join t in db.Tenants on h.TenantId equals t.Id
            join p in db.VendorProducts on h.ProductId equals p.Id
            select new { Tenant = t.ExternalId, p.PartNumber, h.Quantity }).ToListAsync();
        Assert.Equal(reports.Select(r => (r.tenantExternalId, r.partNumber, r.quantity)).Order(), stored.Select(h => (h.Tenant, h.PartNumber, h.Quantity)).Order());
        var newest = reports.GroupBy(r => (r.tenantExternalId, r.partNumber)).Select(g => (g.Key.tenantExternalId, g.Key.partNumber, g.MaxBy(r => r.asOf)!.quantity));
        var current = await (from u in db.TenantUsage
            join t in db.Tenants on u.TenantId equals t.Id
            join p in db.VendorProducts on u.ProductId equals p.Id
            select new { Tenant = t.ExternalId, p.PartNumber, u.Quantity }).ToListAsync();
        Assert.Equal(newest.Order(), current.Select(u => (u.Tenant, u.PartNumber, u.Quantity)).Order());
    }

    [Fact]
    public async Task BatchesWrittenTogether_OnTheSameKeys_CountAsIfWrittenOneAfterAnother()
    {
        await (await Api.PostJsonAsync("/api/v1/tenants/batch", new { items = new[] { new { externalId = "SAME", name = "Same" } } })).JsonAsync(HttpStatusCode.OK);
        await (await Api.PostJsonAsync("/api/v1/products/batch", new { items = Products })).JsonAsync(HttpStatusCode.OK);
        var ingest = _portal.Factory.Services.GetRequiredService<PlatformIngest>();
        var asOf = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToString("O");

        // Sent at once, they are written in groups: a new tenant and one usage report (same tenant, product and as-of) in
        // each, every batch with its own values, so the first to be written creates them and each later one updates them.
        var writes = Enumerable.Range(1, 40).Select(i => ingest.IngestAsync(_portal.OrganizationId, new PlatformBatch
        {
            Tenants = [new TenantInput { ExternalId = "NEW", Name = $"New {i}" }],
            Usage = [new UsageInput { TenantExternalId = "SAME", PartNumber = "SEC-EDR-STD", Quantity = i, AsOf = asOf }],
        }, "test")).ToList();
        var results = await Task.WhenAll(writes);

        Assert.All(results, r => Assert.Equal((1, 1), (r.Tenants.Total, r.Usage.Total)));
        Assert.Equal(new IngestCounts(1, 39, 0), results.Aggregate(IngestCounts.None, (sum, r) => sum + r.Tenants));
        Assert.Equal(new IngestCounts(1, 39, 0), results.Aggregate(IngestCounts.None, (sum, r) => sum + r.Usage));
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var tenant = await db.Tenants.SingleAsync(t => t.ExternalId == "NEW");
        var history = await db.TenantUsageHistory.SingleAsync();
        var current = await db.TenantUsage.SingleAsync();
        // The last batch written (Created first) holds: its name and quantity belong to the same batch.
        var last = int.Parse(tenant.Name["New ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal((last, last), (history.Quantity, current.Quantity));
    }

    [Fact]
    public async Task BatchesWrittenTogether_OneTheDatabaseRefuses_FailsWithItsOwnErrorAndTheOthersAreWritten()
    {
        await RefuseTenantRefusedAsync();
        var ingest = _portal.Factory.Services.GetRequiredService<PlatformIngest>();
        var names = Enumerable.Range(1, 30).Select(i => i == 15 ? "T-REFUSED" : $"T-{i}").ToList();

        // Sent at once, they queue behind each other and are written in groups; one group holds the refused tenant.
        var writes = names.Select(name => ingest.IngestAsync(_portal.OrganizationId, new PlatformBatch { Tenants = [new TenantInput { ExternalId = name, Name = name }] }, "test"))
            .ToList();
        await Task.WhenAll(writes).ContinueWith(_ => { }, TaskScheduler.Default);

        var refused = await Assert.ThrowsAsync<DbUpdateException>(() => writes[14]);
        Assert.Contains("refused by the test", refused.InnerException?.Message);
        Assert.All(writes.Where((_, i) => i != 14), w => Assert.Equal(new IngestCounts(1, 0, 0), w.Result.Tenants));
        await using var db = await _portal.Factory.CreateDbContextAsync();
        Assert.Equal(names.Where(n => n != "T-REFUSED").Order(), (await db.Tenants.Select(t => t.ExternalId).ToListAsync()).Order());
    }

    /// <summary>A trigger refuses tenant T-REFUSED: a write-time failure of one batch that validation cannot see coming.</summary>
    private async Task RefuseTenantRefusedAsync()
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("""
                CREATE TRIGGER refuse_tenant BEFORE INSERT ON "Tenants" WHEN NEW."ExternalId" = 'T-REFUSED'
                BEGIN SELECT RAISE(ABORT, 'tenant T-REFUSED refused by the test trigger'); END;
                """);
        }
        else
        {
            await db.Database.ExecuteSqlRawAsync("""
                CREATE FUNCTION refuse_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW."ExternalId" = 'T-REFUSED' THEN RAISE EXCEPTION 'tenant T-REFUSED refused by the test trigger'; END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER refuse_tenant BEFORE INSERT ON "Tenants" FOR EACH ROW EXECUTE FUNCTION refuse_tenant();
                """);
        }
    }

    private async Task SeedTenantsAndProductsAsync()
    {
        await (await Api.PostJsonAsync("/api/v1/tenants/batch", new { items = new[] { new { externalId = "T-1", name = "Contoso" }, new { externalId = "T-2", name = "Fabrikam" } } }))
            .JsonAsync(HttpStatusCode.OK);
        await (await Api.PostJsonAsync("/api/v1/products/batch", new { items = Products })).JsonAsync(HttpStatusCode.OK);
    }

    private static (int Created, int Updated, int Unchanged) Counts(JsonElement response) =>
        (response.GetProperty("created").GetInt32(), response.GetProperty("updated").GetInt32(), response.GetProperty("unchanged").GetInt32());

    /// <summary>Every platform row as text, timestamps included: equal snapshots mean nothing at all changed.</summary>
    private async Task<string> SnapshotAsync()
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        var rows = new List<object>();
        rows.AddRange(await db.Tenants.AsNoTracking().OrderBy(t => t.Id).ToListAsync());
        rows.AddRange(await db.VendorProducts.AsNoTracking().OrderBy(p => p.Id).ToListAsync());
        rows.AddRange(await db.TenantUsage.AsNoTracking().OrderBy(u => u.Id).ToListAsync());
        rows.AddRange(await db.TenantUsageHistory.AsNoTracking().OrderBy(h => h.Id).ToListAsync());
        rows.AddRange(await db.Incidents.AsNoTracking().OrderBy(i => i.Id).ToListAsync());
        rows.AddRange(await db.InvoiceLines.AsNoTracking().OrderBy(l => l.Id).ToListAsync());
        return string.Join("\n", rows.Select(r => JsonSerializer.Serialize(r, r.GetType())));
    }
}

public sealed class SqliteIngestApiScenarios : IngestApiScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlIngestApiScenarios(PostgreSqlFixture postgres) : IngestApiScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() =>
        new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
