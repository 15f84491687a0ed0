using System.Globalization;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Tests.Invoices;

[CollectionDefinition(nameof(ServerTimeZoneCollection), DisableParallelization = true)]
public sealed class ServerTimeZoneCollection;

[Collection(nameof(ServerTimeZoneCollection))]
public sealed class ChargeDateRulesTests
{
    private static DateOnly D(string iso) => DateOnly.ParseExact(iso, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static ChargeRuleSet Rules(
        (ChargeType Type, ChargeEndDateRuleKind Rule)[]? end = null,
        (BillingCycle Cycle, ChargeStartDateRuleKind Rule)[]? start = null,
        (ChargeType Type, string Name)[]? names = null) => new(
        (end ?? []).ToDictionary(r => r.Type, r => r.Rule),
        (start ?? []).ToDictionary(r => r.Cycle, r => r.Rule),
        (names ?? []).ToDictionary(n => n.Type, n => n.Name));

    public static TheoryData<ChargeEndDateRuleKind, string, string> EndDateCases => new()
    {
        { ChargeEndDateRuleKind.LastDayOfInvoiceMonth, "2026-01-01", "2026-01-31" },
        { ChargeEndDateRuleKind.LastDayOfInvoiceMonth, "2026-02-01", "2026-02-28" },
        { ChargeEndDateRuleKind.LastDayOfInvoiceMonth, "2028-02-01", "2028-02-29" },
        { ChargeEndDateRuleKind.LastDayOfInvoiceMonth, "2100-02-01", "2100-02-28" },
        { ChargeEndDateRuleKind.LastDayOfInvoiceMonth, "2000-02-01", "2000-02-29" },
        { ChargeEndDateRuleKind.LastDayOfInvoiceMonth, "2026-04-01", "2026-04-30" },
        { ChargeEndDateRuleKind.LastDayOfInvoiceMonth, "2026-12-01", "2026-12-31" },
        { ChargeEndDateRuleKind.LastDayOfInvoiceMonth, "2026-06-17", "2026-06-30" },
        { ChargeEndDateRuleKind.FirstDayOfFollowingMonth, "2026-01-01", "2026-02-01" },
        { ChargeEndDateRuleKind.FirstDayOfFollowingMonth, "2028-02-01", "2028-03-01" },
        { ChargeEndDateRuleKind.FirstDayOfFollowingMonth, "2026-12-01", "2027-01-01" },
        { ChargeEndDateRuleKind.FirstDayOfFollowingMonth, "2026-12-31", "2027-01-01" },
        { ChargeEndDateRuleKind.FirstDayOfFollowingMonth, "2026-01-31", "2026-02-01" },
    };

    [Theory]
    [MemberData(nameof(EndDateCases))]
    public void EndDate_InvoiceMonth_GivesCalendarDate(ChargeEndDateRuleKind rule, string invoiceMonth, string expected)
    {
        Assert.Equal(D(expected), ChargeDateRules.EndDate(rule, D(invoiceMonth)));
    }

    public static TheoryData<string, string> StartDateCases => new()
    {
        { "2026-01-15", "2026-02-01" },
        { "2026-01-01", "2026-02-01" },
        { "2026-01-31", "2026-02-01" },
        { "2028-02-29", "2028-03-01" },
        { "2028-01-31", "2028-02-01" },
        { "2026-12-15", "2027-01-01" },
        { "2026-12-31", "2027-01-01" },
    };

    [Theory]
    [MemberData(nameof(StartDateCases))]
    public void StartDate_FirstDayOfNextMonth_GivesFirstOfNextMonth(string platformStart, string expected)
    {
        Assert.Equal(D(expected), ChargeDateRules.StartDate(ChargeStartDateRuleKind.FirstDayOfNextMonth, D(platformStart)));
    }

    public static TheoryData<ChargeType, ChargeEndDateRuleKind> EveryTypeAndRule()
    {
        var data = new TheoryData<ChargeType, ChargeEndDateRuleKind>();
        foreach (var type in Enum.GetValues<ChargeType>())
        {
            foreach (var rule in Enum.GetValues<ChargeEndDateRuleKind>())
            {
                data.Add(type, rule);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryTypeAndRule))]
    public void Compute_EndRuleForItsChargeTypeOnly_AppliesToThatTypeAndNoOther(ChargeType type, ChargeEndDateRuleKind rule)
    {
        var rules = Rules(end: [(type, rule)]);
        var expected = rule == ChargeEndDateRuleKind.LastDayOfInvoiceMonth ? D("2028-02-29") : D("2028-03-01");

        foreach (var other in Enum.GetValues<ChargeType>())
        {
            var computed = ChargeDateRules.Compute(other, BillingCycle.Monthly, D("2028-02-10"), D("2028-02-20"), D("2028-02-01"), rules);

            Assert.Equal(other == type ? expected : D("2028-02-20"), computed.EndDate);
            Assert.Equal(other == type, computed.EndDateSystemUpdated);
            Assert.Equal(D("2028-02-10"), computed.StartDate);
            Assert.False(computed.UserUpdated);
        }
    }

    [Theory]
    [InlineData(BillingCycle.Monthly)]
    [InlineData(BillingCycle.Quarterly)]
    [InlineData(BillingCycle.Annual)]
    [InlineData(BillingCycle.OneTime)]
    public void Compute_StartRuleForItsCycleOnly_AppliesToThatCycleAndNoOther(BillingCycle cycle)
    {
        var rules = Rules(start: [(cycle, ChargeStartDateRuleKind.FirstDayOfNextMonth)]);

        foreach (var other in Enum.GetValues<BillingCycle>())
        {
            var computed = ChargeDateRules.Compute(ChargeType.CycleFee, other, D("2026-01-15"), D("2026-01-31"), D("2026-01-01"), rules);

            Assert.Equal(other == cycle ? D("2026-02-01") : D("2026-01-15"), computed.StartDate);
            Assert.Equal(other == cycle, computed.SystemUpdated);
        }
    }

    [Fact]
    public void Compute_RuleGivesThePlatformsOwnValue_IsNotSystemUpdated()
    {
        var rules = Rules(end: [(ChargeType.UsageFee, ChargeEndDateRuleKind.LastDayOfInvoiceMonth)]);

        var computed = ChargeDateRules.Compute(ChargeType.UsageFee, BillingCycle.Monthly, D("2026-03-01"), D("2026-03-31"), D("2026-03-01"), rules);

        Assert.Equal(D("2026-03-31"), computed.EndDate);
        Assert.False(computed.SystemUpdated);
    }

    [Fact]
    public void Compute_CustomName_ReplacesPlatformNameAndIsSystemUpdated()
    {
        var rules = Rules(names: [(ChargeType.ItemFee, "  Licence  ")]);

        var renamed = ChargeDateRules.Compute(ChargeType.ItemFee, BillingCycle.Monthly, D("2026-03-01"), D("2026-03-31"), D("2026-03-01"), rules);
        var other = ChargeDateRules.Compute(ChargeType.PurchaseFee, BillingCycle.Monthly, D("2026-03-01"), D("2026-03-31"), D("2026-03-01"), rules);

        Assert.Equal("Licence", renamed.ChargeTypeName);
        Assert.True(renamed.NameSystemUpdated);
        Assert.True(renamed.SystemUpdated);
        Assert.Equal("Purchase Fee", other.ChargeTypeName);
        Assert.False(other.SystemUpdated);
    }

    [Fact]
    public void Compute_CustomNameEqualToPlatformName_IsNotSystemUpdated()
    {
        var computed = ChargeDateRules.Compute(ChargeType.OneTimeFee, BillingCycle.OneTime, D("2026-03-01"), D("2026-03-31"), D("2026-03-01"),
            Rules(names: [(ChargeType.OneTimeFee, "One Time Fee")]));

        Assert.False(computed.SystemUpdated);
    }

    [Fact]
    public void Compute_Overrides_WinOverRulesAndAreUserUpdatedNotSystemUpdated()
    {
        var rules = Rules(
            end: [(ChargeType.CycleFee, ChargeEndDateRuleKind.FirstDayOfFollowingMonth)],
            start: [(BillingCycle.Monthly, ChargeStartDateRuleKind.FirstDayOfNextMonth)]);

        var computed = ChargeDateRules.Compute(ChargeType.CycleFee, BillingCycle.Monthly, D("2026-12-15"), D("2026-12-31"), D("2026-12-01"), rules,
            startOverride: D("2026-12-20"), endOverride: D("2027-01-05"));

        Assert.Equal(D("2026-12-20"), computed.StartDate);
        Assert.Equal(D("2027-01-05"), computed.EndDate);
        Assert.True(computed.UserUpdated);
        Assert.False(computed.SystemUpdated);
    }

    [Fact]
    public void Compute_OneOverride_OtherDateStillFollowsItsRule()
    {
        var rules = Rules(end: [(ChargeType.CycleFee, ChargeEndDateRuleKind.FirstDayOfFollowingMonth)]);

        var computed = ChargeDateRules.Compute(ChargeType.CycleFee, BillingCycle.Monthly, D("2026-12-15"), D("2026-12-31"), D("2026-12-01"), rules,
            startOverride: D("2026-12-16"));

        Assert.Equal(D("2027-01-01"), computed.EndDate);
        Assert.True(computed.StartDateUserUpdated);
        Assert.False(computed.EndDateUserUpdated);
        Assert.True(computed.EndDateSystemUpdated);
    }

    [Fact]
    public void Compute_NoRules_KeepsPlatformValues()
    {
        var line = new InvoiceLine
        {
            ExternalId = "L-1", ChargeType = ChargeType.Correction, BillingCycle = BillingCycle.Annual,
            ChargeStartDate = D("2026-05-07"), ChargeEndDate = D("2027-05-06"), InvoiceMonth = D("2026-05-01"),
        };

        var computed = ChargeDateRules.Compute(line, ChargeRuleSet.None);

        Assert.Equal((D("2026-05-07"), D("2027-05-06"), "Correction"), (computed.StartDate, computed.EndDate, computed.ChargeTypeName));
        Assert.False(computed.SystemUpdated || computed.UserUpdated);
    }

    [Theory]
    [InlineData("Pacific/Kiritimati")]
    [InlineData("Etc/GMT+12")]
    [InlineData("America/Los_Angeles")]
    public void Compute_ServerTimeZoneFarFromUtc_DoesNotShiftDates(string zone)
    {
        var before = Environment.GetEnvironmentVariable("TZ");
        try
        {
            Environment.SetEnvironmentVariable("TZ", zone);
            TimeZoneInfo.ClearCachedData();
            Assert.Equal(zone, TimeZoneInfo.Local.Id);

            var rules = Rules(
                end: [(ChargeType.CycleFee, ChargeEndDateRuleKind.LastDayOfInvoiceMonth), (ChargeType.UsageFee, ChargeEndDateRuleKind.FirstDayOfFollowingMonth)],
                start: [(BillingCycle.Monthly, ChargeStartDateRuleKind.FirstDayOfNextMonth)]);

            var cycle = ChargeDateRules.Compute(ChargeType.CycleFee, BillingCycle.Monthly, D("2028-01-15"), D("2028-02-10"), D("2028-02-01"), rules);
            var usage = ChargeDateRules.Compute(ChargeType.UsageFee, BillingCycle.Annual, D("2026-12-31"), D("2026-12-31"), D("2026-12-01"), rules);

            Assert.Equal((D("2028-02-01"), D("2028-02-29")), (cycle.StartDate, cycle.EndDate));
            Assert.Equal((D("2026-12-31"), D("2027-01-01")), (usage.StartDate, usage.EndDate));
        }
        finally
        {
            Environment.SetEnvironmentVariable("TZ", before);
            TimeZoneInfo.ClearCachedData();
        }
    }
}
