using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;

namespace PsaPortal.Web.IntegrationTests.Api;

/// <summary>Creating, listing and revoking API keys: Admins only, the token shown once and stored only as a hash, audited.</summary>
public sealed class ApiKeyServiceTests : IAsyncLifetime
{
    private PortalFactory _factory = null!;
    private Guid _organizationId;

    private ApiKeyService Keys => _factory.Services.GetRequiredService<ApiKeyService>();

    public async Task InitializeAsync()
    {
        _factory = new PortalFactory(new PortalDatabase.Sqlite());
        _organizationId = await _factory.AddOrganizationAsync("Northwind MSP");
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Create_Admin_ReturnsTokenOnceAndStoresOnlyItsHash()
    {
        var created = await Keys.CreateAsync(Admin, "  Billing sync  ");

        Assert.True(created.Succeeded, created.Message);
        Assert.Matches("^psak_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$", created.Token!);
        await using var db = await _factory.CreateDbContextAsync();
        var stored = await db.ApiKeys.SingleAsync();
        Assert.Equal("Billing sync", stored.Name);
        Assert.Equal(created.Token![5..17], stored.Prefix);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(created.Token)), stored.Hash);
        Assert.Equal("admin@msp.example", stored.CreatedBy);
        var row = (await Keys.ListAsync(Admin)).Single();
        Assert.Equal("psak_" + stored.Prefix, row.Prefix);
        Assert.DoesNotContain(created.Token, row.ToString());
    }

    [Theory]
    [InlineData(PortalRoles.FullMember)]
    [InlineData(PortalRoles.Sales)]
    public async Task CreateListRevoke_NotAdmin_AreRefused(string role)
    {
        var token = (await Keys.CreateAsync(Admin, "Existing")).Token!;
        var key = (await Keys.ListAsync(Admin)).Single();
        var user = ApiPortal.User(_organizationId, role, "someone@msp.example");

        var created = await Keys.CreateAsync(user, "Mine");
        var listed = await Keys.ListAsync(user);
        var revoked = await Keys.RevokeAsync(user, key.Id);

        Assert.False(created.Succeeded);
        Assert.Null(created.Token);
        Assert.Equal(ApiKeyService.AdminsOnly, created.Message);
        Assert.Empty(listed);
        Assert.Equal(ApiKeyService.AdminsOnly, revoked.Message);
        Assert.Equal(ApiKeyCheck.Valid, (await Keys.CheckAsync(token)).Check);
        await using var db = await _factory.CreateDbContextAsync();
        Assert.Equal(1, await db.ApiKeys.CountAsync());
    }

    [Theory]
    [InlineData("", "Name is required.")]
    [InlineData("<script>", "Name cannot contain control characters, < or >.")]
    [InlineData("tab\there", "Name cannot contain control characters, < or >.")]
    public async Task Create_BadName_SaysWhyAndStoresNothing(string name, string expected)
    {
        var created = await Keys.CreateAsync(Admin, name);

        Assert.Equal(expected, created.Message);
        await using var db = await _factory.CreateDbContextAsync();
        Assert.False(await db.ApiKeys.AnyAsync());
    }

    [Fact]
    public async Task Create_NameOfALiveKey_IsRefused()
    {
        await Keys.CreateAsync(Admin, "Billing sync");

        var second = await Keys.CreateAsync(Admin, "Billing sync");

        Assert.False(second.Succeeded);
        Assert.Contains("already exists", second.Message);
    }

    [Fact]
    public async Task Revoke_OtherOrganizationsKey_IsNotFound()
    {
        var contoso = await _factory.AddOrganizationAsync("Contoso IT");
        var contosoAdmin = ApiPortal.User(contoso, PortalRoles.Admin);
        var token = (await Keys.CreateAsync(contosoAdmin, "Contoso key")).Token!;
        var key = (await Keys.ListAsync(contosoAdmin)).Single();

        var revoked = await Keys.RevokeAsync(Admin, key.Id);

        Assert.False(revoked.Succeeded);
        Assert.Equal("That API key does not exist in your organization.", revoked.Message);
        Assert.Empty(await Keys.ListAsync(Admin));
        Assert.Equal(ApiKeyCheck.Valid, (await Keys.CheckAsync(token)).Check);
    }

    [Fact]
    public async Task CreateAndRevoke_AreAuditedWithoutTheToken()
    {
        var token = (await Keys.CreateAsync(Admin, "Billing sync")).Token!;
        var key = (await Keys.ListAsync(Admin)).Single();

        var revoked = await Keys.RevokeAsync(Admin, key.Id);
        var again = await Keys.RevokeAsync(Admin, key.Id);

        Assert.True(revoked.Succeeded);
        Assert.False(again.Succeeded);
        var trail = await _factory.Services.GetRequiredService<AuditLog>().QueryOrganizationAsync(_organizationId, 0, 10);
        Assert.Equal(["API key revoked", "API key created"], trail.Items.Select(e => e.Action));
        Assert.All(trail.Items, e => Assert.Equal("Billing sync", e.Subject));
        Assert.All(trail.Items, e => Assert.DoesNotContain(token[17..], e.Details ?? ""));
        Assert.Equal(ApiKeyCheck.Revoked, (await Keys.CheckAsync(token)).Check);
        Assert.NotNull((await Keys.ListAsync(Admin)).Single().RevokedAt);
    }

    [Fact]
    public async Task Check_WhileAnotherWriterHoldsTheDatabase_AcceptsTheKey_AndNotesItsUseOnTheNextRequest()
    {
        var token = (await Keys.CreateAsync(Admin, "Busy")).Token!;
        await using (var holder = await _factory.CreateDbContextAsync())
        {
            await using var transaction = await holder.Database.BeginTransactionAsync();
            var watch = System.Diagnostics.Stopwatch.StartNew();

            var (check, identity) = await Keys.CheckAsync(token);

            // Before: the LastUsedAt write slept in SQLite's busy retry and then failed the request with a 500.
            Assert.Equal(ApiKeyCheck.Valid, check);
            Assert.Equal("Busy", identity!.Name);
            Assert.InRange(watch.Elapsed, ApiKeyService.LastUsedWait * 0.9, ApiKeyService.LastUsedWait * 5);
            await transaction.RollbackAsync();
        }

        Assert.Null((await Keys.ListAsync(Admin)).Single().LastUsedAt);
        Assert.Equal(ApiKeyCheck.Valid, (await Keys.CheckAsync(token)).Check);
        Assert.NotNull((await Keys.ListAsync(Admin)).Single().LastUsedAt);
    }

    private System.Security.Claims.ClaimsPrincipal Admin => ApiPortal.User(_organizationId, PortalRoles.Admin);
}
