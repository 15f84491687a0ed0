using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.Autotask;

/// <summary>
/// The Autotask routes: zone discovery at <c>/atservicesrest/v1.0/zoneInformation</c>, everything else
/// under the zone URL it returns, <c>/webservices{N}/atservicesrest/v1.0/…</c>.
/// </summary>
internal static class AutotaskEndpoints
{
    public const int MaxPageSize = 500;

    public static void Map(RouteGroupBuilder vendor, AutotaskSandbox sandbox, TimeProvider time)
    {
        var gate = new AutotaskGate(sandbox, time);
        var data = sandbox.Data;

        IResult ZoneInformation(HttpContext http, string? user)
        {
            if (string.IsNullOrEmpty(user) || sandbox.FindUser(user) is null)
            {
                return AutotaskErrors.ZoneUnknown();
            }

            var zone = sandbox.Settings.ZoneNumber;
            var root = VendorRoot(http);
            return JsonPayloadResult.Node(new JsonObject
            {
                ["zoneName"] = $"Sandbox Zone {zone}",
                ["url"] = $"{root}/webservices{zone}/ATServicesRest/",
                ["webUrl"] = $"{root}/ww{zone}/",
                ["ci"] = zone,
            });
        }

        vendor.MapGet("/atservicesrest/v1.0/zoneInformation", (HttpContext http, string? user) => ZoneInformation(http, user))
            .WithMetadata(new AutotaskAnonymous()).AddEndpointFilter(gate);

        var api = vendor.MapGroup("/{zone}/atservicesrest/v1.0").AddEndpointFilter(gate);
        api.MapGet("/zoneInformation", (HttpContext http, string? user) => ZoneInformation(http, user)).WithMetadata(new AutotaskAnonymous());
        api.MapGet("/ThresholdInformation", () => JsonPayloadResult.Node(new JsonObject
        {
            ["externalRequestThreshold"] = sandbox.Settings.HourlyThreshold,
            ["requestThresholdTimeframe"] = 60,
            ["currentTimeframeRequestCount"] = sandbox.CurrentTimeframeRequestCount,
        })).WithMetadata(new AutotaskPermission("ThresholdInformation", null));

        foreach (var entity in AutotaskEntity.All)
        {
            MapEntity(api, sandbox, entity);
        }

        var writes = new AutotaskWrites(data, time);
        MapWrites(api, writes, "Companies", "/Companies");
        MapWrites(api, writes, "Tickets", "/Tickets");
        MapWrites(api, writes, "Contracts", "/Contracts");
        MapWrites(api, writes, "Services", "/Services");
        MapWrites(api, writes, "Contacts", "/Companies/{parentId:long}/Contacts", parentField: "companyID");
        MapWrites(api, writes, "ContractServices", "/Contracts/{parentId:long}/Services", parentField: "contractID");
        MapChildReads(api, data, "Contacts", "/Companies/{parentId:long}/Contacts", "companyID", data.Companies);
        MapChildReads(api, data, "ContractServices", "/Contracts/{parentId:long}/Services", "contractID", data.Contracts);
        MapChildReads(api, data, "ContractServiceUnits", "/Contracts/{parentId:long}/ServiceUnits", "contractID", data.Contracts);

        var adjust = new AutotaskPermission("ContractServiceAdjustments", AutotaskAction.Create);
        api.MapPost("/ContractServiceAdjustments", async Task<IResult> (HttpContext http) =>
            await writes.AdjustAsync(http, parentContractId: null)).WithMetadata(adjust);
        api.MapPost("/Contracts/{parentId:long}/ServiceAdjustments", async (HttpContext http, long parentId) =>
            await writes.AdjustAsync(http, parentId)).WithMetadata(adjust);

        api.Map("{**unknown}", () => AutotaskErrors.NotFound());
    }

    /// <summary>Scheme, host, path base and mount prefix up to and including <c>/autotask</c>.</summary>
    private static string VendorRoot(HttpContext http)
    {
        var request = http.Request;
        var path = request.PathBase.Add(request.Path).Value ?? string.Empty;
        var index = path.IndexOf("/atservicesrest/", StringComparison.OrdinalIgnoreCase);
        var root = index < 0 ? path : path[..index];
        var zoneIndex = root.LastIndexOf("/webservices", StringComparison.OrdinalIgnoreCase);
        if (zoneIndex >= 0)
        {
            root = root[..zoneIndex];
        }

        return $"{request.Scheme}://{request.Host}{root}";
    }

    /// <summary>The REST base of this request, …/webservices{N}/ATServicesRest/V1.0/.</summary>
    private static string ApiRoot(HttpContext http)
    {
        var request = http.Request;
        var path = request.PathBase.Add(request.Path).Value ?? string.Empty;
        var index = path.IndexOf("/atservicesrest/v1.0/", StringComparison.OrdinalIgnoreCase);
        return $"{request.Scheme}://{request.Host}{path[..index]}/ATServicesRest/V1.0/";
    }

    private static void MapEntity(RouteGroupBuilder api, AutotaskSandbox sandbox, AutotaskEntity entity)
    {
        var table = sandbox.Data[entity.Name];
        var query = new AutotaskPermission(entity.Name, AutotaskAction.Query);
        var metadataOnly = new AutotaskPermission(entity.Name, null);

        api.MapGet($"/{entity.Name}/entityInformation", (HttpContext http) =>
        {
            var user = (AutotaskApiUser)http.Items[AutotaskGate.UserObjectItemKey]!;
            var rights = user.RightsFor(entity.Name);
            return JsonPayloadResult.Node(new JsonObject
            {
                ["info"] = new JsonObject
                {
                    ["name"] = entity.SingularName,
                    ["canCreate"] = entity.CanCreate,
                    ["canDelete"] = false,
                    ["canQuery"] = entity.CanQuery,
                    ["canUpdate"] = entity.CanUpdate,
                    ["userAccessForCreate"] = entity.CanCreate ? rights.Create : "None",
                    ["userAccessForDelete"] = "None",
                    ["userAccessForQuery"] = entity.CanQuery ? rights.Query : "None",
                    ["userAccessForUpdate"] = entity.CanUpdate ? rights.Update : "None",
                    ["hasUserDefinedFields"] = entity.Fields.Any(f => f.Name == "userDefinedFields"),
                    ["supportsWebhookCallouts"] = entity.Name is "Companies" or "Contacts" or "Tickets",
                },
            });
        }).WithMetadata(metadataOnly);
        api.MapGet($"/{entity.Name}/entityInformation/fields", () => JsonPayloadResult.Node(FieldInformation(entity))).WithMetadata(metadataOnly);

        if (!entity.CanQuery)
        {
            return;
        }

        api.MapGet($"/{entity.Name}/query", async Task<IResult> (HttpContext http) => await QueryAsync(http, sandbox, entity, count: false)).WithMetadata(query);
        api.MapPost($"/{entity.Name}/query", async Task<IResult> (HttpContext http) => await QueryAsync(http, sandbox, entity, count: false)).WithMetadata(query);
        api.MapGet($"/{entity.Name}/query/count", async Task<IResult> (HttpContext http) => await QueryAsync(http, sandbox, entity, count: true)).WithMetadata(query);
        api.MapPost($"/{entity.Name}/query/count", async Task<IResult> (HttpContext http) => await QueryAsync(http, sandbox, entity, count: true)).WithMetadata(query);
        api.MapMethods($"/{entity.Name}/query/next", ["GET", "POST"], (HttpContext http, string? paging) => NextPage(http, sandbox, entity, paging)).WithMetadata(query);
        api.MapGet($"/{entity.Name}/{{id:long}}", (long id) => JsonPayloadResult.Node(new JsonObject { ["item"] = table.Find(id)?.DeepClone() })).WithMetadata(query);
    }

    private static void MapChildReads(RouteGroupBuilder api, AutotaskData data, string entityName, string path, string parentField, RecordTable parents)
    {
        var table = data[entityName];
        var permission = new AutotaskPermission(entityName, AutotaskAction.Query);
        api.MapGet(path, (HttpContext http, long parentId) =>
        {
            if (parents.Find(parentId) is null)
            {
                return AutotaskErrors.Failure($"Unable to find the parent entity with id {parentId}.");
            }

            var items = table.FindBy(parentField, [parentId]) ?? [.. table.All().Where(r => JsonRecords.TryGetDecimal(r[parentField], out var p) && (long)p == parentId)];
            return QueryResult(items.Count, items, null, null, stored: true);
        }).WithMetadata(permission);
        api.MapGet(path + "/{id:long}", (long parentId, long id) =>
        {
            var record = table.Find(id);
            var matches = record is not null && JsonRecords.TryGetDecimal(record[parentField], out var p) && (long)p == parentId;
            return JsonPayloadResult.Node(new JsonObject { ["item"] = matches ? record!.DeepClone() : null });
        }).WithMetadata(permission);
    }

    private static void MapWrites(RouteGroupBuilder api, AutotaskWrites writes, string entityName, string path, string? parentField = null)
    {
        api.MapPost(path, async Task<IResult> (HttpContext http) => await writes.CreateAsync(http, entityName, parentField))
            .WithMetadata(new AutotaskPermission(entityName, AutotaskAction.Create));
        api.MapPatch(path, async Task<IResult> (HttpContext http) => await writes.UpdateAsync(http, entityName, parentField, replace: false))
            .WithMetadata(new AutotaskPermission(entityName, AutotaskAction.Update));
        api.MapPut(path, async Task<IResult> (HttpContext http) => await writes.UpdateAsync(http, entityName, parentField, replace: true))
            .WithMetadata(new AutotaskPermission(entityName, AutotaskAction.Update));
    }

    private static async Task<IResult> QueryAsync(HttpContext http, AutotaskSandbox sandbox, AutotaskEntity entity, bool count)
    {
        JsonNode? model;
        try
        {
            if (HttpMethods.IsGet(http.Request.Method))
            {
                var search = http.Request.Query["search"].ToString();
                if (string.IsNullOrWhiteSpace(search))
                {
                    return AutotaskErrors.Failure("The search parameter is required.");
                }

                model = JsonNode.Parse(search);
            }
            else
            {
                model = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            }
        }
        catch (JsonException exception)
        {
            return AutotaskErrors.Failure($"Invalid query: {exception.Message}");
        }

        if (model is not JsonObject queryModel)
        {
            return AutotaskErrors.Failure("Invalid query: the query must be a JSON object.");
        }

        try
        {
            var filter = AutotaskFilter.ParseAll(JsonRecords.Get(queryModel, "filter"), entity.Name, entity.IsKnownField);
            var table = sandbox.Data[entity.Name];
            if (count)
            {
                return JsonPayloadResult.Node(new JsonObject { ["queryCount"] = Candidates(table, filter).Count(filter.Matches) });
            }

            var pageSize = MaxPageSize;
            if (JsonRecords.Get(queryModel, "maxRecords") is { } maxRecordsNode && maxRecordsNode.GetValueKind() != JsonValueKind.Null)
            {
                if (!JsonRecords.TryGetDecimal(maxRecordsNode, out var maxRecords) || maxRecords < 1 || maxRecords > MaxPageSize)
                {
                    return AutotaskErrors.Failure($"Invalid query: MaxRecords must be between 1 and {MaxPageSize}.");
                }

                pageSize = (int)maxRecords;
            }

            List<string[]>? includeFields = null;
            if (JsonRecords.Get(queryModel, "includeFields") is JsonArray include && include.Count > 0)
            {
                includeFields = [];
                foreach (var field in include.Select(JsonRecords.GetString).OfType<string>())
                {
                    if (!entity.IsKnownField(field))
                    {
                        return AutotaskErrors.Failure($"Unable to find {field} in the {entity.Name} Entity.");
                    }

                    includeFields.Add([field]);
                }
            }

            return Page(http, sandbox, new AutotaskCursor(entity.Name, filter, includeFields, pageSize, AfterId: 0, PreviousIds: []));
        }
        catch (AutotaskQueryException exception)
        {
            return AutotaskErrors.Failure(exception.Message);
        }
    }

    /// <summary>
    /// The rows a filter can match, ordered by id: when one of its top-level conditions is an <c>eq</c> or
    /// <c>in</c> of whole numbers on <c>id</c> or an indexed parent id, the rows those keys find; otherwise
    /// every row. The full filter still decides, so this only saves the scan.
    /// </summary>
    private static IReadOnlyList<JsonObject> Candidates(RecordTable table, AutotaskFilter filter)
    {
        foreach (var condition in filter.Op == "and" ? filter.Items : [filter])
        {
            if (condition.Udf || condition.Field is null || condition.Op is not ("eq" or "in") || !table.IsIndexed(condition.Field))
            {
                continue;
            }

            var values = condition.Op == "in" ? [.. ((JsonArray)condition.Value!)] : new List<JsonNode?> { condition.Value };
            var keys = new List<long>(values.Count);
            foreach (var value in values)
            {
                if (value is null || value.GetValueKind() != JsonValueKind.Number || !JsonRecords.TryGetDecimal(value, out var number) || number != decimal.Truncate(number))
                {
                    keys = null;
                    break;
                }

                keys.Add((long)number);
            }

            if (keys is not null && table.FindBy(condition.Field, keys) is { } rows)
            {
                return rows;
            }
        }

        return table.All();
    }

    private static IResult NextPage(HttpContext http, AutotaskSandbox sandbox, AutotaskEntity entity, string? paging)
    {
        string? key = null;
        try
        {
            key = paging is null ? null : JsonRecords.GetString(JsonNode.Parse(paging)?["queryId"]);
        }
        catch (JsonException)
        {
        }

        var cursor = key is null ? null : sandbox.Paging.Find(key);
        return cursor is null || cursor.Entity != entity.Name
            ? AutotaskErrors.Failure("The paging information is invalid or has expired. Run the query again.")
            : Page(http, sandbox, cursor);
    }

    private static IResult Page(HttpContext http, AutotaskSandbox sandbox, AutotaskCursor cursor)
    {
        var rows = Candidates(sandbox.Data[cursor.Entity], cursor.Filter);
        var page = new List<JsonObject>(Math.Min(cursor.PageSize, 64));
        var hasMore = false;
        foreach (var row in rows)
        {
            if (JsonRecords.GetId(row) <= cursor.AfterId || !cursor.Filter.Matches(row))
            {
                continue;
            }

            if (page.Count == cursor.PageSize)
            {
                hasMore = true;
                break;
            }

            page.Add(row);
        }

        string? next = null;
        if (hasMore)
        {
            var previous = cursor.PreviousIds.Append(page.Count > 0 ? JsonRecords.GetId(page[0]) : 0).ToArray();
            var key = sandbox.Paging.Add(cursor with { AfterId = JsonRecords.GetId(page[^1]), PreviousIds = previous });
            var paging = new JsonObject
            {
                ["pageSize"] = cursor.PageSize,
                ["previousIds"] = new JsonArray([.. previous.Select(id => (JsonNode)JsonValue.Create(id))]),
                ["nextIds"] = new JsonArray(JsonValue.Create(JsonRecords.GetId(page[^1]) + 1)),
                ["queryId"] = key,
            };
            next = $"{ApiRoot(http)}{cursor.Entity}/query/next?paging={Uri.EscapeDataString(paging.ToJsonString())}";
        }

        var items = cursor.IncludeFields is null ? page : [.. page.Select(r => JsonRecords.Project(r, cursor.IncludeFields))];
        return QueryResult(cursor.PageSize, items, null, next, stored: cursor.IncludeFields is null);
    }

    /// <summary><c>{"items":[…],"pageDetails":{…}}</c>; <paramref name="stored"/> rows are the table's own and their JSON may be cached.</summary>
    private static IResult QueryResult(int requestCount, IReadOnlyList<JsonObject> items, string? previous, string? next, bool stored)
    {
        var pageDetails = new JsonObject
        {
            ["count"] = items.Count,
            ["requestCount"] = requestCount,
            ["prevPageUrl"] = previous,
            ["nextPageUrl"] = next,
        };
        return JsonPayloadResult.Envelope("items", items, new JsonObject { ["pageDetails"] = pageDetails }, stored);
    }

    private static JsonObject FieldInformation(AutotaskEntity entity)
    {
        var fields = new JsonArray();
        foreach (var (name, type) in entity.Fields)
        {
            if (name == "userDefinedFields")
            {
                continue;
            }

            var picklist = entity.Name == "Tickets" ? AutotaskPicklists.For(name) : null;
            var isReference = name.EndsWith("ID", StringComparison.Ordinal) && picklist is null;
            fields.Add(new JsonObject
            {
                ["name"] = name,
                ["dataType"] = type switch
                {
                    "int32" => "integer",
                    "int64" => "long",
                    "double" => "double",
                    "date-time" => "datetime",
                    "boolean" => "boolean",
                    _ => "string",
                },
                ["length"] = type == "string" ? 100 : 0,
                ["isRequired"] = name == "id" || entity.RequiredOnCreate.Contains(name),
                ["isReadOnly"] = name is "id" or "createDate" or "lastActivityDate" or "ticketNumber" or "impersonatorCreatorResourceID" or "completedDate" or "completedByResourceID",
                ["isQueryable"] = true,
                ["isReference"] = isReference,
                ["referenceEntityType"] = isReference ? ReferenceEntity(name) : string.Empty,
                ["isPickList"] = picklist is not null,
                ["picklistValues"] = picklist is null ? null : new JsonArray([.. picklist.Select((p, index) => (JsonNode)new JsonObject
                {
                    ["value"] = p.Value.ToString(CultureInfo.InvariantCulture),
                    ["label"] = p.Label,
                    ["isDefaultValue"] = p.IsDefault,
                    ["sortOrder"] = index,
                    ["parentValue"] = string.Empty,
                    ["isActive"] = true,
                    ["isSystem"] = true,
                })]),
                ["picklistParentValueField"] = string.Empty,
                ["isSupportedWebhookField"] = false,
            });
        }

        return new JsonObject { ["fields"] = fields };
    }

    private static string ReferenceEntity(string field) => field switch
    {
        "companyID" or "billToCompanyID" or "parentCompanyID" or "vendorCompanyID" => "Company",
        "contactID" or "billToCompanyContactID" => "Contact",
        "contractID" => "Contract",
        "serviceID" => "Service",
        "contractServiceID" => "ContractService",
        _ when field.Contains("Resource", StringComparison.Ordinal) => "Resource",
        _ => field[..^2],
    };
}
