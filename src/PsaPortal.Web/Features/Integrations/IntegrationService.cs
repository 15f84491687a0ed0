using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Permissions;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Live;
using Quartz;

namespace PsaPortal.Web.Features.Integrations;

/// <summary>The <c>Psa</c> configuration section.</summary>
public sealed class PsaOptions
{
    public const string SectionName = "Psa";

    /// <summary>PsaPortal's ConnectWise integrator clientId (developer.connectwise.com).</summary>
    public string ConnectWiseClientId { get; set; } = "6f2d0c55-8b4e-4f49-9a77-2f3c1e0d9b61";

    /// <summary>Where Autotask zone discovery is asked for real Autotask users.</summary>
    public string AutotaskZoneDiscoveryUrl { get; set; } = "https://webservices2.autotask.net/atservicesrest/";

    /// <summary>
    /// Requests per minute per ConnectWise connection; beyond it calls wait their turn instead of meeting 429. The
    /// default stays under the throttling threshold ConnectWise documents for cloud sites.
    /// </summary>
    public int ConnectWiseRequestsPerMinute { get; set; } = new ConnectWiseOptions().RequestsPerMinute;
}

/// <summary>
/// Links, tests, disconnects and deletes an organization's PSA integrations. Every method names the organization; an
/// integration of another organization is never found.
/// </summary>
public sealed class IntegrationService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IPsaClientFactory clients,
    IntegrationSecrets secrets,
    SiteAddressPolicy sitePolicy,
    AuditLog audit,
    IPortalEventStream events,
    IntegrationSchedules schedules,
    IOptions<PsaOptions> psaOptions,
    TimeProvider time,
    ILogger<IntegrationService> logger)
{
    public const string TestSucceeded = "Test is successful.";
    public const string TestFailed = "Test is not successful.";
    public const string NotEstablished = "Connection was not established. Please validate settings information.";

    public async Task<Integration?> FindAsync(Guid organizationId, PsaVendor vendor, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.OrganizationId == organizationId && i.Vendor == vendor, cancellationToken);
    }

    public async Task<IReadOnlyList<Integration>> ListAsync(Guid organizationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Integrations.AsNoTracking().Where(i => i.OrganizationId == organizationId).ToListAsync(cancellationToken);
    }

    public const string AdminsOnly = "Only Admins can link a PSA or test its credentials.";
    public const string EditorsOnly = "Sales users cannot change integrations.";

    public Task<LinkResult> TestConnectWiseAsync(ClaimsPrincipal user, ConnectWiseLinkForm form, CancellationToken cancellationToken = default) =>
        LinkAsync(user, PsaVendor.ConnectWise, (organizationId, stored) => BuildConnectWise(organizationId, form, stored),
            connection => ConfirmConnectWiseAsync(connection, cancellationToken), store: null, auditDetails: null, cancellationToken);

    public Task<LinkResult> TestAutotaskAsync(ClaimsPrincipal user, AutotaskLinkForm form, Uri portalBaseUri, CancellationToken cancellationToken = default) =>
        LinkAsync(user, PsaVendor.Autotask, (organizationId, stored) => BuildAutotask(organizationId, form, stored, portalBaseUri),
            connection => ConfirmAutotaskAsync(connection, cancellationToken), store: null, auditDetails: null, cancellationToken);

    /// <summary>Tests first; stores nothing unless the PSA accepted the credentials.</summary>
    public Task<LinkResult> SaveConnectWiseAsync(ClaimsPrincipal user, ConnectWiseLinkForm form, CancellationToken cancellationToken = default) =>
        LinkAsync(user, PsaVendor.ConnectWise, (organizationId, stored) => BuildConnectWise(organizationId, form, stored),
            connection => ConfirmConnectWiseAsync(connection, cancellationToken),
            (integration, connection) =>
            {
                integration.SiteUrl = form.SiteUrl.Trim();
                integration.CompanyId = form.CompanyId.Trim();
                integration.PublicKey = form.PublicKey.Trim();
                integration.ProtectedPrivateKey = secrets.Protect(connection.PrivateKey);
            },
            $"Site {form.SiteUrl.Trim()}, company {form.CompanyId.Trim()}", cancellationToken);

    public Task<LinkResult> SaveAutotaskAsync(ClaimsPrincipal user, AutotaskLinkForm form, Uri portalBaseUri, CancellationToken cancellationToken = default) =>
        LinkAsync(user, PsaVendor.Autotask, (organizationId, stored) => BuildAutotask(organizationId, form, stored, portalBaseUri),
            connection => ConfirmAutotaskAsync(connection, cancellationToken),
            (integration, connection) =>
            {
                integration.UserName = form.UserName.Trim();
                integration.ProtectedSecret = secrets.Protect(connection.Secret);
                integration.ProtectedIntegrationCode = secrets.Protect(connection.IntegrationCode);
                integration.ZoneDiscoveryUrl = form.UseSandbox ? connection.ZoneDiscoveryUrl.AbsoluteUri : null;
            },
            $"API user {form.UserName.Trim()}", cancellationToken);

    /// <summary>Clears the credentials (the private key or secret is gone for good) and marks the integration Not Connected.</summary>
    public async Task<LinkResult> DisconnectAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default)
    {
        if (!user.IsEditor())
        {
            return LinkResult.Failed(EditorsOnly);
        }

        var (organizationId, actor) = (OrganizationOf(user), Actor.From(user));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await db.Integrations.SingleOrDefaultAsync(i => i.OrganizationId == organizationId && i.Vendor == vendor, cancellationToken);
        if (integration is null)
        {
            return LinkResult.Failed($"{vendor} is not linked.");
        }

        integration.ProtectedPrivateKey = null;
        integration.ProtectedSecret = null;
        integration.ProtectedIntegrationCode = null;
        integration.Status = IntegrationStatus.NotConnected;
        integration.ConnectedAt = null;
        integration.UpdatedAt = time.GetUtcNow();
        integration.UpdatedBy = actor.Name;
        await db.SaveChangesAsync(cancellationToken);
        await UpdateSchedulesAsync(integration.Id, "pause", () => schedules.PauseAsync(integration.Id, actor.Name, CancellationToken.None));
        await audit.RecordAsync(organizationId, actor, "Integration disconnected", vendor.ToString(), cancellationToken: cancellationToken);
        Announce(organizationId, vendor, "disconnected");
        return new LinkResult(true, "Integration disconnected successfully.");
    }

    public const string DeleteRefused = "Only Admins can delete an integration.";

    /// <summary>
    /// Removes the integration and everything tied to it, in one transaction; Admins only. The audit trail keeps the deletion.
    /// </summary>
    public async Task<LinkResult> DeleteAsync(ClaimsPrincipal user, PsaVendor vendor, CancellationToken cancellationToken = default)
    {
        var (organizationId, actor) = (OrganizationOf(user), Actor.From(user));
        if (!user.IsInRole(PortalRoles.Admin))
        {
            await audit.RecordAsync(organizationId, actor, "Integration deletion refused", vendor.ToString(), DeleteRefused, cancellationToken);
            return LinkResult.Failed(DeleteRefused);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integrationId = await db.Integrations.Where(i => i.OrganizationId == organizationId && i.Vendor == vendor).Select(i => (Guid?)i.Id).SingleOrDefaultAsync(cancellationToken);
        if (integrationId is null)
        {
            return LinkResult.Failed($"{vendor} is not linked.");
        }

        // Its triggers go first and a sync of it is told to stop, so no job writes rows for it while they are removed.
        await UpdateSchedulesAsync(integrationId.Value, "remove", () => schedules.RemoveAsync(integrationId.Value, CancellationToken.None));
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        // The cached PSA reference data, its sync states and the mappings go with the row through their foreign keys (cascade).
        if (await db.Integrations.Where(i => i.Id == integrationId).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            return LinkResult.Failed($"{vendor} is not linked.");
        }

        // Everything else tied to the integration goes in the same transaction; add each new table here.
        await db.PermissionRuns.Where(r => r.OrganizationId == organizationId && r.Vendor == vendor).ExecuteDeleteAsync(cancellationToken);
        await db.SystemLog.Where(e => e.OrganizationId == organizationId && e.Vendor == vendor.ToString()).ExecuteDeleteAsync(cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        await audit.RecordAsync(organizationId, actor, "Integration deleted", vendor.ToString(), "Credentials and every setting of the integration removed", cancellationToken);
        Announce(organizationId, vendor, "deleted");
        return new LinkResult(true, "Integration deleted.");
    }

    /// <summary>The permission catalog of a linked integration, on a client built from its stored credentials.</summary>
    public IPermissionCatalog CatalogFor(Integration integration) => integration.Vendor switch
    {
        PsaVendor.ConnectWise => new ConnectWisePermissionCatalog(ConnectWiseApiFor(integration)),
        PsaVendor.Autotask => new AutotaskPermissionCatalog(AutotaskApiFor(integration)),
        _ => throw new InvalidOperationException($"Unknown PSA {integration.Vendor}."),
    };

    /// <summary>
    /// The ConnectWise client of a linked integration, built from its stored credentials: the one place stored
    /// credentials become a client. Ask per operation; the factory hands back the same client while it is in use.
    /// </summary>
    public IConnectWiseApi ConnectWiseApiFor(Integration integration)
    {
        EnsureLinked(integration, PsaVendor.ConnectWise);
        return clients.CreateConnectWise(new ConnectWiseConnection(IntegrationConnectionName.For(integration.OrganizationId, integration.Vendor),
            integration.SiteUrl!, integration.CompanyId!, integration.PublicKey!, secrets.Unprotect(integration.ProtectedPrivateKey!), psaOptions.Value.ConnectWiseClientId)
        {
            AllowInsecureHttp = sitePolicy.AllowsLoopbackSandbox,
        });
    }

    /// <inheritdoc cref="ConnectWiseApiFor"/>
    public IAutotaskApi AutotaskApiFor(Integration integration)
    {
        EnsureLinked(integration, PsaVendor.Autotask);
        return clients.CreateAutotask(new AutotaskConnection(IntegrationConnectionName.For(integration.OrganizationId, integration.Vendor),
            integration.UserName!, secrets.Unprotect(integration.ProtectedSecret!), secrets.Unprotect(integration.ProtectedIntegrationCode!))
        {
            ZoneDiscoveryUrl = new Uri(integration.ZoneDiscoveryUrl ?? psaOptions.Value.AutotaskZoneDiscoveryUrl),
            AllowInsecureHttp = integration.ZoneDiscoveryUrl is not null && sitePolicy.AllowsLoopbackSandbox,
        });
    }

    private static void EnsureLinked(Integration integration, PsaVendor vendor)
    {
        if (integration.Vendor != vendor)
        {
            throw new InvalidOperationException($"The integration is {integration.Vendor}, not {vendor}.");
        }

        if (!integration.HasCredentials)
        {
            throw new InvalidOperationException($"{integration.Vendor} has no stored credentials.");
        }
    }

    /// <summary>
    /// Test and Save, for either PSA: Admins only; the form is checked, the PSA is asked, and only when it answers and
    /// <paramref name="store"/> is given are the credentials stored, audited and announced.
    /// </summary>
    private async Task<LinkResult> LinkAsync<TConnection>(
        ClaimsPrincipal user,
        PsaVendor vendor,
        Func<Guid, Integration?, (TConnection? Connection, string? Error)> build,
        Func<TConnection, Task<string>> confirm,
        Action<Integration, TConnection>? store,
        string? auditDetails,
        CancellationToken cancellationToken)
        where TConnection : class
    {
        if (!user.IsInRole(PortalRoles.Admin))
        {
            return LinkResult.Failed(AdminsOnly);
        }

        var organizationId = OrganizationOf(user);
        var failed = store is null ? TestFailed : NotEstablished;
        var (connection, error) = build(organizationId, await FindAsync(organizationId, vendor, cancellationToken));
        if (connection is null)
        {
            return LinkResult.Failed($"{failed} {error}");
        }

        var (version, failure) = await ProbeAsync(() => confirm(connection));
        if (version is null)
        {
            return LinkResult.Failed($"{failed} {failure}");
        }

        if (store is null)
        {
            return new LinkResult(true, TestSucceeded);
        }

        var actor = Actor.From(user);
        var integrationId = await UpsertAsync(organizationId, vendor, actor, version, integration => store(integration, connection), cancellationToken);
        await UpdateSchedulesAsync(integrationId, "activate", () => schedules.ActivateAsync(integrationId, actor.Name, CancellationToken.None));
        await audit.RecordAsync(organizationId, actor, "Integration linked", vendor.ToString(), auditDetails, cancellationToken);
        Announce(organizationId, vendor, "linked");
        return new LinkResult(true, $"{vendor} is linked.");
    }

    private void Announce(Guid organizationId, PsaVendor vendor, string change) =>
        events.Publish(new IntegrationChanged(organizationId, time.GetUtcNow(), vendor, change));

    private static Guid OrganizationOf(ClaimsPrincipal user) =>
        user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");

    // The pages validate too, but the service is the boundary: nothing reaches a PSA or the database unchecked.
    private static string? ValidateForm(object form)
    {
        var results = new List<ValidationResult>();
        return Validator.TryValidateObject(form, new ValidationContext(form), results, validateAllProperties: true)
            ? null
            : string.Join(" ", results.Select(r => r.ErrorMessage));
    }

    private (ConnectWiseConnection? Connection, string? Error) BuildConnectWise(Guid organizationId, ConnectWiseLinkForm form, Integration? stored)
    {
        if (ValidateForm(form) is { } invalid)
        {
            return (null, invalid);
        }

        Uri site;
        try
        {
            site = ConnectWiseSite.Normalize(form.SiteUrl, allowInsecureHttp: sitePolicy.AllowsLoopbackSandbox);
        }
        catch (PsaException exception)
        {
            return (null, exception.Message);
        }

        // The typed address too: normalising drops parts (such as user info) that must be refused, not ignored.
        var typed = Uri.TryCreate(form.SiteUrl.Contains("://", StringComparison.Ordinal) ? form.SiteUrl.Trim() : "https://" + form.SiteUrl.Trim(), UriKind.Absolute, out var uri) ? uri : site;
        if ((sitePolicy.Validate(typed) ?? sitePolicy.Validate(site)) is { } siteProblem)
        {
            return (null, siteProblem);
        }

        var privateKey = !string.IsNullOrEmpty(form.PrivateKey)
            ? form.PrivateKey
            : stored?.ProtectedPrivateKey is { } protectedKey ? secrets.Unprotect(protectedKey) : null;
        if (privateKey is null)
        {
            return (null, "Enter the API member's Private Key.");
        }

        var connection = new ConnectWiseConnection(IntegrationConnectionName.For(organizationId, PsaVendor.ConnectWise), form.SiteUrl.Trim(), form.CompanyId.Trim(),
            form.PublicKey.Trim(), privateKey, psaOptions.Value.ConnectWiseClientId)
        {
            AllowInsecureHttp = sitePolicy.AllowsLoopbackSandbox,
        };
        return (connection, null);
    }

    private (AutotaskConnection? Connection, string? Error) BuildAutotask(Guid organizationId, AutotaskLinkForm form, Integration? stored, Uri portalBaseUri)
    {
        if (ValidateForm(form) is { } invalid)
        {
            return (null, invalid);
        }

        if (form.UseSandbox && !sitePolicy.AllowsLoopbackSandbox)
        {
            return (null, "The built-in sandbox is not enabled on this portal.");
        }

        var secret = !string.IsNullOrEmpty(form.Secret) ? form.Secret
            : stored?.ProtectedSecret is { } protectedSecret ? secrets.Unprotect(protectedSecret) : null;
        var code = !string.IsNullOrEmpty(form.IntegrationCode) ? form.IntegrationCode
            : stored?.ProtectedIntegrationCode is { } protectedCode ? secrets.Unprotect(protectedCode) : null;
        if (secret is null)
        {
            return (null, "Enter the API user's Secret.");
        }

        if (code is null)
        {
            return (null, "Enter the API Tracking Identifier.");
        }

        var discovery = form.UseSandbox
            ? new Uri(portalBaseUri, "sandbox/autotask/atservicesrest/")
            : new Uri(psaOptions.Value.AutotaskZoneDiscoveryUrl);
        return (new AutotaskConnection(IntegrationConnectionName.For(organizationId, PsaVendor.Autotask), form.UserName.Trim(), secret, code)
        {
            ZoneDiscoveryUrl = discovery,
            AllowInsecureHttp = form.UseSandbox,
        }, null);
    }

    private async Task<string> ConfirmConnectWiseAsync(ConnectWiseConnection connection, CancellationToken cancellationToken)
    {
        var info = await clients.CreateConnectWise(connection).GetSystemInfoAsync(cancellationToken);
        return $"ConnectWise {info.Version}";
    }

    private async Task<string> ConfirmAutotaskAsync(AutotaskConnection connection, CancellationToken cancellationToken)
    {
        await clients.CreateAutotask(connection).GetThresholdInformationAsync(cancellationToken);
        return "Autotask REST v1.0";
    }

    // The PSA's own words for an admin; anything unexpected is logged and said plainly, never with a stack trace.
    private async Task<(string? Version, string? Failure)> ProbeAsync(Func<Task<string>> probe)
    {
        try
        {
            return (await probe(), null);
        }
        catch (PsaException exception)
        {
            return (null, exception.Message);
        }
        catch (HttpRequestException exception)
        {
            logger.LogWarning(exception, "PSA connection test failed before an answer arrived");
            return (null, "The PSA could not be reached: " + exception.Message);
        }
    }

    private async Task<Guid> UpsertAsync(Guid organizationId, PsaVendor vendor, Actor actor, string version, Action<Integration> apply, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var integration = await db.Integrations.SingleOrDefaultAsync(i => i.OrganizationId == organizationId && i.Vendor == vendor, cancellationToken);
        if (integration is null)
        {
            integration = new Integration { OrganizationId = organizationId, Vendor = vendor };
            db.Integrations.Add(integration);
        }

        apply(integration);
        var now = time.GetUtcNow();
        integration.Status = IntegrationStatus.Connected;
        integration.ApiVersion = version;
        integration.ConnectedAt = now;
        integration.UpdatedAt = now;
        integration.UpdatedBy = actor.Name;
        await db.SaveChangesAsync(cancellationToken);
        return integration.Id;
    }

    // The database change is made and stays made: a scheduler that refuses is logged, and start-up reconciles it.
    private async Task UpdateSchedulesAsync(Guid integrationId, string change, Func<Task> update)
    {
        try
        {
            await update();
        }
        catch (SchedulerException exception)
        {
            logger.LogError(exception, "Could not {Change} the schedules of integration {IntegrationId}; they are reconciled at the next start", change, integrationId);
        }
    }
}
