using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Audit;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Infrastructure;
using Quartz;

namespace PsaPortal.Web.Features.Invoices;

/// <summary>When the next automatic export fires, as Quartz has it; <see cref="AtUtc"/> null when there is no automatic export.</summary>
/// <param name="Schedule">The schedule in words ("Daily at 02:00 UTC"), or that there is none.</param>
/// <param name="PausedReason">Why the trigger does not fire now (the integration is disconnected), when it is paused.</param>
public sealed record NextExport(DateTimeOffset? AtUtc, string Schedule, string? PausedReason);

/// <summary>The Export status page of the organization's ConnectWise integration.</summary>
/// <param name="Latest">The newest export (queued, running or finished); its statistics are the page's headline.</param>
/// <param name="History">Recent exports, newest first (including <paramref name="Latest"/>).</param>
/// <param name="StartRefusal">Why "Start export now" would be refused for this user now; null when it would be accepted.</param>
public sealed record InvoiceExportStatusView(
    Guid IntegrationId,
    bool CanEdit,
    NextExport Next,
    InvoiceExport? Latest,
    IReadOnlyList<InvoiceExport> History,
    string? StartRefusal);

/// <summary>One export and every line of its detailed log, oldest first.</summary>
public sealed record InvoiceExportLogView(InvoiceExport Export, IReadOnlyList<InvoiceExportLogEntry> Entries);

/// <summary>What "Start export now" came to; <see cref="ExportId"/> is the queued export when accepted.</summary>
public sealed record InvoiceExportStartResult(bool Accepted, string Message, Guid? ExportId = null)
{
    public static InvoiceExportStartResult Refused(string message) => new(false, message);
}

/// <summary>
/// The product catalog exports of the organization's ConnectWise integration as the Export status page sees them: the
/// next automatic export (the <c>invoice-export</c> trigger's next fire time, read from Quartz), the latest export's
/// statistics, recent exports, one export's detailed log (only within the user's organization), and "Start export now"
/// (Admins and Full Members; refused while one runs, while ConnectWise is not connected or no Agreement Type is
/// chosen). An export that says Queued or Running but that Quartz no longer knows (the portal stopped during it) is
/// closed as Failed, so it never blocks the next one.
/// </summary>
public sealed class InvoiceExportRuns(
    IDbContextFactory<PortalDbContext> dbFactory,
    ISchedulerFactory schedulers,
    InvoiceScheduleTriggers triggers,
    IPortalEventStream events,
    AuditLog audit,
    ClusterLocks clusterLocks,
    TimeProvider time)
{
    public const int HistorySize = 20;
    public const string NoAutomaticExport = "No automatic export — Start export now only";
    public const string EditorsOnly = "Only Admins and Full Members can start an export; Sales users see the export status read-only.";
    public const string NotLinked = "ConnectWise is not linked: link it in Integrations → ConnectWise before exporting.";
    public const string NotConnected = "ConnectWise is not connected: link it again in Integrations → ConnectWise before exporting.";
    public const string ChooseAgreementType = "Choose the Agreement Type (Integrations → ConnectWise → Settings → Configuration) before exporting.";
    public const string Interrupted = "The portal stopped before this export finished; it will not go on. Start the export again.";
    private const string ExportNowPrefix = "invoice-export-now-";
    private const string StartLockName = "invoice-export-start";

    // The check for a running export and the insert of a new one happen under one lock, against the database.
    private readonly SemaphoreSlim _start = new(1, 1);

    public static TriggerKey ExportNowKey(Guid integrationId, Guid exportId) => new(ExportNowPrefix + exportId.ToString("N"), IntegrationSchedules.GroupOf(integrationId));

    /// <summary>The page; null when the organization has no ConnectWise integration.</summary>
    public async Task<InvoiceExportStatusView?> GetStatusAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        var integration = await FindIntegrationAsync(user, cancellationToken);
        if (integration is null)
        {
            return null;
        }

        // Under the start lock: an export being started is saved a moment before its trigger, and must not look interrupted.
        await _start.WaitAsync(cancellationToken);
        try
        {
            // Clustered: the same lock across nodes.
            await using var clusterLock = await clusterLocks.AcquireAsync(StartLockName, cancellationToken);
            await CloseInterruptedAsync(integration.Id, cancellationToken);
        }
        finally
        {
            _start.Release();
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var history = await db.InvoiceExports.AsNoTracking().Where(e => e.IntegrationId == integration.Id)
            .OrderByDescending(e => e.CreatedAt).Take(HistorySize).ToListAsync(cancellationToken);
        var settings = await db.InvoiceSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integration.Id, cancellationToken);
        var refusal = Refusal(user, integration, settings) ?? (history.FirstOrDefault(e => e.Status is InvoiceExportStatus.Queued or InvoiceExportStatus.Running) is { } active ? AlreadyRunning(active) : null);
        return new InvoiceExportStatusView(integration.Id, user.IsEditor(), await NextExportAsync(integration.Id, cancellationToken),
            history.FirstOrDefault(), history, refusal);
    }

    /// <summary>
    /// The next automatic export of the integration: the <c>invoice-export</c> trigger of its group as Quartz holds it
    /// (so what is shown is what will fire), with the schedule in words and whether the group is paused.
    /// </summary>
    public async Task<NextExport> NextExportAsync(Guid integrationId, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = new TriggerKey(InvoiceScheduleTriggers.ExportTrigger, IntegrationSchedules.GroupOf(integrationId));
        var trigger = await scheduler.GetTrigger(key, cancellationToken);
        if (trigger?.NextFireTimeUtc is not { } next)
        {
            return new NextExport(null, NoAutomaticExport, null);
        }

        string schedule;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var settings = await db.InvoiceSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integrationId, cancellationToken);
            schedule = settings is null ? "Automatic export" : Describe(settings);
        }

        var paused = await scheduler.GetTriggerState(key, cancellationToken) == TriggerState.Paused
            ? "Paused while ConnectWise is not connected: it fires again once ConnectWise is linked again."
            : null;
        return new NextExport(next, schedule, paused);
    }

    /// <summary>The schedule of <paramref name="settings"/> in words, all times UTC.</summary>
    public static string Describe(InvoiceSettings settings) => settings.ExportFrequency switch
    {
        InvoiceExportFrequency.Daily => string.Create(CultureInfo.InvariantCulture, $"Daily at {settings.ExportTimeOfDay:HH\\:mm} UTC"),
        InvoiceExportFrequency.Monthly => string.Create(CultureInfo.InvariantCulture, $"Monthly on day {Math.Clamp(settings.ExportDayOfMonth, 1, 28)} at {settings.ExportTimeOfDay:HH\\:mm} UTC"),
        _ => NoAutomaticExport,
    };

    /// <summary>One export of the user's organization with its whole log; null when there is none with that id in the organization.</summary>
    public async Task<InvoiceExportLogView?> GetLogAsync(ClaimsPrincipal user, Guid exportId, CancellationToken cancellationToken = default)
    {
        if (user.GetOrganizationId() is not { } organizationId)
        {
            return null;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var export = await db.InvoiceExports.AsNoTracking().SingleOrDefaultAsync(e => e.Id == exportId && e.OrganizationId == organizationId, cancellationToken);
        if (export is null)
        {
            return null;
        }

        var entries = await db.InvoiceExportLog.AsNoTracking().Where(e => e.ExportId == exportId).OrderBy(e => e.Id).ToListAsync(cancellationToken);
        return new InvoiceExportLogView(export, entries);
    }

    /// <summary>"Start export now": records a queued manual export and hands it to Quartz, or says why not.</summary>
    public async Task<InvoiceExportStartResult> StartNowAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (!user.IsEditor())
        {
            return InvoiceExportStartResult.Refused(EditorsOnly);
        }

        var integration = await FindIntegrationAsync(user, cancellationToken);
        if (integration is null)
        {
            return InvoiceExportStartResult.Refused(NotLinked);
        }

        var actor = Actor.From(user);
        InvoiceExport export;
        await _start.WaitAsync(cancellationToken);
        try
        {
            // Clustered: the same lock across nodes.
            await using var clusterLock = await clusterLocks.AcquireAsync(StartLockName, cancellationToken);
            await CloseInterruptedAsync(integration.Id, cancellationToken);
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var settings = await db.InvoiceSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integration.Id, cancellationToken);
            if (Refusal(user, integration, settings) is { } refusal)
            {
                return InvoiceExportStartResult.Refused(refusal);
            }

            var active = await ActiveExportAsync(db, integration.Id, cancellationToken);
            if (active is not null)
            {
                return InvoiceExportStartResult.Refused(AlreadyRunning(active));
            }

            export = new InvoiceExport
            {
                OrganizationId = integration.OrganizationId, IntegrationId = integration.Id, Trigger = InvoiceRunTrigger.Manual, RequestedBy = actor.Name,
                Status = InvoiceExportStatus.Queued, CreatedAt = time.GetUtcNow(),
            };
            db.InvoiceExports.Add(export);
            await db.SaveChangesAsync(cancellationToken);
            // Queued inside the lock, so a second request never sees the export without its trigger and closes it as interrupted.
            await triggers.RunExportNowAsync(integration.Id, export.Id, cancellationToken);
        }
        finally
        {
            _start.Release();
        }

        Publish(export);
        await audit.RecordAsync(integration.OrganizationId, actor, "Invoice export started", "ConnectWise", $"Export {export.Id}", cancellationToken);
        return new InvoiceExportStartResult(true, "Export started: the products go to the ConnectWise catalog now; this page follows it.", export.Id);
    }

    /// <summary>
    /// The automatic export fired: records a queued scheduled export under the same lock as "Start export now" and
    /// returns it, or returns the export already queued or running (which the schedule then leaves alone).
    /// </summary>
    public async Task<(InvoiceExport? Started, InvoiceExport? Active)> StartScheduledAsync(Guid integrationId, CancellationToken cancellationToken = default)
    {
        await _start.WaitAsync(cancellationToken);
        try
        {
            // Clustered: the same lock across nodes.
            await using var clusterLock = await clusterLocks.AcquireAsync(StartLockName, cancellationToken);
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var active = await ActiveExportAsync(db, integrationId, cancellationToken);
            if (active is not null)
            {
                return (null, active);
            }

            var organizationId = await db.Integrations.Where(i => i.Id == integrationId).Select(i => i.OrganizationId).SingleAsync(cancellationToken);
            var export = new InvoiceExport
            {
                OrganizationId = organizationId, IntegrationId = integrationId, Trigger = InvoiceRunTrigger.Scheduled, RequestedBy = "Schedule",
                Status = InvoiceExportStatus.Queued, CreatedAt = time.GetUtcNow(),
            };
            db.InvoiceExports.Add(export);
            await db.SaveChangesAsync(cancellationToken);
            return (export, null);
        }
        finally
        {
            _start.Release();
        }
    }

    /// <summary>The integration's export that is queued or running, if any (newest first); read under <see cref="_start"/>.</summary>
    private static Task<InvoiceExport?> ActiveExportAsync(PortalDbContext db, Guid integrationId, CancellationToken cancellationToken) =>
        db.InvoiceExports.AsNoTracking()
            .Where(e => e.IntegrationId == integrationId && (e.Status == InvoiceExportStatus.Queued || e.Status == InvoiceExportStatus.Running))
            .OrderByDescending(e => e.CreatedAt).FirstOrDefaultAsync(cancellationToken);

    /// <summary>Why a scheduled export was not started beside <paramref name="active"/>, for System Logs.</summary>
    public static string ScheduledSkipped(InvoiceExport active) => "Scheduled export skipped: " + AlreadyRunning(active);

    private static string? Refusal(ClaimsPrincipal user, Integration integration, InvoiceSettings? settings) =>
        !user.IsEditor() ? EditorsOnly
        : integration.Status != IntegrationStatus.Connected ? NotConnected
        : settings?.AgreementTypeId is null ? ChooseAgreementType
        : null;

    private static string AlreadyRunning(InvoiceExport active) => active.StartedAt is { } started
        ? string.Create(CultureInfo.InvariantCulture, $"An export is already running (started {started.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC by {active.RequestedBy}); wait for it to finish.")
        : $"An export is already queued (by {active.RequestedBy}); wait for it to finish.";

    /// <summary>
    /// Closes exports of the integration that say Queued or Running while Quartz holds neither their one-shot trigger, nor
    /// a firing of the export job in the integration's group, nor a recovery trigger that will fire (or is firing) the
    /// export again: the process that ran them is gone and nothing will finish them, and such an export would
    /// otherwise refuse every new one.
    /// </summary>
    private async Task CloseInterruptedAsync(Guid integrationId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var open = await db.InvoiceExports.Where(e => e.IntegrationId == integrationId && (e.Status == InvoiceExportStatus.Queued || e.Status == InvoiceExportStatus.Running))
            .ToListAsync(cancellationToken);
        if (open.Count == 0)
        {
            return;
        }

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var firings = await scheduler.QueryFireInstances(
            new FireInstanceQuery { TriggerGroup = GroupMatcher<TriggerKey>.GroupEquals(IntegrationSchedules.GroupOf(integrationId)), State = null }, cancellationToken);
        // A firing cut off by a node's death or a stop is fired again from Quartz's recovery group: the export goes on.
        if (firings.Items.Any(f => InvoiceExportJob.Key.Equals(f.JobKey) && IsExportTrigger(f.TriggerKey.Name))
            || (await IntegrationSchedules.RecoveryTriggersAsync(scheduler, integrationId, cancellationToken))
                .Any(r => InvoiceExportJob.Key.Equals(r.JobKey) && IsExportTrigger(r.OriginalTrigger)))
        {
            return;
        }

        var closed = new List<InvoiceExport>();
        foreach (var export in open)
        {
            if (await scheduler.GetTrigger(ExportNowKey(integrationId, export.Id), cancellationToken) is not null)
            {
                continue;
            }

            export.Status = InvoiceExportStatus.Failed;
            export.Error = Interrupted;
            export.FinishedAt = time.GetUtcNow();
            db.InvoiceExportLog.Add(new InvoiceExportLogEntry { ExportId = export.Id, At = time.GetUtcNow(), Level = InvoiceExportLogLevel.Error, Subject = "Export", Message = Interrupted });
            closed.Add(export);
        }

        await db.SaveChangesAsync(cancellationToken);
        closed.ForEach(Publish);
    }

    private static bool IsExportTrigger(string name) =>
        name == InvoiceScheduleTriggers.ExportTrigger || name.StartsWith(ExportNowPrefix, StringComparison.Ordinal);

    private async Task<Integration?> FindIntegrationAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (user.GetOrganizationId() is not { } organizationId)
        {
            return null;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.OrganizationId == organizationId && i.Vendor == PsaVendor.ConnectWise, cancellationToken);
    }

    private void Publish(InvoiceExport export) => events.Publish(new InvoiceExportChanged(export.OrganizationId, time.GetUtcNow(), export.IntegrationId, export.Id, export.Status,
        export.ProductsCreated, export.ProductsUpdated, export.ProductsUnchanged, export.ProductsFailed, export.Error));
}
