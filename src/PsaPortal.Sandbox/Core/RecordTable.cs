using System.Text.Json.Nodes;

namespace PsaPortal.Sandbox.Core;

/// <summary>
/// One vendor collection held in memory. Records are JSON objects that carry the vendor's own field
/// names, so conditions, filters, projections and PATCH paths work on exactly what the client sees.
/// Writers replace whole records (copy, change, swap) and readers take an immutable snapshot, so a
/// page being serialised never observes a half-applied change. Fields named in <see cref="AddIndex"/>
/// (parent ids such as <c>agreementId</c> or <c>contractID</c>) are indexed, so reading one parent's
/// rows costs the rows found rather than a scan of the whole table.
/// </summary>
public sealed class RecordTable
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<long, JsonObject> _rows = [];
    private readonly Dictionary<string, Dictionary<long, SortedDictionary<long, JsonObject>>> _indexes = new(StringComparer.OrdinalIgnoreCase);
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

    /// <summary>Indexes the rows by the whole-number value of a top-level field (rows without one are left out).</summary>
    public void AddIndex(string field)
    {
        lock (_gate)
        {
            var index = new Dictionary<long, SortedDictionary<long, JsonObject>>();
            _indexes[field] = index;
            foreach (var (id, row) in _rows)
            {
                AddToIndex(index, field, id, row);
            }
        }
    }

    /// <summary>Whether <paramref name="field"/> can be looked up with <see cref="FindBy"/>; <c>id</c> always can.</summary>
    public bool IsIndexed(string field)
    {
        if (string.Equals(field, "id", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        lock (_gate)
        {
            return _indexes.ContainsKey(field);
        }
    }

    /// <summary>
    /// The rows whose <paramref name="field"/> (an indexed field or <c>id</c>) equals one of
    /// <paramref name="keys"/>, ordered by id; null when the field is not indexed.
    /// </summary>
    public IReadOnlyList<JsonObject>? FindBy(string field, IEnumerable<long> keys)
    {
        var byId = string.Equals(field, "id", StringComparison.OrdinalIgnoreCase);
        var found = new List<JsonObject>();
        lock (_gate)
        {
            Dictionary<long, SortedDictionary<long, JsonObject>>? index = null;
            if (!byId && !_indexes.TryGetValue(field, out index))
            {
                return null;
            }

            foreach (var key in keys.Distinct())
            {
                if (byId)
                {
                    if (_rows.TryGetValue(key, out var row))
                    {
                        found.Add(row);
                    }
                }
                else if (index!.TryGetValue(key, out var bucket))
                {
                    found.AddRange(bucket.Values);
                }
            }
        }

        found.Sort((left, right) => JsonRecords.GetId(left).CompareTo(JsonRecords.GetId(right)));
        return found;
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
            Store(id, record);
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
            Store(id, record);
        }
    }

    public bool Remove(long id)
    {
        lock (_gate)
        {
            var removed = _rows.Remove(id, out var old);
            if (removed)
            {
                RemoveFromIndexes(id, old!);
                _snapshot = null;
            }

            return removed;
        }
    }

    /// <summary>Puts a row in place of any row with its id, keeping the indexes in step; the caller holds the lock.</summary>
    private void Store(long id, JsonObject record)
    {
        if (_rows.TryGetValue(id, out var old))
        {
            RemoveFromIndexes(id, old);
        }

        _rows[id] = record;
        foreach (var (field, index) in _indexes)
        {
            AddToIndex(index, field, id, record);
        }

        _snapshot = null;
    }

    private void RemoveFromIndexes(long id, JsonObject record)
    {
        foreach (var (field, index) in _indexes)
        {
            if (IndexKey(record, field) is { } key && index.TryGetValue(key, out var bucket))
            {
                bucket.Remove(id);
                if (bucket.Count == 0)
                {
                    index.Remove(key);
                }
            }
        }
    }

    private static void AddToIndex(Dictionary<long, SortedDictionary<long, JsonObject>> index, string field, long id, JsonObject record)
    {
        if (IndexKey(record, field) is not { } key)
        {
            return;
        }

        if (!index.TryGetValue(key, out var bucket))
        {
            index[key] = bucket = [];
        }

        bucket[id] = record;
    }

    private static long? IndexKey(JsonObject record, string field) =>
        JsonRecords.TryGetDecimal(JsonRecords.Get(record, field), out var value) && value == decimal.Truncate(value) && value is >= long.MinValue and <= long.MaxValue
            ? (long)value
            : null;

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
            foreach (var index in _indexes.Values)
            {
                index.Clear();
            }

            _lastId = 0;
            _snapshot = null;
        }
    }
}
