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
    /// Rows read and planned together. ConnectWise reads per agreement, so a bounded number at a time; Autotask reads
    /// by <c>id in […]</c> pages, so all the rows at once (a plan per 500 rows would send part-filled pages).
    /// </summary>
    int RowsPerPlan => BillingEngine.ChunkSize;

    /// <summary>Reads and validates the PSA state of every row in bulk (the plan's read); keyed by row id.</summary>
    Task<IReadOnlyDictionary<long, PsaLineState>> ReadAsync(IReadOnlyList<BillingRunItem> rows, CancellationToken cancellationToken);

    /// <summary>Re-reads only the current count of each row's line (settling and confirming writes); keyed by row id.</summary>
    Task<IReadOnlyDictionary<long, PsaLineState>> RereadAsync(IReadOnlyList<(BillingRunItem Row, BillingWrite Write)> rows, CancellationToken cancellationToken);

    /// <summary>Sends one journalled write once; never retries a non-idempotent one.</summary>
    Task<BillingWriteOutcome> SendAsync(BillingWrite write, CancellationToken cancellationToken);
}
