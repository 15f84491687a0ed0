namespace PsaPortal.Web.Infrastructure;

/// <summary>
/// The security headers every response carries — pages, static files, the Blazor script, hubs, the ingest API, the
/// sandbox, error and not-found pages — set in this one place (docs/security.md § Sessions, cookies and headers).
/// </summary>
internal static class SecurityHeaders
{
    /// <summary>
    /// What the portal's own pages need and nothing more. Scripts come only from the portal (blazor.web.js, Radzen's
    /// script, app.js, Swagger UI's bundle): no inline script and no eval. Styles allow 'unsafe-inline' because Radzen
    /// sets style attributes on its components (column widths, popup positions) and Blazor's reconnect dialog adds a
    /// style element; a style cannot run code. Images allow data: for the SVG icons Radzen and Swagger UI inline.
    /// connect-src 'self' covers the circuit's and the status hub's WebSocket on the same host and port.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; " +
        "script-src 'self'; " +
        "style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data:; " +
        "font-src 'self' data:; " +
        "connect-src 'self'; " +
        "object-src 'none'; " +
        "base-uri 'self'; " +
        "form-action 'self'; " +
        "frame-ancestors 'none'";

    /// <summary>Powerful browser features the portal never uses, switched off for it and for anything it could embed.</summary>
    public const string PermissionsPolicy =
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

    public const string ReferrerPolicy = "same-origin";

    public static readonly IReadOnlyDictionary<string, string> All = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Content-Security-Policy"] = ContentSecurityPolicy,
        ["X-Content-Type-Options"] = "nosniff",
        ["X-Frame-Options"] = "DENY",
        ["Referrer-Policy"] = ReferrerPolicy,
        ["Permissions-Policy"] = PermissionsPolicy,
        ["Cross-Origin-Opener-Policy"] = "same-origin",
    };

    /// <summary>
    /// First in the pipeline. The headers are set when the response starts, not when the request arrives: the
    /// exception handler clears a failed response's headers before writing the error page, and that page must carry
    /// them too. They replace the framework's milder ones: Blazor's interactive pages send
    /// <c>Content-Security-Policy: frame-ancestors 'self'</c> and the antiforgery token <c>X-Frame-Options: SAMEORIGIN</c>.
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                var headers = ((HttpResponse)state).Headers;
                foreach (var (name, value) in All)
                {
                    headers[name] = value;
                }

                return Task.CompletedTask;
            }, context.Response);
            return next(context);
        });
}
