using System.Buffers.Binary;
using System.Text;

namespace PsaPortal.Bench.Load;

/// <summary>
/// Reads what a browser needs from a Blazor render batch (the bytes of <c>JS.RenderBatch</c>, written by the
/// framework's RenderBatchWriter): the string table — every text, attribute name and attribute value the batch adds or
/// changes — and the attribute frames as name/value pairs. The batch ends with five little-endian int32 offsets
/// (updated components, reference frames, disposed component ids, disposed event handler ids, string table); the
/// string table is one int32 offset per string, each string a 7-bit-encoded length and its UTF-8 bytes; a reference
/// frame is 20 bytes, an attribute frame (type 3) holding its name's and value's string indexes.
/// </summary>
internal sealed class RenderBatchReader
{
    private const int FrameSize = 20;
    private const int AttributeFrame = 3;

    private RenderBatchReader(IReadOnlyList<string> strings, IReadOnlyList<(string Name, string? Value)> attributes)
    {
        Strings = strings;
        Attributes = attributes;
    }

    public IReadOnlyList<string> Strings { get; }

    public IReadOnlyList<(string Name, string? Value)> Attributes { get; }

    public static RenderBatchReader Read(byte[] batch)
    {
        if (batch.Length < 20)
        {
            throw new FormatException($"A render batch of {batch.Length} bytes is shorter than its 20-byte trailer.");
        }

        var trailer = batch.AsSpan(batch.Length - 20);
        var referenceFramesOffset = BinaryPrimitives.ReadInt32LittleEndian(trailer[4..]);
        var stringTableOffset = BinaryPrimitives.ReadInt32LittleEndian(trailer[16..]);
        var count = (batch.Length - 20 - stringTableOffset) / 4;
        var strings = new string[count];
        for (var i = 0; i < count; i++)
        {
            var at = BinaryPrimitives.ReadInt32LittleEndian(batch.AsSpan(stringTableOffset + 4 * i));
            var (length, header) = ReadLength(batch, at);
            strings[i] = Encoding.UTF8.GetString(batch, at + header, length);
        }

        var attributes = new List<(string, string?)>();
        var frames = BinaryPrimitives.ReadInt32LittleEndian(batch.AsSpan(referenceFramesOffset));
        for (var i = 0; i < frames; i++)
        {
            var frame = batch.AsSpan(referenceFramesOffset + 4 + i * FrameSize, FrameSize);
            if (BinaryPrimitives.ReadInt32LittleEndian(frame) != AttributeFrame)
            {
                continue;
            }

            var name = BinaryPrimitives.ReadInt32LittleEndian(frame[4..]);
            var value = BinaryPrimitives.ReadInt32LittleEndian(frame[8..]);
            if (name >= 0 && name < count)
            {
                attributes.Add((strings[name], value >= 0 && value < count ? strings[value] : null));
            }
        }

        return new RenderBatchReader(strings, attributes);
    }

    private static (int Length, int HeaderBytes) ReadLength(byte[] batch, int at)
    {
        var (result, shift, index) = (0, 0, at);
        while (true)
        {
            var b = batch[index++];
            result |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return (result, index - at);
            }

            shift += 7;
        }
    }
}
