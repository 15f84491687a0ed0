using System.Collections.Concurrent;
using PsaPortal.Integrations.Recording;

namespace PsaPortal.Integrations.Tests.Infrastructure;

public sealed class ListCallRecorder : IPsaCallRecorder
{
    private readonly ConcurrentQueue<PsaCallRecord> _records = new();

    public IReadOnlyList<PsaCallRecord> Records => [.. _records];

    public void Record(PsaCallRecord record) => _records.Enqueue(record);
}
