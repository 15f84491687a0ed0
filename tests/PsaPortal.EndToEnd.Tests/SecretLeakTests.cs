using PsaPortal.Testing;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.SystemLogs;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>
/// After a full link / verify / failed-link cycle on both PSAs and an API key created (its token shown once) and used,
/// the secrets' bytes appear in no page, no log line, no System Logs row, no audit entry and nowhere in the database
/// files (WAL included). The PostgreSQL variant, hostile PSAs that echo keys and Debug logging are in
/// Web.IntegrationTests/Security/SecretSinkTests.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class SecretLeakTests(PortalUnderTest portal)
{
    private static readonly string[] Secrets = ["SbxFullPrivate01", "SbxFullSecret1!", "PSAPORTALSANDBOX0000000000", "WrongPrivateKey99"];

    [Fact]
    public async Task LinkVerifyAndFail_BothPsas_SecretsAppearNowhere()
    {
        var organization = await portal.CreateOrganizationAsync();
        var (page, errors) = await portal.NewPageAsync();
        await PortalUnderTest.SignInAsync(page, organization.Admin);
        var html = new StringBuilder();
        await using var hub = await WatchStatusHubAsync(page);

        await page.GotoAsync("/integrations/connectwise");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await page.FillAsync("input[name=SiteUrl]", $"{portal.BaseUrl}/sandbox/connectwise");
        await page.FillAsync("input[name=CompanyId]", "sandbox");
        await page.FillAsync("input[name=PublicKey]", "SbxFullPublic01");
        await page.FillAsync("input[name=PrivateKey]", "WrongPrivateKey99");
        await page.ClickAsync("[data-testid=save]");
        await Assertions.Expect(page.Locator("[data-testid=link-result]")).ToBeVisibleAsync();
        html.Append(await page.ContentAsync());
        await page.FillAsync("input[name=PrivateKey]", "SbxFullPrivate01");
        await page.ClickAsync("[data-testid=save]");
        await page.WaitForURLAsync($"{portal.BaseUrl}/mapping");

        await page.GotoAsync("/integrations/autotask");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await page.FillAsync("input[name=UserName]", "full@psaportal-sandbox.example");
        await page.FillAsync("input[name=Secret]", "SbxFullSecret1!");
        await page.FillAsync("input[name=IntegrationCode]", "PSAPORTALSANDBOX0000000000");
        await page.ClickAsync("[data-testid=save]");
        await page.WaitForURLAsync($"{portal.BaseUrl}/mapping");

        foreach (var vendor in new[] { "connectwise", "autotask" })
        {
            await page.GotoAsync($"/integrations/{vendor}");
            await PortalUnderTest.WaitForCircuitAsync(page);
            await page.ClickAsync("[data-testid=verify-start]");
            await Assertions.Expect(page.Locator("[data-testid=verify-summary]")).Not.ToContainTextAsync("Checking", new() { Timeout = 20_000 });
            html.Append(await page.ContentAsync());
        }

        // An API key: its token is shown once, used once, and must appear nowhere after.
        await page.GotoAsync("/settings");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await page.GetByRole(AriaRole.Tab, new() { Name = "API keys" }).ClickAsync();
        await page.FillAsync("[data-testid=api-key-name]", "Leak probe");
        await page.ClickAsync("[data-testid=api-key-create]");
        var token = (await page.Locator("[data-testid=api-key-token]").InnerTextAsync()).Trim();
        Assert.StartsWith("psak_", token, StringComparison.Ordinal);
        await page.ClickAsync("[data-testid=api-key-done]");
        await Assertions.Expect(page.Locator("[data-testid=api-key-token]")).ToHaveCountAsync(0);
        html.Append(await page.ContentAsync());
        using (var api = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) })
        {
            api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            var used = await api.PostAsync("/api/v1/tenants/batch", new StringContent("{\"items\":[{\"externalId\":\"T-1\",\"name\":\"Contoso\"}]}", Encoding.UTF8, "application/json"));
            Assert.True(used.IsSuccessStatusCode, $"the new key was refused: {(int)used.StatusCode}");
            html.Append(await used.Content.ReadAsStringAsync());
        }

        await portal.GetService<SystemLogWriter>().FlushAsync();
        foreach (var path in new[] { "/system-logs", "/settings", "/", "/integrations" })
        {
            await page.GotoAsync(path);
            await PortalUnderTest.WaitForCircuitAsync(page);
            html.Append(await page.ContentAsync());
        }

        await page.GotoAsync("/system-logs");
        await PortalUnderTest.WaitForCircuitAsync(page);
        await page.Locator("[data-testid=system-logs-grid] .rz-row-toggler").First.ClickAsync();
        html.Append(await page.ContentAsync());
        await PortalUnderTest.ScreenshotAsync(page, "system-logs");

        var hubMessages = new StringBuilder();
        while (hub.Invocations.TryRead(out var invocation))
        {
            hubMessages.Append(invocation.Target).Append(string.Join(',', invocation.Arguments.Select(a => a.GetRawText())));
        }

        Assert.Contains("permissions.check", hubMessages.ToString(), StringComparison.Ordinal);
        var dbText = await DatabaseTextAsync();
        var databaseFiles = portal.Factory.ReadDatabaseFiles();
        Assert.NotEmpty(databaseFiles);
        var logs = string.Join('\n', portal.Factory.LogLines);

        await using (var db = await portal.GetService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            Assert.True(await db.SystemLog.CountAsync(e => e.OrganizationId == organization.Id) > 5, "the cycle should have left System Logs rows");
        }

        foreach (var secret in Secrets.Append(token).Append(token[^ApiKeyToken.SecretLength..]))
        {
            Assert.DoesNotContain(secret, html.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, hubMessages.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, dbText, StringComparison.Ordinal);
            Assert.DoesNotContain(databaseFiles, file => file.Holds(secret));
        }

        Assert.Empty(errors);
    }

    // An external watcher on /hubs/status with the signed-in user's cookie, as a script or dashboard would connect.
    private async Task<SignalRJsonClient> WatchStatusHubAsync(IPage page)
    {
        var cookie = string.Join("; ", (await page.Context.CookiesAsync()).Select(c => $"{c.Name}={c.Value}"));
        var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Cookie", cookie);
        var hub = await SignalRJsonClient.ConnectAsync(http, new Uri($"{portal.BaseUrl}/hubs/status"), async (uri, cancellationToken) =>
        {
            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Cookie", cookie);
            await socket.ConnectAsync(uri, cancellationToken);
            return socket;
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal("ready", (await hub.Invocations.ReadAsync(timeout.Token)).Target);
        return hub;
    }

    // Every text column of every table, read back through SQLite itself.
    private async Task<string> DatabaseTextAsync()
    {
        var text = new StringBuilder();
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(portal.Factory.DataDirectory, "psaportal.db")};Mode=ReadOnly");
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        foreach (var table in tables)
        {
            await using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table}\"";
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    text.Append(reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i))).Append('\u001f');
                }
            }
        }

        return text.ToString();
    }
}
