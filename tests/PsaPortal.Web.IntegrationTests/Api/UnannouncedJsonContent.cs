using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace PsaPortal.Web.IntegrationTests.Api;

/// <summary>A JSON body sent without Content-Length (chunked), as a streaming client sends it.</summary>
internal sealed class UnannouncedJsonContent : HttpContent
{
    private readonly byte[] _bytes;

    public UnannouncedJsonContent(string json)
    {
        _bytes = Encoding.UTF8.GetBytes(json);
        Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        // In pieces, so the portal reads it across several reads.
        for (var offset = 0; offset < _bytes.Length; offset += 8 * 1024)
        {
            await stream.WriteAsync(_bytes.AsMemory(offset, Math.Min(8 * 1024, _bytes.Length - offset)));
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
