using PsaPortal.Web.Features.Billing;

namespace PsaPortal.Web.Tests.Billing;

public sealed class BillingPlansTests
{
    private static BillingRunItem Row(long company, long agreement, string tenant) => new()
    {
        TenantName = tenant, VendorProductName = "Seats", CompanyPsaId = company, AgreementPsaId = agreement,
    };

    [Fact]
    public void Split_RowLimit_KeepsEveryCompanyInOnePlan()
    {
        var rows = new[] { Row(1, 10, "a"), Row(2, 20, "b"), Row(1, 11, "c"), Row(2, 20, "d"), Row(3, 30, "e") };

        var plans = BillingPlans.Split(rows, new BillingPlanLimits(Rows: 3, Agreements: int.MaxValue));

        Assert.Equal([["a", "c"], ["b", "d", "e"]], plans.Select(p => p.Select(r => r.TenantName).ToArray()).ToArray());
    }

    [Fact]
    public void Split_AgreementLimit_CountsDistinctAgreements()
    {
        // Company 1 has two rows on one contract; company 2 brings a second contract, company 3 a third.
        var rows = new[] { Row(1, 10, "a"), Row(1, 10, "b"), Row(2, 20, "c"), Row(3, 30, "d") };

        var plans = BillingPlans.Split(rows, new BillingPlanLimits(Rows: int.MaxValue, Agreements: 2));

        Assert.Equal([["a", "b", "c"], ["d"]], plans.Select(p => p.Select(r => r.TenantName).ToArray()).ToArray());
    }

    [Fact]
    public void Split_CompanyLargerThanTheLimit_GetsAPlanOfItsOwn()
    {
        var rows = new[] { Row(1, 10, "a"), Row(2, 20, "b"), Row(2, 21, "c"), Row(2, 22, "d"), Row(3, 30, "e") };

        var plans = BillingPlans.Split(rows, new BillingPlanLimits(Rows: 2, Agreements: int.MaxValue));

        Assert.Equal([["a"], ["b", "c", "d"], ["e"]], plans.Select(p => p.Select(r => r.TenantName).ToArray()).ToArray());
        Assert.Equal(rows.Length, plans.Sum(p => p.Length));
    }
}
