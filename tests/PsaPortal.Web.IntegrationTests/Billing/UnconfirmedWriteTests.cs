using System.Net;
using System.Text;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Resilience;
using PsaPortal.Sandbox.Core;
using PsaPortal.Web.Features.Billing;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// Autotask accepts a run's adjustments, and then the units cannot be read to confirm them. The run reads them again in
/// each of its rounds before it gives up; a row it cannot confirm says that Autotask accepted the adjustment and why it
/// could not be checked; the PSA holds each adjustment once; and Retry, once Autotask answers, confirms the rows without
/// sending any adjustment again.
/// </summary>
public sealed class UnconfirmedWriteTests
{
    private const int CompanyCount = 20;

    /// <summary>Production's retries and breaker, with back-off in milliseconds instead of seconds.</summary>
    private static readonly PsaResilienceOptions Resilience = new() { AttemptTimeout = FaultPortal.AttemptTimeout, RetryBaseDelay = TimeSpan.FromMilliseconds(20) };

    private static int AttemptsPerRead => Resilience.MaxRetryAttempts + 1;

    [Fact]
    public async Task Autotask_UnitsUnreadableForTwoSettles_TheThirdConfirmsEveryAdjustment()
    {
        // Arrange: the units read fails with every attempt of the first two settles after the adjustments.
        var units = new UnitsReadsFailAfterAnAdjustment { FailuresLeft = 2 * AttemptsPerRead };
        await using var portal = await FaultPortal.StartAsync(CompanyCount, resilience: Resilience, interceptor: units);
        var (before, hardTenants) = await PrepareAsync(portal);

        // Act
        var run = await SyncAsync(portal);

        // Assert
        var rows = await portal.RowsAsync(run.Id);
        Assert.Equal(0, units.FailuresLeft);
        Assert.True(rows.Count(r => r.Outcome == BillingOutcome.Synced) >= 10, "too few rows changed for the run to prove anything");
        Assert.All(rows.Where(r => !hardTenants.Contains(r.TenantId)), r => Assert.True(
            r.Outcome is BillingOutcome.Synced or BillingOutcome.Unchanged, $"{FaultPsa.Describe(r)}: \"{r.Message}\""));
        Assert.Empty(FaultPsa.AutotaskMismatches(portal.Sandbox, before, rows));
    }

    [Fact]
    public async Task Autotask_UnitsNeverReadable_RowsFailAsAcceptedNotConfirmed_RetryConfirmsThemWithoutAdjustingTwice()
    {
        // Arrange
        var units = new UnitsReadsFailAfterAnAdjustment { FailuresLeft = int.MaxValue };
        await using var portal = await FaultPortal.StartAsync(CompanyCount, resilience: Resilience, interceptor: units);
        var (before, hardTenants) = await PrepareAsync(portal);

        // Act
        var run = await SyncAsync(portal);

        // Assert: after three settles that each read with every attempt, every row with an adjustment is Failed, saying
        // that Autotask accepted it and why it could not be confirmed; Autotask holds each adjustment once.
        var rows = await portal.RowsAsync(run.Id);
        Assert.Equal(BillingRunStatus.CompletedWithFailures, run.Status);
        Assert.True(units.Failed >= 3 * AttemptsPerRead, $"the units were read {units.Failed} times after the adjustments; three settles of {AttemptsPerRead} attempts each were expected");
        var message = BillingMessages.AcceptedNotConfirmed(PsaVendor.Autotask, "Autotask answered with a server error (500). Try again later.");
        Assert.All(rows.Where(r => !hardTenants.Contains(r.TenantId)), r => Assert.True(
            r.Outcome == BillingOutcome.Unchanged || (r.Outcome == BillingOutcome.Failed && r.Message == message), $"{FaultPsa.Describe(r)}: \"{r.Message}\""));
        var accepted = rows.Where(r => r.Outcome == BillingOutcome.Failed && r.Message == message).ToList();
        Assert.True(accepted.Count >= 10, $"only {accepted.Count} rows changed");
        var unconfirmed = await portal.UnconfirmedAsync(run.Id);
        Assert.Equal(accepted.Select(r => r.Id).Order(), unconfirmed.Order());
        Assert.Empty(FaultPsa.AutotaskMismatches(portal.Sandbox, before, rows, unconfirmed));
        Assert.Equal(accepted.Count, AdjustmentsSince(portal, before));

        // Act: Autotask answers again; Retry all failed.
        units.FailuresLeft = 0;
        var retry = await portal.Get<IBillingRuns>().RetryFailedAsync(portal.Admin, run.Id);
        Assert.True(retry.Accepted, retry.Message);
        var retried = await portal.WaitForEndAsync(retry.RunId!.Value, TimeSpan.FromMinutes(2));

        // Assert: the first run's rows now read as the retry left them, Autotask holds exactly that, and no adjustment was sent again.
        Assert.Equal(rows.Count(r => r.Outcome == BillingOutcome.Failed), (await portal.RowsAsync(retried.Id)).Count);
        var final = await portal.RowsAsync(run.Id);
        Assert.All(final.Where(r => !hardTenants.Contains(r.TenantId)), r => Assert.True(
            r.Outcome is BillingOutcome.Synced or BillingOutcome.Unchanged, $"{FaultPsa.Describe(r)}: \"{r.Message}\""));
        Assert.Equal(accepted.Count, AdjustmentsSince(portal, before));
        Assert.Empty(FaultPsa.AutotaskMismatches(portal.Sandbox, before, final));
    }

    /// <summary>
    /// Links Autotask, maps every company and moves two counts in three; returns the PSA before the run and the tenants
    /// whose rows fail on the PSA's own data (future-dated and expired contracts, a duplicated service).
    /// </summary>
    private static async Task<(FaultPsa.Snapshot Before, IReadOnlySet<long> HardTenants)> PrepareAsync(FaultPortal portal)
    {
        var integrationId = await portal.LinkAsync(PsaVendor.Autotask);
        var tenants = await portal.MapEveryCompanyAsync(PsaVendor.Autotask, integrationId);
        await portal.MoveCountsAsync(PsaVendor.Autotask, tenants);
        var hard = portal.Sandbox.SeedData.HardCases;
        int[] hardCompanies = [hard.FutureDatedContractCompany, hard.ExpiredContractCompany, hard.DuplicateServiceCompany];
        return (FaultPsa.Take(portal.Sandbox), tenants.Where(t => hardCompanies.Contains(t.CompanyNumber)).Select(t => t.TenantId).ToHashSet());
    }

    private static async Task<BillingRun> SyncAsync(FaultPortal portal)
    {
        var started = await portal.Get<IBillingRuns>().SyncNowAsync(portal.Admin, PsaVendor.Autotask);
        Assert.True(started.Accepted, started.Message);
        return await portal.WaitForEndAsync(started.RunId!.Value, TimeSpan.FromMinutes(3));
    }

    private static int AdjustmentsSince(FaultPortal portal, FaultPsa.Snapshot before) =>
        portal.Sandbox.Autotask.Data.ContractServiceAdjustments.All().Count(a => !before.Adjustments.Contains(JsonRecords.GetId(a)));

    /// <summary>
    /// Answers Autotask's units query with a 500, as Autotask answers when it fails, once an adjustment has been accepted
    /// and while <see cref="FailuresLeft"/> lasts; everything else goes through to the sandbox.
    /// </summary>
    private sealed class UnitsReadsFailAfterAnAdjustment : DelegatingHandler
    {
        private int _failuresLeft;
        private int _failed;
        private volatile bool _adjusted;

        public int FailuresLeft { get => Volatile.Read(ref _failuresLeft); set => Volatile.Write(ref _failuresLeft, value); }

        public int Failed => Volatile.Read(ref _failed);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (_adjusted && path.EndsWith("/ContractServiceUnits/query", StringComparison.OrdinalIgnoreCase) && TakeFailure())
            {
                Interlocked.Increment(ref _failed);
                return new HttpResponseMessage(HttpStatusCode.InternalServerError)
                {
                    RequestMessage = request,
                    Content = new StringContent("""{"errors":[]}""", Encoding.UTF8, "application/json"),
                };
            }

            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Post && path.EndsWith("/ContractServiceAdjustments", StringComparison.OrdinalIgnoreCase) && response.IsSuccessStatusCode)
            {
                _adjusted = true;
            }

            return response;
        }

        private bool TakeFailure()
        {
            while (true)
            {
                var left = FailuresLeft;
                if (left <= 0)
                {
                    return false;
                }

                if (Interlocked.CompareExchange(ref _failuresLeft, left - 1, left) == left)
                {
                    return true;
                }
            }
        }
    }
}
