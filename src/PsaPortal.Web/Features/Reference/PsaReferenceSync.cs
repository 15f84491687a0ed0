using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Psa;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Integrations;
using PsaPortal.Web.Features.Live;
using PsaPortal.Web.Features.Mapping.Suggestions;
using PsaPortal.Web.Features.SystemLogs;
using PsaPortal.Web.Infrastructure;

namespace PsaPortal.Web.Features.Reference;

/// <summary>How one kind went: rows cached afterwards, or why it failed (the PSA's own words), and how long it took.</summary>
public sealed record ReferenceKindResult(PsaReferenceKind Kind, int Count, string? Error, TimeSpan Elapsed);

/// <summary>The outcome of one reference sync; <see cref="Problem"/> says why nothing was read at all.</summary>
public sealed record ReferenceSyncResult(Guid IntegrationId, IReadOnlyList<ReferenceKindResult> Kinds, string? Problem = null)
{
    public bool Succeeded => Problem is null && Kinds.All(k => k.Error is null);
}

/// <summary>
/// Copies an integration's PSA setup data (companies, agreements, boards, picklists…) into <see cref="PsaReferenceItem"/>
/// rows, which the mapping and ticketing pages read instead of asking the PSA. Each kind streams from the PSA page by
/// page and is stored in chunks, so a PSA with 10,000 companies never sits in memory at once; rows seen get the kind's
/// new generation and rows not seen are removed once the whole kind has been read. A kind that fails keeps its previous
/// rows and records the PSA's message; the other kinds still sync. One sync per integration runs at a time.
/// </summary>
public sealed class PsaReferenceSync(
    IDbContextFactory<PortalDbContext> dbFactory,
    IntegrationService integrations,
    IPortalEventStream events,
    IJobLog jobLog,
    ClusterLocks clusterLocks,
    TimeProvider time,
    ILogger<PsaReferenceSync> logger)
{
    public const string JobName = "Reference Sync";

    public const string CredentialsUnreadable =
        "The stored credentials cannot be decrypted (the portal's Data Protection key ring changed). Link the PSA again.";

    /// <summary>Rows stored per database round trip.</summary>
    public const int ChunkSize = 500;

    private static readonly IReadOnlyList<PsaReferenceKind> ConnectWiseKinds =
    [
        PsaReferenceKind.Company, PsaReferenceKind.Agreement, PsaReferenceKind.Addition, PsaReferenceKind.AgreementType, PsaReferenceKind.CatalogProduct,
        PsaReferenceKind.Board, PsaReferenceKind.BoardTeam, PsaReferenceKind.Priority, PsaReferenceKind.Source,
    ];

    private static readonly IReadOnlyList<PsaReferenceKind> AutotaskKinds =
    [
        PsaReferenceKind.Company, PsaReferenceKind.Contract, PsaReferenceKind.ContractService, PsaReferenceKind.Service,
        PsaReferenceKind.TicketQueue, PsaReferenceKind.TicketStatus, PsaReferenceKind.TicketPriority,
    ];

    // Kinds read for the records of another kind that this sync copied first; when that one fails, they wait.
    private static readonly Dictionary<PsaReferenceKind, PsaReferenceKind> ReadFrom = new()
    {
        [PsaReferenceKind.Addition] = PsaReferenceKind.Agreement,
        [PsaReferenceKind.BoardTeam] = PsaReferenceKind.Board,
    };

    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _running = new();

    /// <summary>Every kind of one PSA, in the order a sync reads them.</summary>
    public static IReadOnlyList<PsaReferenceKind> KindsOf(PsaVendor vendor) => vendor == PsaVendor.ConnectWise ? ConnectWiseKinds : AutotaskKinds;

    /// <summary>Whether a sync of the integration is running in this process.</summary>
    public bool IsRunning(Guid integrationId) => _running.TryGetValue(integrationId, out var gate) && gate.CurrentCount == 0;

    /// <inheritdoc cref="SyncAsync(Guid, IReadOnlySet{PsaReferenceKind}?, string, CancellationToken)"/>
    public Task<ReferenceSyncResult> SyncAsync(Guid integrationId, IReadOnlySet<PsaReferenceKind>? kinds, CancellationToken cancellationToken) =>
        SyncAsync(integrationId, kinds, "PsaPortal", cancellationToken);

    /// <summary>
    /// Copies <paramref name="kinds"/> (every kind of the integration's PSA when null). A second call for the same
    /// integration waits for the first to finish.
    /// </summary>
    public async Task<ReferenceSyncResult> SyncAsync(Guid integrationId, IReadOnlySet<PsaReferenceKind>? kinds, string requestedBy, CancellationToken cancellationToken)
    {
        var gate = _running.GetOrAdd(integrationId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            // Clustered: a sync of the integration on another node finishes first.
            await using var clusterLock = await clusterLocks.AcquireAsync($"reference-sync:{integrationId}", cancellationToken);
            return await RunAsync(integrationId, kinds, requestedBy, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The state of every kind of the integration that has been attempted, in sync order.</summary>
    public async Task<IReadOnlyList<PsaReferenceSyncState>> StatesAsync(Guid integrationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var states = await db.PsaReferenceSyncStates.AsNoTracking().Where(s => s.IntegrationId == integrationId).ToListAsync(cancellationToken);
        return [.. states.OrderBy(s => s.Kind)];
    }

    private async Task<ReferenceSyncResult> RunAsync(Guid integrationId, IReadOnlySet<PsaReferenceKind>? kinds, string requestedBy, CancellationToken cancellationToken)
    {
        Integration? integration;
        Dictionary<PsaReferenceKind, long> generations;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            integration = await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.Id == integrationId, cancellationToken);
            generations = await db.PsaReferenceSyncStates.AsNoTracking().Where(s => s.IntegrationId == integrationId)
                .ToDictionaryAsync(s => s.Kind, s => s.Generation, cancellationToken);
        }

        if (integration is null)
        {
            return new ReferenceSyncResult(integrationId, [], "The integration no longer exists.");
        }

        if (integration.Status != IntegrationStatus.Connected || !integration.HasCredentials)
        {
            return new ReferenceSyncResult(integrationId, [], $"{integration.Vendor.DisplayName()} is not connected. Link it before refreshing its reference data.");
        }

        var all = KindsOf(integration.Vendor);
        if (kinds?.Where(k => !all.Contains(k)).ToList() is { Count: > 0 } foreign)
        {
            throw new ArgumentException(
                $"{string.Join(", ", foreign)} {(foreign.Count == 1 ? "is not a kind" : "are not kinds")} of {integration.Vendor.DisplayName()} reference data; it has {string.Join(", ", all)}.",
                nameof(kinds));
        }

        var selected = kinds is null ? all : [.. all.Where(kinds.Contains)];
        Source source;
        try
        {
            source = new Source(integration, integrations);
        }
        catch (CryptographicException exception)
        {
            logger.LogError(exception, "The stored credentials of integration {IntegrationId} cannot be decrypted", integrationId);
            return new ReferenceSyncResult(integrationId, [], CredentialsUnreadable);
        }

        var (organizationId, vendor) = (integration.OrganizationId, integration.Vendor);
        events.Publish(new ReferenceSyncStarted(organizationId, time.GetUtcNow(), integrationId, vendor, requestedBy, selected.Count));
        jobLog.Write(organizationId, vendor, JobName, LogLevelName.Information, $"Started by {requestedBy}: {string.Join(", ", selected)}.");

        var results = new List<ReferenceKindResult>();
        foreach (var kind in selected)
        {
            var started = Stopwatch.GetTimestamp();
            var attemptedAt = time.GetUtcNow();
            var generation = generations.GetValueOrDefault(kind) + 1;
            string? error;
            var count = 0;
            if (ReadFrom.TryGetValue(kind, out var parent) && results.FirstOrDefault(r => r.Kind == parent) is { Error: not null })
            {
                error = $"Not refreshed: the {parent} records it is read for could not be read.";
            }
            else
            {
                error = await CopyAsync(integrationId, kind, generation, source, cancellationToken);
                if (error is null)
                {
                    count = await RemoveUnseenAsync(integrationId, kind, generation, cancellationToken);
                }
            }

            await RecordStateAsync(integrationId, kind, generation, attemptedAt, count, error, cancellationToken);
            results.Add(new ReferenceKindResult(kind, count, error, Stopwatch.GetElapsedTime(started)));
            events.Publish(new ReferenceKindSynced(organizationId, time.GetUtcNow(), integrationId, vendor, kind, count, error));
            if (error is not null)
            {
                jobLog.Write(organizationId, vendor, JobName, LogLevelName.Warning, $"{kind}: {error}");
            }
        }

        var failed = results.Count(r => r.Error is not null);
        DateTimeOffset? syncedAt = integration.ReferenceSyncedAt;
        if (failed == 0 && selected.Count == all.Count)
        {
            syncedAt = time.GetUtcNow();
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await db.Integrations.Where(i => i.Id == integrationId).ExecuteUpdateAsync(s => s.SetProperty(i => i.ReferenceSyncedAt, syncedAt), cancellationToken);
        }

        jobLog.Write(organizationId, vendor, JobName, failed == 0 ? LogLevelName.Information : LogLevelName.Warning,
            $"Finished: {results.Count - failed} of {results.Count} kinds refreshed, {results.Sum(r => r.Count)} records cached" +
            (failed == 0 ? "." : $"; {string.Join(", ", results.Where(r => r.Error is not null).Select(r => r.Kind))} failed."));
        events.Publish(new ReferenceSyncFinished(organizationId, time.GetUtcNow(), integrationId, vendor, results.Count - failed, failed, syncedAt));
        return new ReferenceSyncResult(integrationId, results);
    }

    /// <summary>Streams one kind from the PSA into the cache; null when every page was read and stored, else why not.</summary>
    private async Task<string?> CopyAsync(Guid integrationId, PsaReferenceKind kind, long generation, Source source, CancellationToken cancellationToken)
    {
        try
        {
            await UpsertAsync(integrationId, kind, generation, Read(kind, source, integrationId, cancellationToken), cancellationToken);
            return null;
        }
        catch (PsaException exception)
        {
            return exception.Message;
        }
        catch (HttpRequestException exception)
        {
            logger.LogWarning(exception, "Reference sync of {Kind} for integration {IntegrationId}: the PSA could not be reached", kind, integrationId);
            return "The PSA could not be reached: " + exception.Message;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogError(exception, "Reference sync of {Kind} for integration {IntegrationId} failed", kind, integrationId);
            return $"PsaPortal could not store the {kind} records ({exception.GetType().Name}); the portal's log has the details.";
        }
    }

    /// <summary>
    /// Stores the rows in chunks: a chunk's existing rows are loaded by PSA id, changed ones updated, new ones added,
    /// unchanged ones only re-stamped with the generation (one statement), and the tracker cleared before the next.
    /// </summary>
    private async Task UpsertAsync(Guid integrationId, PsaReferenceKind kind, long generation, IAsyncEnumerable<PsaReferenceItem> rows, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var chunk = new Dictionary<long, PsaReferenceItem>(ChunkSize);
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            chunk[row.PsaId] = row;
            if (chunk.Count == ChunkSize)
            {
                await StoreChunkAsync(db, integrationId, kind, generation, chunk, cancellationToken);
            }
        }

        await StoreChunkAsync(db, integrationId, kind, generation, chunk, cancellationToken);
    }

    private async Task StoreChunkAsync(PortalDbContext db, Guid integrationId, PsaReferenceKind kind, long generation, Dictionary<long, PsaReferenceItem> chunk,
        CancellationToken cancellationToken)
    {
        if (chunk.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        var ids = chunk.Keys.ToList();
        var existing = await db.PsaReferenceItems.Where(i => i.IntegrationId == integrationId && i.Kind == kind && ids.Contains(i.PsaId)).ToListAsync(cancellationToken);
        var unchanged = new List<long>();
        foreach (var stored in existing)
        {
            var fresh = chunk[stored.PsaId];
            chunk.Remove(stored.PsaId);
            if (SameContent(stored, fresh))
            {
                unchanged.Add(stored.PsaId);
                continue;
            }

            CopyContent(fresh, stored);
            stored.SyncGeneration = generation;
            stored.SyncedAt = now;
        }

        foreach (var fresh in chunk.Values)
        {
            fresh.IntegrationId = integrationId;
            fresh.Kind = kind;
            fresh.SyncGeneration = generation;
            fresh.SyncedAt = now;
            db.PsaReferenceItems.Add(fresh);
        }

        await db.SaveChangesAsync(cancellationToken);
        if (unchanged.Count > 0)
        {
            await db.PsaReferenceItems.Where(i => i.IntegrationId == integrationId && i.Kind == kind && unchanged.Contains(i.PsaId))
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.SyncGeneration, generation).SetProperty(i => i.SyncedAt, now), cancellationToken);
        }

        db.ChangeTracker.Clear();
        chunk.Clear();
    }

    /// <summary>Deletes the kind's rows the PSA no longer has; returns how many rows the kind has now.</summary>
    private async Task<int> RemoveUnseenAsync(Guid integrationId, PsaReferenceKind kind, long generation, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = db.PsaReferenceItems.Where(i => i.IntegrationId == integrationId && i.Kind == kind);
        await rows.Where(i => i.SyncGeneration < generation).ExecuteDeleteAsync(cancellationToken);
        return await rows.CountAsync(cancellationToken);
    }

    private async Task RecordStateAsync(Guid integrationId, PsaReferenceKind kind, long generation, DateTimeOffset attemptedAt, int count, string? error,
        CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var state = await db.PsaReferenceSyncStates.SingleOrDefaultAsync(s => s.IntegrationId == integrationId && s.Kind == kind, cancellationToken);
        if (state is null)
        {
            state = new PsaReferenceSyncState { IntegrationId = integrationId, Kind = kind };
            db.PsaReferenceSyncStates.Add(state);
        }

        state.Generation = generation;
        state.LastAttemptAt = attemptedAt;
        state.Error = Clip(error, PsaReferenceSyncState.ErrorMaxLength);
        if (error is null)
        {
            state.LastSyncedAt = time.GetUtcNow();
            state.Count = count;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private IAsyncEnumerable<PsaReferenceItem> Read(PsaReferenceKind kind, Source source, Guid integrationId, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (source.ConnectWise is { } cw)
        {
            return kind switch
            {
                PsaReferenceKind.Company => cw.ListCompaniesAsync(null, cancellationToken).Select(FromCompany),
                PsaReferenceKind.Agreement => cw.ListAgreementsAsync((ConnectWiseCondition?)null, cancellationToken).Select(a => FromAgreement(a, isActive: !a.IsCancelled)),
                PsaReferenceKind.Addition => ReadPerParentAsync(integrationId, PsaReferenceKind.Agreement, activeOnly: true,
                    ids => cw.ListAdditionsAsync(ids, null, cancellationToken).Select(line => FromLine(line, today)), cancellationToken),
                PsaReferenceKind.AgreementType => cw.ListAgreementTypesAsync(cancellationToken).Select(FromReference),
                PsaReferenceKind.CatalogProduct => cw.ListCatalogAsync(null, cancellationToken).Select(p => FromProduct(p, p.Description, p.Identifier)),
                PsaReferenceKind.Board => cw.ListBoardsAsync(cancellationToken).Select(FromReference),
                PsaReferenceKind.BoardTeam => ReadPerParentAsync(integrationId, PsaReferenceKind.Board, activeOnly: false,
                    ids => ids.ToAsyncEnumerable().SelectMany(board => cw.ListBoardTeamsAsync(board, cancellationToken)).Select(FromTeam), cancellationToken),
                PsaReferenceKind.Priority => cw.ListPrioritiesAsync(cancellationToken).Select(FromReference),
                PsaReferenceKind.Source => cw.ListSourcesAsync(cancellationToken).Select(FromReference),
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a ConnectWise kind."),
            };
        }

        var at = source.Autotask!;
        return kind switch
        {
            PsaReferenceKind.Company => at.QueryCompaniesAsync(null, cancellationToken).Select(FromCompany),
            PsaReferenceKind.Contract => at.QueryContractsAsync(null, cancellationToken).Select(c => FromAgreement(c, isActive: c.Status != "Inactive")),
            PsaReferenceKind.ContractService => at.QueryContractServicesAsync(null, cancellationToken).Select(line => FromLine(line, today)),
            PsaReferenceKind.Service => at.QueryServicesAsync(null, cancellationToken).Select(s => FromProduct(s, s.Identifier, code: null)),
            PsaReferenceKind.TicketQueue => ReadPicklistAsync(source, "queueID", cancellationToken),
            PsaReferenceKind.TicketStatus => ReadPicklistAsync(source, "status", cancellationToken),
            PsaReferenceKind.TicketPriority => ReadPicklistAsync(source, "priority", cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not an Autotask kind."),
        };
    }

    /// <summary>Reads children per page of cached parent ids (e.g. additions of active agreements), never every parent id at once.</summary>
    private async IAsyncEnumerable<PsaReferenceItem> ReadPerParentAsync(Guid integrationId, PsaReferenceKind parentKind, bool activeOnly,
        Func<IReadOnlyList<long>, IAsyncEnumerable<PsaReferenceItem>> readChildren, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long? after = null;
        while (true)
        {
            List<long> parents;
            await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            {
                var query = db.PsaReferenceItems.AsNoTracking().Where(i => i.IntegrationId == integrationId && i.Kind == parentKind && (!activeOnly || i.IsActive));
                if (after is { } last)
                {
                    query = query.Where(i => i.PsaId > last);
                }

                parents = await query.OrderBy(i => i.PsaId).Select(i => i.PsaId).Take(ChunkSize).ToListAsync(cancellationToken);
            }

            await foreach (var child in readChildren(parents).WithCancellation(cancellationToken))
            {
                yield return child;
            }

            if (parents.Count < ChunkSize)
            {
                yield break;
            }

            after = parents[^1];
        }
    }

    private static async IAsyncEnumerable<PsaReferenceItem> ReadPicklistAsync(Source source, string field, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var fields = await source.TicketFieldsAsync(cancellationToken);
        var picklist = fields.FirstOrDefault(f => f.Name.Equals(field, StringComparison.OrdinalIgnoreCase))
            ?? throw new PsaException(PsaVendor.Autotask, PsaErrorKind.NotFound, $"Autotask reported no {field} field on Tickets.");
        foreach (var value in picklist.Picklist)
        {
            if (long.TryParse(value.Value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var id))
            {
                yield return Item(id, value.Label, isActive: value.IsActive, isDefault: value.IsDefault);
            }
        }
    }

    private static PsaReferenceItem FromCompany(PsaCompany company) =>
        Item(company.Id, company.Name, company.Identifier, domain: CompanyDomain.ToHost(company.Website),
            isActive: company.IsActive && !string.Equals(company.Status, "Inactive", StringComparison.OrdinalIgnoreCase));

    private static PsaReferenceItem FromAgreement(PsaAgreement agreement, bool isActive) =>
        Item(agreement.Id, agreement.Name, parent: agreement.CompanyId, type: agreement.Type, start: agreement.StartDate, end: agreement.EndDate, isActive: isActive);

    private static PsaReferenceItem FromLine(PsaAgreementLine line, DateOnly today) =>
        Item(line.Id, line.ProductIdentifier ?? line.Description ?? $"Product {line.ProductId}", line.ProductIdentifier, parent: line.AgreementId, product: line.ProductId,
            start: line.EffectiveDate, end: line.CancelledDate, isActive: line.CancelledDate is not { } cancelled || cancelled > today);

    private static PsaReferenceItem FromProduct(PsaProduct product, string name, string? code) =>
        Item(product.Id, name, code, isActive: !product.IsInactive);

    private static PsaReferenceItem FromReference(PsaReference reference) =>
        Item(reference.Id, reference.Name, isActive: !reference.IsInactive, isDefault: reference.IsDefault);

    private static PsaReferenceItem FromTeam(PsaBoardTeam team) => Item(team.Id, team.Name, parent: team.BoardId, isDefault: team.IsDefault);

    private static PsaReferenceItem Item(long psaId, string name, string? code = null, long? parent = null, long? product = null, string? type = null,
        DateOnly? start = null, DateOnly? end = null, string? domain = null, bool isActive = true, bool isDefault = false)
    {
        var clippedName = Clip(name.Trim(), PsaReferenceItem.NameMaxLength)!;
        var clippedCode = Clip(code?.Trim(), PsaReferenceItem.CodeMaxLength);
        return new PsaReferenceItem
        {
            PsaId = psaId,
            Name = clippedName,
            SearchText = (clippedCode is null ? clippedName : $"{clippedName} {clippedCode}").ToLowerInvariant(),
            Code = clippedCode,
            Domain = Clip(domain, PsaReferenceItem.DomainMaxLength),
            ParentPsaId = parent,
            ProductPsaId = product,
            Type = Clip(type, PsaReferenceItem.TypeMaxLength),
            StartDate = start,
            EndDate = end,
            IsActive = isActive,
            IsDefault = isDefault,
        };
    }

    private static bool SameContent(PsaReferenceItem a, PsaReferenceItem b) =>
        a.Name == b.Name && a.SearchText == b.SearchText && a.Code == b.Code && a.Domain == b.Domain && a.ParentPsaId == b.ParentPsaId
        && a.ProductPsaId == b.ProductPsaId && a.Type == b.Type && a.StartDate == b.StartDate && a.EndDate == b.EndDate && a.IsActive == b.IsActive
        && a.IsDefault == b.IsDefault;

    private static void CopyContent(PsaReferenceItem from, PsaReferenceItem to)
    {
        to.Name = from.Name;
        to.SearchText = from.SearchText;
        to.Code = from.Code;
        to.Domain = from.Domain;
        to.ParentPsaId = from.ParentPsaId;
        to.ProductPsaId = from.ProductPsaId;
        to.Type = from.Type;
        to.StartDate = from.StartDate;
        to.EndDate = from.EndDate;
        to.IsActive = from.IsActive;
        to.IsDefault = from.IsDefault;
    }

    private static string? Clip(string? value, int maxLength) =>
        value is null || value.Length <= maxLength ? value : value[..(maxLength - 1)] + "…";

    /// <summary>The clients of one sync, built once from the stored credentials; Autotask's Tickets fields are read once for all three picklists.</summary>
    private sealed class Source(Integration integration, IntegrationService integrations)
    {
        private Task<IReadOnlyList<AutotaskFieldInfo>>? _ticketFields;

        public IConnectWiseApi? ConnectWise { get; } = integration.Vendor == PsaVendor.ConnectWise ? integrations.ConnectWiseApiFor(integration) : null;

        public IAutotaskApi? Autotask { get; } = integration.Vendor == PsaVendor.Autotask ? integrations.AutotaskApiFor(integration) : null;

        public Task<IReadOnlyList<AutotaskFieldInfo>> TicketFieldsAsync(CancellationToken cancellationToken) =>
            _ticketFields ??= Autotask!.GetFieldsAsync("Tickets", cancellationToken);
    }
}
