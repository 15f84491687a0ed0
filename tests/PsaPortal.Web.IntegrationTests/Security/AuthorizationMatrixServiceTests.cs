using System.Collections;
using System.Reflection;
using System.Reflection.Emit;
using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Integrations;
using PsaPortal.Web.Features.Api;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Billing;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Invoices;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Permissions;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.Reference;
using PsaPortal.Web.Features.Ticketing;
using PsaPortal.Web.Features.Users;
using Xunit.Abstractions;

namespace PsaPortal.Web.IntegrationTests.Security;

/// <summary>Who may call a service method.</summary>
public enum Access
{
    /// <summary>Reads the caller's organization only (the user, or the organization id the page takes from the user's claims); Sales too.</summary>
    Read,

    /// <summary>Changes things: Admins and Full Members; Sales is refused by the service.</summary>
    Editors,

    /// <summary>Admins only: linking, deleting, users, API keys.</summary>
    Admins,

    /// <summary>Anyone, once: the first-run setup, which refuses for good once an Admin exists.</summary>
    FirstRunOnly,

    /// <summary>
    /// The caller names the organization or integration (jobs, the engine, the API with its key's organization, seeding):
    /// no page or component may call it, which <see cref="AuthorizationMatrixServiceTests.NoComponent_CallsATrustedMethod"/> checks in the compiled code.
    /// </summary>
    Trusted,
}

/// <summary>The objects a probe acts on (always organization A's) and the services.</summary>
public sealed record MatrixCall(ClaimsPrincipal User, MatrixOrganization A, IServiceProvider Services, ClaimsPrincipal AdminOfA)
{
    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();
}

/// <summary>
/// A row of the form-action matrix: a service method pages call (Blazor actions are method calls, not HTTP endpoints),
/// who may call it, and for changes a probe that calls it on organization A's objects.
/// </summary>
public sealed record ServiceRule(string Method, Access Access, Func<MatrixCall, Task<object?>>? Probe = null, bool TakesIds = false, string Why = "");

/// <summary>
/// The form-action half of the authorization matrix. The methods are found by reflection: every method of a
/// <c>PsaPortal.Web.Features</c> type a component injects, or that takes the signed-in user, must have a row (a new
/// one without a row fails naming it). Each change is called as every role that must be refused, and as organization
/// B's Admin on A's ids: the service itself refuses and the database is left exactly as it was.
/// </summary>
public sealed class AuthorizationMatrixServiceTests(AuthorizationMatrixPortal portal, ITestOutputHelper output) : IClassFixture<AuthorizationMatrixPortal>
{
    private static readonly Assembly Portal = typeof(PortalApplication).Assembly;

    private static ServiceRule Read(string method, string why = "") => new(method, Access.Read, Why: why);

    private static ServiceRule Trusted(string method, string why) => new(method, Access.Trusted, Why: why);

    private static ServiceRule Editors(string method, Func<MatrixCall, Task<object?>> probe, bool takesIds = false) => new(method, Access.Editors, probe, takesIds);

    private static ServiceRule Admins(string method, Func<MatrixCall, Task<object?>> probe, bool takesIds = false) => new(method, Access.Admins, probe, takesIds);

    private static async Task<object?> Box<T>(Task<T> task) => await task;

    private static readonly IReadOnlyList<ServiceRule> Rules =
    [
        // Settings › API keys
        Admins("ApiKeyService.ListAsync(user)", c => Box(c.Get<ApiKeyService>().ListAsync(c.User))),
        Admins("ApiKeyService.CreateAsync(user)", c => Box(c.Get<ApiKeyService>().CreateAsync(c.User, "Matrix key"))),
        Admins("ApiKeyService.RevokeAsync(user)", c => Box(c.Get<ApiKeyService>().RevokeAsync(c.User, c.A.ApiKeyId)), takesIds: true),
        Trusted("ApiKeyService.CheckAsync", "the ApiKey authentication handler: the token names its organization"),

        // Audit
        Trusted("AuditLog.RecordAsync", "services record what the signed-in user did, with the user's own organization"),
        Admins("AuditLog.QueryAsync(user)", c => Box(c.Get<AuditLog>().QueryAsync(c.User, 0, 50))),
        Trusted("AuditLog.QueryOrganizationAsync", "QueryAsync(user) after its Admin check, and tests"),

        // Billing
        Read("BillingNotificationService.GetAsync(user)"),
        Editors("BillingNotificationService.SaveAsync(user)", c => Box(c.Get<BillingNotificationService>().SaveAsync(c.User, PsaVendor.ConnectWise,
            new BillingNotificationInput { EmailRecipients = "matrix@northwind.example" }))),
        Trusted("BillingNotificationService.SampleRun", "builds the made-up run SendTestAsync sends; reads nothing"),
        Editors("BillingNotificationService.SendTestAsync(user)", c => Box(c.Get<BillingNotificationService>().SendTestAsync(c.User, PsaVendor.ConnectWise))),
        Editors("IBillingRuns.SyncNowAsync(user)", c => Box(c.Get<IBillingRuns>().SyncNowAsync(c.User, PsaVendor.ConnectWise))),
        Editors("IBillingRuns.PreviewAsync(user)", c => Box(c.Get<IBillingRuns>().PreviewAsync(c.User, PsaVendor.ConnectWise))),
        Editors("IBillingRuns.ApplyPreviewAsync(user)", c => Box(c.Get<IBillingRuns>().ApplyPreviewAsync(c.User, c.A.PreviewRunId)), takesIds: true),
        Editors("IBillingRuns.RetryItemAsync(user)", c => Box(c.Get<IBillingRuns>().RetryItemAsync(c.User, c.A.RunId, c.A.RunItemId)), takesIds: true),
        Editors("IBillingRuns.RetryFailedAsync(user)", c => Box(c.Get<IBillingRuns>().RetryFailedAsync(c.User, c.A.RunId)), takesIds: true),
        Editors("IBillingRuns.CancelAsync(user)", c => Box(c.Get<IBillingRuns>().CancelAsync(c.User, c.A.RunId)), takesIds: true),
        Read("IBillingRuns.GetSchedulesAsync(user)"),
        Editors("IBillingRuns.SaveScheduleAsync(user)", c => Box(c.Get<IBillingRuns>().SaveScheduleAsync(c.User, PsaVendor.ConnectWise, c.A.ScheduleId,
            new BillingScheduleInput(BillingFrequency.Daily, new TimeOnly(3, 0), 1, "UTC", true))), takesIds: true),
        Editors("IBillingRuns.DeleteScheduleAsync(user)", c => Box(c.Get<IBillingRuns>().DeleteScheduleAsync(c.User, PsaVendor.ConnectWise, c.A.ScheduleId)), takesIds: true),
        Read("IBillingRunQueries.ListRunsAsync"),
        Read("IBillingRunQueries.GetRunAsync"),
        Read("IBillingRunQueries.ListItemsAsync"),
        Read("IBillingRunQueries.WriteCsvAsync"),

        // Live
        Trusted("IPortalEventStream.Publish", "services and jobs publish their organization's events"),
        Read("IPortalEventStream.Subscribe", "pages subscribe to the signed-in user's organization"),
        Trusted("IPortalEventStream.SubscribeAll", "the status hub relay, which sends each event to its organization's group only"),

        // Ticketing
        Editors("ITicketActions.RetryAsync(user)", c => Box(c.Get<ITicketActions>().RetryAsync(c.User, c.A.IncidentTicketId)), takesIds: true),
        Editors("ITicketActions.RetryAllFailedAsync(user)", c => Box(c.Get<ITicketActions>().RetryAllFailedAsync(c.User))),
        Read("TicketQueries.ListAsync"),
        Read("TicketQueries.ForIncidentAsync"),
        Read("TicketQueries.OverviewAsync"),
        Trusted("TicketingSettingsService.GetEnabledAsync", "the ticket engine, per integration"),
        Read("TicketingSettingsService.GetAsync(user)"),
        Read("TicketingSettingsService.SearchCompaniesAsync(user)"),
        Editors("TicketingSettingsService.SetAsync(user)", c => Box(c.Get<TicketingSettingsService>().SetAsync(c.User, PsaVendor.ConnectWise, TicketingField.Board, 1))),
        Editors("TicketingSettingsService.SetEnabledAsync(user)", c => Box(c.Get<TicketingSettingsService>().SetEnabledAsync(c.User, PsaVendor.ConnectWise, true))),
        Editors("TicketingSettingsService.RefreshAsync(user)", c => Box(c.Get<TicketingSettingsService>().RefreshAsync(c.User, PsaVendor.ConnectWise))),
        Trusted("TicketingSettingsService.CheckBoardAsync", "called inside SetAsync with the user's own integration"),

        // Integrations
        Read("IntegrationService.FindAsync"),
        Read("IntegrationService.ListAsync"),
        Admins("IntegrationService.TestConnectWiseAsync(user)", c => Box(c.Get<IntegrationService>().TestConnectWiseAsync(c.User, MatrixForms.ConnectWise()))),
        Admins("IntegrationService.TestAutotaskAsync(user)", c => Box(c.Get<IntegrationService>().TestAutotaskAsync(c.User, MatrixForms.Autotask(), new Uri("http://localhost/")))),
        Admins("IntegrationService.SaveConnectWiseAsync(user)", c => Box(c.Get<IntegrationService>().SaveConnectWiseAsync(c.User, MatrixForms.ConnectWise()))),
        Admins("IntegrationService.SaveAutotaskAsync(user)", c => Box(c.Get<IntegrationService>().SaveAutotaskAsync(c.User, MatrixForms.Autotask(), new Uri("http://localhost/")))),
        Editors("IntegrationService.DisconnectAsync(user)", c => Box(c.Get<IntegrationService>().DisconnectAsync(c.User, PsaVendor.ConnectWise))),
        Admins("IntegrationService.DeleteAsync(user)", c => Box(c.Get<IntegrationService>().DeleteAsync(c.User, PsaVendor.ConnectWise))),
        Trusted("IntegrationService.ConnectWiseApiFor", "the engines, with an integration they loaded for the caller's organization"),
        Trusted("IntegrationService.AutotaskApiFor", "the engines, with an integration they loaded for the caller's organization"),
        Trusted("IntegrationService.CatalogFor", "Verify Permissions' job, with the integration it was started for"),
        Trusted("SiteAddressPolicy.Validate", "a pure check of an address; no data"),
        Trusted("SiteAddressPolicy.IsAllowed", "a pure check of an address; no data"),
        Trusted("SiteAddressPolicy.ConnectAsync", "the PSA clients' socket connector"),

        // Invoices
        Read("InvoiceLineQueries.GetAsync(user)"),
        Read("InvoiceSettingsService.GetAsync(user)"),
        Trusted("InvoiceSettingsService.GetRulesAsync", "the posting engine, per integration"),
        Editors("InvoiceSettingsService.SaveAsync(user)", async c =>
        {
            var view = await c.Get<InvoiceSettingsService>().GetAsync(c.AdminOfA) ?? throw new InvalidOperationException("A has no invoice settings view.");
            return await c.Get<InvoiceSettingsService>().SaveAsync(c.User, view.ToInput());
        }),
        Editors("InvoiceSettingsService.OverrideDatesAsync(user)", c => Box(c.Get<InvoiceSettingsService>().OverrideDatesAsync(c.User, c.A.InvoiceLineId,
            new DateOnly(2026, 11, 2), new DateOnly(2026, 11, 29))), takesIds: true),
        Trusted("InvoiceSettingsService.ListAgreementTypesAsync", "called inside GetAsync with the user's own integration"),
        Editors("IInvoiceLineSync.SyncSelectedAsync(user)", c => Box(c.Get<IInvoiceLineSync>().SyncSelectedAsync(c.User, c.A.IntegrationId, [c.A.InvoiceLineId])), takesIds: true),
        Editors("IInvoiceLineSync.SyncAllMappedAsync(user)", c => Box(c.Get<IInvoiceLineSync>().SyncAllMappedAsync(c.User, c.A.IntegrationId)), takesIds: true),
        Trusted("InvoiceLinePoster.PostAsync", "the posting job, per integration"),
        Read("InvoiceExportRuns.GetStatusAsync(user)"),
        Read("InvoiceExportRuns.GetLogAsync(user)", "an export's log by id: another organization's id finds nothing"),
        Trusted("InvoiceExportRuns.NextExportAsync", "called inside GetStatusAsync with the user's own integration"),
        Editors("InvoiceExportRuns.StartNowAsync(user)", c => Box(c.Get<InvoiceExportRuns>().StartNowAsync(c.User))),
        Trusted("InvoiceExportRuns.StartScheduledAsync", "the automatic export's Quartz job, for the integration its trigger belongs to"),

        // Mapping
        Read("MappingService.IntegrationsAsync(user)"),
        Read("MappingService.ListAsync(user)"),
        Read("MappingService.SearchCompaniesAsync(user)"),
        Read("MappingService.AgreementsOfAsync(user)"),
        Read("MappingService.PsaProductsAsync(user)"),
        Read("MappingService.ListProductsAsync(user)"),
        Editors("MappingService.SetCompanyAsync(user)", c => Box(c.Get<MappingService>().SetCompanyAsync(c.User, c.A.IntegrationId, c.A.TenantId, 101, confirmed: true)), takesIds: true),
        Editors("MappingService.SetAgreementAsync(user)", c => Box(c.Get<MappingService>().SetAgreementAsync(c.User, c.A.IntegrationId, c.A.TenantId, null, confirmed: true)), takesIds: true),
        Editors("MappingService.SetExportAsync(user)", c => Box(c.Get<MappingService>().SetExportAsync(c.User, c.A.IntegrationId, c.A.TenantId, false)), takesIds: true),
        Editors("MappingService.ClearAsync(user)", c => Box(c.Get<MappingService>().ClearAsync(c.User, c.A.IntegrationId, c.A.TenantId, confirmed: true)), takesIds: true),
        Editors("MappingService.SuggestAsync(user)", c => Box(c.Get<MappingService>().SuggestAsync(c.User, c.A.IntegrationId)), takesIds: true),
        Editors("MappingService.AcceptAsync(user)", c => Box(c.Get<MappingService>().AcceptAsync(c.User, c.A.IntegrationId, [c.A.TenantId])), takesIds: true),
        Editors("MappingService.AcceptAboveAsync(user)", c => Box(c.Get<MappingService>().AcceptAboveAsync(c.User, c.A.IntegrationId, 0)), takesIds: true),
        Editors("MappingService.RejectAsync(user)", c => Box(c.Get<MappingService>().RejectAsync(c.User, c.A.IntegrationId, [c.A.TenantId])), takesIds: true),
        Editors("MappingService.RejectAboveAsync(user)", c => Box(c.Get<MappingService>().RejectAboveAsync(c.User, c.A.IntegrationId, 0)), takesIds: true),
        Editors("MappingService.SetProductAsync(user)", c => Box(c.Get<MappingService>().SetProductAsync(c.User, c.A.IntegrationId, c.A.ProductId, 300)), takesIds: true),
        Editors("MappingService.AcceptProductSuggestionsAsync(user)", c => Box(c.Get<MappingService>().AcceptProductSuggestionsAsync(c.User, c.A.IntegrationId)), takesIds: true),

        // Permissions, reference data
        Editors("PermissionVerification.StartAsync(user)", c => Box(c.Get<PermissionVerification>().StartAsync(c.User, PsaVendor.ConnectWise))),
        Read("PermissionVerification.LatestAsync"),
        Read("PsaReferenceSync.IsRunning", "whether a sync of one of the page's own integrations runs; a yes or no"),
        Trusted("PsaReferenceSync.SyncAsync", "the reference sync job, per integration"),
        Read("PsaReferenceSync.StatesAsync", "the dashboard asks for its own organization's integrations"),
        Read("ReferenceSyncJobs.IsRunning", "whether a sync of one of the page's own integrations runs; a yes or no"),
        Trusted("ReferenceSyncJobs.TriggerAsync", "after Save, inside IntegrationService, with the user's own integration"),
        Editors("ReferenceSyncJobs.TriggerAsync(user)", c => Box(c.Get<ReferenceSyncJobs>().TriggerAsync(c.User, PsaVendor.ConnectWise, CancellationToken.None))),

        // Platform data
        Read("PlatformData.ListTenantsAsync"),
        Read("PlatformData.FindTenantAsync"),
        Read("PlatformData.ListProductsAsync"),
        Read("PlatformData.FindProductAsync"),
        Read("PlatformData.CurrentUsageAsync"),
        Read("PlatformData.UsageHistoryAsync"),
        Read("PlatformData.ListIncidentsAsync"),
        Read("PlatformData.FindIncidentAsync"),
        Read("PlatformData.ListInvoiceLinesAsync"),
        Read("PlatformData.FindInvoiceLineAsync"),
        Read("PlatformData.TenantRowsAsync"),
        Read("PlatformData.AllTenantRowsAsync"),
        Read("PlatformData.AllProductsAsync"),
        Editors("PlatformImport.PreviewAsync(user)", c => Box(c.Get<PlatformImport>().PreviewAsync(c.User, CsvImportKind.Tenants, "tenants.csv",
            "externalId,name\nt-9,Matrix Tenant\n"u8.ToArray()))),
        Editors("PlatformImport.ImportAsync(user)", async c =>
        {
            var preview = await c.Get<PlatformImport>().PreviewAsync(c.AdminOfA, CsvImportKind.Tenants, "tenants.csv", "externalId,name\nt-9,Matrix Tenant\n"u8.ToArray());
            return await c.Get<PlatformImport>().ImportAsync(c.User, preview, validRowsOnly: true);
        }),

        // Identity, users
        Read("SetupService.IsSetUpAsync", "whether the first run is done; a yes or no"),
        new("SetupService.CreateFirstAdminAsync", Access.FirstRunOnly, c => Box(c.Get<SetupService>().CreateFirstAdminAsync("Intruder MSP", "intruder@evil.example", "Correct-Horse-42"))),
        Admins("UserDirectory.ListAsync(user)", c => Box(c.Get<UserDirectory>().ListAsync(c.User))),
        Admins("UserDirectory.AddAsync(user)", c => Box(c.Get<UserDirectory>().AddAsync(c.User, "intruder@northwind.example", PortalRoles.Admin))),
        Admins("UserDirectory.UnlockAsync(user)", c => Box(c.Get<UserDirectory>().UnlockAsync(c.User, c.A.SalesUserId)), takesIds: true),
        Admins("UserDirectory.RemoveAsync(user)", c => Box(c.Get<UserDirectory>().RemoveAsync(c.User, c.A.SalesUserId)), takesIds: true),
        Trusted("UserDirectory.ListAsync", "seeding and tests name the organization; the Users page calls ListAsync(user)"),
        Trusted("UserDirectory.AddAsync", "seeding and tests name the organization; the Users page calls AddAsync(user)"),
        Trusted("UserDirectory.UnlockAsync", "tests name the organization; the Users page calls UnlockAsync(user)"),
        Trusted("UserDirectory.RemoveAsync", "tests name the organization; the Users page calls RemoveAsync(user)"),

        // Ticket engine and billing engine entry points on types pages use.
        Trusted("TicketSync.RequestAsync", "the ingest and the jobs, per integration"),
        Trusted("TicketSync.RequestForOrganizationAsync", "the ingest, for the API key's organization"),
        Trusted("TicketSync.EnabledIntegrationsAsync", "the ticket jobs"),
        Trusted("TicketSync.RunAsync", "the ticket job, per integration"),
        Trusted("SystemLogQuery.DeleteOlderThanAsync", "the nightly retention job"),
        Read("SystemLogQuery.QueryAsync"),
    ];

    [Fact]
    public void EveryServiceMethod_PagesCanReach_HasARule()
    {
        var found = ServiceMethods().Select(m => KeyOf(m)).Distinct().ToList();
        var missing = found.Where(k => Rules.All(r => r.Method != k)).Order().ToList();
        var stale = Rules.Select(r => r.Method).Where(k => !found.Contains(k)).ToList();

        Assert.True(missing.Count == 0,
            "These service methods are reachable from pages but have no row in the authorization matrix. Add one to AuthorizationMatrixServiceTests.Rules "
            + "(Read, Editors or Admins with a probe, or Trusted when no component may call it):\n  " + string.Join("\n  ", missing));
        Assert.True(stale.Count == 0, "These rows match no service method any more; remove or correct them:\n  " + string.Join("\n  ", stale));
    }

    [Fact]
    public void NoComponent_CallsATrustedMethod()
    {
        var trusted = Rules.Where(r => r.Access == Access.Trusted).Select(r => r.Method).ToHashSet();
        var calls = ComponentCalls().Where(c => trusted.Contains(KeyOf(c.Callee))).Select(c => $"{c.Caller} calls {KeyOf(c.Callee)}").Distinct().ToList();

        Assert.True(calls.Count == 0,
            "Components call methods that trust their caller with the organization; call the overload that takes the signed-in user:\n  " + string.Join("\n  ", calls));
    }

    [Fact]
    public async Task EveryChange_RefusedRolesAndAnotherOrganization_AreRefusedAndChangeNothing()
    {
        var failures = new List<string>();
        var table = new List<string>();
        foreach (var rule in Rules.Where(r => r.Probe is not null))
        {
            var refused = rule.Access switch
            {
                Access.Editors => new[] { (MatrixRole.Sales.ToString(), portal.Principal(MatrixRole.Sales)) },
                Access.Admins => [(MatrixRole.FullMember.ToString(), portal.Principal(MatrixRole.FullMember)), (MatrixRole.Sales.ToString(), portal.Principal(MatrixRole.Sales))],
                _ => [(MatrixRole.Admin.ToString(), portal.Principal(MatrixRole.Admin)), (MatrixRole.Sales.ToString(), portal.Principal(MatrixRole.Sales))],
            };
            if (rule.TakesIds)
            {
                refused = [.. refused, ("Admin of organization B", portal.ForeignAdmin)];
            }

            foreach (var (who, user) in refused)
            {
                var before = await portal.SnapshotAsync();
                object? result;
                try
                {
                    result = await rule.Probe!(new MatrixCall(user, portal.A, portal.Factory.Services, portal.Principal(MatrixRole.Admin)));
                }
                catch (Exception e) when (e is UnauthorizedAccessException or InvalidOperationException)
                {
                    result = e;
                }

                var after = await portal.SnapshotAsync();
                var (wasRefused, message) = Refusal(result);
                table.Add($"{rule.Method} as {who}: {(wasRefused ? "refused" : "ALLOWED")} — {message}");
                if (!wasRefused)
                {
                    failures.Add($"{rule.Method} as {who} was not refused: {message}");
                }

                if (before != after)
                {
                    failures.Add($"{rule.Method} as {who} changed the database:\n{Difference(before, after)}");
                }
            }
        }

        output.WriteLine(string.Join("\n", table));
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Reads_WithAnotherOrganizationsIds_FindNothing()
    {
        var a = portal.A;
        var b = portal.B;
        var services = portal.Factory.Services;
        var sales = portal.Principal(MatrixRole.Sales);

        Assert.Null(await services.GetRequiredService<IBillingRunQueries>().GetRunAsync(a.Id, b.RunId));
        Assert.Equal(0, (await services.GetRequiredService<IBillingRunQueries>().ListItemsAsync(a.Id, b.RunId, null, null, 0, 50, null)).Count);
        Assert.Equal(0, (await services.GetRequiredService<IBillingRunQueries>().ListRunsAsync(a.Id, b.IntegrationId, 0, 50)).Count);
        Assert.Empty(await services.GetRequiredService<TicketQueries>().ForIncidentAsync(a.Id, b.IncidentId));
        Assert.Equal(0, (await services.GetRequiredService<TicketQueries>().ListAsync(a.Id, new TicketFilter(Search: AuthorizationMatrixPortal.ForeignMarker), 0, 50)).TotalCount);
        Assert.Equal(0, (await services.GetRequiredService<MappingService>().ListAsync(sales, b.IntegrationId, new MappingQuery())).TotalCount);
        Assert.Empty(await services.GetRequiredService<MappingService>().ListProductsAsync(sales, b.IntegrationId));
        Assert.Empty(await services.GetRequiredService<MappingService>().PsaProductsAsync(sales, b.IntegrationId));
        Assert.Empty(await services.GetRequiredService<MappingService>().AgreementsOfAsync(sales, b.IntegrationId, 100));
        Assert.Empty((await services.GetRequiredService<MappingService>().SearchCompaniesAsync(sales, b.IntegrationId, null)).Items);
        Assert.DoesNotContain(await services.GetRequiredService<MappingService>().IntegrationsAsync(sales), i => i.Id == b.IntegrationId);
        Assert.Empty(await services.GetRequiredService<UserDirectory>().ListAsync(portal.Principal(MatrixRole.Sales)));
        Assert.DoesNotContain(await services.GetRequiredService<UserDirectory>().ListAsync(portal.Principal(MatrixRole.Admin)), u => u.Email.Contains("zebra", StringComparison.Ordinal));
        Assert.Empty(await services.GetRequiredService<ApiKeyService>().ListAsync(portal.Principal(MatrixRole.FullMember)));
        Assert.Equal(["Northwind key"], (await services.GetRequiredService<ApiKeyService>().ListAsync(portal.Principal(MatrixRole.Admin))).Select(k => k.Name));
        Assert.Null(await services.GetRequiredService<InvoiceExportRuns>().GetLogAsync(sales, b.ExportId));
        Assert.NotNull(await services.GetRequiredService<InvoiceExportRuns>().GetLogAsync(sales, a.ExportId));
        await services.GetRequiredService<AuditLog>().RecordAsync(a.Id, Actor.Portal, "Matrix audit probe", a.Marker);
        Assert.Contains((await services.GetRequiredService<AuditLog>().QueryAsync(portal.Principal(MatrixRole.Admin), 0, 50, "Matrix audit probe")).Items, e => e.OrganizationId == a.Id);
        Assert.Empty((await services.GetRequiredService<AuditLog>().QueryAsync(portal.ForeignAdmin, 0, 50, "Matrix audit probe")).Items);
        var lines = await services.GetRequiredService<InvoiceLineQueries>().GetAsync(sales, new DateOnly(2026, 11, 1));
        Assert.DoesNotContain(AuthorizationMatrixPortal.ForeignMarker, System.Text.Json.JsonSerializer.Serialize(lines), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Every method of the feature types pages reach: what components inject, and any type with a method taking the
    /// signed-in user. A class's methods that implement an interface in the set are covered by the interface's row.
    /// </summary>
    private static IEnumerable<MethodInfo> ServiceMethods()
    {
        var injected = Portal.GetTypes().Where(t => typeof(IComponent).IsAssignableFrom(t))
            .SelectMany(t => t.GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            .Where(p => p.IsDefined(typeof(InjectAttribute), inherit: true))
            .Select(p => p.PropertyType);
        var takingUser = Portal.GetTypes().Where(t => !t.IsNested && Methods(t).Any(m => m.GetParameters().Any(p => p.ParameterType == typeof(ClaimsPrincipal))));
        var types = injected.Concat(takingUser)
            .Where(t => t.Namespace?.StartsWith("PsaPortal.Web.Features", StringComparison.Ordinal) == true && !typeof(IComponent).IsAssignableFrom(t))
            .Where(t => !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute)) && !IsRecord(t) && !t.IsEnum && !t.IsValueType)
            .Distinct().ToList();
        foreach (var type in types)
        {
            var covered = type.IsInterface
                ? []
                : type.GetInterfaces().Where(types.Contains).SelectMany(i => type.GetInterfaceMap(i).TargetMethods).ToHashSet();
            foreach (var method in Methods(type).Where(m => !covered.Contains(m)))
            {
                yield return method;
            }
        }
    }

    private static IEnumerable<MethodInfo> Methods(Type type) =>
        type.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .Where(m => (m.IsPublic || m.IsAssembly || type.IsInterface) && !m.IsSpecialName && !m.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute)));

    private static bool IsRecord(Type type) => type.GetMethod("<Clone>$") is not null;

    private static string KeyOf(MethodBase method) =>
        $"{method.DeclaringType!.Name}.{method.Name}" + (method.GetParameters().FirstOrDefault()?.ParameterType == typeof(ClaimsPrincipal) ? "(user)" : "");

    /// <summary>Every method call in the compiled components (their async state machines and lambdas included).</summary>
    private static IEnumerable<(string Caller, MethodBase Callee)> ComponentCalls()
    {
        var components = Portal.GetTypes().Where(t => typeof(IComponent).IsAssignableFrom(t)).ToList();
        foreach (var type in Portal.GetTypes().Where(t => components.Any(c => t == c || IsNestedIn(t, c))))
        {
            foreach (var method in type.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                foreach (var callee in Calls(method))
                {
                    yield return (Outermost(type).Name, callee);
                }
            }
        }
    }

    private static bool IsNestedIn(Type type, Type outer) => type.DeclaringType is { } parent && (parent == outer || IsNestedIn(parent, outer));

    private static Type Outermost(Type type) => type.DeclaringType is { } parent ? Outermost(parent) : type;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    private static IEnumerable<MethodBase> Calls(MethodInfo method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        var position = 0;
        while (position < il.Length)
        {
            short value = il[position] == 0xFE ? (short)(0xFE00 | il[position + 1]) : il[position];
            position += il[position] == 0xFE ? 2 : 1;
            var opCode = OpCodesByValue[value];
            var operandSize = opCode.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, position),
                _ => 4,
            };
            if (opCode.OperandType == OperandType.InlineMethod)
            {
                MethodBase? callee = null;
                try
                {
                    callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, position), method.DeclaringType!.GetGenericArguments(),
                        method.IsGenericMethod ? method.GetGenericArguments() : null);
                }
                catch (ArgumentException)
                {
                }

                if (callee?.DeclaringType is { } declaring && declaring.Assembly == Portal)
                {
                    yield return callee;
                }
            }

            position += operandSize;
        }
    }

    private static (bool Refused, string Message) Refusal(object? result)
    {
        switch (result)
        {
            case null:
                return (true, "nothing (null)");
            case Exception e:
                return (true, $"{e.GetType().Name}: {e.Message}");
            case AuditPage page:
                return (page.Items.Count == 0 && page.TotalCount == 0, $"{page.TotalCount} audit entries");
            case ImportPreview preview:
                return (preview.FileError is not null && preview.Rows.Count == 0, preview.FileError ?? $"{preview.Rows.Count} rows");
            case IEnumerable items and not string:
                var count = items.Cast<object>().Count();
                return (count == 0, $"{count} items");
        }

        var type = result.GetType();
        var flag = new[] { "Succeeded", "Accepted", "Started" }.Select(n => type.GetProperty(n)).FirstOrDefault(p => p?.PropertyType == typeof(bool))
            ?? throw new InvalidOperationException($"The matrix cannot tell whether a {type.Name} is a refusal; teach AuthorizationMatrixServiceTests.Refusal.");
        var message = type.GetProperty("Message")?.GetValue(result) as string
            ?? (type.GetProperty("Errors")?.GetValue(result) as IEnumerable<string> is { } errors ? string.Join(" ", errors) : "");
        return (!(bool)flag.GetValue(result)!, message);
    }

    private static string Difference(string before, string after)
    {
        var old = before.Split('\n').ToHashSet();
        var now = after.Split('\n').ToHashSet();
        return string.Join("\n", old.Except(now).Select(l => "- " + l).Concat(now.Except(old).Select(l => "+ " + l)).Take(20));
    }
}

internal static class MatrixForms
{
    public static ConnectWiseLinkForm ConnectWise() => new()
    {
        SiteUrl = "https://na.myconnectwise.net", CompanyId = "intruderco", PublicKey = "IntruderPublic", PrivateKey = "IntruderPrivate",
    };

    public static AutotaskLinkForm Autotask() => new() { UserName = "intruder@evil.example", Secret = "IntruderSecret", IntegrationCode = "INTRUDERCODE" };
}
