using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.ConnectWise;

/// <summary>The ConnectWise routes, shaped as the vendor's: <c>/login/companyinfo/{companyId}</c> and <c>/{codebase}/apis/3.0/…</c>.</summary>
internal static class ConnectWiseEndpoints
{
    public static void Map(RouteGroupBuilder vendor, ConnectWiseSandbox sandbox, TimeProvider time)
    {
        var gate = new ConnectWiseGate(sandbox, time);
        var data = sandbox.Data;

        vendor.MapGet("/login/companyinfo/{companyId}", (string companyId) =>
            JsonPayloadResult.Node(string.Equals(companyId, ConnectWiseSandbox.CompanyId, StringComparison.OrdinalIgnoreCase)
                ? CompanyInfo(sandbox.Settings)
                : null))
            .WithMetadata(new ConnectWiseAnonymous())
            .AddEndpointFilter(gate);

        var api = vendor.MapGroup("/{codebase}/apis/3.0").AddEndpointFilter(gate);

        MapCollection(api, "company/companies", data.Companies, "Company", "company", ConnectWiseFunction.CompanyMaintenance);
        MapCollection(api, "company/companies/statuses", data.CompanyStatuses, "CompanyStatus", "companyStatus", ConnectWiseFunction.CompanyMaintenance);
        MapCollection(api, "company/contacts", data.Contacts, "Contact", "contact", ConnectWiseFunction.Contacts);
        MapCollection(api, "service/boards", data.Boards, "Board", "board", ConnectWiseFunction.ServiceBoards);
        MapChildCollection(api, "service/boards", data.Boards, "teams", data.BoardTeams, "boardId", "BoardTeam", "boardTeam", ConnectWiseFunction.ServiceBoards);
        MapChildCollection(api, "service/boards", data.Boards, "statuses", data.BoardStatuses, "board/id", "BoardStatus", "boardStatus", ConnectWiseFunction.ServiceBoards);
        MapCollection(api, "service/priorities", data.Priorities, "Priority", "priority", ConnectWiseFunction.Priority);
        MapCollection(api, "service/sources", data.Sources, "Source", "source", ConnectWiseFunction.Sources);
        MapCollection(api, "service/tickets", data.Tickets, "Ticket", "ticket", ConnectWiseFunction.ServiceTickets);
        MapChildCollection(api, "service/tickets", data.Tickets, "notes", data.TicketNotes, "ticketId", "ServiceNote", "serviceNote", ConnectWiseFunction.ServiceTickets);
        MapCollection(api, "finance/agreements", data.Agreements, "Agreement", "agreement", ConnectWiseFunction.Agreements);
        MapCollection(api, "finance/agreements/types", data.AgreementTypes, "AgreementType", "agreementType", ConnectWiseFunction.Agreements);
        MapChildCollection(api, "finance/agreements", data.Agreements, "additions", data.Additions, "agreementId", "Addition", "addition", ConnectWiseFunction.Agreements);
        MapCollection(api, "procurement/catalog", data.Catalog, "CatalogItem", "catalogItem", ConnectWiseFunction.ProductCatalog);

        MapTicketWrites(api, sandbox, time);
        MapAdditionWrites(api, data, time);
        MapCatalogWrites(api, data, time);
        MapSystem(api, sandbox, time);
        api.Map("{**unknown}", () => ConnectWiseErrors.RouteNotFound());
    }

    internal static JsonObject CompanyInfo(ConnectWiseSettings settings)
    {
        var version = settings.Codebase.TrimEnd('/');
        return new JsonObject
        {
            ["CompanyName"] = "PsaPortal Sandbox MSP",
            ["Codebase"] = settings.Codebase,
            ["VersionCode"] = version.Replace('_', '.'),
            ["VersionNumber"] = $"v{settings.ApiVersion}.0",
            ["CompanyID"] = ConnectWiseSandbox.CompanyId,
            ["IsCloud"] = "True",
        };
    }

    private static long Number(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var value) ? (long)value : 0;

    private static void MapCollection(RouteGroupBuilder api, string path, RecordTable table, string schema, string resource, ConnectWiseFunction function)
    {
        var inquire = new ConnectWisePermission(function, ConnectWiseAction.Inquire);
        api.MapGet(path, (HttpContext http) => ConnectWiseQuery.List(http, table.All(), schema)).WithMetadata(inquire);
        api.MapGet(path + "/count", (HttpContext http) => ConnectWiseQuery.Count(http, table.All(), schema)).WithMetadata(inquire);
        api.MapGet(path + "/{id:long}", (HttpContext http, long id) => ConnectWiseQuery.Single(http, table.Find(id), resource, id, schema)).WithMetadata(inquire);
    }

    /// <param name="parentField">The child's field holding the parent id: top-level (<c>agreementId</c>, read through the table's index) or a reference (<c>board/id</c>).</param>
    private static void MapChildCollection(RouteGroupBuilder api, string parentPath, RecordTable parents, string child, RecordTable table, string parentField, string schema, string resource, ConnectWiseFunction function)
    {
        var inquire = new ConnectWisePermission(function, ConnectWiseAction.Inquire);
        var reference = parentField.Split('/');
        long ParentOf(JsonObject record) => reference.Length == 1 ? Number(record[parentField]) : Number((record[reference[0]] as JsonObject)?[reference[1]]);
        IReadOnlyList<JsonObject>? Children(long parentId) =>
            parents.Find(parentId) is null ? null : table.FindBy(parentField, [parentId]) ?? [.. table.All().Where(r => ParentOf(r) == parentId)];

        api.MapGet($"{parentPath}/{{parentId:long}}/{child}", (HttpContext http, long parentId) =>
            Children(parentId) is { } rows ? ConnectWiseQuery.List(http, rows, schema) : ConnectWiseErrors.NotFound(parentPath.Split('/')[^1], parentId))
            .WithMetadata(inquire);
        api.MapGet($"{parentPath}/{{parentId:long}}/{child}/count", (HttpContext http, long parentId) =>
            Children(parentId) is { } rows ? ConnectWiseQuery.Count(http, rows, schema) : ConnectWiseErrors.NotFound(parentPath.Split('/')[^1], parentId))
            .WithMetadata(inquire);
        api.MapGet($"{parentPath}/{{parentId:long}}/{child}/{{id:long}}", (HttpContext http, long parentId, long id) =>
        {
            var record = table.Find(id);
            return ConnectWiseQuery.Single(http, record is not null && ParentOf(record) == parentId ? record : null, resource, id, schema);
        }).WithMetadata(inquire);
    }

    private static void MapTicketWrites(RouteGroupBuilder api, ConnectWiseSandbox sandbox, TimeProvider time)
    {
        var data = sandbox.Data;
        var function = ConnectWiseFunction.ServiceTickets;

        // RefuseTicketClose: a change that would close an open ticket answers 200 with the ticket as it was.
        bool RefusesClose(JsonObject updated, JsonObject existing) =>
            sandbox.Settings.RefuseTicketClose && JsonRecords.GetBoolean(updated["closedFlag"]) == true && JsonRecords.GetBoolean(existing["closedFlag"]) != true;
        api.MapPost("service/tickets", async Task<IResult> (HttpContext http) =>
        {
            var (body, error) = await ConnectWiseWrites.ReadBodyAsync(http, "ticket");
            if (error is not null)
            {
                return error;
            }

            if (body is not JsonObject ticket)
            {
                return ConnectWiseErrors.InvalidObject("ticket", ("InvalidObject", "The request body must be a ticket object.", "ticket"));
            }

            ticket.Remove("id");
            var initialNotes = new[] { ("initialDescription", "detailDescriptionFlag"), ("initialInternalAnalysis", "internalAnalysisFlag"), ("initialResolution", "resolutionFlag") }
                .Select(pair => (Text: JsonRecords.GetString(JsonRecords.Get(ticket, pair.Item1)), Flag: pair.Item2))
                .Where(note => !string.IsNullOrEmpty(note.Text))
                .ToList();
            foreach (var field in new[] { "initialDescription", "initialInternalAnalysis", "initialResolution", "initialDescriptionFrom", "processNotifications", "skipCallback" })
            {
                ticket.Remove(field);
            }

            error = ConnectWiseWrites.CompleteTicket(data, ticket, isCreate: true);
            if (error is not null)
            {
                return error;
            }

            var now = ConnectWiseSeeder.Date(time.GetUtcNow().UtcDateTime);
            var member = (ConnectWiseApiMember)http.Items[ConnectWiseGate.MemberItemKey]!;
            var info = ConnectWiseSeeder.Info(now);
            info["updatedBy"] = member.Identifier;
            info["enteredBy"] = member.Identifier;
            ticket["_info"] = info;
            var created = data.Tickets.Insert(ticket);
            foreach (var (text, flag) in initialNotes)
            {
                data.TicketNotes.Insert(new JsonObject
                {
                    ["ticketId"] = JsonRecords.GetId(created),
                    ["text"] = text,
                    ["detailDescriptionFlag"] = flag == "detailDescriptionFlag",
                    ["internalAnalysisFlag"] = flag == "internalAnalysisFlag",
                    ["resolutionFlag"] = flag == "resolutionFlag",
                    ["member"] = ConnectWiseSeeder.Ref(member.Id, "identifier", member.Identifier, "member_href", $"system/members/{member.Id}"),
                    ["dateCreated"] = now,
                    ["createdBy"] = member.Identifier,
                    ["internalFlag"] = flag != "detailDescriptionFlag",
                    ["externalFlag"] = flag == "detailDescriptionFlag",
                    ["_info"] = ConnectWiseSeeder.Info(now),
                });
            }

            return JsonPayloadResult.Node(created, StatusCodes.Status201Created, ConnectWiseQuery.ApiRoot(http));
        }).WithMetadata(new ConnectWisePermission(function, ConnectWiseAction.Add));

        // For conditions too long for a URL: the filter values travel in the body, paging stays in the query string.
        api.MapPost("service/tickets/search", async Task<IResult> (HttpContext http) =>
        {
            var (body, error) = await ConnectWiseWrites.ReadBodyAsync(http, "filterValues");
            if (error is not null)
            {
                return error;
            }

            var parameters = http.Request.Query.ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.OrdinalIgnoreCase);
            if (body is JsonObject filterValues)
            {
                foreach (var name in new[] { "conditions", "orderBy", "childConditions", "customFieldConditions" })
                {
                    if (JsonRecords.GetString(JsonRecords.Get(filterValues, name)) is { } value)
                    {
                        parameters[name] = value;
                    }
                }
            }

            return ConnectWiseQuery.List(http, data.Tickets.All(), "Ticket", parameters: new QueryCollection(parameters));
        }).WithMetadata(new ConnectWisePermission(function, ConnectWiseAction.Inquire));

        api.MapPatch("service/tickets/{id:long}", async (HttpContext http, long id) =>
            await Update(http, data.Tickets, id, "ticket", "Ticket", time, patch: true, (record, _) => ConnectWiseWrites.CompleteTicket(data, record, isCreate: false), keepExisting: RefusesClose))
            .WithMetadata(new ConnectWisePermission(function, ConnectWiseAction.Edit));
        api.MapPut("service/tickets/{id:long}", async (HttpContext http, long id) =>
            await Update(http, data.Tickets, id, "ticket", "Ticket", time, patch: false, (record, _) => ConnectWiseWrites.CompleteTicket(data, record, isCreate: false), keepExisting: RefusesClose))
            .WithMetadata(new ConnectWisePermission(function, ConnectWiseAction.Edit));

        api.MapPost("service/tickets/{parentId:long}/notes", async (HttpContext http, long parentId) =>
        {
            if (data.Tickets.Find(parentId) is null)
            {
                return ConnectWiseErrors.NotFound("ticket", parentId);
            }

            var (body, error) = await ConnectWiseWrites.ReadBodyAsync(http, "serviceNote");
            if (error is not null)
            {
                return error;
            }

            if (body is not JsonObject note || string.IsNullOrWhiteSpace(JsonRecords.GetString(JsonRecords.Get(note, "text"))))
            {
                return ConnectWiseErrors.InvalidObject("serviceNote", ("MissingRequiredField", "The text field is required.", "text"));
            }

            var flags = new[] { "detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag" };
            if (!flags.Any(flag => JsonRecords.GetBoolean(JsonRecords.Get(note, flag)) == true))
            {
                return ConnectWiseErrors.InvalidObject("serviceNote", ("InvalidField", "At least one of detailDescriptionFlag, internalAnalysisFlag or resolutionFlag must be true.", "detailDescriptionFlag"));
            }

            var now = ConnectWiseSeeder.Date(time.GetUtcNow().UtcDateTime);
            var member = (ConnectWiseApiMember)http.Items[ConnectWiseGate.MemberItemKey]!;
            note.Remove("id");
            note["ticketId"] = parentId;
            note["member"] = ConnectWiseSeeder.Ref(member.Id, "identifier", member.Identifier, "member_href", $"system/members/{member.Id}");
            note["dateCreated"] = now;
            note["createdBy"] = member.Identifier;
            note["_info"] = ConnectWiseSeeder.Info(now);
            return JsonPayloadResult.Node(data.TicketNotes.Insert(note), StatusCodes.Status201Created, ConnectWiseQuery.ApiRoot(http));
        }).WithMetadata(new ConnectWisePermission(function, ConnectWiseAction.Add));
    }

    private static void MapAdditionWrites(RouteGroupBuilder api, ConnectWiseData data, TimeProvider time)
    {
        const string path = "finance/agreements/{parentId:long}/additions";
        var function = ConnectWiseFunction.Agreements;
        api.MapPost(path, async (HttpContext http, long parentId) =>
        {
            if (data.Agreements.Find(parentId) is not { } agreement)
            {
                return ConnectWiseErrors.NotFound("agreement", parentId);
            }

            var (body, error) = await ConnectWiseWrites.ReadBodyAsync(http, "addition");
            if (error is not null)
            {
                return error;
            }

            if (body is not JsonObject addition)
            {
                return ConnectWiseErrors.InvalidObject("addition", ("InvalidObject", "The request body must be an addition object.", "addition"));
            }

            addition.Remove("id");
            error = ConnectWiseWrites.CompleteAddition(data, addition, agreement);
            if (error is not null)
            {
                return error;
            }

            addition["_info"] = ConnectWiseSeeder.Info(ConnectWiseSeeder.Date(time.GetUtcNow().UtcDateTime));
            var created = JsonRecords.Clone(data.Additions.Insert(addition));
            created["sequenceNumber"] = (decimal)JsonRecords.GetId(created);
            data.Additions.Replace(created);
            return JsonPayloadResult.Node(created, StatusCodes.Status201Created, ConnectWiseQuery.ApiRoot(http));
        }).WithMetadata(new ConnectWisePermission(function, ConnectWiseAction.Add));

        IResult? Validate(JsonObject record, long parentId) =>
            data.Agreements.Find(parentId) is { } agreement
                ? ConnectWiseWrites.CompleteAddition(data, record, agreement)
                : ConnectWiseErrors.NotFound("agreement", parentId);

        api.MapPatch(path + "/{id:long}", async (HttpContext http, long parentId, long id) =>
            await Update(http, data.Additions, id, "addition", "Addition", time, patch: true, (record, _) => Validate(record, parentId), parentId, r => Number(r["agreementId"])))
            .WithMetadata(new ConnectWisePermission(function, ConnectWiseAction.Edit));
        api.MapPut(path + "/{id:long}", async (HttpContext http, long parentId, long id) =>
            await Update(http, data.Additions, id, "addition", "Addition", time, patch: false, (record, _) => Validate(record, parentId), parentId, r => Number(r["agreementId"])))
            .WithMetadata(new ConnectWisePermission(function, ConnectWiseAction.Edit));
        api.MapDelete(path + "/{id:long}", (long parentId, long id) =>
        {
            var record = data.Additions.Find(id);
            if (record is null || Number(record["agreementId"]) != parentId)
            {
                return ConnectWiseErrors.NotFound("addition", id);
            }

            data.Additions.Remove(id);
            return Results.NoContent();
        }).WithMetadata(new ConnectWisePermission(function, ConnectWiseAction.Delete));
    }

    private static void MapCatalogWrites(RouteGroupBuilder api, ConnectWiseData data, TimeProvider time)
    {
        // Serialises the identifier check with the insert, so two concurrent posts cannot both claim one identifier.
        var identifierGate = new Lock();
        api.MapPost("procurement/catalog", async Task<IResult> (HttpContext http) =>
        {
            var (body, error) = await ConnectWiseWrites.ReadBodyAsync(http, "catalogItem");
            if (error is not null)
            {
                return error;
            }

            if (body is not JsonObject item)
            {
                return ConnectWiseErrors.InvalidObject("catalogItem", ("InvalidObject", "The request body must be a catalogItem object.", "catalogItem"));
            }

            item.Remove("id");
            var now = ConnectWiseSeeder.Date(time.GetUtcNow().UtcDateTime);
            var member = (ConnectWiseApiMember)http.Items[ConnectWiseGate.MemberItemKey]!;
            var info = ConnectWiseSeeder.Info(now);
            info["updatedBy"] = member.Identifier;
            info["enteredBy"] = member.Identifier;
            item["_info"] = info;
            lock (identifierGate)
            {
                return ConnectWiseWrites.CompleteCatalogItem(data, item)
                    ?? JsonPayloadResult.Node(data.Catalog.Insert(item), StatusCodes.Status201Created, ConnectWiseQuery.ApiRoot(http));
            }
        }).WithMetadata(new ConnectWisePermission(ConnectWiseFunction.ProductCatalog, ConnectWiseAction.Add));

        // The identifier stays unique across edits too; the item's own identifier is not a clash.
        IResult? Validate(JsonObject updated, JsonObject existing)
        {
            lock (identifierGate)
            {
                return ConnectWiseWrites.CompleteCatalogItem(data, updated, exceptId: JsonRecords.GetId(existing));
            }
        }

        api.MapPatch("procurement/catalog/{id:long}", async (HttpContext http, long id) =>
            await Update(http, data.Catalog, id, "catalogItem", "CatalogItem", time, patch: true, Validate))
            .WithMetadata(new ConnectWisePermission(ConnectWiseFunction.ProductCatalog, ConnectWiseAction.Edit));
        api.MapPut("procurement/catalog/{id:long}", async (HttpContext http, long id) =>
            await Update(http, data.Catalog, id, "catalogItem", "CatalogItem", time, patch: false, Validate))
            .WithMetadata(new ConnectWisePermission(ConnectWiseFunction.ProductCatalog, ConnectWiseAction.Edit));
    }

    /// <summary>PATCH (operation list) or PUT (whole record) on a copy, validated, then swapped in.</summary>
    private static async Task<IResult> Update(HttpContext http, RecordTable table, long id, string resource, string schema, TimeProvider time, bool patch,
        Func<JsonObject, JsonObject, IResult?> validate, long? parentId = null, Func<JsonObject, long>? parentOf = null, Func<JsonObject, JsonObject, bool>? keepExisting = null)
    {
        var existing = table.Find(id);
        if (existing is null || (parentId is { } expected && parentOf!(existing) != expected))
        {
            return ConnectWiseErrors.NotFound(resource, id);
        }

        var (body, error) = await ConnectWiseWrites.ReadBodyAsync(http, resource);
        if (error is not null)
        {
            return error;
        }

        JsonObject updated;
        if (patch)
        {
            updated = JsonRecords.Clone(existing);
            error = ConnectWiseWrites.ApplyPatch(updated, body, resource, schema);
            if (error is not null)
            {
                return error;
            }
        }
        else
        {
            if (body is not JsonObject replacement)
            {
                return ConnectWiseErrors.InvalidObject(resource, ("InvalidObject", $"The request body must be a {resource} object.", resource));
            }

            // PUT replaces the whole entity: whatever the body leaves out falls back to defaults.
            updated = (JsonObject)replacement.DeepClone();
        }

        updated["id"] = id;
        error = validate(updated, existing);
        if (error is not null)
        {
            return error;
        }

        if (keepExisting?.Invoke(updated, existing) == true)
        {
            return JsonPayloadResult.Node(existing, hrefBase: ConnectWiseQuery.ApiRoot(http));
        }

        var info = existing["_info"] is JsonObject oldInfo ? (JsonObject)oldInfo.DeepClone() : [];
        info["lastUpdated"] = ConnectWiseSeeder.Date(time.GetUtcNow().UtcDateTime);
        info["updatedBy"] = (http.Items[ConnectWiseGate.MemberItemKey] as ConnectWiseApiMember)?.Identifier;
        updated["_info"] = info;
        table.Replace(updated);
        return JsonPayloadResult.Node(updated, hrefBase: ConnectWiseQuery.ApiRoot(http));
    }

    private static void MapSystem(RouteGroupBuilder api, ConnectWiseSandbox sandbox, TimeProvider time)
    {
        api.MapGet("system/info", () => JsonPayloadResult.Node(new JsonObject
        {
            ["version"] = $"v{sandbox.Settings.ApiVersion}.0",
            ["isCloud"] = true,
            ["serverTimeZone"] = "Eastern Standard Time",
            ["licenseBits"] = new JsonArray(
                new JsonObject { ["name"] = "ServiceDesk", ["activeFlag"] = true },
                new JsonObject { ["name"] = "Finance", ["activeFlag"] = true },
                new JsonObject { ["name"] = "Procurement", ["activeFlag"] = true }),
            ["cloudRegion"] = "NA",
        }));

        api.MapGet("system/mySecurity", (HttpContext http) =>
        {
            var member = (ConnectWiseApiMember)http.Items[ConnectWiseGate.MemberItemKey]!;
            var id = 0;
            var rows = ConnectWiseFunction.All.Select(function =>
            {
                var levels = member.LevelsFor(function);
                return new JsonObject
                {
                    ["id"] = ++id,
                    ["addLevel"] = levels.Add,
                    ["editLevel"] = levels.Edit,
                    ["deleteLevel"] = levels.Delete,
                    ["inquireLevel"] = levels.Inquire,
                    ["moduleFunctionName"] = function.FunctionName,
                    ["moduleFunctionDescription"] = function.FunctionName,
                    ["myAllFlag"] = true,
                    ["moduleFunctionIdentifier"] = function.FunctionIdentifier,
                    ["reportFlag"] = false,
                    ["restrictFlag"] = false,
                    ["customFlag"] = false,
                    ["moduleDescription"] = function.ModuleName,
                    ["moduleIdentifier"] = function.ModuleIdentifier,
                    ["moduleName"] = function.ModuleName,
                    ["sortOrder"] = id,
                    ["member"] = ConnectWiseSeeder.Ref(member.Id, "identifier", member.Identifier, "member_href", $"system/members/{member.Id}"),
                };
            }).ToList();
            return ConnectWiseQuery.List(http, rows, "MySecurity", stored: false);
        });

        MapDocuments(api, sandbox.Data, time);
    }

    /// <summary>
    /// <c>system/documents</c>: multipart upload attached to a record (<c>recordType</c> + <c>recordId</c>
    /// form fields), and the list and count filtered by <c>?recordType=…&amp;recordId=…</c>, the route the
    /// vendor points to for "documents of a ticket" and the like.
    /// </summary>
    private static void MapDocuments(RouteGroupBuilder api, ConnectWiseData data, TimeProvider time)
    {
        var inquire = new ConnectWisePermission(ConnectWiseFunction.Documents, ConnectWiseAction.Inquire);
        api.MapGet("system/documents", (HttpContext http) =>
            DocumentsAttachedTo(data, http.Request.Query, out var rows) ?? ConnectWiseQuery.List(http, rows, "DocumentInfo"))
            .WithMetadata(inquire);
        api.MapGet("system/documents/count", (HttpContext http) =>
            DocumentsAttachedTo(data, http.Request.Query, out var rows) ?? ConnectWiseQuery.Count(http, rows, "DocumentInfo"))
            .WithMetadata(inquire);

        api.MapGet("system/documents/{id:long}/download", (long id) =>
            data.Documents.Find(id) is { } document && data.DocumentContents.Find(id) is { } stored
                ? Results.File(Convert.FromBase64String(JsonRecords.GetString(stored["content"]) ?? string.Empty), "application/octet-stream", JsonRecords.GetString(document["fileName"]))
                : ConnectWiseErrors.NotFound("document", id))
            .WithMetadata(inquire);

        api.MapPost("system/documents", async Task<IResult> (HttpContext http) =>
        {
            if (!http.Request.HasFormContentType)
            {
                return ConnectWiseErrors.Error(StatusCodes.Status415UnsupportedMediaType, new JsonObject
                {
                    ["code"] = "UnsupportedMediaType",
                    ["message"] = "Documents must be uploaded as multipart/form-data.",
                });
            }

            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var file = form.Files.GetFile("file") ?? form.Files.FirstOrDefault();
            if (file is null)
            {
                return ConnectWiseErrors.InvalidObject("document", ("MissingRequiredField", "A file is required.", "file"));
            }

            var (recordType, recordId, error) = AttachmentTarget(data, form["recordType"].FirstOrDefault(), form["recordId"].FirstOrDefault());
            if (error is not null)
            {
                return error;
            }

            var member = (ConnectWiseApiMember)http.Items[ConnectWiseGate.MemberItemKey]!;
            var now = ConnectWiseSeeder.Date(time.GetUtcNow().UtcDateTime);
            var document = data.Documents.Insert(new JsonObject
            {
                ["title"] = form["title"].FirstOrDefault() ?? file.FileName,
                ["fileName"] = file.FileName,
                ["serverFileName"] = Guid.NewGuid().ToString("N") + Path.GetExtension(file.FileName),
                ["owner"] = member.Identifier,
                ["linkFlag"] = false,
                ["imageFlag"] = file.ContentType.StartsWith("image/", StringComparison.OrdinalIgnoreCase),
                ["publicFlag"] = false,
                ["htmlTemplateFlag"] = false,
                ["readOnlyFlag"] = false,
                ["size"] = file.Length,
                ["urlFlag"] = false,
                ["createdOnDate"] = now,
                ["guid"] = Guid.NewGuid().ToString(),
                ["_info"] = ConnectWiseSeeder.Info(now),
            });
            data.DocumentRecords.Insert(new JsonObject { ["id"] = JsonRecords.GetId(document), ["recordType"] = recordType, ["recordId"] = recordId });
            using (var bytes = new MemoryStream())
            {
                await file.CopyToAsync(bytes, http.RequestAborted);
                data.DocumentContents.Insert(new JsonObject { ["id"] = JsonRecords.GetId(document), ["content"] = Convert.ToBase64String(bytes.ToArray()) });
            }

            return JsonPayloadResult.Node(document, StatusCodes.Status201Created, ConnectWiseQuery.ApiRoot(http));
        }).WithMetadata(new ConnectWisePermission(ConnectWiseFunction.Documents, ConnectWiseAction.Add))
          .DisableAntiforgery();
    }

    /// <summary>The record types a document can be attached to in the sandbox, with the table that holds them.</summary>
    private static IReadOnlyDictionary<string, RecordTable> AttachableRecords(ConnectWiseData data) =>
        new Dictionary<string, RecordTable>(StringComparer.OrdinalIgnoreCase)
        {
            ["Agreement"] = data.Agreements,
            ["Company"] = data.Companies,
            ["Contact"] = data.Contacts,
            ["Ticket"] = data.Tickets,
        };

    /// <summary>Checks an upload's <c>recordType</c> and <c>recordId</c>: both required, a known type, an existing record.</summary>
    private static (string RecordType, long RecordId, IResult? Error) AttachmentTarget(ConnectWiseData data, string? recordType, string? recordIdText)
    {
        const string resource = "document";
        if (string.IsNullOrWhiteSpace(recordType))
        {
            return (string.Empty, 0, ConnectWiseErrors.InvalidObject(resource, ("MissingRequiredField", "The recordType field is required.", "recordType")));
        }

        if (string.IsNullOrWhiteSpace(recordIdText))
        {
            return (string.Empty, 0, ConnectWiseErrors.InvalidObject(resource, ("MissingRequiredField", "The recordId field is required.", "recordId")));
        }

        if (!int.TryParse(recordIdText, NumberStyles.None, CultureInfo.InvariantCulture, out var recordId))
        {
            return (string.Empty, 0, ConnectWiseErrors.InvalidObject(resource, ("InvalidField", $"The value {recordIdText} is not valid for recordId.", "recordId")));
        }

        var records = AttachableRecords(data);
        var canonical = records.Keys.FirstOrDefault(k => string.Equals(k, recordType, StringComparison.OrdinalIgnoreCase));
        if (canonical is null)
        {
            return (string.Empty, 0, ConnectWiseErrors.InvalidObject(resource, ("InvalidField", $"The value {recordType} is not valid for recordType.", "recordType")));
        }

        return records[canonical].Find(recordId) is null
            ? (string.Empty, 0, ConnectWiseErrors.InvalidObject(resource, ("NotFound", $"{canonical} recId {recordId} not found", "recordId")))
            : (canonical, recordId, null);
    }

    /// <summary>The documents matching the optional <c>recordType</c> / <c>recordId</c> query parameters; null, or a 400 for a recordId that is not a number.</summary>
    private static IResult? DocumentsAttachedTo(ConnectWiseData data, IQueryCollection query, out IReadOnlyList<JsonObject> documents)
    {
        documents = data.Documents.All();
        var recordType = query["recordType"].FirstOrDefault();
        var recordIdText = query["recordId"].FirstOrDefault();
        long? recordId = null;
        if (!string.IsNullOrEmpty(recordIdText))
        {
            if (!int.TryParse(recordIdText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return ConnectWiseErrors.InvalidParameter("recordId", $"The value {recordIdText} is not valid for recordId.");
            }

            recordId = parsed;
        }

        if (string.IsNullOrEmpty(recordType) && recordId is null)
        {
            return null;
        }

        var attached = data.DocumentRecords.All()
            .Where(link => (string.IsNullOrEmpty(recordType) || string.Equals(JsonRecords.GetString(link["recordType"]), recordType, StringComparison.OrdinalIgnoreCase))
                && (recordId is null || Number(link["recordId"]) == recordId))
            .Select(JsonRecords.GetId)
            .ToHashSet();
        documents = [.. documents.Where(d => attached.Contains(JsonRecords.GetId(d)))];
        return null;
    }
}
