using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>
/// Five wrong passwords lock an account for 15 minutes, for every user however created; the sign-in page says an
/// account is locked but answers a wrong password for a known email exactly as for an unknown one.
/// </summary>
public sealed class LockoutTests : IAsyncLifetime
{
    private const string SalesEmail = "sales@msp.example";
    private const string SalesPassword = "Sales-Password-42";

    private SessionPortal _portal = null!;

    public async Task InitializeAsync()
    {
        _portal = await SessionPortal.StartAsync();
        await _portal.AddUserAsync(SalesEmail, PortalRoles.Sales, SalesPassword);
    }

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task FiveWrongPasswords_LockTheAccountForFifteenMinutes_EvenTheRightPasswordIsRefused()
    {
        var before = DateTimeOffset.UtcNow;
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var (wrong, page) = await _portal.Factory.NewBrowser().SignInAsync(SalesEmail, $"Wrong-Password-{attempt}");
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
            Assert.Equal(attempt < 5 ? LoginPage.InvalidCredentialsMessage : LoginPage.LockedOutMessage,
                page.QuerySelector("[data-testid=login-error]")?.TextContent.Trim());
        }

        var visitor = _portal.Factory.NewBrowser();
        var (right, locked) = await visitor.SignInAsync(SalesEmail, SalesPassword);
        var (dashboard, _) = await visitor.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal(LoginPage.LockedOutMessage, locked.QuerySelector("[data-testid=login-error]")?.TextContent.Trim());
        Assert.Equal(HttpStatusCode.Redirect, dashboard.StatusCode);
        var user = await UserAsync(SalesEmail);
        Assert.NotNull(user.LockoutEnd);
        Assert.InRange(user.LockoutEnd.Value, before.AddMinutes(15), DateTimeOffset.UtcNow.AddMinutes(15).AddSeconds(5));
        // Other accounts are not touched.
        await _portal.SignedInAsync();
    }

    [Fact]
    public async Task LockoutOver_TheRightPasswordSignsIn_AndTheCountStartsAgain()
    {
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            await _portal.Factory.NewBrowser().SignInAsync(SalesEmail, $"Wrong-Password-{attempt}");
        }

        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            await db.Users.Where(u => u.Email == SalesEmail).ExecuteUpdateAsync(u => u.SetProperty(x => x.LockoutEnd, DateTimeOffset.UtcNow.AddSeconds(-1)));
        }

        await _portal.SignedInAsync(SalesEmail, SalesPassword);
        var user = await UserAsync(SalesEmail);
        Assert.Equal(0, user.AccessFailedCount);
    }

    [Fact]
    public async Task WrongPasswordForKnownEmail_AnswersExactlyAsAnUnknownEmail()
    {
        var (known, knownPage) = await _portal.Factory.NewBrowser().SignInAsync(SalesEmail, "Wrong-Password-1");
        var (unknown, unknownPage) = await _portal.Factory.NewBrowser().SignInAsync("nobody@msp.example", "Wrong-Password-1");

        Assert.Equal(known.StatusCode, unknown.StatusCode);
        Assert.Equal(LoginPage.InvalidCredentialsMessage, knownPage.QuerySelector("[data-testid=login-error]")?.TextContent.Trim());
        Assert.Equal(LoginPage.InvalidCredentialsMessage, unknownPage.QuerySelector("[data-testid=login-error]")?.TextContent.Trim());
        Assert.Equal(Normalize(knownPage.Body!.TextContent), Normalize(unknownPage.Body!.TextContent));
        Assert.Equal(known.Headers.Select(h => h.Key).Order(), unknown.Headers.Select(h => h.Key).Order());
    }

    [Fact]
    public async Task UnknownEmail_TakesAsLongAsAKnownOne()
    {
        // Warm both paths once, then compare medians: an unknown email must pay for a password hash too.
        var timings = new Dictionary<string, List<double>> { [SalesEmail] = [], ["nobody@msp.example"] = [] };
        foreach (var round in Enumerable.Range(0, 4))
        {
            foreach (var email in timings.Keys)
            {
                var browser = _portal.Factory.NewBrowser();
                await browser.GetAsync("/account/login");
                var started = System.Diagnostics.Stopwatch.StartNew();
                await browser.SignInAsync(email, "Wrong-Password-" + round);
                if (round > 0)
                {
                    timings[email].Add(started.Elapsed.TotalMilliseconds);
                }
            }
        }

        var known = Median(timings[SalesEmail]);
        var unknown = Median(timings["nobody@msp.example"]);
        Assert.True(unknown > known * 0.5, $"An unknown email answered in {unknown:F0} ms, a known one in {known:F0} ms.");
    }

    [Fact]
    public async Task EveryUser_HasLockoutOn_AndStartUpSwitchesItOnForAnyRowWithout()
    {
        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            Assert.All(await db.Users.ToListAsync(), u => Assert.True(u.LockoutEnabled, $"{u.Email} has lockout off"));
            await db.Users.Where(u => u.Email == SalesEmail).ExecuteUpdateAsync(u => u.SetProperty(x => x.LockoutEnabled, false));
        }

        foreach (var seeder in _portal.Factory.Services.GetServices<IDatabaseSeeder>().OfType<LockoutSeeder>())
        {
            await seeder.SeedAsync(CancellationToken.None);
        }

        Assert.True((await UserAsync(SalesEmail)).LockoutEnabled);
        var options = _portal.Factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<IdentityOptions>>().Value.Lockout;
        Assert.Equal(5, options.MaxFailedAccessAttempts);
        Assert.Equal(TimeSpan.FromMinutes(15), options.DefaultLockoutTimeSpan);
        Assert.True(options.AllowedForNewUsers);
    }

    private async Task<PortalUser> UserAsync(string email)
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        return await db.Users.SingleAsync(u => u.Email == email);
    }

    private static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
