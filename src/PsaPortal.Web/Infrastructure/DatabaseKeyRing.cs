using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.Repositories;
using PsaPortal.Web.Data;

namespace PsaPortal.Web.Infrastructure;

/// <summary>
/// The Data Protection key ring of a portal on PostgreSQL: the <c>DataProtectionKeys</c> table, which every node reads
/// and new keys are written to. Keys a portal made before the ring moved into the database (files in
/// <c>&lt;data folder&gt;/keys</c>) are still read, so PSA secrets and cookies protected with them stay readable after
/// the upgrade; they are never written to again.
/// </summary>
internal sealed class DatabaseKeyRing(IServiceProvider services, string legacyDirectory, ILoggerFactory loggers) : IXmlRepository
{
    private readonly EntityFrameworkCoreXmlRepository<PostgreSqlPortalDbContext> _database = new(services, loggers);

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        var elements = _database.GetAllElements().ToList();
        if (Directory.Exists(legacyDirectory) && Directory.EnumerateFiles(legacyDirectory, "*.xml").Any())
        {
            elements.AddRange(new FileSystemXmlRepository(new DirectoryInfo(legacyDirectory), loggers).GetAllElements());
        }

        return elements;
    }

    public void StoreElement(XElement element, string friendlyName) => _database.StoreElement(element, friendlyName);
}
