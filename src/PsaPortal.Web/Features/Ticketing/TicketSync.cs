using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Psa;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Mapping;
using PsaPortal.Web.Features.Platform;
using PsaPortal.Web.Features.SystemLogs;
using PsaPortal.Web.Infrastructure;
using Quartz;

namespace PsaPortal.Web.Features.Ticketing;

/// <summary>The <c>Ticketing</c> configuration section, as the engine reads it.</summary>
public sealed class TicketSyncOptions
{
    public const string SectionName = "Ticketing";

    /// <summary>PSA calls one integration's ticketing makes at once (1–32); the clients' request budgets pace them further.</summary>
    public int MaxConcurrentCalls { get; set; } = 4;

    /// <summary>
    /// After a creation whose outcome is unknown, how long a lookup that finds no ticket waits before a creation is sent
    /// again, so that a creation the PSA is still working on is found rather than duplicated.
    /// </summary>
    public TimeSpan UnknownOutcomeWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><c>Portal:PublicUrl</c>: where tickets link back to.</summary>
    public Uri? PublicUrl { get; set; }
}

/// <summary>
/// Turns incidents into PSA tickets, one <see cref="IncidentTicket"/> per incident and integration whose ticketing is on.
/// A pass for one integration admits new open incidents (Pending), marks changed ones (UpdatePending) and resolved ones
/// (ClosePending), then works every unfinished row a few at a time. Exactly once: a row is committed as Creating before
/// its creation is sent, and a Creating row is first looked up in the PSA by the external reference written on the
/// ticket; only when no ticket carries it is a creation sent. Passes run in Quartz (<see cref="TicketSyncJob"/>, a
/// one-shot trigger in the integration's group, so Disconnect pauses and Delete removes them); one pass per
/// integration at a time (across nodes too, <see cref="ClusterLocks"/>), and a request during a pass runs another pass after it.
/// </summary>
public sealed class TicketSync(
    IDbContextFactory<PortalDbContext> dbFactory,
    ITicketingSettings ticketingSettings,
    IntegrationService integrations,
    ISchedulerFactory schedulers,
    IPortalEventStream events,
    AuditLog audit,
    IJobLog jobLog,
    IOptions<TicketSyncOptions> options,
    ClusterLocks clusterLocks,
    TimeProvider time,
    ILogger<TicketSync> logger) : ITicketActions
{
    public const string JobName = "Ticketing";
    public const string StepCreate = "Create";
    public const string StepUpdate = "Update";
    public const string StepClose = "Close";
    public const string SalesRefused = "Sales users cannot retry tickets.";

    private readonly ConcurrentDictionary<Guid, Runner> _runners = new();

    /// <summary>Asks for a pass over the integration's incidents now (or at <paramref name="at"/>); kept if one is already asked for.</summary>
    public async Task RequestAsync(Guid integrationId, DateTimeOffset? at = null, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var name = at is { } due ? $"ticket-sync-at-{due.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}" : "ticket-sync-now";
        var builder = TriggerBuilder.Create()
            .WithIdentity(name, IntegrationSchedules.GroupOf(integrationId))
            .ForJob(TicketSyncJob.Key)
            .UsingJobData(TicketSyncJob.IntegrationIdKey, integrationId.ToString());
        builder = at is { } when ? builder.StartAt(when) : builder.StartNow();
        await scheduler.ScheduleTrigger(builder.Build(), TriggerConflict.Keep, cancellationToken);
    }

    /// <summary>Asks for a pass of every integration of the organization whose ticketing is on (new or changed incidents arrived).</summary>
    public async Task RequestForOrganizationAsync(Guid organizationId, CancellationToken cancellationToken = default)
    {
        foreach (var integrationId in await EnabledIntegrationsAsync(organizationId, cancellationToken))
        {
            await RequestAsync(integrationId, null, cancellationToken);
        }
    }

    /// <summary>Integrations (of one organization, or all) whose ticketing is switched on.</summary>
    public async Task<List<Guid>> EnabledIntegrationsAsync(Guid? organizationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await (from s in db.TicketingSettings
                      join i in db.Integrations on s.IntegrationId equals i.Id
                      where s.Enabled && (organizationId == null || i.OrganizationId == organizationId)
                      select i.Id).ToListAsync(cancellationToken);
    }

    /// <summary>Runs passes for the integration until no request is left; returns at once when a pass is already running here.</summary>
    public async Task RunAsync(Guid integrationId, CancellationToken cancellationToken)
    {
        var runner = _runners.GetOrAdd(integrationId, _ => new Runner());
        Interlocked.Increment(ref runner.Requests);
        while (runner.Gate.Wait(0))
        {
            try
            {
                // Clustered: a pass of the integration on another node ends first, so a row it is creating is never
                // looked up here before its ticket exists (which would create it a second time).
                await using var clusterLock = await clusterLocks.AcquireAsync($"ticket-pass:{integrationId}", cancellationToken);
                while (Interlocked.Exchange(ref runner.Requests, 0) > 0)
                {
                    await PassAsync(integrationId, cancellationToken);
                }
            }
            finally
            {
                runner.Gate.Release();
            }

            // A request that arrived between the last check and the release still gets its pass.
            if (Volatile.Read(ref runner.Requests) == 0)
            {
                return;
            }
        }
    }

    public async Task<TicketRequestResult> RetryAsync(ClaimsPrincipal user, long incidentTicketId, CancellationToken cancellationToken = default)
    {
        if (!user.IsEditor())
        {
            return TicketRequestResult.Refused(SalesRefused);
        }

        var organizationId = user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");
        IncidentTicket? row;
        string? incidentExternalId;
        PsaVendor vendor;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            row = await db.IncidentTickets.SingleOrDefaultAsync(t => t.Id == incidentTicketId && t.OrganizationId == organizationId, cancellationToken);
            if (row is null)
            {
                return TicketRequestResult.Refused("This ticket no longer exists.");
            }

            if (row.State != TicketState.Failed)
            {
                return TicketRequestResult.Refused("Only a failed ticket can be retried.");
            }

            Resume(row);
            await db.SaveChangesAsync(cancellationToken);
            incidentExternalId = await db.Incidents.Where(i => i.Id == row.IncidentId).Select(i => i.ExternalId).SingleOrDefaultAsync(cancellationToken);
            vendor = await db.Integrations.Where(i => i.Id == row.IntegrationId).Select(i => i.Vendor).SingleAsync(cancellationToken);
        }

        Publish(row, vendor);
        await audit.RecordAsync(organizationId, Actor.From(user), "Ticket retried", vendor.ToString(), $"Incident {incidentExternalId}", cancellationToken);
        await RequestAsync(row.IntegrationId, null, cancellationToken);
        return new TicketRequestResult(true, $"Retrying the {vendor.DisplayName()} ticket of incident {incidentExternalId}.");
    }

    public async Task<TicketRequestResult> RetryAllFailedAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (!user.IsEditor())
        {
            return TicketRequestResult.Refused(SalesRefused);
        }

        var organizationId = user.GetOrganizationId() ?? throw new InvalidOperationException("The user belongs to no organization.");
        List<IncidentTicket> rows;
        Dictionary<Guid, PsaVendor> vendors;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            rows = await db.IncidentTickets.Where(t => t.OrganizationId == organizationId && t.State == TicketState.Failed).ToListAsync(cancellationToken);
            if (rows.Count == 0)
            {
                return TicketRequestResult.Refused("No ticket has failed.");
            }

            rows.ForEach(Resume);
            await db.SaveChangesAsync(cancellationToken);
            vendors = await db.Integrations.Where(i => i.OrganizationId == organizationId).ToDictionaryAsync(i => i.Id, i => i.Vendor, cancellationToken);
        }

        foreach (var row in rows)
        {
            Publish(row, vendors[row.IntegrationId]);
        }

        await audit.RecordAsync(organizationId, Actor.From(user), "Failed tickets retried", null, $"{rows.Count} tickets", cancellationToken);
        foreach (var integrationId in rows.Select(r => r.IntegrationId).Distinct())
        {
            await RequestAsync(integrationId, null, cancellationToken);
        }

        return new TicketRequestResult(true, $"Retrying {rows.Count} failed {(rows.Count == 1 ? "ticket" : "tickets")}.");
    }

    /// <summary>
    /// Back to the step that failed. A failed creation is resumed as Creating, so the PSA is asked for the ticket first:
    /// whatever the failure was, a ticket it left behind is adopted, never duplicated.
    /// </summary>
    private void Resume(IncidentTicket row)
    {
        row.State = row.FailedStep switch
        {
            StepUpdate => TicketState.UpdatePending,
            StepClose => TicketState.ClosePending,
            _ when row.TicketPsaId is not null => TicketState.UpdatePending,
            _ => TicketState.Creating,
        };
        row.FailedStep = null;
        row.Error = null;
        row.UpdatedAt = time.GetUtcNow();
    }

    private async Task PassAsync(Guid integrationId, CancellationToken cancellationToken)
    {
        Integration? integration;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            integration = await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.Id == integrationId, cancellationToken);
        }

        if (integration is not { Status: IntegrationStatus.Connected, HasCredentials: true })
        {
            return;
        }

        var settings = await ticketingSettings.GetEnabledAsync(integrationId, cancellationToken);
        if (settings is null)
        {
            return;
        }

        ITicketPsa psa;
        try
        {
            psa = CreatePsa(integration, settings);
        }
        catch (CryptographicException)
        {
            jobLog.Write(integration.OrganizationId, integration.Vendor, JobName, LogLevelName.Error, Reference.PsaReferenceSync.CredentialsUnreadable);
            return;
        }

        await AdmitAsync(integration, cancellationToken);
        List<long> rows;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            rows = await db.IncidentTickets.AsNoTracking()
                .Where(t => t.IntegrationId == integrationId && (t.State == TicketState.Pending || t.State == TicketState.Creating
                                                                 || t.State == TicketState.UpdatePending || t.State == TicketState.ClosePending))
                .OrderBy(t => t.Id).Select(t => t.Id).ToListAsync(cancellationToken);
        }

        if (rows.Count == 0)
        {
            return;
        }

        var context = new PassContext(integration, settings, psa);
        await Parallel.ForEachAsync(rows, new ParallelOptions { MaxDegreeOfParallelism = options.Value.MaxConcurrentCalls, CancellationToken = cancellationToken },
            async (rowId, token) => await ProcessAsync(context, rowId, token));
    }

    private ITicketPsa CreatePsa(Integration integration, TicketingSettings settings) => integration.Vendor switch
    {
        PsaVendor.ConnectWise => new ConnectWiseTicketPsa(integrations.ConnectWiseApiFor(integration), settings, integration.SiteUrl!, integration.CompanyId!, options.Value.PublicUrl),
        PsaVendor.Autotask => new AutotaskTicketPsa(integrations.AutotaskApiFor(integration), settings, options.Value.PublicUrl),
        _ => throw new InvalidOperationException($"Ticketing does not support {integration.Vendor}."),
    };

    /// <summary>
    /// New open incidents get a Pending row; tickets whose incident changed since they were last written become
    /// UpdatePending, and those whose incident is resolved ClosePending. Resolved incidents without a ticket get none.
    /// </summary>
    private async Task AdmitAsync(Integration integration, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var fresh = await db.Incidents.AsNoTracking()
            .Where(i => i.OrganizationId == integration.OrganizationId && (i.Status == IncidentStatus.Open || i.Status == IncidentStatus.Acknowledged)
                        && !db.IncidentTickets.Any(t => t.IntegrationId == integration.Id && t.IncidentId == i.Id))
            .OrderBy(i => i.Id).Select(i => new { i.Id, i.ExternalId }).ToListAsync(cancellationToken);
        var added = fresh.Select(i => new IncidentTicket
        {
            OrganizationId = integration.OrganizationId, IntegrationId = integration.Id, IncidentId = i.Id, State = TicketState.Pending,
            ExternalReference = TicketContent.ExternalReference(i.ExternalId), CreatedAt = now, UpdatedAt = now,
        }).ToList();
        if (added.Count > 0)
        {
            db.IncidentTickets.AddRange(added);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException exception)
            {
                // Another node admitted some of them first; the next pass sees theirs.
                logger.LogInformation(exception, "Incidents of {IntegrationId} were admitted concurrently", integration.Id);
                return;
            }

            foreach (var row in added)
            {
                Publish(row, integration.Vendor);
            }
        }

        var changed = await (from t in db.IncidentTickets
                             join i in db.Incidents on t.IncidentId equals i.Id
                             where t.IntegrationId == integration.Id && t.State == TicketState.Open
                                   && (i.UpdatedAt > t.SyncedIncidentAt || i.Status == IncidentStatus.Resolved || i.Status == IncidentStatus.Closed)
                             select new { Row = t, Resolved = i.Status == IncidentStatus.Resolved || i.Status == IncidentStatus.Closed }).ToListAsync(cancellationToken);
        foreach (var item in changed)
        {
            item.Row.State = item.Resolved ? TicketState.ClosePending : TicketState.UpdatePending;
            item.Row.UpdatedAt = now;
        }

        if (changed.Count > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            foreach (var item in changed)
            {
                Publish(item.Row, integration.Vendor);
            }
        }
    }

    /// <summary>Works one row through its states (create, then update or close if the incident moved on) until it rests.</summary>
    private async Task ProcessAsync(PassContext context, long rowId, CancellationToken cancellationToken)
    {
        for (var step = 0; step < 6; step++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var row = await db.IncidentTickets.SingleOrDefaultAsync(t => t.Id == rowId, cancellationToken);
            var incident = row is null ? null : await IncidentAsync(db, row.IncidentId, cancellationToken);
            if (row is null || incident is null)
            {
                return;
            }

            var advanced = row.State switch
            {
                TicketState.Pending => await ClaimAndCreateAsync(context, db, row, incident, cancellationToken),
                TicketState.Creating => await FindOrCreateAsync(context, db, row, incident, cancellationToken),
                TicketState.UpdatePending => await UpdateAsync(context, db, row, incident, cancellationToken),
                TicketState.ClosePending => await CloseAsync(context, db, row, incident, cancellationToken),
                _ => false,
            };
            if (!advanced)
            {
                return;
            }
        }
    }

    private static Task<TicketIncident?> IncidentAsync(PortalDbContext db, long incidentId, CancellationToken cancellationToken) =>
        (from i in db.Incidents
         join t in db.Tenants on i.TenantId equals t.Id
         where i.Id == incidentId
         select new TicketIncident(i.Id, i.ExternalId, i.Title, i.Description, i.Severity, i.Status, t.Name, i.DetectedAt, i.UpdatedAt, i.ResolvedAt))
        .AsNoTracking().SingleOrDefaultAsync(cancellationToken);

    private async Task<bool> ClaimAndCreateAsync(PassContext context, PortalDbContext db, IncidentTicket row, TicketIncident incident, CancellationToken cancellationToken)
    {
        // Committed before anything is sent: a crash, a timeout or another node after this point finds it Creating and looks first.
        if (!await TryClaimCreationAsync(db, row.Id, incident.UpdatedAt, time.GetUtcNow(), cancellationToken))
        {
            return false;
        }

        await db.Entry(row).ReloadAsync(cancellationToken);
        Publish(row, context.Integration.Vendor);
        return await SendCreateAsync(context, db, row, incident, cancellationToken);
    }

    /// <summary>
    /// Pending → Creating as one conditional UPDATE: of two passes (two nodes) claiming the row at once exactly one
    /// gets true and sends the creation; the other leaves the row alone.
    /// </summary>
    internal static async Task<bool> TryClaimCreationAsync(PortalDbContext db, long rowId, DateTimeOffset? incidentUpdatedAt, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.IncidentTickets.Where(t => t.Id == rowId && t.State == TicketState.Pending).ExecuteUpdateAsync(s => s
            .SetProperty(t => t.State, TicketState.Creating)
            .SetProperty(t => t.SyncedIncidentAt, incidentUpdatedAt)
            .SetProperty(t => t.Error, (string?)null)
            .SetProperty(t => t.FailedStep, (string?)null)
            .SetProperty(t => t.Attempts, t => t.Attempts + 1)
            .SetProperty(t => t.UpdatedAt, now), cancellationToken) == 1;

    private async Task<bool> FindOrCreateAsync(PassContext context, PortalDbContext db, IncidentTicket row, TicketIncident incident, CancellationToken cancellationToken)
    {
        PsaTicket? found;
        try
        {
            found = await context.Psa.FindAsync(row.ExternalReference, cancellationToken);
        }
        catch (PsaException exception)
        {
            await FailAsync(context, db, row, StepCreate, $"{exception.Message} (PsaPortal was looking for the ticket it may already have created; Retry looks again.)", cancellationToken);
            return false;
        }

        if (found is not null)
        {
            await AdoptAsync(context, db, row, found, incident, cancellationToken);
            return true;
        }

        // An unknown outcome recorded a moment ago: the PSA may still be working on that creation. Look again later.
        var settleAt = row.UpdatedAt + options.Value.UnknownOutcomeWait;
        if (row.Error is not null && time.GetUtcNow() < settleAt)
        {
            await RequestAsync(row.IntegrationId, settleAt, cancellationToken);
            return false;
        }

        row.SyncedIncidentAt = incident.UpdatedAt;
        row.Error = null;
        row.Attempts++;
        row.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return await SendCreateAsync(context, db, row, incident, cancellationToken);
    }

    private async Task<bool> SendCreateAsync(PassContext context, PortalDbContext db, IncidentTicket row, TicketIncident incident, CancellationToken cancellationToken)
    {
        try
        {
            var companyId = await CompanyAsync(db, context, incident, cancellationToken);
            var ticket = await context.Psa.CreateAsync(incident, companyId, row.ExternalReference, cancellationToken);
            await AdoptAsync(context, db, row, ticket, incident, cancellationToken);
            return true;
        }
        catch (PsaException exception) when (exception.Kind == PsaErrorKind.OutcomeUnknown)
        {
            // Never sent again blind: the row stays Creating and the next step looks the ticket up by its reference.
            row.Error = Clip($"{exception.Message} PsaPortal is looking for the ticket by its reference before creating anything again.");
            row.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
            Publish(row, context.Integration.Vendor);
            return true;
        }
        catch (PsaException exception)
        {
            await FailAsync(context, db, row, StepCreate, exception.Message, cancellationToken);
            return false;
        }
    }

    /// <summary>The tenant's company as a person mapped it, else the settings' default company.</summary>
    private static async Task<long> CompanyAsync(PortalDbContext db, PassContext context, TicketIncident incident, CancellationToken cancellationToken)
    {
        var mapped = await (from i in db.Incidents
                            join m in db.TenantMappings on i.TenantId equals m.TenantId
                            where i.Id == incident.Id && m.IntegrationId == context.Integration.Id && m.Origin == MappingOrigin.Person && m.CompanyPsaId != null
                            select m.CompanyPsaId).FirstOrDefaultAsync(cancellationToken);
        return mapped ?? context.Settings.DefaultCompanyPsaId
            ?? throw new PsaException(context.Integration.Vendor, PsaErrorKind.Validation,
                $"Tenant {incident.TenantName} is not mapped to a {context.Integration.Vendor.DisplayName()} company and the ticketing settings name no default company.");
    }

    private async Task AdoptAsync(PassContext context, PortalDbContext db, IncidentTicket row, PsaTicket ticket, TicketIncident incident, CancellationToken cancellationToken)
    {
        row.TicketPsaId = ticket.Id;
        row.TicketNumber = ticket.TicketNumber ?? ticket.Id.ToString(CultureInfo.InvariantCulture);
        row.TicketUrl = await context.Psa.UrlAsync(ticket.Id, cancellationToken);
        row.Error = null;
        row.FailedStep = null;
        row.State = incident.IsResolved ? TicketState.ClosePending
            : incident.UpdatedAt > row.SyncedIncidentAt ? TicketState.UpdatePending
            : TicketState.Open;
        row.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(CancellationToken.None);
        Publish(row, context.Integration.Vendor);
    }

    private async Task<bool> UpdateAsync(PassContext context, PortalDbContext db, IncidentTicket row, TicketIncident incident, CancellationToken cancellationToken)
    {
        if (row.TicketPsaId is not { } ticketId)
        {
            row.State = TicketState.Creating;
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }

        row.Attempts++;
        try
        {
            await context.Psa.UpdateAsync(ticketId, incident, cancellationToken);
        }
        catch (PsaException exception)
        {
            await FailAsync(context, db, row, StepUpdate, exception.Message, cancellationToken);
            return false;
        }

        row.SyncedIncidentAt = incident.UpdatedAt;
        row.State = incident.IsResolved ? TicketState.ClosePending : TicketState.Open;
        row.Error = null;
        row.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(CancellationToken.None);
        Publish(row, context.Integration.Vendor);
        return row.State == TicketState.ClosePending;
    }

    private async Task<bool> CloseAsync(PassContext context, PortalDbContext db, IncidentTicket row, TicketIncident incident, CancellationToken cancellationToken)
    {
        if (row.TicketPsaId is not { } ticketId)
        {
            row.State = TicketState.Creating;
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }

        row.Attempts++;
        string? notClosed;
        try
        {
            notClosed = await context.Psa.CloseAsync(ticketId, cancellationToken);
        }
        catch (PsaException exception)
        {
            await FailAsync(context, db, row, StepClose, exception.Message, cancellationToken);
            return false;
        }

        if (notClosed is not null)
        {
            await FailAsync(context, db, row, StepClose, notClosed, cancellationToken);
            return false;
        }

        var now = time.GetUtcNow();
        row.State = TicketState.Closed;
        row.SyncedIncidentAt = incident.UpdatedAt;
        row.ClosedAt = now;
        row.Error = null;
        row.UpdatedAt = now;
        await db.SaveChangesAsync(CancellationToken.None);
        Publish(row, context.Integration.Vendor);
        return false;
    }

    private async Task FailAsync(PassContext context, PortalDbContext db, IncidentTicket row, string step, string message, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        row.State = TicketState.Failed;
        row.FailedStep = step;
        row.Error = Clip(message);
        row.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(CancellationToken.None);
        Publish(row, context.Integration.Vendor);
        jobLog.Write(row.OrganizationId, context.Integration.Vendor, JobName, LogLevelName.Warning, $"{step} of ticket {row.ExternalReference} failed: {row.Error}");
    }

    private void Publish(IncidentTicket row, PsaVendor vendor) =>
        events.Publish(new TicketChanged(row.OrganizationId, time.GetUtcNow(), row.IntegrationId, vendor, row.Id, row.IncidentId, row.State, row.TicketNumber, row.TicketUrl, row.Error, row.Attempts));

    private static string Clip(string message) => message.Length <= IncidentTicket.ErrorMaxLength ? message : message[..(IncidentTicket.ErrorMaxLength - 1)] + "…";

    private sealed class Runner
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public int Requests;
    }

    private sealed record PassContext(Integration Integration, TicketingSettings Settings, ITicketPsa Psa);
}
