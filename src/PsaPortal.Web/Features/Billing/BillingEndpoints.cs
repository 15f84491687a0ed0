using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// The run page's CSV download: a GET with the portal's cookie, for any signed-in user of the run's organization. A
/// run of another organization answers 404, exactly as a run that does not exist, so ids reveal nothing.
/// </summary>
public static class BillingEndpoints
{
    public const string RowsCsvPattern = "/billing/runs/{runId:guid}/rows.csv";

    public static string RowsCsvPath(Guid runId, BillingOutcome? outcome = null) =>
        $"/billing/runs/{runId}/rows.csv" + (outcome is { } o ? $"?outcome={o}" : "");

    public static IEndpointRouteBuilder MapBillingEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(RowsCsvPattern, WriteRowsCsvAsync).RequireAuthorization();
        return endpoints;
    }

    private static async Task<IResult> WriteRowsCsvAsync(
        HttpContext http, Guid runId, string? outcome, [FromServices] IBillingRunQueries runs)
    {
        if (http.User.GetOrganizationId() is not { } organizationId)
        {
            return Results.Forbid();
        }

        BillingOutcome? only = null;
        if (!string.IsNullOrEmpty(outcome))
        {
            if (!Enum.TryParse<BillingOutcome>(outcome, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(outcome, out _))
            {
                return Results.Problem(
                    statusCode: StatusCodes.Status400BadRequest,
                    title: "Unknown outcome",
                    detail: $"outcome must be one of {string.Join(", ", Enum.GetNames<BillingOutcome>())}; \"{outcome}\" is not.");
            }

            only = parsed;
        }

        var run = await runs.GetRunAsync(organizationId, runId, http.RequestAborted);
        if (run is null)
        {
            return Results.NotFound();
        }

        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{FileName(run, only)}\"";
        http.Response.Headers.CacheControl = "no-store";
        await runs.WriteCsvAsync(organizationId, runId, only, http.Response.Body, http.RequestAborted);
        return Results.Empty;
    }

    // billing-connectwise-2026-12-02-0130-failed.csv: the PSA, when the run was asked for (UTC) and the filter.
    private static string FileName(BillingRun run, BillingOutcome? outcome) =>
        string.Create(CultureInfo.InvariantCulture,
            $"billing-{run.Vendor.ToString().ToLowerInvariant()}-{run.CreatedAt:yyyy-MM-dd-HHmm}{(outcome is { } o ? "-" + o.ToString().ToLowerInvariant() : "")}.csv");
}
