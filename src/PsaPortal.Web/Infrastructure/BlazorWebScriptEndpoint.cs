using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace PsaPortal.Web.Infrastructure;

/// <summary>
/// Serves <c>_framework/blazor.web.js</c>, which build/BlazorWebScript.targets took from Microsoft's runtime package
/// and embedded in this assembly (docs/adr/0001-blazor-web-script.md). Remove with that file once the SDK's own
/// Microsoft.AspNetCore.App.Internal.Assets package restores here.
/// </summary>
internal static class BlazorWebScriptEndpoint
{
    public const string Path = "/_framework/blazor.web.js";
    private const string ResourceName = "PsaPortal.Web.blazor.web.js";

    private static readonly Lazy<(byte[] Content, EntityTagHeaderValue ETag)> Script = new(Load);

    public static IEndpointConventionBuilder MapBlazorWebScript(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, (HttpContext context) =>
            {
                var (content, etag) = Script.Value;
                context.Response.Headers.CacheControl = "no-cache";
                return Results.Bytes(content, "text/javascript; charset=utf-8", entityTag: etag);
            })
            .AllowAnonymous()
            .ExcludeFromDescription();

    private static (byte[], EntityTagHeaderValue) Load()
    {
        using var stream = typeof(BlazorWebScriptEndpoint).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded; see build/BlazorWebScript.targets.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var content = buffer.ToArray();
        return (content, new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\""));
    }
}
