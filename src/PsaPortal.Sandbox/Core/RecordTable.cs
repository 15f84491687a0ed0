using System.Text.Json.Nodes;

namespace PsaPortal.Sandbox.Core;

/// <summary>
/// One vendor collection held in memory. Records are JSON objects that carry the vendor's own field
/// names, so conditions, filters, projections and PATCH paths work on exactly what the client sees.
/// Writers replace whole records (copy, change, swap) and readers take an immutable snapshot, so a
/// page being serialised never observes a half-applied change.
/// </summary>
public sealed class RecordTable
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<long, JsonObject> _rows = [];
    private JsonObject[]? _snapshot;
    private long _lastId;

    public RecordTable(string name) => Name = name;

    public string Name { get; }

    /// <summary>All records ordered by id; the array is never modified after it is handed out.</summary>
    public IReadOnlyList<JsonObject> All()
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is not null)
        {
            return snapshot;
        }

        lock (_gate)
        {
            _snapshot ??= [.. _rows.Values];
            return _snapshot;
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _rows.Count;
            }
        }
    }

    public JsonObject? Find(long id)
    {
        lock (_gate)
        {
            return _rows.GetValueOrDefault(id);
        }
    }

    /// <summary>Adds a record; assigns the next id when the record has none.</summary>
    public JsonObject Insert(JsonObject record)
    {
        lock (_gate)
        {
            var given = JsonRecords.GetId(record);
            var id = given > 0 ? given : _lastId + 1;
            PutIdFirst(record, id);
            _lastId = Math.Max(_lastId, id);
            JsonRecords.Freeze(record);
            _rows[id] = record;
            _snapshot = null;
            return record;
        }
    }

    /// <summary>Swaps in a changed copy of an existing record.</summary>
    public void Replace(JsonObject record)
    {
        var id = JsonRecords.GetId(record);
        lock (_gate)
        {
            JsonRecords.Freeze(record);
            _rows[id] = record;
            _snapshot = null;
        }
    }

    public bool Remove(long id)
    {
        lock (_gate)
        {
            var removed = _rows.Remove(id);
            if (removed)
            {
                _snapshot = null;
            }

            return removed;
        }
    }

    /// <summary>Both vendors list <c>id</c> first; keep that order for records created through the API.</summary>
    private static void PutIdFirst(JsonObject record, long id)
    {
        var properties = record.Where(p => p.Key != "id").ToList();
        record.Clear();
        record["id"] = id;
        foreach (var (name, value) in properties)
        {
            record[name] = value;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _rows.Clear();
            _lastId = 0;
            _snapshot = null;
        }
    }
}
