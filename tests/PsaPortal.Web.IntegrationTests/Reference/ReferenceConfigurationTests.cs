using Microsoft.Extensions.Options;
using PsaPortal.Testing;

namespace PsaPortal.Web.IntegrationTests.Reference;

/// <summary>A setting the reference sync cannot work with stops the portal at start with a message that says how to fix it.</summary>
public sealed class ReferenceConfigurationTests
{
    [Theory]
    [InlineData("Reference:SyncInterval", "00:00:30", "Reference:SyncInterval must be at least 00:01:00 (one minute), e.g. 06:00:00 for every six hours.")]
    [InlineData("Reference:SyncInterval", "-06:00:00", "Reference:SyncInterval must be at least 00:01:00 (one minute), e.g. 06:00:00 for every six hours.")]
    [InlineData("Psa:ConnectWiseRequestsPerMinute", "0", "Psa:ConnectWiseRequestsPerMinute must be at least 1.")]
    public async Task Start_SettingOutOfRange_RefusedWithTheSettingsName(string key, string value, string expected)
    {
        await using var factory = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?> { [key] = value });

        var refused = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains(expected, refused.Failures);
    }
}
