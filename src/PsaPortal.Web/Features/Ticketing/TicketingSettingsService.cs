using Microsoft.EntityFrameworkCore;
using PsaPortal.Integrations;
using PsaPortal.Web.Data;

namespace PsaPortal.Web.Features.Ticketing;

/// <summary>
/// Loads, checks and saves an integration's ticketing settings (Integrations → the PSA → Ticketing) and gives the
/// engine the settings it works from, only when ticketing is on and complete.
/// </summary>
public sealed class TicketingSettingsService(IDbContextFactory<PortalDbContext> dbFactory) : ITicketingSettings
{
    public async Task<TicketingSettings?> GetEnabledAsync(Guid integrationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var vendor = await db.Integrations.AsNoTracking().Where(i => i.Id == integrationId).Select(i => (PsaVendor?)i.Vendor).SingleOrDefaultAsync(cancellationToken);
        var settings = await db.TicketingSettings.AsNoTracking().SingleOrDefaultAsync(s => s.IntegrationId == integrationId, cancellationToken);
        return vendor is { } v && settings is { Enabled: true } && TicketingSettingsRules.Missing(v, settings).Count == 0 ? settings : null;
    }
}

/// <summary>What a vendor's ticketing needs before it can be turned on.</summary>
public static class TicketingSettingsRules
{
    /// <summary>The names (as the page labels them) of the required settings not chosen yet.</summary>
    public static IReadOnlyList<string> Missing(PsaVendor vendor, TicketingSettings settings)
    {
        var missing = new List<string>();
        void Require(long? value, string label)
        {
            if (value is null)
            {
                missing.Add(label);
            }
        }

        if (vendor == PsaVendor.ConnectWise)
        {
            Require(settings.BoardId, "Service Board");
            Require(settings.DefaultCompanyPsaId, "Default Company");
            Require(settings.DefaultPriorityId, "Default Priority");
            Require(settings.ClosedStatusId, "Closed Status");
        }
        else
        {
            Require(settings.QueueId, "Queue");
            Require(settings.NewStatusId, "Status for new tickets");
            Require(settings.UpdatedStatusId, "Status for updates");
            Require(settings.AutotaskClosedStatusId, "Status for closed tickets");
            Require(settings.DefaultPriorityId, "Default Priority");
        }

        return missing;
    }
}
