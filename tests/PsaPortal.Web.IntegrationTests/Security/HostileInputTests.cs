using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Testing;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Ticketing;
using PsaPortal.Web.Features.Users;
using PsaPortal.Web.IntegrationTests.Api;
using PsaPortal.Web.IntegrationTests.Reference;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>
/// The hostile-input corpus (<see cref="HostileInputs"/>) through every form's service, as the Blazor forms call them,
/// on a portal with the built-in sandbox and both PSAs linked, on each database
/// (<see cref="SqliteHostileInputTests"/>, <see cref="PostgreSqlHostileInputTests"/>). Each input is either refused with
/// a message that names the field and changes no row, or accepted and stored exactly as typed (trimmed) with no
/// invisible or control character; the portal answers /health/ready afterwards. Every failing input of a form is
/// listed in one assertion message.
/// </summary>
public abstract class HostileInputScenarios : IAsyncLifetime
{
    private SandboxPortal _portal = null!;
    private readonly List<string> _failures = [];

    protected abstract Task<PortalDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _portal = await SandboxPortal.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public void Corpus_HasAtLeastThreeHundredInputsBesidesTheApiPayloads()
    {
        Assert.True(HostileInputs.All.Count >= 300, $"only {HostileInputs.All.Count} inputs");
        Assert.Equal(HostileInputs.All.Count, HostileInputs.All.Select(i => i.ToString()).Distinct().Count());
        Assert.True(HostilePayloadTests.CaseNames.Count >= 400, $"the API's generated payloads: {HostilePayloadTests.CaseNames.Count}");
    }

    [Fact]
    public async Task ApiKeyName_EveryTextInput_RefusedNamingNameOrStoredExactly()
    {
        var keys = _portal.Get<ApiKeyService>();
        foreach (var input in HostileInputs.Text)
        {
            var before = await CountAsync(db => db.ApiKeys.CountAsync());
            var result = await keys.CreateAsync(_portal.Admin, input.Value);
            if (!result.Succeeded)
            {
                ExpectRefusal(input, result.Message, "Name");
                await ExpectCountAsync(input, before, db => db.ApiKeys.CountAsync());
                continue;
            }

            var stored = await StoredAsync(db => db.ApiKeys.OrderByDescending(k => k.CreatedAt).Select(k => k.Name).FirstAsync());
            ExpectStoredExactly(input, stored);
        }

        await AssertNoFailuresAndHealthyAsync();
    }

    [Fact]
    public async Task AddUser_EveryEmailAndTextInput_RefusedNamingEmailAndNoUserAdded()
    {
        var users = _portal.Get<UserDirectory>();
        foreach (var input in HostileInputs.Emails.Concat(HostileInputs.Text))
        {
            var before = await CountAsync(db => db.Users.CountAsync());
            UserChangeResult result;
            try
            {
                result = await users.AddAsync(_portal.OrganizationId, Actor.Portal, input.Value, PortalRoles.FullMember);
            }
            catch (Exception exception)
            {
                _failures.Add($"{input}: threw {exception.GetType().Name}: {exception.Message}");
                continue;
            }

            if (result.Succeeded)
            {
                _failures.Add($"{input}: was added as a user");
                continue;
            }

            ExpectRefusal(input, result.Message, "email");
            await ExpectCountAsync(input, before, db => db.Users.CountAsync());
        }

        await AssertNoFailuresAndHealthyAsync();
    }

    [Fact]
    public async Task LinkForms_EveryTextInputInEveryCredentialField_RefusedNamingTheFieldAndNothingStored()
    {
        var integrations = _portal.Get<IntegrationService>();
        var site = $"{_portal.BaseUrl}/sandbox/connectwise";
        foreach (var input in HostileInputs.Text)
        {
            var forms = new (string Field, string Label, Func<Task<LinkResult>> Save)[]
            {
                ("CompanyId", "Company ID", () => integrations.SaveConnectWiseAsync(_portal.Admin, CwForm(site, input.Value, "SbxFullPublic01", "SbxFullPrivate01"))),
                ("PublicKey", "Public Key", () => integrations.SaveConnectWiseAsync(_portal.Admin, CwForm(site, "sandbox", input.Value, "SbxFullPrivate01"))),
                ("PrivateKey", "Private Key", () => integrations.SaveConnectWiseAsync(_portal.Admin, CwForm(site, "sandbox", "SbxFullPublic01", input.Value))),
                ("UserName", "username", () => integrations.SaveAutotaskAsync(_portal.Admin, AtForm(input.Value, "SbxFullSecret1!", "PSAPORTALSANDBOX0000000000"), new Uri(_portal.BaseUrl + "/"))),
                ("Secret", "Secret", () => integrations.SaveAutotaskAsync(_portal.Admin, AtForm("full@psaportal-sandbox.example", input.Value, "PSAPORTALSANDBOX0000000000"), new Uri(_portal.BaseUrl + "/"))),
                ("IntegrationCode", "Tracking Identifier", () => integrations.SaveAutotaskAsync(_portal.Admin, AtForm("full@psaportal-sandbox.example", "SbxFullSecret1!", input.Value), new Uri(_portal.BaseUrl + "/"))),
            };
            foreach (var (field, label, save) in forms)
            {
                var result = await save();
                if (result.Succeeded)
                {
                    _failures.Add($"{input} in {field}: the link was saved");
                    await integrations.DeleteAsync(_portal.Admin, field is "CompanyId" or "PublicKey" or "PrivateKey" ? PsaVendor.ConnectWise : PsaVendor.Autotask);
                    continue;
                }

                // A value of the right shape reaches the sandbox, which refuses the credentials: that message names them too.
                if (!result.Message.Contains(label, StringComparison.OrdinalIgnoreCase) && !result.Message.Contains("rejected", StringComparison.Ordinal)
                    && !result.Message.Contains("did not accept", StringComparison.Ordinal) && !result.Message.Contains("does not know", StringComparison.Ordinal))
                {
                    _failures.Add($"{input} in {field}: message does not name {label}: {Short(result.Message)}");
                }
            }

            if (await CountAsync(db => db.Integrations.CountAsync()) != 0)
            {
                _failures.Add($"{input}: an integration row was stored");
            }
        }

        await AssertNoFailuresAndHealthyAsync();
    }

    [Fact]
    public async Task SiteUrl_EveryNonLoopbackSsrfTarget_RefusedEvenWithTheSandboxOn()
    {
        var integrations = _portal.Get<IntegrationService>();
        foreach (var input in HostileInputs.SiteUrls.Where(i => !PointsAtLoopback(i.Value)))
        {
            var result = await integrations.SaveConnectWiseAsync(_portal.Admin, CwForm(input.Value, "sandbox", "SbxFullPublic01", "SbxFullPrivate01"));
            if (result.Succeeded)
            {
                _failures.Add($"{input} ({input.Value}): linked");
                await integrations.DeleteAsync(_portal.Admin, PsaVendor.ConnectWise);
                continue;
            }

            ExpectRefusal(input, result.Message, "address", "Site URL");
        }

        Assert.Equal(0, await CountAsync(db => db.Integrations.CountAsync()));
        await AssertNoFailuresAndHealthyAsync();
    }

    [Fact]
    public async Task TenantCsvImport_EveryTextInputAsName_RowRefusedNamingTheFieldOrStoredExactly_ExportNeutralisesFormulas()
    {
        var import = _portal.Get<PlatformImport>();
        // A NUL makes the whole file binary (refused as a file: CsvImport_OverTenMegabytesOrBinary…); the rest go in one file.
        var inputs = HostileInputs.Text.Where(i => i.Value.Length < 20_000 && !i.Value.Contains('\0', StringComparison.Ordinal)).ToList();
        var csv = new StringBuilder("externalId,name\r\n");
        for (var i = 0; i < inputs.Count; i++)
        {
            csv.Append("H-").Append(i).Append(',').Append('"').Append(inputs[i].Value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append("\"\r\n");
        }

        var preview = await import.PreviewAsync(_portal.Admin, CsvImportKind.Tenants, "hostile.csv", Encoding.UTF8.GetBytes(csv.ToString()));
        Assert.Null(preview.FileError);
        var outcome = await import.ImportAsync(_portal.Admin, preview, validRowsOnly: true);
        Assert.True(outcome.Succeeded, outcome.Message);

        await using (var db = await _portal.Factory.CreateDbContextAsync())
        {
            var stored = await db.Tenants.Where(t => t.OrganizationId == _portal.OrganizationId).ToDictionaryAsync(t => t.ExternalId, t => t.Name);
            var rowsByLine = preview.Rows.ToDictionary(r => r.LineNumber);
            for (var i = 0; i < inputs.Count; i++)
            {
                var row = preview.Rows.FirstOrDefault(r => r.Value("externalId") == $"H-{i}");
                var name = stored.GetValueOrDefault($"H-{i}");
                if (row is null)
                {
                    // The parser refuses lines it cannot read as one row (a bare CR or NUL); the line is then not stored.
                    if (name is not null)
                    {
                        ExpectStoredExactly(inputs[i], name, AsCsvImports(inputs[i].Value));
                    }

                    continue;
                }

                if (!row.IsValid)
                {
                    if (!row.Errors.Any(e => e.Field == "name" || e.Message.Contains("Name", StringComparison.Ordinal)))
                    {
                        _failures.Add($"{inputs[i]}: row refused without naming the name field: {string.Join(" | ", row.Errors.Select(e => e.Message))}");
                    }

                    if (name is not null)
                    {
                        _failures.Add($"{inputs[i]}: refused row was stored");
                    }
                }
                else if (name is null)
                {
                    _failures.Add($"{inputs[i]}: valid row not stored");
                }
                else
                {
                    ExpectStoredExactly(inputs[i], name, AsCsvImports(inputs[i].Value));
                }
            }
        }

        using var export = new MemoryStream();
        await PlatformCsv.WriteTenantsAsync(export, _portal.Get<PlatformData>().AllTenantRowsAsync(_portal.OrganizationId, default), default);
        foreach (var cell in CsvCells(Encoding.UTF8.GetString(export.ToArray()).TrimStart('\uFEFF')))
        {
            if (cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            {
                _failures.Add($"export cell would run as a formula: {Short(cell)}");
            }
        }

        Assert.Contains(CsvCells(Encoding.UTF8.GetString(export.ToArray())), c => c == "'=cmd|' /C calc'!A0");
        await AssertNoFailuresAndHealthyAsync();
    }

    [Fact]
    public async Task CsvImportFileName_EveryHostileName_CleanedToAPlainNameInPreviewAndAudit()
    {
        var import = _portal.Get<PlatformImport>();
        var content = Encoding.UTF8.GetBytes("externalId,name\r\nF-1,Fabrikam\r\n");
        foreach (var input in HostileInputs.FileNames)
        {
            var preview = await import.PreviewAsync(_portal.Admin, CsvImportKind.Tenants, input.Value, content);
            var name = preview.FileName;
            if (name.Length is 0 or > 100 || name.IndexOfAny(['/', '\\', '<', '>', '"']) >= 0 || HostileInputs.HasInvisibleOrControl(name) || name is "." or "..")
            {
                _failures.Add($"{input}: file name kept as {Short(name)}");
            }

            var outcome = await import.ImportAsync(_portal.Admin, preview, validRowsOnly: false);
            if (!outcome.Succeeded)
            {
                _failures.Add($"{input}: import failed: {outcome.Message}");
            }
        }

        var subjects = await StoredAsync(db => db.AuditEntries.Where(e => e.Action == "Platform data imported").Select(e => e.Subject!).ToListAsync());
        Assert.Equal(HostileInputs.FileNames.Count, subjects.Count);
        Assert.All(subjects, s => Assert.True(s.IndexOfAny(['/', '\\']) < 0, s));
        await AssertNoFailuresAndHealthyAsync();
    }

    [Fact]
    public async Task CsvImport_OverTenMegabytesOrBinaryOrMalformed_RefusedAsAFileAndNothingStored()
    {
        var import = _portal.Get<PlatformImport>();
        var huge = Encoding.UTF8.GetBytes("externalId,name\r\n" + string.Concat(Enumerable.Range(0, 400_000).Select(i => $"B-{i},Bulk tenant {i}\r\n")));
        var files = new (string Name, byte[] Content, string Expected)[]
        {
            ("huge.csv", huge, PlatformImport.TooLargeMessage),
            ("binary.csv", [0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0xFF, 0xFE, 0x00], "not a CSV text file"),
            ("header.csv", Encoding.UTF8.GetBytes("=cmd|' /C calc'!A0,name\r\nX,Y\r\n"), "header"),
            ("empty.csv", [], ""),
        };
        foreach (var (name, content, expected) in files)
        {
            var preview = await import.PreviewAsync(_portal.Admin, CsvImportKind.Tenants, name, content);
            if (preview.FileError is null || !preview.FileError.Contains(expected, StringComparison.OrdinalIgnoreCase))
            {
                _failures.Add($"{name}: file error was {preview.FileError ?? "none"}");
            }

            var outcome = await import.ImportAsync(_portal.Admin, preview, validRowsOnly: true);
            if (outcome.Succeeded)
            {
                _failures.Add($"{name}: imported");
            }
        }

        Assert.Equal(0, await CountAsync(db => db.Tenants.CountAsync()));
        await AssertNoFailuresAndHealthyAsync();
    }

    [Fact]
    public async Task InvoiceConfiguration_EveryTextInputAsCustomNameOrContacts_RefusedNamingTheFieldOrStoredExactly()
    {
        await _portal.LinkConnectWiseAsync();
        var service = _portal.Get<InvoiceSettingsService>();
        var view = await service.GetAsync(_portal.Admin);
        var agreementType = view!.AgreementTypes.First(t => !t.IsInactive).Id;
        foreach (var input in HostileInputs.Text)
        {
            var names = new Dictionary<ChargeType, string?> { [ChargeType.UsageFee] = input.Value };
            var result = await service.SaveAsync(_portal.Admin, InvoiceInput(agreementType, null, names));
            var stored = await StoredAsync(db => db.ChargeTypeNames.Select(n => n.Name).FirstOrDefaultAsync());
            if (!result.Succeeded)
            {
                ExpectRefusal(input, result.Message, "custom name");
                if (stored is not null && stored == input.Value.Trim())
                {
                    _failures.Add($"{input}: refused custom name was stored");
                }
            }
            else if (!string.IsNullOrWhiteSpace(input.Value))
            {
                ExpectStoredExactly(input, stored ?? "(nothing)");
            }
        }

        foreach (var input in HostileInputs.Emails.Concat(HostileInputs.Of(HostileInputs.Markup, HostileInputs.Control, HostileInputs.CsvFormula)))
        {
            var before = await StoredAsync(db => db.InvoiceSettings.Select(s => s.NotificationContacts).FirstOrDefaultAsync());
            var result = await service.SaveAsync(_portal.Admin, InvoiceInput(agreementType, input.Value, new Dictionary<ChargeType, string?>()));
            var after = await StoredAsync(db => db.InvoiceSettings.Select(s => s.NotificationContacts).FirstOrDefaultAsync());
            if (string.IsNullOrWhiteSpace(input.Value))
            {
                continue;
            }

            if (result.Succeeded)
            {
                _failures.Add($"{input}: accepted as notification contacts, stored {Short(after ?? "")}");
                continue;
            }

            ExpectRefusal(input, result.Message, "e-mail", "Notification contacts");
            if (after != before)
            {
                _failures.Add($"{input}: contacts changed although refused");
            }
        }

        await AssertNoFailuresAndHealthyAsync();
    }

    [Fact]
    public async Task BillingNotifications_HostileRecipientsWebhooksAndSecrets_RefusedNamingTheFieldAndNothingStored()
    {
        await _portal.LinkConnectWiseAsync();
        var service = _portal.Get<BillingNotificationService>();
        foreach (var input in HostileInputs.Emails.Concat(HostileInputs.Text))
        {
            if (string.IsNullOrWhiteSpace(input.Value))
            {
                continue;
            }

            var result = await service.SaveAsync(_portal.Admin, PsaVendor.ConnectWise, new BillingNotificationInput { EmailRecipients = input.Value });
            await ExpectRefusedAndUnsetAsync(input, result, "recipients", "e-mail");
        }

        foreach (var input in HostileInputs.SiteUrls.Concat(HostileInputs.Of(HostileInputs.Markup, HostileInputs.Control, HostileInputs.Unicode)))
        {
            if (string.IsNullOrWhiteSpace(input.Value))
            {
                continue;
            }

            var result = await service.SaveAsync(_portal.Admin, PsaVendor.ConnectWise, new BillingNotificationInput { WebhookUrl = input.Value });
            if (result.Succeeded)
            {
                // A receiver on this machine is allowed by design (docs/billing.md); any other accepted address is a hole.
                var stored = await StoredAsync(db => db.BillingNotificationSettings.Select(s => s.WebhookUrl).FirstOrDefaultAsync());
                if (stored is null || !PointsAtLoopback(stored))
                {
                    _failures.Add($"{input} ({input.Value}): webhook accepted as {stored}");
                }

                await service.SaveAsync(_portal.Admin, PsaVendor.ConnectWise, new BillingNotificationInput());
                continue;
            }

            await ExpectRefusedAndUnsetAsync(input, result, "webhook URL");
        }

        foreach (var input in HostileInputs.Text)
        {
            var result = await service.SaveAsync(_portal.Admin, PsaVendor.ConnectWise, new BillingNotificationInput
            {
                WebhookUrl = "https://hooks.msp.example/psaportal", Secret = WebhookSecretChange.Enter, EnteredSecret = input.Value,
            });
            if (result.Succeeded)
            {
                if (input.Value.Length is < 16 or > 200 || input.Value.Any(c => c is < '!' or > '~'))
                {
                    _failures.Add($"{input}: accepted as webhook secret");
                }

                await service.SaveAsync(_portal.Admin, PsaVendor.ConnectWise, new BillingNotificationInput());
                continue;
            }

            await ExpectRefusedAndUnsetAsync(input, result, "webhook secret");
        }

        await AssertNoFailuresAndHealthyAsync();
    }

    [Fact]
    public async Task PickerAndSearchBoxes_EveryTextInput_AnswerWithoutErrorAndMatchOnlyLiterally()
    {
        var integrationId = await _portal.LinkConnectWiseAsync();
        await _portal.NextSyncFinishedAsync();
        var mapping = _portal.Get<MappingService>();
        var ticketing = _portal.Get<TicketingSettingsService>();
        var audit = _portal.Get<AuditLog>();
        foreach (var input in HostileInputs.Text)
        {
            try
            {
                var companies = await mapping.SearchCompaniesAsync(_portal.Admin, integrationId, input.Value);
                if (input.Category is HostileInputs.ConnectWiseConditions or HostileInputs.SqlAndTemplates or HostileInputs.AutotaskFilter
                    && companies.Items.Any(c => !c.Name.Contains(input.Value.Trim(), StringComparison.OrdinalIgnoreCase)
                        && !(c.Detail ?? "").Contains(input.Value.Trim(), StringComparison.OrdinalIgnoreCase) && !c.PsaId.ToString(System.Globalization.CultureInfo.InvariantCulture).Contains(input.Value.Trim(), StringComparison.Ordinal)))
                {
                    _failures.Add($"{input}: mapping search matched {companies.TotalCount} companies that do not contain the text");
                }

                var picks = await ticketing.SearchCompaniesAsync(_portal.Admin, PsaVendor.ConnectWise, input.Value);
                if (input.Category is HostileInputs.ConnectWiseConditions or HostileInputs.SqlAndTemplates && picks.Count > 0
                    && picks.Any(c => !c.Name.Contains(input.Value.Trim(), StringComparison.OrdinalIgnoreCase)))
                {
                    _failures.Add($"{input}: ticketing company search matched {picks.Count} companies that do not contain the text");
                }

                await audit.QueryOrganizationAsync(_portal.OrganizationId, 0, 50, input.Value);
                await mapping.ListAsync(_portal.Admin, integrationId, new MappingQuery(Search: input.Value));
            }
            catch (Exception exception)
            {
                _failures.Add($"{input}: threw {exception.GetType().Name}: {Short(exception.Message)}");
            }
        }

        await AssertNoFailuresAndHealthyAsync();
    }

    [Fact]
    public async Task TicketingSettings_HostileIds_RefusedNamingTheSettingAndNothingSaved()
    {
        await _portal.LinkConnectWiseAsync();
        await _portal.NextSyncFinishedAsync();
        var service = _portal.Get<TicketingSettingsService>();
        foreach (var field in Enum.GetValues<TicketingField>())
        {
            foreach (var id in new long?[] { -1, 0, long.MaxValue, long.MinValue, 987_654_321 })
            {
                var result = await service.SetAsync(_portal.Admin, PsaVendor.ConnectWise, field, id);
                if (result.Succeeded)
                {
                    _failures.Add($"{field} = {id}: accepted");
                }
                else if (string.IsNullOrWhiteSpace(result.Message))
                {
                    _failures.Add($"{field} = {id}: refused without a message");
                }
            }
        }

        Assert.Equal(0, await CountAsync(db => db.TicketingSettings.CountAsync(s => s.BoardId != null || s.DefaultCompanyPsaId != null || s.SourceId != null || s.QueueId != null || s.DefaultPriorityId != null)));
        await AssertNoFailuresAndHealthyAsync();
    }

    // ---------------------------------------------------------------- helpers

    private static ConnectWiseLinkForm CwForm(string site, string company, string publicKey, string privateKey) =>
        new() { SiteUrl = site, CompanyId = company, PublicKey = publicKey, PrivateKey = privateKey };

    private static AutotaskLinkForm AtForm(string userName, string secret, string code) =>
        new() { UserName = userName, Secret = secret, IntegrationCode = code, UseSandbox = true };

    private static InvoiceSettingsInput InvoiceInput(long agreementType, string? contacts, IReadOnlyDictionary<ChargeType, string?> names) => new(
        agreementType, DailySyncEnabled: false, ExportProducts: false, ExportQuantities: false, ExportCost: false, ExportRetailPrice: false,
        ExportUsersList: false, contacts, InvoiceExportFrequency.None, 1, new TimeOnly(0, 0), [], [], names);

    private static bool PointsAtLoopback(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.IsLoopback || uri.IdnHost.TrimEnd('.').Equals("localhost", StringComparison.OrdinalIgnoreCase) || uri.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) || uri.Host.StartsWith("127.", StringComparison.Ordinal));

    private void ExpectRefusal(HostileInput input, string message, params string[] fieldNames)
    {
        if (string.IsNullOrWhiteSpace(message) || !fieldNames.Any(f => message.Contains(f, StringComparison.OrdinalIgnoreCase)))
        {
            _failures.Add($"{input}: refusal does not name {string.Join(" or ", fieldNames)}: {Short(message)}");
        }

        if (message.Length > 2_000)
        {
            _failures.Add($"{input}: refusal message is {message.Length} characters long");
        }
    }

    // What a CSV cell can carry (UTF-8), and the import taking back the quote the export puts before a formula-like value.
    private static string AsCsvImports(string value)
    {
        var text = HostileInputs.WithLoneSurrogatesReplaced(value).Trim();
        return text.Length > 1 && text[0] == '\'' && text[1] is '=' or '+' or '-' or '@' or '\t' or '\r' ? text[1..] : text;
    }

    private void ExpectStoredExactly(HostileInput input, string stored, string? expected = null)
    {
        if (stored != (expected ?? input.Value.Trim()))
        {
            _failures.Add($"{input}: stored as {Short(stored)}");
        }

        if (HostileInputs.HasInvisibleOrControl(stored) || stored.IndexOfAny(['<', '>']) >= 0)
        {
            _failures.Add($"{input}: stored with invisible, control or markup characters");
        }
    }

    private async Task ExpectRefusedAndUnsetAsync(HostileInput input, BillingNotificationResult result, params string[] fieldNames)
    {
        if (result.Succeeded)
        {
            _failures.Add($"{input}: accepted");
            await _portal.Get<BillingNotificationService>().SaveAsync(_portal.Admin, PsaVendor.ConnectWise, new BillingNotificationInput());
            return;
        }

        ExpectRefusal(input, result.Message, fieldNames);
        if (await CountAsync(db => db.BillingNotificationSettings.CountAsync(s => s.EmailRecipients != null || s.WebhookUrl != null)) != 0)
        {
            _failures.Add($"{input}: settings stored although refused");
        }
    }

    private async Task<int> CountAsync(Func<Data.PortalDbContext, Task<int>> count)
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        return await count(db);
    }

    private async Task<T> StoredAsync<T>(Func<Data.PortalDbContext, Task<T>> read)
    {
        await using var db = await _portal.Factory.CreateDbContextAsync();
        return await read(db);
    }

    private async Task ExpectCountAsync(HostileInput input, int before, Func<Data.PortalDbContext, Task<int>> count)
    {
        var after = await CountAsync(count);
        if (after != before)
        {
            _failures.Add($"{input}: refused but rows went from {before} to {after}");
        }
    }

    private async Task AssertNoFailuresAndHealthyAsync()
    {
        Assert.True(_failures.Count == 0, $"{_failures.Count} hostile inputs were mishandled:\n" + string.Join("\n", _failures.Take(60)));
        using var http = new HttpClient();
        var health = await http.GetAsync($"{_portal.BaseUrl}/health/ready");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private static string Short(string text) => text.Length <= 160 ? text : text[..160] + "…";

    // RFC 4180 cells, enough to see what a spreadsheet would read at the start of each.
    private static IEnumerable<string> CsvCells(string csv)
    {
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < csv.Length; i++)
        {
            var c = csv[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < csv.Length && csv[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c is ',' or '\n')
            {
                yield return cell.ToString().TrimEnd('\r');
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        yield return cell.ToString();
    }
}

public sealed class SqliteHostileInputTests : HostileInputScenarios
{
    protected override Task<PortalDatabase> CreateDatabaseAsync() => Task.FromResult<PortalDatabase>(new PortalDatabase.Sqlite());
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlHostileInputTests(PostgreSqlFixture postgres) : HostileInputScenarios
{
    protected override async Task<PortalDatabase> CreateDatabaseAsync() => new PortalDatabase.PostgreSql(await postgres.Server.CreateDatabaseAsync());
}
