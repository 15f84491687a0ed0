using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Infrastructure;
using PsaPortal.Web.IntegrationTests.Api;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>
/// The framework's rate limiter on sign-in (per client address and per email) and on the ingest API (per
/// organization): past the limit a 429 with Retry-After, the sign-in page saying how long to wait without checking the
/// password, the API a problem details body; limits from configuration.
/// </summary>
public sealed class RateLimitTests
{
    private static readonly IPAddress First = IPAddress.Parse("203.0.113.10");
    private static readonly IPAddress Second = IPAddress.Parse("203.0.113.20");

    [Fact]
    public async Task SignIn_PastTheLimitForOneAddress_Answers429AndTheRightPasswordDoesNotSignIn()
    {
        await using var portal = await SessionPortal.StartAsync(SignInLimits(perAddress: 3, perAccount: 100));

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var allowed = await portal.PostSignInAsync(First, $"someone{attempt}@msp.example", "Wrong-Password-1");
            Assert.Equal(200, allowed.Status);
            Assert.Equal(LoginPage.InvalidCredentialsMessage, allowed.Error);
        }

        var refused = await portal.PostSignInAsync(First, SessionPortal.AdminEmail, SessionPortal.AdminPassword);
        var otherAddress = await portal.PostSignInAsync(Second, SessionPortal.AdminEmail, SessionPortal.AdminPassword);

        Assert.Equal(429, refused.Status);
        Assert.False(refused.SignedIn);
        Assert.True(int.TryParse(refused.RetryAfter, out var seconds) && seconds is >= 1 and <= 60, $"Retry-After: {refused.RetryAfter}");
        Assert.Equal(string.Format(LoginPage.TooManyAttemptsMessage, seconds == 1 ? "1 second" : $"{seconds} seconds"), refused.Error);
        // The form is still there to try again later.
        Assert.NotNull(refused.Document.QuerySelector("[data-testid=sign-in]"));
        Assert.True(otherAddress.SignedIn, $"Another address was refused too: {otherAddress.Status} {otherAddress.Error}");
    }

    [Fact]
    public async Task SignIn_PastTheLimitForOneEmail_RefusesItFromAnyAddress_OtherEmailsStillAnswered()
    {
        await using var portal = await SessionPortal.StartAsync(SignInLimits(perAddress: 100, perAccount: 2));

        await portal.PostSignInAsync(First, SessionPortal.AdminEmail, "Wrong-Password-1");
        await portal.PostSignInAsync(Second, " OWNER@msp.example ", "Wrong-Password-2");
        var refused = await portal.PostSignInAsync(IPAddress.Parse("198.51.100.7"), SessionPortal.AdminEmail, SessionPortal.AdminPassword);
        var otherEmail = await portal.PostSignInAsync(First, "someone@msp.example", "Wrong-Password-3");

        Assert.Equal(429, refused.Status);
        Assert.False(refused.SignedIn);
        Assert.StartsWith("Too many sign-in attempts.", refused.Error);
        Assert.Equal(200, otherEmail.Status);
        Assert.Equal(LoginPage.InvalidCredentialsMessage, otherEmail.Error);
        // The refused attempt never reached the password check: two failures counted, not three.
        await using var db = await portal.Factory.CreateDbContextAsync();
        Assert.Equal(2, db.Users.Single(u => u.Email == SessionPortal.AdminEmail).AccessFailedCount);
    }

    [Fact]
    public async Task SignIn_AfterTheWindow_IsAllowedAgain_AndPageLoadsAreNeverLimited()
    {
        await using var portal = await SessionPortal.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimiting:SignInPerAddress"] = "1", ["RateLimiting:SignInWindow"] = "00:00:20",
        });

        await portal.PostSignInAsync(First, "someone@msp.example", "Wrong-Password-1");
        var refused = await portal.PostSignInAsync(First, SessionPortal.AdminEmail, SessionPortal.AdminPassword);
        Assert.True(refused.Status == 429, $"The second attempt in the window answered {refused.Status}: {refused.Error}");
        var browser = portal.Factory.NewBrowser();
        for (var load = 0; load < 5; load++)
        {
            var (page, _) = await browser.GetAsync("/account/login");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        await Task.Delay(TimeSpan.FromSeconds(int.Parse(refused.RetryAfter!) + 0.5));
        var later = await portal.PostSignInAsync(First, SessionPortal.AdminEmail, SessionPortal.AdminPassword);

        Assert.True(later.SignedIn, $"After the window: {later.Status} {later.Error}");
    }

    [Fact]
    public async Task Api_PastTheOrganizationsBudget_Answers429ProblemWithRetryAfter_WritesNothing_OtherOrganizationsUnaffected()
    {
        await using var factory = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?>
        {
            ["RateLimiting:ApiRequestsPerSecond"] = "1", ["RateLimiting:ApiBurst"] = "3",
        });
        var organizationId = await factory.AddOrganizationAsync("Northwind MSP");
        using var firstKey = await ApiClientAsync(factory, organizationId, "Platform sync");
        using var secondKey = await ApiClientAsync(factory, organizationId, "Second key");
        using var otherOrganization = await ApiClientAsync(factory, await factory.AddOrganizationAsync("Contoso MSP"), "Contoso");

        // All at once, so the budget cannot refill in between: 3 get through (4 if a second passes), the rest are refused.
        var answers = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => firstKey.PutJsonAsync($"/api/v1/tenants/t-{i}", new { name = $"Tenant {i}" })));
        var secondKeyAnswers = await Task.WhenAll(Enumerable.Range(1, 3).Select(_ => secondKey.GetAsync("/api/v1/tenants")));
        var other = await otherOrganization.GetAsync("/api/v1/tenants");

        var written = answers.Count(a => a.StatusCode == HttpStatusCode.Created);
        Assert.InRange(written, 3, 4);
        Assert.Equal(8 - written, answers.Count(a => a.StatusCode == HttpStatusCode.TooManyRequests));
        var refused = answers.First(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        var problem = await refused.ProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal(PortalRateLimiting.ApiTitle, problem.GetProperty("title").GetString());
        var retryAfter = refused.Headers.RetryAfter?.Delta?.TotalSeconds;
        Assert.True(retryAfter is >= 1 and <= 8, $"Retry-After: {refused.Headers.RetryAfter}");
        Assert.Equal($"This organization sent more than 1 requests a second (bursts up to 3). This request was not processed. Wait {retryAfter} {(retryAfter == 1 ? "second" : "seconds")} (Retry-After) and send it again.",
            problem.GetProperty("detail").GetString());
        Assert.Contains(secondKeyAnswers, a => a.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        await using var db = await factory.CreateDbContextAsync();
        Assert.Equal(written, db.Tenants.Count());
    }

    [Fact]
    public async Task Api_WithoutAKey_Is401BeforeAnyBudgetIsSpent()
    {
        await using var factory = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?>
        {
            ["RateLimiting:ApiRequestsPerSecond"] = "1", ["RateLimiting:ApiBurst"] = "1",
        });
        using var client = await ApiClientAsync(factory, await factory.AddOrganizationAsync("Northwind MSP"), "Platform sync");
        using var anonymous = factory.CreateClient();

        for (var request = 0; request < 5; request++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/tenants")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/tenants")).StatusCode);
    }

    [Fact]
    public async Task Defaults_LeaveRoomForTheIngestBenchmarkAndTheLoadHarness()
    {
        await using var portal = await SessionPortal.StartAsync(setUp: false);

        var limits = portal.Factory.Services.GetRequiredService<IOptions<PortalRateLimitOptions>>().Value;

        // bench ingest: 30 batches of 1,000 items; issue #10's load: 100 API requests a second; people behind one NAT.
        Assert.Equal(200, limits.ApiRequestsPerSecond);
        Assert.Equal(400, limits.ApiBurst);
        Assert.Equal(30, limits.SignInPerAddress);
        Assert.Equal(10, limits.SignInPerAccount);
        Assert.Equal(TimeSpan.FromMinutes(1), limits.SignInWindow);
    }

    [Theory]
    [InlineData("RateLimiting:SignInPerAddress", "0", "RateLimiting:SignInPerAddress must be at least 1.")]
    [InlineData("RateLimiting:ApiBurst", "10", "RateLimiting:ApiBurst must be at least RateLimiting:ApiRequestsPerSecond.")]
    [InlineData("RateLimiting:SignInWindow", "00:00:00", "RateLimiting:SignInWindow must be at least one second (e.g. 00:01:00).")]
    public async Task BadLimit_ThePortalRefusesToStartSayingWhich(string key, string value, string message)
    {
        await using var factory = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?> { [key] = value });

        var refused = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains(message, refused.ToString());
    }

    private static async Task<HttpClient> ApiClientAsync(PortalFactory factory, Guid organizationId, string keyName)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await ApiPortal.CreateKeyAsync(factory, organizationId, keyName));
        return client;
    }

    private static Dictionary<string, string?> SignInLimits(int perAddress, int perAccount) => new()
    {
        ["RateLimiting:SignInPerAddress"] = perAddress.ToString(), ["RateLimiting:SignInPerAccount"] = perAccount.ToString(),
    };
}
