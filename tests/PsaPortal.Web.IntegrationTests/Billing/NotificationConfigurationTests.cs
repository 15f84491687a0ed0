using Microsoft.Extensions.Options;
using PsaPortal.Testing;

namespace PsaPortal.Web.IntegrationTests.Billing;

/// <summary>A half-set mail server stops the portal at start, naming the setting and the fix, rather than failing at the first failed run.</summary>
public sealed class NotificationConfigurationTests
{
    [Theory]
    [InlineData(null, null, null, "Smtp:From must be the sender's e-mail address (e.g. psaportal@msp.example) when Smtp:Host is set.")]
    [InlineData("not an address", null, null, "Smtp:From must be the sender's e-mail address (e.g. psaportal@msp.example) when Smtp:Host is set.")]
    [InlineData("psaportal@msp.example", "mailer", null, "Smtp:UserName and Smtp:Password go together: set both to sign in to the mail server, or neither.")]
    [InlineData("psaportal@msp.example", null, "0", "Smtp:Port must be between 1 and 65535 (587 for submission with STARTTLS, 25 for plain relay).")]
    public async Task Start_SmtpHostWithIncompleteSettings_RefusedWithTheSettingsName(string? from, string? userName, string? port, string expected)
    {
        var settings = new Dictionary<string, string?> { ["Smtp:Host"] = "smtp.msp.example", ["Smtp:From"] = from, ["Smtp:UserName"] = userName };
        if (port is not null)
        {
            settings["Smtp:Port"] = port;
        }

        await using var factory = new PortalFactory(new PortalDatabase.Sqlite(), settings);

        var refused = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains(expected, refused.Failures);
    }

    [Fact]
    public async Task Start_NoSmtpHost_StartsWithEmailOff()
    {
        await using var factory = new PortalFactory(new PortalDatabase.Sqlite(), new Dictionary<string, string?> { ["Smtp:From"] = "not checked while e-mail is off" });

        using var client = factory.CreateClient();
        var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));

        Assert.True(live.IsSuccessStatusCode);
    }
}
