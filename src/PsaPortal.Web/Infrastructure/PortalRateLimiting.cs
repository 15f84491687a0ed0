using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.Infrastructure;

/// <summary>The <c>RateLimiting</c> section: how many sign-in attempts and ingest API calls are let through.</summary>
public sealed class PortalRateLimitOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Sign-in attempts (POSTs of the sign-in form) one client address may make per <see cref="SignInWindow"/>.</summary>
    public int SignInPerAddress { get; set; } = 30;

    /// <summary>Sign-in attempts for one email, from any address, per <see cref="SignInWindow"/>.</summary>
    public int SignInPerAccount { get; set; } = 10;

    public TimeSpan SignInWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Ingest API requests one organization may make per second, sustained (all its API keys together).</summary>
    public int ApiRequestsPerSecond { get; set; } = 200;

    /// <summary>Ingest API requests one organization may make at once after a quiet spell.</summary>
    public int ApiBurst { get; set; } = 400;
}

/// <summary>
/// The framework's rate limiter (Microsoft.AspNetCore.RateLimiting) on the two doors a stranger can knock on: the
/// sign-in form, per client address and per email, and the ingest API, per organization. A refusal is a 429 with
/// Retry-After; the API's is a problem details body, the sign-in page's is the page itself saying how long to wait.
/// </summary>
public static class PortalRateLimiting
{
    public const string IngestPolicy = "ingest-api";

    /// <summary>Set on a refused sign-in (the seconds to wait) before the sign-in page renders; the password is then never checked.</summary>
    public const string SignInRefusedItem = "PsaPortal.SignInRefusedSeconds";

    public const string ApiTitle = "Too many requests.";

    public static IHostApplicationBuilder AddPortalRateLimiting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PortalRateLimitOptions>()
            .Bind(builder.Configuration.GetSection(PortalRateLimitOptions.SectionName))
            .Validate(o => o.SignInPerAddress >= 1, "RateLimiting:SignInPerAddress must be at least 1.")
            .Validate(o => o.SignInPerAccount >= 1, "RateLimiting:SignInPerAccount must be at least 1.")
            .Validate(o => o.SignInWindow >= TimeSpan.FromSeconds(1), "RateLimiting:SignInWindow must be at least one second (e.g. 00:01:00).")
            .Validate(o => o.ApiRequestsPerSecond >= 1, "RateLimiting:ApiRequestsPerSecond must be at least 1.")
            .Validate(o => o.ApiBurst >= o.ApiRequestsPerSecond, "RateLimiting:ApiBurst must be at least RateLimiting:ApiRequestsPerSecond.")
            .ValidateOnStart();

        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<PortalRateLimitOptions>>((options, configured) =>
        {
            var limits = configured.Value;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                SignInLimiter(limits.SignInPerAddress, limits.SignInWindow, context => "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown")),
                SignInLimiter(limits.SignInPerAccount, limits.SignInWindow, context => "account:" + SignInEmailOf(context)));
            options.AddPolicy(IngestPolicy, context => RateLimitPartition.GetTokenBucketLimiter(
                context.User.FindFirst(PortalClaims.OrganizationId)?.Value ?? "none",
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.ApiBurst,
                    TokensPerPeriod = limits.ApiRequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
            options.OnRejected = (rejected, _) => OnRejectedAsync(rejected, limits);
        });
        return builder;
    }

    /// <summary>
    /// After authorization, so the ingest API's partition is the API key's organization; after antiforgery, which has
    /// read the sign-in form, so the email can be read without blocking.
    /// </summary>
    public static IApplicationBuilder UsePortalRateLimiting(this IApplicationBuilder app) => app.UseRateLimiter();

    private static PartitionedRateLimiter<HttpContext> SignInLimiter(int permits, TimeSpan window, Func<HttpContext, string> key) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context => IsSignInAttempt(context)
            ? RateLimitPartition.GetFixedWindowLimiter(key(context), _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = permits,
                Window = window,
                QueueLimit = 0,
                AutoReplenishment = true,
            })
            : RateLimitPartition.GetNoLimiter(""));

    private static bool IsSignInAttempt(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals(IdentityFeature.LoginPath, StringComparison.OrdinalIgnoreCase);

    // The form is already read (the antiforgery check reads it). A post without a form, or without a valid token (the
    // framework then refuses to hand out the form, and the page answers 400), counts under an empty email.
    private static string SignInEmailOf(HttpContext context) =>
        context.Features.Get<IAntiforgeryValidationFeature>() is not { IsValid: false }
        && context.Features.Get<IFormFeature>()?.Form is { } form
            ? form["Input.Email"].ToString().Trim().ToUpperInvariant()
            : "";

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, PortalRateLimitOptions limits)
    {
        var context = rejected.HttpContext;
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);

        if (IsSignInAttempt(context) && context.GetEndpoint() is { RequestDelegate: { } page })
        {
            // The sign-in page renders as usual and says how long to wait; it checks no password while this is set.
            context.Items[SignInRefusedItem] = seconds;
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            await page(context);
            return;
        }

        await ApiProblems.Status(StatusCodes.Status429TooManyRequests, ApiTitle,
                $"This organization sent more than {limits.ApiRequestsPerSecond} requests a second (bursts up to {limits.ApiBurst}). " +
                $"This request was not processed. Wait {seconds} {(seconds == 1 ? "second" : "seconds")} (Retry-After) and send it again.")
            .ExecuteAsync(context);
    }
}
