using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.ConnectWise;

/// <summary>Write rules the vendor applies: PATCH operation lists, reference resolution and the validation of tickets and agreement additions.</summary>
internal static class ConnectWiseWrites
{
    public static async Task<(JsonNode? Body, IResult? Error)> ReadBodyAsync(HttpContext http, string resource)
    {
        try
        {
            var body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            JsonRecords.Freeze(body);
            return (body, null);
        }
        catch (JsonException exception)
        {
            return (null, ConnectWiseErrors.InvalidObject(resource, ("InvalidObject", $"The request body could not be read: {exception.Message}", resource)));
        }
    }

    /// <summary>
    /// Applies <c>[{op, path, value}]</c> to a copy of the record. Paths are bare, case-sensitive
    /// top-level field names; a nested path such as <c>company/identifier</c> is accepted and silently
    /// ignored, which is the vendor's documented "false 200".
    /// </summary>
    public static IResult? ApplyPatch(JsonObject record, JsonNode? body, string resource, string schema)
    {
        if (body is not JsonArray operations)
        {
            return ConnectWiseErrors.InvalidObject(resource, ("InvalidObject", "The request body must be a list of patch operations.", resource));
        }

        var known = Specs.SpecFieldCatalog.ConnectWise[schema];
        foreach (var node in operations)
        {
            if (node is not JsonObject operation)
            {
                return ConnectWiseErrors.InvalidObject(resource, ("InvalidObject", "Each patch operation must be an object.", resource));
            }

            var op = JsonRecords.GetString(JsonRecords.Get(operation, "op"))?.ToLowerInvariant();
            var path = JsonRecords.GetString(JsonRecords.Get(operation, "path"))?.TrimStart('/');
            if (op is not ("add" or "replace" or "remove") || string.IsNullOrEmpty(path))
            {
                return ConnectWiseErrors.InvalidObject(resource, ("InvalidPatchOperation", $"Patch operation '{op}' on path '{path}' is not supported.", path ?? "op"));
            }

            if (path.Contains('/', StringComparison.Ordinal))
            {
                continue;
            }

            if (!known.Contains(path, StringComparer.Ordinal))
            {
                return ConnectWiseErrors.InvalidObject(resource, ("InvalidField", $"The field {path} does not exist on {resource}.", path));
            }

            if (path is "id" or "_info")
            {
                return ConnectWiseErrors.InvalidObject(resource, ("ReadOnlyField", $"The field {path} cannot be updated.", path));
            }

            if (op == "remove")
            {
                record.Remove(path);
            }
            else
            {
                record[path] = JsonRecords.Get(operation, "value")?.DeepClone();
            }
        }

        return null;
    }

    /// <summary>
    /// Validates a ticket and completes its references (board, status, team, priority, source,
    /// company, contact) the way the vendor fills them in: defaults from the board, the member's
    /// default board, the default priority.
    /// </summary>
    public static IResult? CompleteTicket(ConnectWiseData data, JsonObject ticket, bool isCreate)
    {
        const string resource = "ticket";
        var summary = JsonRecords.GetString(JsonRecords.Get(ticket, "summary"));
        if (string.IsNullOrWhiteSpace(summary))
        {
            return ConnectWiseErrors.InvalidObject(resource, ("MissingRequiredField", "The summary field is required.", "summary"));
        }

        if (summary.Length > 100)
        {
            return ConnectWiseErrors.InvalidObject(resource, ("MaxLengthField", "The field summary must be a string with a maximum length of 100.", "summary"));
        }

        if (JsonRecords.Get(ticket, "company") is not JsonObject companyRef)
        {
            return ConnectWiseErrors.InvalidObject(resource, ("MissingRequiredField", "The company field is required.", "company"));
        }

        var company = FindByRef(data.Companies, companyRef, "identifier");
        if (company is null)
        {
            return ConnectWiseErrors.InvalidObject(resource, ("NotFound", $"Company {Describe(companyRef)} not found.", "company"));
        }

        ticket["company"] = ConnectWiseSeeder.CompanyRef(JsonRecords.GetId(company), company["identifier"]!.GetValue<string>(), company["name"]!.GetValue<string>());

        var board = JsonRecords.Get(ticket, "board") is JsonObject boardRef
            ? FindByRef(data.Boards, boardRef, "name")
            : data.Boards.Find(ConnectWiseSeeder.HelpDeskBoardId);
        if (board is null)
        {
            return ConnectWiseErrors.InvalidObject(resource, ("NotFound", $"Service Board {Describe((JsonObject)JsonRecords.Get(ticket, "board")!)} not found.", "board/id"));
        }

        var boardId = JsonRecords.GetId(board);
        var boardName = board["name"]!.GetValue<string>();
        ticket["board"] = ConnectWiseSeeder.Ref(boardId, "name", boardName, "board_href", $"service/boards/{boardId}");

        var statuses = data.BoardStatuses.All().Where(s => JsonRecords.GetId((JsonObject)s["board"]!) == boardId).ToList();
        JsonObject? status;
        if (JsonRecords.Get(ticket, "status") is JsonObject statusRef)
        {
            status = FindByRef(statuses, statusRef, "name");
            if (status is null)
            {
                return ConnectWiseErrors.InvalidObject(resource, ("NotFound", $"Service Status {Describe(statusRef)} not found for Service Board {boardId}", "status/id"));
            }
        }
        else
        {
            status = statuses.FirstOrDefault(s => JsonRecords.GetBoolean(s["defaultFlag"]) == true) ?? statuses.FirstOrDefault();
        }

        if (status is not null)
        {
            var statusId = JsonRecords.GetId(status);
            ticket["status"] = ConnectWiseSeeder.Ref(statusId, "name", status["name"]!.GetValue<string>(), "status_href", $"service/boards/{boardId}/statuses/{statusId}");
            var closed = JsonRecords.GetBoolean(status["closedStatus"]) == true || JsonRecords.GetBoolean(JsonRecords.Get(ticket, "closedFlag")) == true;
            ticket["closedFlag"] = closed;
        }

        var teams = data.BoardTeams.All().Where(t => JsonRecords.TryGetDecimal(t["boardId"], out var b) && (long)b == boardId).ToList();
        if (JsonRecords.Get(ticket, "team") is JsonObject teamRef)
        {
            var team = FindByRef(teams, teamRef, "name");
            if (team is null)
            {
                return ConnectWiseErrors.InvalidObject(resource, ("NotFound", $"Team {Describe(teamRef)} not found for Service Board {boardId}", "team/id"));
            }

            ticket["team"] = TeamRef(team, boardId);
        }
        else if (isCreate)
        {
            var defaultTeam = teams.FirstOrDefault(t => JsonRecords.GetBoolean(t["defaultFlag"]) == true);
            if (defaultTeam is null)
            {
                return ConnectWiseErrors.InvalidObject(resource, ("NotFound", $"Cannot find default team for board specified (Service Board {boardId}).", "team"));
            }

            ticket["team"] = TeamRef(defaultTeam, boardId);
        }

        var priority = JsonRecords.Get(ticket, "priority") is JsonObject priorityRef
            ? FindByRef(data.Priorities.All(), priorityRef, "name")
            : data.Priorities.All().FirstOrDefault(p => JsonRecords.GetBoolean(p["defaultFlag"]) == true);
        if (priority is null)
        {
            return ConnectWiseErrors.InvalidObject(resource, ("NotFound", $"Priority {Describe((JsonObject)JsonRecords.Get(ticket, "priority")!)} not found.", "priority/id"));
        }

        ticket["priority"] = ConnectWiseSeeder.PriorityRef(data, JsonRecords.GetId(priority));

        if (JsonRecords.Get(ticket, "source") is JsonObject sourceRef)
        {
            var source = FindByRef(data.Sources.All(), sourceRef, "name");
            if (source is null)
            {
                return ConnectWiseErrors.InvalidObject(resource, ("NotFound", $"Source {Describe(sourceRef)} not found.", "source/id"));
            }

            ticket["source"] = ConnectWiseSeeder.Ref(JsonRecords.GetId(source), "name", source["name"]!.GetValue<string>(), "source_href", $"service/sources/{JsonRecords.GetId(source)}");
        }

        foreach (var field in new[] { "severity", "impact" })
        {
            var value = JsonRecords.GetString(JsonRecords.Get(ticket, field)) ?? "Medium";
            if (value is not ("Low" or "Medium" or "High"))
            {
                return ConnectWiseErrors.InvalidObject(resource, ("InvalidField", $"The value {value} is not valid for {field}.", field));
            }

            ticket[field] = value;
        }

        ticket["recordType"] ??= "ServiceTicket";
        return null;
    }

    /// <summary>Validates an agreement addition and completes its product reference and derived amounts.</summary>
    public static IResult? CompleteAddition(ConnectWiseData data, JsonObject addition, JsonObject agreement)
    {
        const string resource = "addition";
        if (JsonRecords.Get(addition, "product") is not JsonObject productRef)
        {
            return ConnectWiseErrors.InvalidObject(resource, ("MissingRequiredField", "The product field is required.", "product"));
        }

        var product = FindByRef(data.Catalog.All(), productRef, "identifier");
        if (product is null)
        {
            return ConnectWiseErrors.InvalidObject(resource, ("NotFound", $"Product {Describe(productRef)} not found.", "product/id"));
        }

        var billCustomer = JsonRecords.GetString(JsonRecords.Get(addition, "billCustomer"));
        if (billCustomer is null)
        {
            return ConnectWiseErrors.InvalidObject(resource, ("MissingRequiredField", "The billCustomer field is required.", "billCustomer"));
        }

        if (billCustomer is not ("Billable" or "DoNotBill" or "NoCharge"))
        {
            return ConnectWiseErrors.InvalidObject(resource, ("InvalidField", $"The value {billCustomer} is not valid for billCustomer.", "billCustomer"));
        }

        var productId = JsonRecords.GetId(product);
        addition["product"] = new JsonObject
        {
            ["id"] = productId,
            ["identifier"] = product["identifier"]!.GetValue<string>(),
            ["_info"] = new JsonObject { ["product_href"] = $"procurement/catalog/{productId}" },
        };
        var quantity = JsonRecords.TryGetDecimal(JsonRecords.Get(addition, "quantity"), out var q) ? q : 1m;
        var unitPrice = JsonRecords.TryGetDecimal(JsonRecords.Get(addition, "unitPrice"), out var p) ? p : JsonRecords.TryGetDecimal(product["price"], out var listPrice) ? listPrice : 0m;
        var unitCost = JsonRecords.TryGetDecimal(JsonRecords.Get(addition, "unitCost"), out var c) ? c : JsonRecords.TryGetDecimal(product["cost"], out var listCost) ? listCost : 0m;
        if (quantity < 0)
        {
            return ConnectWiseErrors.InvalidObject(resource, ("InvalidField", "The quantity cannot be negative.", "quantity"));
        }

        addition["quantity"] = quantity;
        addition["unitPrice"] = unitPrice;
        addition["unitCost"] = unitCost;
        addition["extPrice"] = quantity * unitPrice;
        addition["extCost"] = quantity * unitCost;
        addition["margin"] = (unitPrice - unitCost) * quantity;
        addition["agreementId"] = JsonRecords.GetId(agreement);
        addition["description"] ??= product["description"]?.DeepClone();
        addition["effectiveDate"] ??= agreement["startDate"]?.DeepClone();
        addition["billedQuantity"] = quantity;
        addition["lessIncluded"] ??= 0m;
        addition["taxableFlag"] ??= false;
        addition["uom"] ??= "Each";
        var cancelled = JsonRecords.GetString(JsonRecords.Get(addition, "cancelledDate"));
        if (cancelled is not null && !DateTimeOffset.TryParse(cancelled, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
        {
            return ConnectWiseErrors.InvalidObject(resource, ("InvalidField", $"The value {cancelled} is not a valid date for cancelledDate.", "cancelledDate"));
        }

        addition["agreementStatus"] = cancelled is not null ? "Cancelled" : agreement["agreementStatus"]?.DeepClone() ?? "Active";
        return null;
    }

    /// <summary>
    /// Validates a new catalog item against the vendor's model (identifier ≤ 75, description ≤ 60 and
    /// customerDescription ≤ 6,000 characters, subcategory and type required, a unique identifier, the
    /// productClass enum), reporting every problem in one answer, then completes references and defaults.
    /// </summary>
    /// <param name="exceptId">On an edit, the item itself, whose own identifier is no clash.</param>
    public static IResult? CompleteCatalogItem(ConnectWiseData data, JsonObject item, long? exceptId = null)
    {
        const string resource = "catalogItem";
        var errors = new List<(string Code, string Message, string Field)>();
        foreach (var (field, maxLength) in new[] { ("identifier", 75), ("description", 60), ("customerDescription", 6000) })
        {
            var value = JsonRecords.GetString(JsonRecords.Get(item, field));
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add(("MissingRequiredField", $"The {field} field is required.", field));
            }
            else if (value.Length > maxLength)
            {
                errors.Add(("MaxLengthField", $"The field {field} must be a string with a maximum length of {maxLength}.", field));
            }
        }

        var identifier = JsonRecords.GetString(JsonRecords.Get(item, "identifier"));
        if (identifier is not null && data.Catalog.All().Any(c => JsonRecords.GetId(c) != exceptId && string.Equals(JsonRecords.GetString(c["identifier"]), identifier, StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add(("ObjectExists", $"The identifier {identifier} is already in use.", "identifier"));
        }

        // The sandbox serves no procurement/subcategories or procurement/types: the ones its catalog uses are the ones the site has.
        foreach (var (field, label) in new[] { ("subcategory", "Subcategory"), ("type", "Product Type") })
        {
            if (JsonRecords.Get(item, field) is not JsonObject reference)
            {
                errors.Add(("MissingRequiredField", $"The {field} field is required.", field));
                continue;
            }

            var known = data.Catalog.All().Select(c => c[field]).OfType<JsonObject>().DistinctBy(JsonRecords.GetId);
            if (FindByRef(known, reference, "name") is { } match)
            {
                item[field] = match.DeepClone();
            }
            else
            {
                errors.Add(("NotFound", $"{label} {Describe(reference)} not found.", $"{field}/id"));
            }
        }

        // The model documents NonInventory as the default class.
        var productClass = JsonRecords.GetString(JsonRecords.Get(item, "productClass")) ?? "NonInventory";
        if (productClass is not ("Agreement" or "Bundle" or "Inventory" or "NonInventory" or "Service"))
        {
            errors.Add(("InvalidField", $"The value {productClass} is not valid for productClass.", "productClass"));
        }

        if (errors.Count > 0)
        {
            return ConnectWiseErrors.InvalidObject(resource, [.. errors]);
        }

        item["productClass"] = productClass;
        item["inactiveFlag"] ??= false;
        return null;
    }

    private static JsonObject TeamRef(JsonObject team, long boardId)
    {
        var teamId = JsonRecords.GetId(team);
        return ConnectWiseSeeder.Ref(teamId, "name", team["name"]!.GetValue<string>(), "team_href", $"service/boards/{boardId}/teams/{teamId}");
    }

    private static JsonObject? FindByRef(RecordTable table, JsonObject reference, string labelField) => FindByRef(table.All(), reference, labelField);

    /// <summary>References are matched by id when given, otherwise by their label (name or identifier).</summary>
    private static JsonObject? FindByRef(IEnumerable<JsonObject> records, JsonObject reference, string labelField)
    {
        if (JsonRecords.TryGetDecimal(JsonRecords.Get(reference, "id"), out var id))
        {
            return records.FirstOrDefault(r => JsonRecords.GetId(r) == (long)id);
        }

        var label = JsonRecords.GetString(JsonRecords.Get(reference, labelField)) ?? JsonRecords.GetString(JsonRecords.Get(reference, "name"));
        return label is null ? null : records.FirstOrDefault(r =>
            string.Equals(JsonRecords.GetString(JsonRecords.Get(r, labelField)), label, StringComparison.OrdinalIgnoreCase));
    }

    private static string Describe(JsonObject reference) =>
        JsonRecords.Get(reference, "id")?.ToJsonString()
        ?? JsonRecords.GetString(JsonRecords.Get(reference, "identifier"))
        ?? JsonRecords.GetString(JsonRecords.Get(reference, "name"))
        ?? "(none)";
}
