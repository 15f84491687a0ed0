using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PsaPortal.Integrations;
using PsaPortal.Sandbox;
using PsaPortal.Sandbox.Core;
using PsaPortal.Sandbox.Seed;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>
/// Billing in Chromium against the real engine and the built-in Autotask sandbox: Sync now shows live progress; the
/// tenant on the future-dated contract (sandbox company 3) fails with DESIGN.md's message; once the contract starts
/// in the past, Retry on that row syncs it, live, and writes nothing for anyone else. Sales sees it all read-only.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class BillingTests(PortalUnderTest portal)
{
    private PsaSandbox Sandbox => portal.GetService<PsaSandbox>();

    [Fact]
    public async Task SyncNow_ShowsLiveProgress_FutureContractFails_RetryAfterTheFixSyncsOnlyThatRow()
    {
        var organization = await portal.CreateOrganizationAsync();
        var world = await MapAutotaskTenantsAsync(organization, tenants: 10);
        var hard = Sandbox.SeedData.HardCases.FutureDatedContractCompany;
        var futureContract = world.Contracts[hard];
        var (page, errors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(page, organization.Operator);
        await page.GotoAsync("/billing");
        await LivePortal.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("[data-testid=run-panel-empty]")).ToBeVisibleAsync();

        // Slow the PSA down so that the run takes a few seconds and its progress can be watched.
        Sandbox.Autotask.Configure(s => s with { Faults = s.Faults with { LatencyMilliseconds = 150 } });
        try
        {
            await page.ClickAsync("[data-testid=sync-now]");
            var panel = page.Locator("[data-testid=run-panel]");
            var progress = panel.Locator("[data-testid=run-progress]");
            var seenWhileRunning = new SortedSet<int>();
            var countsWhileRunning = new HashSet<string>();
            var screenshotTaken = false;
            var deadline = DateTime.UtcNow.AddMinutes(3);
            string? status;
            // Sample what the page shows (no reload: the page only changes through live events) until the run ends.
            while (true)
            {
                status = await panel.Locator("[data-testid=run-status]").GetAttributeAsync("data-status", new() { Timeout = 30_000 });
                if (status is nameof(BillingRunStatus.Running))
                {
                    var done = int.Parse((await progress.GetAttributeAsync("data-done"))!, CultureInfo.InvariantCulture);
                    var total = int.Parse((await progress.GetAttributeAsync("data-total"))!, CultureInfo.InvariantCulture);
                    seenWhileRunning.Add(done);
                    countsWhileRunning.Add(await panel.Locator("[data-testid=run-counts]").InnerTextAsync());
                    if (!screenshotTaken && done > 0 && done < total)
                    {
                        await LivePortal.ScreenshotAsync(page, "billing-run-live");
                        screenshotTaken = true;
                    }
                }
                else if (status is not nameof(BillingRunStatus.Queued))
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"The run did not end in time; the page still says {status}.");
                await Task.Delay(100);
            }

            Assert.Equal(nameof(BillingRunStatus.CompletedWithFailures), status);
            // The engine confirms Autotask writes in batches, so progress moves in steps; it must move while the run goes.
            Assert.True(seenWhileRunning.Count >= 2 && seenWhileRunning.Any(d => d > 0 && d < world.Rows),
                $"The progress bar did not move while the run went: saw {string.Join(", ", seenWhileRunning)} of {world.Rows} rows done.");
            Assert.True(countsWhileRunning.Count >= 2, $"The counts did not change while the run went: saw {string.Join(" | ", countsWhileRunning)}.");
            Assert.True(screenshotTaken);
            await Assertions.Expect(progress).ToHaveAttributeAsync("data-done", world.Rows.ToString(CultureInfo.InvariantCulture));
            var futureRows = world.RowsOf(hard);
            await Assertions.Expect(panel.Locator("[data-testid=count-failed] [data-testid=count-value]")).ToHaveTextAsync(futureRows.ToString(CultureInfo.InvariantCulture));
            await Assertions.Expect(page.Locator("[data-testid=runs-grid] tbody tr")).ToHaveCountAsync(1);

            // The page ends showing what the database holds (another test may already have synced some of these companies: unchanged).
            var runId = Guid.Parse((await panel.GetAttributeAsync("data-run-id"))!);
            await using (var db = await portal.Factory.CreateDbContextAsync())
            {
                var stored = await db.BillingRuns.SingleAsync(r => r.Id == runId);
                Assert.Equal(world.Rows - futureRows, stored.Synced + stored.Unchanged);
                await Assertions.Expect(panel.Locator("[data-testid=count-synced] [data-testid=count-value]")).ToHaveTextAsync(stored.Synced.ToString(CultureInfo.InvariantCulture));
                await Assertions.Expect(panel.Locator("[data-testid=count-unchanged] [data-testid=count-value]")).ToHaveTextAsync(stored.Unchanged.ToString(CultureInfo.InvariantCulture));
            }

            // Exactly the tenant on the future-dated contract fails, with DESIGN.md's words.
            var expected = $"Contract \"{futureContract.Name}\" has a start date of {futureContract.Start:yyyy-MM-dd}, which is in the future. Billing cannot be " +
                           "synced until the contract period has begun — update the contract start date in Autotask or wait until the contract is active.";
            await using (var db = await portal.Factory.CreateDbContextAsync())
            {
                var failed = await db.BillingRunItems.Where(i => i.RunId == runId && i.Outcome == BillingOutcome.Failed).ToListAsync();
                Assert.Equal(futureRows, failed.Count);
                Assert.All(failed, row => Assert.Equal((world.TenantOf[hard], expected), (row.TenantId, row.Message)));
            }

            await panel.Locator("[data-testid=open-run]").ClickAsync();
            await page.WaitForURLAsync($"**/billing/runs/{runId}");
            await page.Locator("[data-testid=outcome-filter]").GetByText($"Failed ({futureRows})").ClickAsync();
            var rows = page.Locator("[data-testid=rows-grid] tbody tr[data-item-id]");
            await Assertions.Expect(rows).ToHaveCountAsync(futureRows);
            var row = rows.First;
            await Assertions.Expect(row.Locator("[data-testid=row-message]")).ToHaveTextAsync(expected);
            await Assertions.Expect(row.Locator("[data-testid=outcome]")).ToHaveTextAsync("Failed");
            await Assertions.Expect(page.Locator("[data-testid=rows-csv]")).ToHaveAttributeAsync("href", $"/billing/runs/{runId}/rows.csv?outcome=Failed");
            await Assertions.Expect(page.Locator(".rz-notification-item")).ToHaveCountAsync(0, new() { Timeout = 20_000 });
            await LivePortal.ScreenshotAsync(page, "billing-run-failed");

            // The CSV of the filter, through the browser's own cookie.
            var csv = await page.APIRequest.GetAsync($"/billing/runs/{runId}/rows.csv?outcome=Failed");
            Assert.Equal(200, csv.Status);
            var csvText = await csv.TextAsync();
            Assert.Equal(futureRows + 1, csvText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            Assert.Contains("has a start date of", csvText, StringComparison.Ordinal);

            // Fix the contract in the PSA: it began last month.
            var fixedStart = DateTime.UtcNow.Date.AddMonths(-1);
            SetContractStart(futureContract.Id, fixedStart);
            var itemId = long.Parse((await row.GetAttributeAsync("data-item-id"))!, CultureInfo.InvariantCulture);
            var log = Sandbox.Autotask.RequestLog;
            var before = log.TotalCount;
            var adjustmentsBefore = Sandbox.Autotask.Data.ContractServiceAdjustments.All().Select(a => JsonRecords.GetId(a)).ToHashSet();

            await row.Locator("[data-testid=retry-row]").ClickAsync();
            var retried = page.Locator($"[data-testid=rows-grid] tbody tr[data-item-id='{itemId}']");
            await Assertions.Expect(retried.Locator("[data-testid=outcome]")).ToHaveTextAsync("Synced", new() { Timeout = 60_000 });
            await Assertions.Expect(retried.Locator("[data-testid=row-retried]")).ToBeVisibleAsync();

            // Only that row was retried: one new run with one row, and the PSA saw writes for that contract alone.
            await using (var db = await portal.Factory.CreateDbContextAsync())
            {
                var retry = await db.BillingRuns.SingleAsync(r => r.SourceRunId == runId);
                Assert.Equal((BillingRunTrigger.RetryTenant, BillingRunStatus.Succeeded, 1, 1), (retry.Trigger, retry.Status, retry.Total, retry.Synced));
                var retryRow = await db.BillingRunItems.SingleAsync(i => i.RunId == retry.Id);
                Assert.Equal(world.TenantOf[hard], retryRow.TenantId);
            }

            var calls = log.Entries().Where(e => e.Sequence > before).ToList();
            var writes = calls.Where(e => e.Method is "POST" or "PATCH" or "PUT" && !e.Path.EndsWith("/query", StringComparison.OrdinalIgnoreCase)
                                                                                  && !e.Path.EndsWith("/query/count", StringComparison.OrdinalIgnoreCase)).ToList();
            var write = Assert.Single(writes);
            Assert.Contains("ContractServiceAdjustments", write.Path, StringComparison.OrdinalIgnoreCase);
            var newAdjustments = Sandbox.Autotask.Data.ContractServiceAdjustments.All().Where(a => !adjustmentsBefore.Contains(JsonRecords.GetId(a))).ToList();
            var adjustment = Assert.Single(newAdjustments);
            Assert.Equal(futureContract.Id, Long(adjustment["contractID"]));
            // Reads during the retry: the one tenant's contract, services and units, not the whole portfolio's.
            Assert.True(calls.Count <= 10, $"The retry made {calls.Count} PSA calls: {string.Join("; ", calls.Select(c => $"{c.Method} {c.Path}"))}");

            await page.GotoAsync("/");
            await LivePortal.WaitForCircuitAsync(page);
            var tile = page.Locator("[data-testid=last-sync-psa-tile]");
            await Assertions.Expect(tile.Locator("[data-testid=last-sync-psa]")).ToHaveTextAsync("just now");
            await Assertions.Expect(page.Locator("[data-testid=recent-run]")).ToHaveCountAsync(2);
            await LivePortal.ScreenshotAsync(page, "billing-dashboard");
            Assert.Empty(errors);
        }
        finally
        {
            Sandbox.Autotask.Configure(s => s with { Faults = s.Faults with { LatencyMilliseconds = 0 } });
            SetContractStart(futureContract.Id, futureContract.Start.ToDateTime(TimeOnly.MinValue));
        }
    }

    [Fact]
    public async Task Schedules_AddMonthlyOnTheLastDay_IsListedAndDeleteAsksFirst()
    {
        var organization = await portal.CreateOrganizationAsync();
        await LinkAutotaskAsync(organization);
        var (page, errors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(page, organization.Admin);
        await page.GotoAsync("/billing");
        await LivePortal.WaitForCircuitAsync(page);
        await page.ClickAsync("[role=tab]:has-text('Schedules')");
        await Assertions.Expect(page.Locator("[data-testid=schedules-grid]")).ToContainTextAsync("No schedules");

        await page.ClickAsync("[data-testid=add-schedule]");
        var dialog = page.Locator(".rz-dialog");
        await dialog.Locator("[data-testid=schedule-frequency]").GetByText("Monthly").ClickAsync();
        await dialog.Locator("[data-testid=schedule-day]").ClickAsync();
        await page.Locator(".rz-dropdown-panel .rz-dropdown-item:visible", new() { HasText = BillingScheduleDialog.LastDayText }).ClickAsync();
        await dialog.Locator("input[name=Hour]").FillAsync("6");
        await dialog.Locator("input[name=Minute]").FillAsync("30");
        await dialog.Locator("input[name=Minute]").PressAsync("Tab");
        await dialog.Locator("[data-testid=schedule-time-zone]").ClickAsync();
        var zones = page.Locator(".rz-dropdown-panel:visible");
        await zones.Locator("input").FillAsync("Amsterdam");
        await zones.Locator(".rz-dropdown-item", new() { HasText = "Europe/Amsterdam" }).ClickAsync();
        const string description = "monthly on the last day at 06:30 (Europe/Amsterdam)";
        await Assertions.Expect(dialog.Locator("[data-testid=schedule-summary]")).ToHaveTextAsync($"Runs {description}");
        await LivePortal.ScreenshotAsync(page, "billing-schedule-dialog");
        await dialog.Locator("[data-testid=schedule-save]").ClickAsync();

        await Assertions.Expect(dialog).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=schedule-description]")).ToHaveTextAsync(description);
        await Assertions.Expect(page.Locator("[data-testid=schedule-state]")).ToHaveTextAsync("Enabled");
        await using (var db = await portal.Factory.CreateDbContextAsync())
        {
            var schedule = await db.BillingSchedules.SingleAsync(s => db.Integrations.Any(i => i.Id == s.IntegrationId && i.OrganizationId == organization.Id));
            Assert.Equal((BillingFrequency.Monthly, 0, new TimeOnly(6, 30), "Europe/Amsterdam", true),
                (schedule.Frequency, schedule.DayOfMonth, schedule.TimeOfDay, schedule.TimeZone, schedule.Enabled));
        }

        await page.ClickAsync("[data-testid=delete-schedule]");
        await Assertions.Expect(page.Locator(".rz-dialog")).ToContainTextAsync($"Delete the schedule that runs {description}?");
        await page.Locator(".rz-dialog button:has-text('Keep it')").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=schedule-description]")).ToHaveCountAsync(1);
        await page.ClickAsync("[data-testid=delete-schedule]");
        await page.Locator(".rz-dialog button:has-text('Delete')").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=schedule-description]")).ToHaveCountAsync(0);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Sales_SeesRunsAndRows_ButEveryActionIsDisabledAndSaysWhy()
    {
        var organization = await portal.CreateOrganizationAsync();
        var world = await MapAutotaskTenantsAsync(organization, tenants: 3);
        var started = await portal.GetService<IBillingRuns>().SyncNowAsync(LivePortal.AdminOf(organization), PsaVendor.Autotask);
        Assert.True(started.Accepted, started.Message);
        await WaitForEndAsync(started.RunId!.Value);
        var (page, errors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(page, organization.Sales);
        await page.GotoAsync("/billing");
        await LivePortal.WaitForCircuitAsync(page);

        await Assertions.Expect(page.Locator("[data-testid=run-panel] [data-testid=run-status]")).ToHaveTextAsync("Completed with failures");
        foreach (var action in new[] { "sync-now", "preview", "retry-failed" })
        {
            var button = page.Locator($"[data-testid={action}]");
            await Assertions.Expect(button).ToBeDisabledAsync();
            await Assertions.Expect(button).ToHaveAttributeAsync("title", BillingMessages.SalesRefused);
        }

        await page.ClickAsync("[role=tab]:has-text('Schedules')");
        await Assertions.Expect(page.Locator("[data-testid=add-schedule]")).ToBeDisabledAsync();
        await page.ClickAsync("[role=tab]:has-text('Notifications')");
        await Assertions.Expect(page.Locator("[data-testid=billing-notifications] [data-testid=notifications-read-only]")).ToBeVisibleAsync();

        // Sales may download the rows; an outcome that does not exist is refused with the valid ones named.
        var badOutcome = await page.APIRequest.GetAsync($"/billing/runs/{started.RunId}/rows.csv?outcome=Bogus");
        Assert.Equal(400, badOutcome.Status);
        var problem = System.Text.Json.JsonDocument.Parse(await badOutcome.TextAsync()).RootElement;
        Assert.Equal("outcome must be one of Pending, Planned, InFlight, Synced, Unchanged, Failed, Skipped; \"Bogus\" is not.", problem.GetProperty("detail").GetString());
        Assert.Equal(200, (await page.APIRequest.GetAsync($"/billing/runs/{started.RunId}/rows.csv")).Status);

        await page.GotoAsync($"/billing/runs/{started.RunId}");
        await LivePortal.WaitForCircuitAsync(page);
        var retry = page.Locator("[data-testid=retry-row]");
        await Assertions.Expect(retry).ToHaveCountAsync(world.RowsOf(Sandbox.SeedData.HardCases.FutureDatedContractCompany));
        await Assertions.Expect(retry.First).ToBeDisabledAsync();
        await Assertions.Expect(retry.First).ToHaveAttributeAsync("title", BillingMessages.SalesRefused);
        Assert.Empty(errors);

        // Another organization's run is not there at all, on the page or as CSV.
        var other = await portal.CreateOrganizationAsync();
        var (otherPage, otherErrors) = await portal.NewPageAsync();
        await LivePortal.SignInAsync(otherPage, other.Operator);
        var csv = await otherPage.APIRequest.GetAsync($"/billing/runs/{started.RunId}/rows.csv");
        Assert.Equal(404, csv.Status);
        await otherPage.GotoAsync($"/billing/runs/{started.RunId}");
        await LivePortal.WaitForCircuitAsync(otherPage);
        await Assertions.Expect(otherPage.Locator("[data-testid=empty-state]")).ToContainTextAsync("No such billing run");
        Assert.Empty(otherErrors);
    }

    // ------------------------------------------------------------ the world

    private sealed record Contract(long Id, string Name, DateOnly Start);

    /// <summary>Tenants mapped by a person to sandbox companies' Autotask contracts, every product mapped, usage one more than the PSA holds.</summary>
    private sealed record AutotaskWorld(IReadOnlyDictionary<int, long> TenantOf, IReadOnlyDictionary<int, Contract> Contracts, IReadOnlyDictionary<int, int> RowCounts)
    {
        public int Rows => RowCounts.Values.Sum();

        public int RowsOf(int company) => RowCounts[company];
    }

    private async Task<Guid> LinkAutotaskAsync(TestOrganization organization)
    {
        var linked = await portal.GetService<IntegrationService>().SaveAutotaskAsync(LivePortal.AdminOf(organization), new AutotaskLinkForm
        {
            UserName = "full@psaportal-sandbox.example", Secret = "SbxFullSecret1!", IntegrationCode = "PSAPORTALSANDBOX0000000000", UseSandbox = true,
        }, new Uri(portal.BaseUrl));
        Assert.True(linked.Succeeded, linked.Message);
        await using var db = await portal.Factory.CreateDbContextAsync();
        var integrationId = await db.Integrations.Where(i => i.OrganizationId == organization.Id).Select(i => i.Id).SingleAsync();
        // Linking starts the reference sync; let it finish before billing competes with it for the PSA.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await db.Integrations.Where(i => i.Id == integrationId).Select(i => i.ReferenceSyncedAt).SingleAsync() is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "The reference sync after linking did not finish in time.");
            await Task.Delay(100);
        }

        return integrationId;
    }

    private async Task<AutotaskWorld> MapAutotaskTenantsAsync(TestOrganization organization, int tenants)
    {
        var integrationId = await LinkAutotaskAsync(organization);
        var seed = Sandbox.SeedData;
        var hard = seed.HardCases;
        var contracts = Sandbox.Autotask.Data.Contracts.All();
        Contract? ContractOf(int company, string prefix) => contracts
            .Where(c => Long(c["companyID"]) == 1000 + company && JsonRecords.GetString(c["contractName"])!.StartsWith(prefix, StringComparison.Ordinal))
            .Select(c => new Contract(JsonRecords.GetId(c), JsonRecords.GetString(c["contractName"])!,
                DateOnly.FromDateTime(DateTime.Parse(JsonRecords.GetString(c["startDate"])!, CultureInfo.InvariantCulture))))
            .FirstOrDefault();

        // The future-dated contract's company, then ordinary companies (none of the other hard cases).
        var chosen = new Dictionary<int, Contract> { [hard.FutureDatedContractCompany] = ContractOf(hard.FutureDatedContractCompany, "Managed Services Renewal - ")! };
        foreach (var company in seed.Companies.Where(c => c.DuplicateOfNumber is null && c.Number > 7).TakeWhile(_ => chosen.Count < tenants))
        {
            if (ContractOf(company.Number, "Managed Services - ") is { } contract && seed.SubscriptionsOf(company.Number).Any())
            {
                chosen[company.Number] = contract;
            }
        }

        var now = DateTimeOffset.UtcNow;
        await using var db = await portal.Factory.CreateDbContextAsync();
        var products = SandboxSeedData.Products.Select(p => new VendorProduct
        {
            OrganizationId = organization.Id, PartNumber = p.Sku, Name = p.Description, Cost = p.Cost, RetailPrice = p.Price, Recurring = true, CreatedAt = now, UpdatedAt = now,
        }).ToList();
        db.VendorProducts.AddRange(products);
        await db.SaveChangesAsync();
        foreach (var (product, seedProduct) in products.Zip(SandboxSeedData.Products))
        {
            db.ProductMappings.Add(new ProductMapping
            {
                IntegrationId = integrationId, VendorProductId = product.Id, PsaProductId = seedProduct.Number, PsaProductName = seedProduct.Description, UpdatedAt = now,
            });
        }

        var tenantOf = new Dictionary<int, long>();
        var rowCounts = new Dictionary<int, int>();
        foreach (var (number, contract) in chosen)
        {
            var company = seed.Companies.Single(c => c.Number == number);
            var tenant = new Tenant
            {
                OrganizationId = organization.Id, ExternalId = string.Create(CultureInfo.InvariantCulture, $"tn-{number:D4}"), Name = company.Name,
                Status = TenantStatus.Active, CreatedAt = now, UpdatedAt = now,
            };
            db.Tenants.Add(tenant);
            await db.SaveChangesAsync();
            tenantOf[number] = tenant.Id;
            db.TenantMappings.Add(new TenantMapping
            {
                IntegrationId = integrationId, TenantId = tenant.Id, CompanyPsaId = 1000 + number, CompanyName = company.Name, Origin = MappingOrigin.Person,
                AgreementPsaId = contract.Id, AgreementName = contract.Name, ExportEnabled = true, UpdatedAt = now,
            });
            var subscriptions = seed.SubscriptionsOf(number).ToList();
            foreach (var subscription in subscriptions)
            {
                // One more than the PSA holds, so every reachable row is a write.
                db.TenantUsage.Add(new TenantUsage
                {
                    OrganizationId = organization.Id, TenantId = tenant.Id, ProductId = products.Single(p => p.PartNumber == subscription.Sku).Id,
                    Quantity = subscription.Quantity + 1, AsOf = now, UpdatedAt = now,
                });
            }

            rowCounts[number] = subscriptions.Count;
        }

        await db.SaveChangesAsync();
        return new AutotaskWorld(tenantOf, chosen, rowCounts);
    }

    private static long Long(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var number) ? (long)number : throw new InvalidOperationException($"Not a number: {node}");

    private void SetContractStart(long contractId, DateTime start)
    {
        var table = Sandbox.Autotask.Data.Contracts;
        var copy = (JsonObject)table.Find(contractId)!.DeepClone();
        copy["startDate"] = start.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        table.Replace(copy);
    }

    private async Task WaitForEndAsync(Guid runId)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            await using (var db = await portal.Factory.CreateDbContextAsync())
            {
                if (await db.BillingRuns.Where(r => r.Id == runId).Select(r => r.Status).SingleAsync() is not (BillingRunStatus.Queued or BillingRunStatus.Running))
                {
                    return;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"Billing run {runId} did not end in time.");
            await Task.Delay(100);
        }
    }
}
