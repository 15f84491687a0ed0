using System.Data.Common;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using PsaPortal.Integrations;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Permissions;
using PsaPortal.Web.Features.SystemLogs;
using PsaPortal.Web.Features.Users;
using PsaPortal.Web.IntegrationTests.Reference;
using Quartz;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>
/// Plants known, distinctive secrets — ConnectWise keys (right, wrong, and ones a hostile PSA echoes back), the
/// clientId, Autotask secrets and tracking identifiers, and an API key's token — drives the portal through linking,
/// Verify Permissions, failed links, the ingest API (good, refused and malformed requests) and its pages with logging at
/// Debug, then searches every sink for them: every log line, every status hub message, every page and API answer,
/// System Logs, the audit trail, Quartz's job and trigger data, and the database itself — all psaportal.db* files
/// byte for byte on SQLite (<see cref="SqliteSecretSinkTests"/>), every row of every table as text on PostgreSQL
/// (<see cref="PostgreSqlSecretSinkTests"/>).
/// </summary>
public abstract class SecretSinkScenarios : IAsyncLifetime
{
    private const string WrongPrivateKey = "WrongPrivKey31337";
    private const string WrongAutotaskSecret = "WrongAtSecret#31337";
    private const string EchoPublicKey = "EchoPubKey27182";
    private const string EchoPrivateKey = "EchoPrivKey27182";
    private const string AdminEmail = "owner@northwind.example";

    private SandboxPortal _portal = null!;
    private WebApplication _echoPsa = null!;
    private string _echoUrl = "";
    private PortalDatabase _database = null!;

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync()
    {
        _database = await CreateDatabaseAsync();
        _portal = await SandboxPortal.StartAsync(_database, new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Debug",
            ["Logging:LogLevel:Microsoft"] = "Debug",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Debug",
            ["Logging:LogLevel:System.Net.Http"] = "Debug",
            ["Logging:LogLevel:Quartz"] = "Debug",
        });
        (_echoPsa, _echoUrl) = await StartEchoPsaAsync();
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        await _echoPsa.DisposeAsync();
    }

    [Fact]
    public async Task FullCycle_PlantedSecrets_AppearInNoSink()
    {
        var added = await _portal.Get<UserDirectory>().AddAsync(_portal.OrganizationId, Actor.Portal, AdminEmail, PortalRoles.Admin);
        var cookie = await SignInCookieAsync(AdminEmail, added.Password!);
        await using var hub = await WatchStatusHubAsync(cookie);
        var seen = new StringBuilder();
        var integrations = _portal.Get<IntegrationService>();
        var clientId = _portal.Get<IOptions<PsaOptions>>().Value.ConnectWiseClientId;

        // Failed links: wrong keys at the sandbox, and a hostile PSA that echoes every header it gets back in its error.
        var wrongCw = await integrations.SaveConnectWiseAsync(_portal.Admin, Form($"{_portal.BaseUrl}/sandbox/connectwise", "SbxFullPublic01", WrongPrivateKey));
        var echoed = await integrations.TestConnectWiseAsync(_portal.Admin, Form(_echoUrl, EchoPublicKey, EchoPrivateKey));
        var wrongAt = await integrations.SaveAutotaskAsync(_portal.Admin, AtForm(WrongAutotaskSecret), new Uri(_portal.BaseUrl + "/"));
        Assert.False(wrongCw.Succeeded);
        Assert.False(echoed.Succeeded);
        Assert.False(wrongAt.Succeeded);
        Assert.Contains("***", echoed.Message, StringComparison.Ordinal);
        seen.Append(wrongCw.Message).Append(echoed.Message).Append(wrongAt.Message);

        // Linked for real, then Verify Permissions on both.
        await _portal.LinkConnectWiseAsync();
        await _portal.LinkAutotaskAsync();
        foreach (var vendor in new[] { PsaVendor.ConnectWise, PsaVendor.Autotask })
        {
            var started = await _portal.Get<PermissionVerification>().StartAsync(_portal.Admin, vendor);
            Assert.True(started.Started, started.Message);
            await WaitForPermissionRunAsync(vendor);
        }

        // An API key: created (its token shown once), used, refused when wrong, met with malformed and hostile bodies.
        var created = await _portal.Get<ApiKeyService>().CreateAsync(_portal.Admin, "Vendor platform");
        var token = created.Token!;
        var tokenSecret = token[^ApiKeyToken.SecretLength..];
        using (var api = new HttpClient { BaseAddress = new Uri(_portal.BaseUrl) })
        {
            foreach (var (auth, body) in new[]
                     {
                         (token, "{\"items\":[{\"externalId\":\"T-1\",\"name\":\"Contoso\"}]}"),
                         (token, "{\"items\":[{\"externalId\":\"T-1\",\"name\":\"" + token + "\"}]"),
                         (token + "x", "{\"items\":[]}"),
                         (token[..^1], "{\"items\":[]}"),
                         ("psak_" + tokenSecret, "{\"items\":[]}"),
                     })
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tenants/batch") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", auth);
                var response = await api.SendAsync(request);
                seen.Append(await response.Content.ReadAsStringAsync()).Append(response.Headers);
            }

            seen.Append(await (await api.GetAsync($"/api/v1/tenants?api_key={Uri.EscapeDataString(token)}")).Content.ReadAsStringAsync());
        }

        // Pages an Admin opens afterwards, including the error page and a page that does not exist.
        using (var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_portal.BaseUrl) })
        {
            browser.DefaultRequestHeaders.Add("Cookie", cookie);
            foreach (var path in new[] { "/", "/integrations", "/integrations/connectwise", "/integrations/autotask", "/system-logs", "/settings", "/settings?tab=audit",
                         "/settings?tab=api-keys", "/Error", "/no-such-page", "/platform", "/mapping", "/billing", "/tickets" })
            {
                var response = await browser.GetAsync(path);
                seen.Append(await response.Content.ReadAsStringAsync());
            }
        }

        await _portal.Get<SystemLogWriter>().FlushAsync();
        await Task.Delay(500);
        var hubMessages = new StringBuilder();
        while (hub.Invocations.TryRead(out var invocation))
        {
            hubMessages.Append(invocation.Target).Append(string.Join(',', invocation.Arguments.Select(a => a.GetRawText()))).Append('\n');
        }

        Assert.Contains("permissions.check", hubMessages.ToString(), StringComparison.Ordinal);
        Assert.Contains("ConnectWise", seen.ToString(), StringComparison.Ordinal);
        var logs = string.Join('\n', _portal.Factory.LogLines);
        Assert.Contains("Debug", logs, StringComparison.Ordinal);
        var quartz = await QuartzDataAsync();
        var database = await DatabaseTextAsync();
        Assert.Contains("Vendor platform", database, StringComparison.Ordinal);

        var secrets = new[]
        {
            SandboxPortal.ConnectWiseFullPrivate, WrongPrivateKey, EchoPrivateKey, EchoPublicKey, clientId,
            SandboxPortal.AutotaskFullSecret, WrongAutotaskSecret, SandboxPortal.AutotaskTrackingIdentifier,
            token, tokenSecret,
            Base64($"sandbox+SbxFullPublic01:{SandboxPortal.ConnectWiseFullPrivate}"), Base64($"sandbox+{EchoPublicKey}:{EchoPrivateKey}"),
        };
        var sinks = new Dictionary<string, string>
        {
            ["page or API answer"] = seen.ToString(),
            ["log line"] = logs,
            ["status hub message"] = hubMessages.ToString(),
            ["Quartz job or trigger data"] = quartz,
            ["database"] = database,
        };
        var leaks = (from secret in secrets
                     from sink in sinks
                     where Contains(sink.Value, secret)
                     select $"{secret} in a {sink.Key}: …{Around(sink.Value, secret)}…").ToList();
        leaks.AddRange(DatabaseBytesLeaks(secrets));
        Assert.True(leaks.Count == 0, "Secrets leaked:\n" + string.Join("\n", leaks));
    }

    // ---------------------------------------------------------------- sinks

    private async Task<string> QuartzDataAsync()
    {
        var scheduler = await _portal.Get<ISchedulerFactory>().GetScheduler();
        var text = new StringBuilder();
        foreach (var jobKey in await scheduler.GetJobKeys(GroupMatcher<JobKey>.AnyGroup()))
        {
            var job = await scheduler.GetJobDetail(jobKey);
            text.Append(jobKey).Append(JsonSerializer.Serialize(job?.JobDataMap.ToDictionary(p => p.Key, p => p.Value?.ToString())));
            foreach (var trigger in await scheduler.GetTriggersOfJob(jobKey))
            {
                text.Append(trigger.Key).Append(trigger.Description).Append(JsonSerializer.Serialize(trigger.JobDataMap.ToDictionary(p => p.Key, p => p.Value?.ToString())));
            }
        }

        return text.ToString();
    }

    /// <summary>Every row of every table, as the database itself renders it as text (bytea as hex on PostgreSQL).</summary>
    private async Task<string> DatabaseTextAsync()
    {
        await using var connection = _database is PortalDatabase.PostgreSql pg
            ? (DbConnection)new NpgsqlConnection(pg.ConnectionString)
            : new SqliteConnection($"Data Source={Path.Combine(_portal.Factory.DataDirectory, "psaportal.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = connection is NpgsqlConnection
                ? "SELECT table_schema || '.\"' || table_name || '\"' FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                : "SELECT '\"' || name || '\"' FROM sqlite_master WHERE type = 'table'";
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.True(tables.Count > 20, $"only {tables.Count} tables");
        var text = new StringBuilder();
        foreach (var table in tables)
        {
            await using var select = connection.CreateCommand();
            select.CommandText = connection is NpgsqlConnection ? $"SELECT t::text FROM {table} t" : $"SELECT * FROM {table}";
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.IsDBNull(i) ? "" : reader.GetValue(i);
                    text.Append(value is byte[] bytes ? Encoding.UTF8.GetString(bytes) + Convert.ToHexString(bytes) : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)).Append('\u001f');
                }
            }
        }

        return text.ToString();
    }

    /// <summary>On SQLite every psaportal.db* file (the WAL too) byte for byte, in UTF-8 and UTF-16.</summary>
    private IEnumerable<string> DatabaseBytesLeaks(IEnumerable<string> secrets)
    {
        if (_database is not PortalDatabase.Sqlite)
        {
            return [];
        }

        var files = _portal.Factory.ReadDatabaseFiles();
        Assert.NotEmpty(files);
        return files.SelectMany(file => secrets.Where(file.Holds).Select(s => $"{s} in the bytes of {file.Name}"));
    }

    // ---------------------------------------------------------------- helpers

    private static bool Contains(string text, string secret) =>
        text.Contains(secret, StringComparison.OrdinalIgnoreCase) || text.Contains(Convert.ToHexString(Encoding.UTF8.GetBytes(secret)), StringComparison.OrdinalIgnoreCase)
        || text.Contains(JsonEncodedText.Encode(secret).ToString(), StringComparison.OrdinalIgnoreCase);

    private static string Around(string text, string secret)
    {
        var at = text.IndexOf(secret, StringComparison.OrdinalIgnoreCase);
        return at < 0 ? "(encoded)" : text[Math.Max(0, at - 120)..Math.Min(text.Length, at + secret.Length + 40)];
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static ConnectWiseLinkForm Form(string site, string publicKey, string privateKey) =>
        new() { SiteUrl = site, CompanyId = "sandbox", PublicKey = publicKey, PrivateKey = privateKey };

    private static AutotaskLinkForm AtForm(string secret) => new()
    {
        UserName = SandboxPortal.AutotaskFullUser, Secret = secret, IntegrationCode = SandboxPortal.AutotaskTrackingIdentifier, UseSandbox = true,
    };

    private async Task WaitForPermissionRunAsync(PsaVendor vendor)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while ((await _portal.Get<PermissionVerification>().LatestAsync(_portal.OrganizationId, vendor)) is not { IsRunning: false })
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"Verify Permissions on {vendor} did not finish in 60 s");
            await Task.Delay(100);
        }
    }

    private async Task<string> SignInCookieAsync(string email, string password)
    {
        var cookies = new CookieContainer();
        var browser = new PortalBrowser(new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = new Uri(_portal.BaseUrl) });
        var (response, _) = await browser.SignInAsync(email, password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var auth = cookies.GetCookies(new Uri(_portal.BaseUrl))["PsaPortal.Auth"] ?? throw new InvalidOperationException("no auth cookie after signing in");
        return $"{auth.Name}={auth.Value}";
    }

    private async Task<SignalRJsonClient> WatchStatusHubAsync(string cookie)
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Cookie", cookie);
        var hub = await SignalRJsonClient.ConnectAsync(http, new Uri($"{_portal.BaseUrl}{StatusHub.Path}"), async (uri, cancellationToken) =>
        {
            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Cookie", cookie);
            await socket.ConnectAsync(uri, cancellationToken);
            return socket;
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(StatusHub.ReadyMethod, (await hub.Invocations.ReadAsync(timeout.Token)).Target);
        return hub;
    }

    /// <summary>
    /// A "PSA" on a loopback port (allowed because the sandbox is on) that answers ConnectWise's site discovery and then
    /// refuses every call with a 400 whose message repeats every header it was sent, Basic credentials decoded.
    /// </summary>
    private static async Task<(WebApplication App, string Url)> StartEchoPsaAsync()
    {
        var port = LoopbackPort.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.Run(async context =>
        {
            if (context.Request.Path.Value!.Contains("login/companyinfo", StringComparison.OrdinalIgnoreCase))
            {
                await context.Response.WriteAsJsonAsync(new { CompanyName = "Echo", Codebase = "v2025_1/", VersionCode = "v2025.1", CompanyID = "sandbox", IsCloud = "true" });
                return;
            }

            var echoed = new StringBuilder("You sent");
            foreach (var (name, value) in context.Request.Headers)
            {
                echoed.Append(' ').Append(name).Append('=').Append(value.ToString());
                if (value.ToString().StartsWith("Basic ", StringComparison.Ordinal))
                {
                    echoed.Append(" decoded=").Append(Encoding.UTF8.GetString(Convert.FromBase64String(value.ToString()[6..])));
                }
            }

            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new { code = "Echo", message = echoed.ToString(), errors = new[] { new { code = "Echo", message = echoed.ToString(), field = "key" } } });
        });
        await app.StartAsync();
        return (app, $"http://127.0.0.1:{port}/");
    }
}

public sealed class SqliteSecretSinkTests : SecretSinkScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlSecretSinkTests(PostgreSqlFixture postgres) : SecretSinkScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
