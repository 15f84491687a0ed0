using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Permissions;
using PsaPortal.Integrations.Tests.Infrastructure;

namespace PsaPortal.Integrations.Tests.Permissions;

/// <summary>Against each seeded sandbox user, the catalog names exactly the missing permissions and nothing else.</summary>
public sealed class PermissionCatalogTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly TestClients _clients = new(host);

    public void Dispose() => _clients.Dispose();

    [Theory]
    [InlineData("PsaPortalFull")]
    [InlineData("PsaPortalNoPrio", "ConnectWise API user does not have permission to access Service > Priority.")]
    [InlineData("PsaPortalNoAgrEd",
        "ConnectWise API user does not have permission to add to Finance > Agreements.",
        "ConnectWise API user does not have permission to edit Finance > Agreements.")]
    [InlineData("PsaPortalReadOnly",
        "ConnectWise API user does not have permission to add to Service > Service Tickets.",
        "ConnectWise API user does not have permission to edit Service > Service Tickets.",
        "ConnectWise API user does not have permission to add to Finance > Agreements.",
        "ConnectWise API user does not have permission to edit Finance > Agreements.",
        "ConnectWise API user does not have permission to add to Procurement > Product Catalog.",
        "ConnectWise API user does not have permission to add to System > Documents.")]
    [InlineData("PsaPortalTicketing",
        "ConnectWise API user does not have permission to access Finance > Agreements.",
        "ConnectWise API user does not have permission to add to Finance > Agreements.",
        "ConnectWise API user does not have permission to edit Finance > Agreements.",
        "ConnectWise API user does not have permission to access Procurement > Product Catalog.",
        "ConnectWise API user does not have permission to add to Procurement > Product Catalog.")]
    public async Task RunAsync_ConnectWiseMember_FailsExactlyTheMissingPermissions(string member, params string[] expected)
    {
        // Arrange
        var catalog = new ConnectWisePermissionCatalog(_clients.ConnectWise(TestClients.CwMember(member)));

        // Act
        var results = await catalog.RunAsync().ToListAsync();

        // Assert
        Assert.Equal(catalog.Checks, results.Select(r => r.Check));
        Assert.DoesNotContain(results, r => r.Outcome == PermissionOutcome.CouldNotCheck);
        Assert.Equal(expected, results.Where(r => r.Outcome == PermissionOutcome.Failed).Select(r => r.Message));
    }

    [Theory]
    [InlineData("full")]
    [InlineData("nocontracts",
        "Autotask API user does not have permission to query Contracts.",
        "Autotask API user does not have permission to query ContractServices.",
        "Autotask API user does not have permission to query ContractServiceUnits.",
        "Autotask API user does not have permission to create ContractServiceAdjustments.")]
    [InlineData("noadjust", "Autotask API user does not have permission to create ContractServiceAdjustments.")]
    [InlineData("readonly",
        "Autotask API user does not have permission to create Tickets.",
        "Autotask API user does not have permission to update Tickets.",
        "Autotask API user does not have permission to create ContractServiceAdjustments.")]
    [InlineData("noticket",
        "Autotask API user does not have permission to query Tickets.",
        "Autotask API user does not have permission to create Tickets.",
        "Autotask API user does not have permission to update Tickets.")]
    public async Task RunAsync_AutotaskUser_FailsExactlyTheMissingPermissions(string user, params string[] expected)
    {
        // Arrange
        var catalog = new AutotaskPermissionCatalog(_clients.Autotask(TestClients.AtUser(user)));

        // Act
        var results = await catalog.RunAsync().ToListAsync();

        // Assert
        Assert.Equal(catalog.Checks, results.Select(r => r.Check));
        Assert.DoesNotContain(results, r => r.Outcome == PermissionOutcome.CouldNotCheck);
        Assert.Equal(expected, results.Where(r => r.Outcome == PermissionOutcome.Failed).Select(r => r.Message));
    }

    [Fact]
    public async Task RunAsync_WrongKeys_FailsConnectionAndSaysWhyTheRestWasNotChecked()
    {
        // Arrange
        var api = _clients.Factory.CreateConnectWise(_clients.ConnectWiseConnection() with { PrivateKey = "wrong" });
        var catalog = new ConnectWisePermissionCatalog(api);

        // Act
        var results = await catalog.RunAsync().ToListAsync();

        // Assert
        Assert.Equal(PermissionOutcome.Failed, results[0].Outcome);
        Assert.StartsWith("ConnectWise rejected the API keys", results[0].Message, StringComparison.Ordinal);
        Assert.All(results.Skip(1), r => Assert.Equal(PermissionOutcome.CouldNotCheck, r.Outcome));
        Assert.Equal(catalog.Checks.Count, results.Count);
    }

    [Fact]
    public async Task RunAsync_BothVendors_OnlyReads()
    {
        // Act
        await new ConnectWisePermissionCatalog(_clients.ConnectWise()).RunAsync().ToListAsync();
        await new AutotaskPermissionCatalog(_clients.Autotask()).RunAsync().ToListAsync();

        // Assert
        Assert.All(_clients.Traffic.Exchanges, e => Assert.True(e.Method == HttpMethod.Get || e.RequestUri.AbsolutePath.EndsWith("/query/count", StringComparison.Ordinal), e.ToString()));
    }
}
