using System.Net;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Errors;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// What the PSA holds for one row right now: the line (addition or contract service) and its quantity (units), or
/// why the row cannot be billed (<see cref="Error"/>: DESIGN.md's messages, or the PSA's own words when a read failed).
/// </summary>
public sealed record PsaLineState(string? Error, long? LinePsaId, decimal? Current)
{
    public static PsaLineState Failed(string error) => new(error, null, null);
}

/// <summary>How one sent write ended, as far as the PSA's answer tells.</summary>
public abstract record BillingWriteOutcome
{
    /// <summary>The PSA answered with success.</summary>
    public sealed record Applied(long? ResultPsaId, long? LinePsaId) : BillingWriteOutcome;

    /// <summary>The PSA answered and refused it: it was not applied. <paramref name="Transient"/>: throttled, so it may be planned again.</summary>
    public sealed record Refused(string Message, bool Transient) : BillingWriteOutcome;

    /// <summary>No answer that says whether it arrived (timeout, dropped connection, server error after sending): only a re-read can tell.</summary>
    public sealed record Unknown(string Message) : BillingWriteOutcome;

    /// <summary>
    /// Reads a failed call the way the journal needs it. A 5xx, a timeout or a dropped connection may have reached the
    /// PSA, so the write's outcome is unknown; a 4xx (or the client's own refusal to send) means it was not applied.
    /// </summary>
    public static BillingWriteOutcome FromException(Exception exception) => exception switch
    {
        // Throttled (by the PSA before processing, or held back by the client's budget): certainly not applied.
        PsaException { Kind: PsaErrorKind.RateLimited } psa => new Refused(psa.Message, Transient: true),
        // The PSA answered 4xx: it refused the write.
        PsaException { StatusCode: { } status } psa when (int)status is >= 400 and < 500 && status != HttpStatusCode.RequestTimeout => new Refused(psa.Message, Transient: false),
        // 5xx, timeouts, dropped connections, the client's "outcome unknown": only a re-read can tell.
        _ => new Unknown(exception.Message),
    };
}

/// <summary>
/// One PSA's side of a billing run: bulk reads that validate and plan the rows, the one write per changed row, and the
/// re-read that settles a write whose outcome is unknown. The engine around it is the same for both PSAs.
/// </summary>
public interface IBillingPsa
{
    PsaVendor Vendor { get; }

    /// <summary>The write that changes an existing line's count (ConnectWise quantity PATCH, Autotask adjustment).</summary>
    BillingAction UpdateAction { get; }

    /// <summary>Autotask: a write the PSA accepted is confirmed by re-reading the units before the row is Synced.</summary>
    bool ConfirmsByReread { get; }

    /// <summary>
    /// How many rows are read and planned together. ConnectWise reads per agreement, so a bounded number of rows;
    /// Autotask reads by <c>id in […]</c> pages, so a number of contracts that fills whole pages. A plan always holds
    /// all the rows of a company (<see cref="BillingPlans"/>), so no line is read by one plan and written by another.
    /// </summary>
    BillingPlanLimits PlanLimits => new(BillingEngine.ChunkSize, int.MaxValue);

    /// <summary>Reads and validates the PSA state of every row in bulk (the plan's read); keyed by the row itself, which may not be stored yet.</summary>
    Task<IReadOnlyDictionary<BillingRunItem, PsaLineState>> ReadAsync(IReadOnlyList<BillingRunItem> rows, CancellationToken cancellationToken);

    /// <summary>Re-reads only the current count of each row's line (settling and confirming writes); keyed by row id.</summary>
    Task<IReadOnlyDictionary<long, PsaLineState>> RereadAsync(IReadOnlyList<(BillingRunItem Row, BillingWrite Write)> rows, CancellationToken cancellationToken);

    /// <summary>Sends one journalled write once; never retries a non-idempotent one.</summary>
    Task<BillingWriteOutcome> SendAsync(BillingWrite write, CancellationToken cancellationToken);
}

/// <summary>A plan's size: at most <paramref name="Rows"/> rows and <paramref name="Agreements"/> agreements (contracts), whichever is reached first.</summary>
public readonly record struct BillingPlanLimits(int Rows, int Agreements);

/// <summary>Splits a run's pending rows into plans, whole companies at a time.</summary>
public static class BillingPlans
{
    /// <summary>
    /// Rows grouped by PSA company, companies added to a plan until the next one would pass a limit (a company larger
    /// than the limits gets a plan of its own). Every row of a company — its agreements, and the other agreements the
    /// ConnectWise check reads — is therefore in one plan, so plans read ahead of earlier plans' writes read nothing
    /// those writes change.
    /// </summary>
    public static List<BillingRunItem[]> Split(IReadOnlyList<BillingRunItem> rows, BillingPlanLimits limits)
    {
        var plans = new List<BillingRunItem[]>();
        var plan = new List<BillingRunItem>();
        var agreements = new HashSet<long>();
        foreach (var company in rows.GroupBy(r => r.CompanyPsaId ?? 0))
        {
            var companyAgreements = company.Select(r => r.AgreementPsaId ?? 0).Distinct().ToList();
            var newAgreements = companyAgreements.Count(a => !agreements.Contains(a));
            if (plan.Count > 0 && (plan.Count + company.Count() > limits.Rows || agreements.Count + newAgreements > limits.Agreements))
            {
                plans.Add([.. plan]);
                plan.Clear();
                agreements.Clear();
            }

            plan.AddRange(company);
            agreements.UnionWith(companyAgreements);
        }

        if (plan.Count > 0)
        {
            plans.Add([.. plan]);
        }

        return plans;
    }
}
