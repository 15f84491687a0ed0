using PsaPortal.Web.Features.Platform;

namespace PsaPortal.Web.Features.Invoices;

/// <summary>An integration's rules as the date computation needs them (empty maps: the platform's values stand).</summary>
public sealed record ChargeRuleSet(
    IReadOnlyDictionary<ChargeType, ChargeEndDateRuleKind> EndRules,
    IReadOnlyDictionary<BillingCycle, ChargeStartDateRuleKind> StartRules,
    IReadOnlyDictionary<ChargeType, string> CustomNames)
{
    public static ChargeRuleSet None { get; } = new(new Dictionary<ChargeType, ChargeEndDateRuleKind>(), new Dictionary<BillingCycle, ChargeStartDateRuleKind>(), new Dictionary<ChargeType, string>());

    public static ChargeRuleSet From(IEnumerable<ChargeEndDateRule> endRules, IEnumerable<ChargeStartDateRule> startRules, IEnumerable<ChargeTypeName> names) => new(
        endRules.ToDictionary(r => r.ChargeType, r => r.Rule),
        startRules.ToDictionary(r => r.BillingCycle, r => r.Rule),
        names.Where(n => !string.IsNullOrWhiteSpace(n.Name)).ToDictionary(n => n.ChargeType, n => n.Name.Trim()));
}

/// <summary>
/// A line's charge start and end dates and charge type name as they go to ConnectWise, with where they came from.
/// <see cref="SystemUpdated"/>: a rule or a custom name changed the platform's value; <see cref="UserUpdated"/>: a
/// person's override decides a date.
/// </summary>
public sealed record ComputedCharge(
    DateOnly StartDate,
    DateOnly EndDate,
    string ChargeTypeName,
    bool StartDateSystemUpdated,
    bool EndDateSystemUpdated,
    bool NameSystemUpdated,
    bool StartDateUserUpdated,
    bool EndDateUserUpdated)
{
    public bool SystemUpdated => StartDateSystemUpdated || EndDateSystemUpdated || NameSystemUpdated;

    public bool UserUpdated => StartDateUserUpdated || EndDateUserUpdated;
}

/// <summary>
/// The charge date rules as pure functions of calendar dates (DateOnly): nothing here reads a clock or a time zone, so
/// the server's zone can never move a date. Precedence for each date: a person's override, then the integration's
/// rule, then the platform's value.
/// </summary>
public static class ChargeDateRules
{
    /// <summary>The platform's name of a charge type, as the Configuration panel and the Dictionary show it.</summary>
    public static string PlatformName(ChargeType chargeType) => chargeType switch
    {
        ChargeType.CycleFee => "Cycle Fee",
        ChargeType.Correction => "Correction",
        ChargeType.UsageFee => "Usage Fee",
        ChargeType.ItemFee => "Item Fee",
        ChargeType.PurchaseFee => "Purchase Fee",
        ChargeType.OneTimeFee => "One Time Fee",
        _ => throw new ArgumentOutOfRangeException(nameof(chargeType), chargeType, "Unknown charge type."),
    };

    public static string CycleName(BillingCycle cycle) => cycle switch
    {
        BillingCycle.OneTime => "One Time",
        _ => cycle.ToString(),
    };

    public static string RuleName(ChargeEndDateRuleKind rule) => rule switch
    {
        ChargeEndDateRuleKind.LastDayOfInvoiceMonth => "Last day of invoice month",
        ChargeEndDateRuleKind.FirstDayOfFollowingMonth => "First day of following month",
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown end date rule."),
    };

    public static string RuleName(ChargeStartDateRuleKind rule) => rule switch
    {
        ChargeStartDateRuleKind.FirstDayOfNextMonth => "First day of next month",
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown start date rule."),
    };

    /// <summary>The end date a rule gives a line of <paramref name="invoiceMonth"/> (any day of the month counts as that month).</summary>
    public static DateOnly EndDate(ChargeEndDateRuleKind rule, DateOnly invoiceMonth)
    {
        var first = new DateOnly(invoiceMonth.Year, invoiceMonth.Month, 1);
        return rule switch
        {
            ChargeEndDateRuleKind.LastDayOfInvoiceMonth => first.AddMonths(1).AddDays(-1),
            ChargeEndDateRuleKind.FirstDayOfFollowingMonth => first.AddMonths(1),
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown end date rule."),
        };
    }

    /// <summary>The start date a rule gives a line whose platform start date is <paramref name="platformStart"/> (Jan 15 → Feb 1; Feb 1 → Mar 1).</summary>
    public static DateOnly StartDate(ChargeStartDateRuleKind rule, DateOnly platformStart) => rule switch
    {
        ChargeStartDateRuleKind.FirstDayOfNextMonth => new DateOnly(platformStart.Year, platformStart.Month, 1).AddMonths(1),
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown start date rule."),
    };

    /// <summary>A line's dates and name as they go to ConnectWise.</summary>
    public static ComputedCharge Compute(InvoiceLine line, ChargeRuleSet rules, DateOnly? startOverride = null, DateOnly? endOverride = null) =>
        Compute(line.ChargeType, line.BillingCycle, line.ChargeStartDate, line.ChargeEndDate, line.InvoiceMonth, rules, startOverride, endOverride);

    public static ComputedCharge Compute(
        ChargeType chargeType,
        BillingCycle billingCycle,
        DateOnly platformStart,
        DateOnly platformEnd,
        DateOnly invoiceMonth,
        ChargeRuleSet rules,
        DateOnly? startOverride = null,
        DateOnly? endOverride = null)
    {
        var ruleStart = rules.StartRules.TryGetValue(billingCycle, out var startRule) ? StartDate(startRule, platformStart) : platformStart;
        var ruleEnd = rules.EndRules.TryGetValue(chargeType, out var endRule) ? EndDate(endRule, invoiceMonth) : platformEnd;
        var platformName = PlatformName(chargeType);
        var name = rules.CustomNames.TryGetValue(chargeType, out var custom) && !string.IsNullOrWhiteSpace(custom) ? custom.Trim() : platformName;
        return new ComputedCharge(
            startOverride ?? ruleStart,
            endOverride ?? ruleEnd,
            name,
            StartDateSystemUpdated: startOverride is null && ruleStart != platformStart,
            EndDateSystemUpdated: endOverride is null && ruleEnd != platformEnd,
            NameSystemUpdated: !string.Equals(name, platformName, StringComparison.Ordinal),
            StartDateUserUpdated: startOverride is not null,
            EndDateUserUpdated: endOverride is not null);
    }
}
