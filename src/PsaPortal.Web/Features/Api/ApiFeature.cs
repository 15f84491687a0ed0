using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using PsaPortal.Web.Data;
using PsaPortal.Web.Features.Identity;
using PsaPortal.Web.Infrastructure;

namespace PsaPortal.Web.Features.Api;

/// <summary>
/// The ingest API (<c>/api/v1</c>, API keys only), its OpenAPI document (<c>/openapi/v1.json</c>) and a browsable UI
/// (<c>/api/docs</c>). The document and the UI need no sign-in: they describe the API and hold no data
/// (docs/adr/0007-ingest-api.md).
/// </summary>
public static class ApiFeature
{
    public const string PolicyName = "IngestApi";
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/v1.json";
    public const string DocsPath = "api/docs";
    private const string BearerSchemeId = "ApiKey";
    private const string HeaderSchemeId = "ApiKeyHeader";

    public static IHostApplicationBuilder AddApiFeature(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<ApiKeyService>();
        // Only the API's policy names this scheme; the portal's default (the cookie) is left as it is.
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, _ => { });
        services.AddAuthorizationBuilder().AddPolicy(PolicyName, policy => policy
            .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .RequireClaim(PortalClaims.OrganizationId));

        services.AddOpenApi(DocumentName, options =>
        {
            options.ShouldInclude = description => description.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "PsaPortal ingest API",
                    Version = DocumentName,
                    Description = "The vendor platform pushes tenants, products, usage, incidents and invoice lines into one PsaPortal organization. " +
                                  "Authenticate with an API key created by an Admin in Settings › API keys. Errors are RFC 7807 problem details.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerSchemeId] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "Authorization: Bearer psak_…",
                };
                document.Components.SecuritySchemes[HeaderSchemeId] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = ApiKeyAuthenticationHandler.HeaderName,
                    Description = "X-Api-Key: psak_… (the same key, for clients that cannot set Authorization)",
                };
                document.Security =
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerSchemeId, document)] = [] },
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(HeaderSchemeId, document)] = [] },
                ];
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>Seconds a caller is asked to wait (Retry-After) when the database could not be had in time.</summary>
    public const int DatabaseBusyRetryAfterSeconds = 2;

    public const string DatabaseBusyTitle = "The database is busy.";

    /// <summary>
    /// A request that could not get the database within its bound (SQLite held by other writers past the ingest's wait,
    /// PostgreSQL restarting) is a 503 with Retry-After: nothing was written, and the same request may be sent again.
    /// </summary>
    private static async ValueTask<object?> DatabaseBusyFilter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception exception) when (DatabaseFailures.IsTransient(exception) && !context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("PsaPortal.Web.Features.Api")
                .LogWarning("{Method} {Path} answered 503: the database was busy ({Error})", context.HttpContext.Request.Method, context.HttpContext.Request.Path, exception.Message);
            context.HttpContext.Response.Headers.RetryAfter = DatabaseBusyRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return ApiProblems.Status(StatusCodes.Status503ServiceUnavailable, DatabaseBusyTitle,
                $"The portal could not get its database in time, so nothing of this request was written. Wait {DatabaseBusyRetryAfterSeconds} seconds (Retry-After) and send it again.");
        }
    }

    public static IEndpointRouteBuilder MapApiFeature(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGroup("/api/v1")
            .RequireAuthorization(PolicyName)
            .RequireRateLimiting(PortalRateLimiting.IngestPolicy)
            // Kestrel's own limit sits above the reader's, so the reader answers 413 with a problem body first.
            .WithMetadata(new RequestSizeLimitAttribute(ApiRequestBody.MaxBytes + 1024 * 1024))
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .AddEndpointFilter(DatabaseBusyFilter)
            .MapIngestEndpoints();

        // Anything else under /api is a problem details 404 for the client, never the portal's sign-in redirect.
        endpoints.Map("/api/{**path}", (HttpRequest request) =>
                ApiProblems.NotFound($"There is no API endpoint {request.Method} {Shorten(request.Path.ToString())}. The endpoints are listed at /{DocsPath}."))
            .AllowAnonymous()
            .ExcludeFromDescription();

        endpoints.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        endpoints.MapSwaggerUI(DocsPath, options =>
        {
            options.SwaggerEndpoint(DocumentPath, "PsaPortal ingest API v1");
            options.DocumentTitle = "PsaPortal ingest API";
        }).AllowAnonymous();
        return endpoints;
    }

    private static string Shorten(string path) => path.Length <= 120 ? path : path[..120] + "…";
}

internal static class ApiDocumentation
{
    /// <summary>
    /// Describes a JSON request body in the OpenAPI document only. <c>Accepts&lt;T&gt;</c> would also make routing refuse
    /// other media types before the endpoint (and its API key policy) is reached, answering a bare 415 that the portal's
    /// cookie policy turns into a sign-in redirect; the body reader answers 415 with problem details instead.
    /// </summary>
    public static RouteHandlerBuilder AcceptsJson<T>(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
            };
        });
}
