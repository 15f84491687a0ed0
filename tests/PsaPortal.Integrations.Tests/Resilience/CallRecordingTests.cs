using System.Text.Json;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Recording;
using PsaPortal.Integrations.Tests.Infrastructure;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.ConnectWise;

namespace PsaPortal.Integrations.Tests.Resilience;

public sealed class CallRecordingTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    public void Dispose() => host.ResetSettings();

    [Fact]
    public async Task Records_CallsAndFailuresOnBothVendors_ContainNoSecret()
    {
        // Arrange
        using var clients = new TestClients(host);
        var member = ConnectWiseApiMember.Seeded[0];
        var user = AutotaskApiUser.Seeded[0];
        var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{ConnectWiseSandbox.CompanyId}+{member.PublicKey}:{member.PrivateKey}"));

        // Act
        await clients.ConnectWise().GetSystemInfoAsync();
        await Assert.ThrowsAsync<PsaException>(() => clients.Factory.CreateConnectWise(clients.ConnectWiseConnection() with { PrivateKey = "WrongPrivate99" }).GetSystemInfoAsync());
        await clients.Autotask().CountAsync("Companies", null);
        await Assert.ThrowsAsync<PsaException>(() => clients.Factory.CreateAutotask(clients.AutotaskConnection(secret: "WrongSecret99")).CountAsync("Companies", null));

        // Assert
        var records = clients.Calls.Records;
        var text = JsonSerializer.Serialize(records);
        foreach (var secret in new[] { member.PrivateKey, basic, "WrongPrivate99", user.Secret, "WrongSecret99", AutotaskApiUser.SeededIntegrationCode, ConnectWiseSandbox.SeededClientId })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        Assert.Contains(records, r => r.RequestHeaders.TryGetValue("Authorization", out var value) && value == SecretRedactor.Mask);
        Assert.Contains(records, r => r.RequestHeaders.TryGetValue("Secret", out var value) && value == SecretRedactor.Mask);
        Assert.Contains(records, r => r.RequestHeaders.TryGetValue("ApiIntegrationCode", out var value) && value == SecretRedactor.Mask);
        Assert.Contains(records, r => r.StatusCode == 401);
        Assert.All(records, r => Assert.NotEmpty(r.CorrelationId));
    }

    [Fact]
    public void Url_KeyLikeQueryParameters_AreMasked()
    {
        // Act
        var url = SecretRedactor.Url(new Uri("https://user:pass@example.com/api?user=a%40b.example&apiKey=abc&Secret=s3&conditions=name%3D%22x%22"));

        // Assert
        Assert.Equal("https://example.com/api?user=a%40b.example&apiKey=***&Secret=***&conditions=name%3D%22x%22", url);
    }
}
