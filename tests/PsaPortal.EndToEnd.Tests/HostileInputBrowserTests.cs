using System.Text;
using Microsoft.Playwright;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Platform;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>
/// A few forms in Chromium with inputs from the hostile corpus (<see cref="HostileInputs"/>): the refusal renders as
/// plain text naming the field, accepted hostile-looking names show literally, and no script runs — no dialog opens and
/// the console stays free of errors. The service-level suite (Web.IntegrationTests/Security) covers every input.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class HostileInputBrowserTests(PortalUnderTest portal)
{
    private static readonly string[] Scripts =
    [
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg onload=alert(1)>", "' autofocus onfocus='alert(1)",
    ];

    [Fact]
    public async Task HostileInputs_InForms_RefusalsRenderAsTextAndNoScriptRuns()
    {
        var organization = await portal.CreateOrganizationAsync();
        var (page, errors) = await portal.NewPageAsync();
        var dialogs = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            await dialog.DismissAsync();
        };
        await LivePortal.SignInAsync(page, organization.Admin);

        // API key names: each script is refused with the field named, shown as text.
        await page.GotoAsync("/settings");
        await LivePortal.WaitForCircuitAsync(page);
        await page.GetByRole(AriaRole.Tab, new() { Name = "API keys" }).ClickAsync();
        foreach (var script in Scripts.Where(s => s.Contains('<', StringComparison.Ordinal)))
        {
            await page.FillAsync("[data-testid=api-key-name]", script);
            await page.ClickAsync("[data-testid=api-key-create]");
            await Assertions.Expect(page.Locator("[data-testid=api-key-error]")).ToContainTextAsync("Name cannot contain control characters, < or >.");
            await Assertions.Expect(page.Locator("[data-testid=api-key-token]")).ToHaveCountAsync(0);
        }

        // An attribute break-out without < or > is a harmless name: stored, and shown as the text it is.
        var attribute = Scripts.Single(s => !s.Contains('<', StringComparison.Ordinal));
        await page.FillAsync("[data-testid=api-key-name]", attribute);
        await page.ClickAsync("[data-testid=api-key-create]");
        await Assertions.Expect(page.Locator("[data-testid=api-key-token]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=api-keys-grid]")).ToContainTextAsync(attribute);
        await page.ClickAsync("[data-testid=api-key-done]");

        // ConnectWise link form: SSRF targets and a script as the site address.
        await page.GotoAsync("/integrations/connectwise");
        await LivePortal.WaitForCircuitAsync(page);
        await page.FillAsync("input[name=CompanyId]", "sandbox");
        await page.FillAsync("input[name=PublicKey]", "SbxFullPublic01");
        await page.FillAsync("input[name=PrivateKey]", "SbxFullPrivate01");
        foreach (var (site, expected) in new[]
                 {
                     ("https://169.254.169.254/latest/meta-data/", "private, loopback or link-local"),
                     ("https://10.0.0.5/", "private, loopback or link-local"),
                     ("https://metadata.google.internal/", "not a public host name"),
                     ("<img src=x onerror=alert(1)>", "ConnectWise site URL"),
                 })
        {
            await page.FillAsync("input[name=SiteUrl]", site);
            await page.ClickAsync("[data-testid=save]");
            await Assertions.Expect(page.Locator("[data-testid=link-result]")).ToContainTextAsync(expected);
        }

        await LivePortal.ScreenshotAsync(page, "hostile-site-url");

        // CSV import: script names refused per row naming the field; a script file name shown as text.
        var csv = new StringBuilder("externalId,name\r\n");
        for (var i = 0; i < Scripts.Length; i++)
        {
            csv.Append("X-").Append(i).Append(",\"").Append(Scripts[i].Replace("\"", "\"\"", StringComparison.Ordinal)).Append("\"\r\n");
        }

        await page.GotoAsync("/platform");
        await LivePortal.WaitForCircuitAsync(page);
        await page.GetByRole(AriaRole.Tab, new() { Name = "Import" }).ClickAsync();
        await page.Locator("[data-testid=import-file]").SetInputFilesAsync(new FilePayload
        {
            Name = "<img src=x onerror=alert(1)>.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(csv.ToString()),
        });
        // The attribute break-out without < or > is a valid name (shown as text once imported); the others are refused.
        var refused = Scripts.Count(s => s.Contains('<', StringComparison.Ordinal));
        await Assertions.Expect(page.Locator("[data-testid=import-summary]")).ToContainTextAsync($"{Scripts.Length} rows, {Scripts.Length - refused} valid, {refused} with errors");
        await Assertions.Expect(page.Locator("[data-testid=import-preview]")).ToContainTextAsync("Line 2, name: Name cannot contain control characters, < or >.");
        await LivePortal.ScreenshotAsync(page, "hostile-csv-preview");

        // Names that are allowed but look hostile (formula, SQL, confusables) show literally in the tenant grid.
        string[] literal = ["=cmd|' /C calc'!A0", "Robert'); DROP TABLE \"Tenants\";--", "p\u0430ypal {{7*7}} ${7*7}"];
        var pushed = await portal.GetService<PlatformIngest>().IngestAsync(organization.Id, new PlatformBatch
        {
            Tenants = [.. literal.Select((name, i) => new TenantInput { ExternalId = $"L-{i}", Name = name })],
        }, "test");
        Assert.True(pushed.Succeeded);
        await page.GotoAsync("/platform");
        await LivePortal.WaitForCircuitAsync(page);
        var grid = page.Locator("[data-testid=tenants-grid]");
        foreach (var name in literal)
        {
            await Assertions.Expect(grid).ToContainTextAsync(name);
        }

        Assert.DoesNotContain("49", await grid.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Empty(dialogs);
        Assert.Empty(errors);
    }
}
