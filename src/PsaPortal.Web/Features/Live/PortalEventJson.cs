using System.Collections.Frozen;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace PsaPortal.Web.Features.Live;

/// <summary>
/// The one serializer of portal events: <see cref="PortalEvent.ToEnvelope"/> writes the envelope the status hub sends and
/// the PostgreSQL transport notifies; <see cref="FromEnvelope"/> turns an envelope back into its event by its
/// <see cref="PortalEvent.Kind"/>. Every concrete event of the web assembly is known by its kind; two events with one
/// kind are a programming error caught when the table is built.
/// </summary>
public static class PortalEventJson
{
    private static readonly Lazy<FrozenDictionary<string, Type>> KindTable = new(BuildKindTable);

    /// <summary>Every event kind and its type, e.g. <c>billing.item</c> → <c>BillingRunItemChanged</c>.</summary>
    public static IReadOnlyDictionary<string, Type> Kinds => KindTable.Value;

    /// <summary>The event an envelope carries, or null for a kind this build does not know (a newer node during an upgrade).</summary>
    public static PortalEvent? FromEnvelope(PortalEventEnvelope envelope) =>
        KindTable.Value.TryGetValue(envelope.Kind, out var type)
            ? (PortalEvent?)envelope.Data.Deserialize(type, JsonSerializerOptions.Web)
            : null;

    private static FrozenDictionary<string, Type> BuildKindTable()
    {
        var table = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var type in typeof(PortalEvent).Assembly.GetTypes().Where(t => t is { IsAbstract: false, IsClass: true } && t.IsSubclassOf(typeof(PortalEvent))))
        {
            // Kind is a constant per type; an uninitialized instance answers it without inventing constructor arguments.
            var kind = ((PortalEvent)RuntimeHelpers.GetUninitializedObject(type)).Kind;
            if (!table.TryAdd(kind, type))
            {
                throw new InvalidOperationException($"Two portal events share the kind '{kind}': {table[kind].FullName} and {type.FullName}.");
            }
        }

        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
