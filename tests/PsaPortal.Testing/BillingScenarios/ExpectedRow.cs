namespace PsaPortal.Testing.BillingScenarios;

/// <summary>
/// One row a run must produce: a tenant's count of one vendor product on its mapped agreement (ConnectWise) or
/// contract (Autotask), what the PSA held before the run, and how the row must end.
/// </summary>
/// <param name="PsaBefore">The PSA's quantity (units) before the run; null when the agreement lacks the product.</param>
/// <param name="ExpectedFailure">The exact message of a row the PSA's data must make fail; null for a row that must sync.</param>
/// <param name="MayFail">
/// A row of a tenant with a known PSA-side problem on another of its products: whether the engine fails the whole tenant
/// or only the bad product is its call, so either ending is accepted — but a failed row must have left the PSA alone.
/// </param>
internal sealed record ExpectedRow(
    long TenantId,
    int CompanyNumber,
    long VendorProductId,
    string Sku,
    long PsaProductId,
    long AgreementPsaId,
    int Count,
    decimal? PsaBefore,
    string? ExpectedFailure,
    bool MayFail)
{
    public bool MustSync => ExpectedFailure is null && !MayFail;

    public bool Changes => PsaBefore != Count;

    public override string ToString() =>
        $"tenant {TenantId} (company {CompanyNumber}) {Sku} on {AgreementPsaId}: PSA {PsaBefore?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} -> {Count}";
}
