using System.Net;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>
/// Failure notification settings at the service the panel calls and on the rendered settings page, on each database
/// (<see cref="SqliteNotificationSettingsTests"/>, <see cref="PostgreSqlNotificationSettingsTests"/>).
/// </summary>
public abstract class NotificationSettingsTests : IAsyncLifetime
{
    private const string AdminEmail = "owner@msp.example";
    private const string AdminPassword = "Correct-Horse-42";

    private PortalFactory _factory = null!;
    private Guid _organizationId;
    private Guid _integrationId;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    private BillingNotificationService Settings => _factory.Services.GetRequiredService<BillingNotificationService>();

    public async Task InitializeAsync()
    {
        _factory = new PortalFactory(await CreateDatabaseAsync());
        _organizationId = await _factory.AddOrganizationAsync("Northwind MSP");
        _integrationId = await AddIntegrationAsync(_organizationId);
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Theory]
    [InlineData("finance@msp.example, not-an-address", "\"not-an-address\" is not an e-mail address. Separate addresses with commas, e.g. finance@msp.example, ops@msp.example.")]
    [InlineData("Finance <finance@msp.example>", "\"Finance <finance@msp.example>\" is not an e-mail address. Separate addresses with commas, e.g. finance@msp.example, ops@msp.example.")]
    [InlineData("ops@localhost", "\"ops@localhost\" is not an e-mail address. Separate addresses with commas, e.g. finance@msp.example, ops@msp.example.")]
    [InlineData("finance@msp.example ops@msp.example", "\"finance@msp.example ops@msp.example\" is not an e-mail address. Separate addresses with commas, e.g. finance@msp.example, ops@msp.example.")]
    public async Task Save_BadEmailAddress_NamesItAndStoresNothing(string recipients, string expected)
    {
        var result = await Settings.SaveAsync(Admin(), PsaVendor.ConnectWise, new BillingNotificationInput { EmailRecipients = recipients });

        Assert.Equal((false, expected), (result.Succeeded, result.Message));
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData("http://hooks.msp.example/psaportal", BillingNotificationRules.UrlNotHttps)]
    [InlineData("https://10.1.2.3/hook", BillingNotificationRules.UrlPrivate)]
    [InlineData("https://[fe80::1]/hook", BillingNotificationRules.UrlPrivate)]
    [InlineData("https://169.254.169.254/latest/meta-data", BillingNotificationRules.UrlPrivate)]
    [InlineData("https://automation.corp/hook", BillingNotificationRules.UrlNotPublicName)]
    [InlineData("https://intranet/hook", BillingNotificationRules.UrlNotPublicName)]
    [InlineData("https://user:pass@hooks.msp.example/hook", BillingNotificationRules.UrlHasCredentials)]
    [InlineData("ftp://hooks.msp.example/hook", BillingNotificationRules.UrlNotAbsolute)]
    [InlineData("hooks.msp.example/hook", BillingNotificationRules.UrlNotAbsolute)]
    public async Task Save_WebhookUrlOutsideThePolicy_RefusedWithItsExactMessage(string url, string expected)
    {
        var result = await Settings.SaveAsync(Admin(), PsaVendor.ConnectWise, new BillingNotificationInput { WebhookUrl = url });

        Assert.Equal((false, expected), (result.Succeeded, result.Message));
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData("https://hooks.msp.example/psaportal?channel=billing")]
    [InlineData("http://127.0.0.1:9000/hook")]
    [InlineData("http://localhost:9000/hook")]
    [InlineData("http://[::1]:9000/hook")]
    public async Task Save_HttpsOrLoopbackWebhookUrl_Accepted(string url)
    {
        var result = await Settings.SaveAsync(Admin(), PsaVendor.ConnectWise, new BillingNotificationInput { WebhookUrl = url });

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(url, (await StoredAsync())!.WebhookUrl);
    }

    [Fact]
    public async Task Save_HugeInput_RefusedWithTheLimitAndStoresNothing()
    {
        var manyAddresses = string.Join(", ", Enumerable.Range(1, 21).Select(n => $"p{n}@msp.example"));
        var cases = new (BillingNotificationInput Input, string Expected)[]
        {
            (new() { EmailRecipients = new string('a', 1_000_000) + "@msp.example" }, BillingNotificationRules.RecipientsTooLong),
            (new() { EmailRecipients = manyAddresses }, BillingNotificationRules.TooManyRecipients),
            (new() { WebhookUrl = "https://hooks.msp.example/" + new string('x', 5_000) }, BillingNotificationRules.UrlTooLong),
            (new() { WebhookUrl = "https://hooks.msp.example/h", Secret = WebhookSecretChange.Enter, EnteredSecret = new string('s', 10_000) }, BillingNotificationRules.SecretLength),
            (new() { WebhookUrl = "https://hooks.msp.example/h", Secret = WebhookSecretChange.Enter, EnteredSecret = "short" }, BillingNotificationRules.SecretLength),
            (new() { WebhookUrl = "https://hooks.msp.example/h", Secret = WebhookSecretChange.Enter, EnteredSecret = "with spaces in the secret" }, BillingNotificationRules.SecretCharacters),
            (new() { Secret = WebhookSecretChange.Enter, EnteredSecret = "a-perfectly-good-secret-1234" }, BillingNotificationService.SecretNeedsWebhook),
        };

        foreach (var (input, expected) in cases)
        {
            var result = await Settings.SaveAsync(Admin(), PsaVendor.ConnectWise, input);
            Assert.Equal((false, expected), (result.Succeeded, result.Message));
        }

        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Save_NewWebhook_GeneratesASecretShownOnceStoredProtectedAndRotatedOnRequest()
    {
        var created = await Settings.SaveAsync(Operator(), PsaVendor.ConnectWise, new BillingNotificationInput
        {
            EmailRecipients = "finance@msp.example;  ops@msp.example, FINANCE@msp.example", WebhookUrl = "https://hooks.msp.example/t/SECRET-PATH-TOKEN",
        });

        Assert.True(created.Succeeded, created.Message);
        Assert.Equal("Failure notifications saved. A new webhook signing secret was generated: copy it into your receiver now, it is shown only this once.", created.Message);
        var secret = created.RevealedSecret!;
        Assert.Matches("^whsec_[0-9a-f]{64}$", secret);
        var stored = (await StoredAsync())!;
        Assert.Equal("finance@msp.example, ops@msp.example", stored.EmailRecipients);
        Assert.Equal("operator@northwind.example", stored.UpdatedBy);
        Assert.NotNull(stored.ProtectedWebhookSecret);
        Assert.DoesNotContain(secret, stored.ProtectedWebhookSecret);
        Assert.DoesNotContain(secret[6..], stored.ProtectedWebhookSecret);
        Assert.Equal(secret, _factory.Services.GetRequiredService<IntegrationSecrets>().Unprotect(stored.ProtectedWebhookSecret!));
        AssertNotInDatabaseFile(secret);

        var view = (await Settings.GetAsync(Admin(), PsaVendor.ConnectWise))!;
        Assert.True(view.HasWebhookSecret);
        Assert.DoesNotContain(secret, System.Text.Json.JsonSerializer.Serialize(view));

        var kept = await Settings.SaveAsync(Admin(), PsaVendor.ConnectWise, new BillingNotificationInput
        {
            EmailRecipients = "finance@msp.example", WebhookUrl = "https://hooks.msp.example/t/SECRET-PATH-TOKEN",
        });
        Assert.Equal(("Failure notifications saved.", (string?)null), (kept.Message, kept.RevealedSecret));
        Assert.Equal(stored.ProtectedWebhookSecret, (await StoredAsync())!.ProtectedWebhookSecret);

        var unchanged = await Settings.SaveAsync(Admin(), PsaVendor.ConnectWise, new BillingNotificationInput
        {
            EmailRecipients = "finance@msp.example", WebhookUrl = "https://hooks.msp.example/t/SECRET-PATH-TOKEN",
        });
        Assert.Equal("Nothing changed.", unchanged.Message);

        var rotated = await Settings.SaveAsync(Admin(), PsaVendor.ConnectWise, new BillingNotificationInput
        {
            EmailRecipients = "finance@msp.example", WebhookUrl = "https://hooks.msp.example/t/SECRET-PATH-TOKEN", Secret = WebhookSecretChange.Generate,
        });
        Assert.NotNull(rotated.RevealedSecret);
        Assert.NotEqual(secret, rotated.RevealedSecret);

        var removed = await Settings.SaveAsync(Admin(), PsaVendor.ConnectWise, new BillingNotificationInput { EmailRecipients = "finance@msp.example" });
        Assert.True(removed.Succeeded, removed.Message);
        Assert.Null((await StoredAsync())!.ProtectedWebhookSecret);

        var audit = (await _factory.Services.GetRequiredService<AuditLog>().QueryOrganizationAsync(_organizationId, 0, 50)).Items
            .Where(e => e.Action == "Billing notifications changed").OrderBy(e => e.Id).ToList();
        Assert.Equal(
            [
                "E-mail: finance@msp.example, ops@msp.example; webhook: https://hooks.msp.example (secret generated)",
                "E-mail: finance@msp.example; webhook: https://hooks.msp.example",
                "E-mail: finance@msp.example; webhook: https://hooks.msp.example (secret replaced with a generated one)",
                "E-mail: finance@msp.example; webhook: none (secret removed)",
            ],
            audit.Select(e => e.Details));
        Assert.Equal(["operator@northwind.example", "admin@northwind.example", "admin@northwind.example", "admin@northwind.example"], audit.Select(e => e.ActorName));
        Assert.All(audit, e => Assert.DoesNotContain("SECRET-PATH-TOKEN", e.Details));
        Assert.All(audit, e => Assert.DoesNotContain("whsec_", e.Details));
    }

    [Fact]
    public async Task Sales_ReadsButCannotChange()
    {
        await Settings.SaveAsync(Admin(), PsaVendor.ConnectWise, new BillingNotificationInput { EmailRecipients = "finance@msp.example" });

        var view = await Settings.GetAsync(Sales(), PsaVendor.ConnectWise);
        var refused = await Settings.SaveAsync(Sales(), PsaVendor.ConnectWise, new BillingNotificationInput { EmailRecipients = "sales@msp.example" });

        Assert.Equal(("finance@msp.example", false), (view!.EmailRecipients, view.CanEdit));
        Assert.Equal((false, BillingNotificationService.EditorsOnly), (refused.Succeeded, refused.Message));
        Assert.Equal("finance@msp.example", (await StoredAsync())!.EmailRecipients);
    }

    [Fact]
    public async Task AnotherOrganization_DoesNotSeeOrChangeTheSettings()
    {
        await Settings.SaveAsync(Admin(), PsaVendor.ConnectWise, new BillingNotificationInput { EmailRecipients = "finance@msp.example" });
        var other = await _factory.AddOrganizationAsync("Contoso MSP");
        var stranger = UserIn(PortalRoles.Admin, "admin@contoso.example", other);

        var view = await Settings.GetAsync(stranger, PsaVendor.ConnectWise);
        var save = await Settings.SaveAsync(stranger, PsaVendor.ConnectWise, new BillingNotificationInput { EmailRecipients = "evil@contoso.example" });

        Assert.Null(view);
        Assert.Equal((false, "ConnectWise is not linked."), (save.Succeeded, save.Message));
        Assert.Equal("finance@msp.example", (await StoredAsync())!.EmailRecipients);
    }

    [Fact]
    public async Task SettingsPage_StoredSecret_IsMaskedAndNeverRenderedBack()
    {
        var browser = _factory.NewBrowser();
        await browser.SetUpAsync("Contoso MSP", AdminEmail, AdminPassword);
        var organizationId = await _factory.OrganizationIdAsync("Contoso MSP");
        await AddIntegrationAsync(organizationId);
        var saved = await Settings.SaveAsync(UserIn(PortalRoles.Admin, AdminEmail, organizationId), PsaVendor.ConnectWise, new BillingNotificationInput
        {
            EmailRecipients = "finance@msp.example", WebhookUrl = "https://hooks.msp.example/psaportal",
        });
        await using var db = await _factory.CreateDbContextAsync();
        var protectedSecret = await db.BillingNotificationSettings.Where(s => db.Integrations.Any(i => i.Id == s.IntegrationId && i.OrganizationId == organizationId))
            .Select(s => s.ProtectedWebhookSecret).SingleAsync();

        var (response, document) = await browser.GetAsync("/integrations/connectwise");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var panel = document.QuerySelector("[data-testid=billing-notifications]");
        Assert.NotNull(panel);
        Assert.Equal("finance@msp.example", document.QuerySelector("[data-testid=notification-recipients]")?.GetAttribute("value"));
        Assert.Equal("https://hooks.msp.example/psaportal", document.QuerySelector("[data-testid=notification-webhook-url]")?.GetAttribute("value"));
        Assert.Contains("A webhook signing secret is stored and cannot be shown.", panel.TextContent);
        Assert.True(string.IsNullOrEmpty(document.QuerySelector("[data-testid=notification-webhook-secret]")?.GetAttribute("value")));
        Assert.Null(document.QuerySelector("[data-testid=webhook-secret]"));
        Assert.NotNull(document.QuerySelector("[data-testid=email-off]"));
        var html = document.DocumentElement.OuterHtml;
        Assert.DoesNotContain(saved.RevealedSecret!, html);
        Assert.DoesNotContain(saved.RevealedSecret![6..], html);
        Assert.DoesNotContain(protectedSecret!, html);
    }

    // ---------------------------------------------------------------- helpers

    private ClaimsPrincipal Admin() => UserIn(PortalRoles.Admin, "admin@northwind.example");

    private ClaimsPrincipal Operator() => UserIn(PortalRoles.FullMember, "operator@northwind.example");

    private ClaimsPrincipal Sales() => UserIn(PortalRoles.Sales, "sales@northwind.example");

    private ClaimsPrincipal UserIn(string role, string name, Guid? organizationId = null) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, name),
            new Claim(ClaimTypes.Name, name),
            new Claim(ClaimTypes.Role, role),
            new Claim(PortalClaims.OrganizationId, (organizationId ?? _organizationId).ToString()),
        ],
        "Test"));

    private async Task<Guid> AddIntegrationAsync(Guid organizationId)
    {
        await using var db = await _factory.CreateDbContextAsync();
        var integration = new Integration { OrganizationId = organizationId, Vendor = PsaVendor.ConnectWise, Status = IntegrationStatus.Connected, UpdatedAt = DateTimeOffset.UtcNow };
        db.Integrations.Add(integration);
        await db.SaveChangesAsync();
        return integration.Id;
    }

    private async Task<BillingNotificationSettings?> StoredAsync()
    {
        await using var db = await _factory.CreateDbContextAsync();
        return await db.BillingNotificationSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == _integrationId);
    }

    private async Task AssertNothingStoredAsync()
    {
        await using var db = await _factory.CreateDbContextAsync();
        Assert.False(await db.BillingNotificationSettings.AnyAsync());
        Assert.False(await db.AuditEntries.AnyAsync(e => e.Action == "Billing notifications changed"));
    }

    /// <summary>On SQLite, the secret's bytes appear nowhere in the database file (nor its journal).</summary>
    private void AssertNotInDatabaseFile(string secret) =>
        Assert.DoesNotContain(_factory.ReadDatabaseFiles(), file => file.Holds(secret));
}

public sealed class SqliteNotificationSettingsTests : NotificationSettingsTests
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlNotificationSettingsTests(PostgreSqlFixture postgres) : NotificationSettingsTests
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() =>
        new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
