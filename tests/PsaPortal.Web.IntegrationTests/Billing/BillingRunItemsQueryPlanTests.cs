using Microsoft.EntityFrameworkCore;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.IntegrationTests.Api;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// A run page reads its page of rows again while the run goes on, on every open page. Its default order (tenant,
/// product) must come off an index: sorting all 20,000 rows of a run for each page of 50 took the CPU the live pages
/// needed (run pages' event-to-screen p99 of seconds in the load run).
/// </summary>
public sealed class BillingRunItemsQueryPlanTests : IAsyncLifetime
{
    private ApiPortal _portal = null!;

    public async Task InitializeAsync() => _portal = await ApiPortal.StartAsync(new PortalDatabase.Sqlite());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Theory]
    [InlineData(null)]
    [InlineData("TenantName")]
    public async Task TheDefaultPageOfRows_IsReadOffAnIndex_WithoutSortingTheRun(string? orderBy)
    {
        var plan = await PlanAsync(orderBy);

        Assert.Contains(plan, step => step.Contains("IX_BillingRunItems_RunId_TenantName_VendorProductName_Id", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OrderByAColumnWithoutAnIndex_IsSorted_SoThePlanCheckCanFail()
    {
        var plan = await PlanAsync("Message desc");

        Assert.Contains(plan, step => step.Contains("USE TEMP B-TREE FOR ORDER BY", StringComparison.Ordinal));
    }

    private async Task<List<string>> PlanAsync(string? orderBy)
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        await db.Database.OpenConnectionAsync();
        await using var command = BillingRuns.ItemsPageQuery(db, Guid.NewGuid(), null, null, 100, 50, orderBy).CreateDbCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        var plan = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(3));
        }

        return plan;
    }
}
