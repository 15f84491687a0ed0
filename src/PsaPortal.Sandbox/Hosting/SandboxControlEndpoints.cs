using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.ConnectWise;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.Hosting;

/// <summary>Body of <c>POST …/_sandbox/reset</c>: reseed both vendors; omitted values keep the current seed.</summary>
public sealed record SandboxResetRequest(int? Seed, int? CompanyCount, DateOnly? ReferenceDate);

/// <summary>
/// The sandbox's own control API (not part of either vendor API): settings (latency, faults, limits,
/// zone/codebase), the request log, reseeding and the counters tests read. Calls here are not logged
/// and never throttled.
/// </summary>
internal static class SandboxControlEndpoints
{
    public static void MapConnectWise(RouteGroupBuilder control, PsaSandbox sandbox)
    {
        var vendor = sandbox.ConnectWise;
        control.MapGet("/settings", () => Results.Json(vendor.Settings, JsonRecords.SerializerOptions));
        control.MapPut("/settings", (ConnectWiseSettings settings) =>
        {
            vendor.Configure(_ => settings);
            vendor.ResetRateLimit();
            return Results.Json(vendor.Settings, JsonRecords.SerializerOptions);
        });
        MapCommon(control, sandbox, vendor.RequestLog, () => PsaSandbox.ExportTables(vendor.Data.Tables), json => PsaSandbox.ImportTables(vendor.Data.Tables, json));
        control.MapGet("/members", () => Results.Json(vendor.ApiMembers.Select(m => new { m.Id, m.Identifier, m.PublicKey, m.SecurityRole }), JsonRecords.SerializerOptions));
    }

    public static void MapAutotask(RouteGroupBuilder control, PsaSandbox sandbox)
    {
        var vendor = sandbox.Autotask;
        control.MapGet("/settings", () => Results.Json(vendor.Settings, JsonRecords.SerializerOptions));
        control.MapPut("/settings", (AutotaskSettings settings) =>
        {
            vendor.Configure(_ => settings);
            return Results.Json(vendor.Settings, JsonRecords.SerializerOptions);
        });
        control.MapPost("/threshold/reset", () =>
        {
            vendor.ResetThreshold();
            return Results.NoContent();
        });
        MapCommon(control, sandbox, vendor.RequestLog, () => PsaSandbox.ExportTables(vendor.Data.Tables), json => PsaSandbox.ImportTables(vendor.Data.Tables, json));
        control.MapGet("/users", () => Results.Json(vendor.ApiUsers.Select(u => new { u.ResourceId, u.UserName, u.SecurityLevel }), JsonRecords.SerializerOptions));
    }

    private static void MapCommon(RouteGroupBuilder control, PsaSandbox sandbox, RequestLog log, Func<JsonObject> export, Action<JsonObject> import)
    {
        control.MapGet("/requests", (long? after) =>
            Results.Json(log.Entries().Where(e => after is null || e.Sequence > after), JsonRecords.SerializerOptions));
        control.MapDelete("/requests", () =>
        {
            log.Clear();
            return Results.NoContent();
        });
        control.MapPost("/reset", (SandboxResetRequest? request) =>
        {
            sandbox.Reseed(request?.Seed ?? sandbox.SeedData.Seed, request?.CompanyCount ?? sandbox.SeedData.CompanyCount, request?.ReferenceDate);
            return Results.Json(new { sandbox.SeedData.Seed, sandbox.SeedData.CompanyCount, sandbox.SeedData.ReferenceDate }, JsonRecords.SerializerOptions);
        });
        control.MapGet("/data", () => JsonPayloadResult.Node(export()));
        control.MapPut("/data", async Task<IResult> (HttpContext http) =>
        {
            if (await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted) is not JsonObject tables)
            {
                return Results.BadRequest();
            }

            import(tables);
            return Results.NoContent();
        });
    }
}
