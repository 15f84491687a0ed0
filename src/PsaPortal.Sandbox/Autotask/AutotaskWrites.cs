using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.Autotask;

/// <summary>
/// Creates and updates as the vendor does them: POST returns <c>{"itemId": n}</c> with 200, PATCH
/// (sparse) and PUT (full replace) go to the collection URL with <c>id</c> in the body, and a
/// refused write answers 500 with <c>{"errors":[…]}</c>.
/// </summary>
internal sealed class AutotaskWrites(AutotaskData data, TimeProvider time)
{
    private readonly Lock _adjustmentGate = new();

    public async Task<IResult> CreateAsync(HttpContext http, string entityName, string? parentField)
    {
        var entity = AutotaskEntity.Get(entityName);
        var (body, error) = await ReadObjectAsync(http);
        if (body is null)
        {
            return error!;
        }

        body.Remove("id");
        error = Normalize(entity, body) ?? ApplyParent(http, body, parentField);
        if (error is not null)
        {
            return error;
        }

        var missing = entity.RequiredOnCreate.FirstOrDefault(field => body[field] is null || body[field]!.GetValueKind() == JsonValueKind.Null);
        if (missing is not null)
        {
            return AutotaskErrors.Failure($"{entity.SingularName}: {missing} is required.");
        }

        error = Validate(entity, body, existing: null);
        if (error is not null)
        {
            return error;
        }

        var now = AutotaskSeeder.Date(time.GetUtcNow().UtcDateTime);
        var user = (AutotaskApiUser)http.Items[AutotaskGate.UserObjectItemKey]!;
        switch (entity.Name)
        {
            case "Tickets":
                body["createDate"] = now;
                body["creatorResourceID"] = user.ResourceId;
                body["lastActivityDate"] = now;
                StampCompletion(body, existing: null, user, now);
                break;
            case "Companies" or "Contacts" or "Services":
                body["createDate"] = now;
                break;
        }

        if (entity.Fields.Any(f => f.Name == "userDefinedFields"))
        {
            body["userDefinedFields"] ??= new JsonArray();
        }

        var created = data[entity.Name].Insert(body);
        var id = JsonRecords.GetId(created);
        if (entity.Name == "Tickets")
        {
            created = JsonRecords.Clone(created);
            created["ticketNumber"] = $"T{time.GetUtcNow().UtcDateTime:yyyyMMdd}.{id % 10000:D4}";
            data.Tickets.Replace(created);
        }
        else if (entity.Name == "ContractServices")
        {
            var contract = data.Contracts.Find(Long(created["contractID"]))!;
            var service = data.Services.Find(Long(created["serviceID"]))!;
            var start = ParseDate(JsonRecords.GetString(contract["startDate"]))!.Value;
            var period = CurrentPeriod(start);
            AutotaskSeeder.AddUnits(data, (int)Long(created["contractID"]), id, (int)Long(created["serviceID"]), period.Start, period.End, 0,
                Decimal(created["unitPrice"]) ?? Decimal(service["unitPrice"]) ?? 0, Decimal(created["unitCost"]) ?? Decimal(service["unitCost"]) ?? 0);
        }

        return ItemId(id);
    }

    public async Task<IResult> UpdateAsync(HttpContext http, string entityName, string? parentField, bool replace)
    {
        var entity = AutotaskEntity.Get(entityName);
        var (body, error) = await ReadObjectAsync(http);
        if (body is null)
        {
            return error!;
        }

        var id = Long(JsonRecords.Get(body, "id"));
        var table = data[entity.Name];
        var existing = id > 0 ? table.Find(id) : null;
        if (existing is null)
        {
            return AutotaskErrors.Failure(id > 0 ? $"{entity.SingularName} with id {id} does not exist." : $"{entity.SingularName}: id is required.");
        }

        error = Normalize(entity, body) ?? ApplyParent(http, body, parentField);
        if (error is not null)
        {
            return error;
        }

        if (parentField is not null && Long(existing[parentField]) != Long(body[parentField]))
        {
            return AutotaskErrors.Failure($"{entity.SingularName} with id {id} does not belong to parent {Long(body[parentField])}.");
        }

        JsonObject updated;
        if (entity.Name == "ContractServices")
        {
            // Only the adjusted price and the descriptions of a contract service line can change (ContractServices entity docs).
            updated = JsonRecords.Clone(existing);
            foreach (var field in new[] { "unitPrice", "internalCurrencyAdjustedPrice", "invoiceDescription", "internalDescription" })
            {
                if (body.ContainsKey(field))
                {
                    updated[field] = body[field]?.DeepClone();
                }
            }
        }
        else if (replace)
        {
            updated = (JsonObject)body.DeepClone();
            foreach (var field in new[] { "createDate", "creatorResourceID", "ticketNumber" })
            {
                if (existing[field] is { } kept)
                {
                    updated[field] = kept.DeepClone();
                }
            }
        }
        else
        {
            updated = JsonRecords.Clone(existing);
            foreach (var (field, value) in body)
            {
                updated[field] = value?.DeepClone();
            }
        }

        updated["id"] = id;
        error = Validate(entity, updated, existing);
        if (error is not null)
        {
            return error;
        }

        if (entity.Name == "Tickets")
        {
            var now = AutotaskSeeder.Date(time.GetUtcNow().UtcDateTime);
            updated["lastActivityDate"] = now;
            StampCompletion(updated, existing, (AutotaskApiUser)http.Items[AutotaskGate.UserObjectItemKey]!, now);
        }

        table.Replace(updated);
        return ItemId(id);
    }

    /// <summary>
    /// A contract service adjustment: <c>unitChange</c> is a delta applied from <c>effectiveDate</c>
    /// (date only), splitting the units row of that billing period. Refused for contracts that are not
    /// Recurring Service, that start after the effective date or ended before it, and for periods
    /// already approved and posted.
    /// </summary>
    public async Task<IResult> AdjustAsync(HttpContext http, long? parentContractId)
    {
        var entity = AutotaskEntity.Get("ContractServiceAdjustments");
        var (body, error) = await ReadObjectAsync(http);
        if (body is null)
        {
            return error!;
        }

        error = Normalize(entity, body);
        if (error is not null)
        {
            return error;
        }

        if (parentContractId is { } parent)
        {
            body["contractID"] = parent;
        }

        var effective = ParseDate(JsonRecords.GetString(body["effectiveDate"]));
        if (effective is null)
        {
            return AutotaskErrors.Failure("ContractServiceAdjustment: effectiveDate is required.");
        }

        var date = effective.Value.Date;
        var unitChange = (int)Long(body["unitChange"]);

        lock (_adjustmentGate)
        {
            var contractServiceId = Long(body["contractServiceID"]);
            var contractService = contractServiceId > 0 ? data.ContractServices.Find(contractServiceId) : null;
            if (contractServiceId > 0 && contractService is null)
            {
                return AutotaskErrors.Failure($"ContractService with id {contractServiceId} does not exist.");
            }

            var contractId = contractService is not null ? Long(contractService["contractID"]) : Long(body["contractID"]);
            if (contractId <= 0)
            {
                return AutotaskErrors.Failure("ContractServiceAdjustment: contractID or contractServiceID is required.");
            }

            var contract = data.Contracts.Find(contractId);
            if (contract is null)
            {
                return AutotaskErrors.Failure($"Contract with id {contractId} does not exist.");
            }

            if (Long(contract["contractType"]) != AutotaskSeeder.RecurringServiceContractType)
            {
                return AutotaskErrors.Failure("Contract service adjustments can only be made to Recurring Service contracts.");
            }

            var start = ParseDate(JsonRecords.GetString(contract["startDate"]))!.Value.Date;
            var end = ParseDate(JsonRecords.GetString(contract["endDate"]))!.Value.Date;
            var name = JsonRecords.GetString(contract["contractName"]);
            if (date < start)
            {
                return AutotaskErrors.Failure($"The effective date {date:yyyy-MM-dd} is before the start date of contract \"{name}\" ({start:yyyy-MM-dd}). Adjustments cannot be made before the contract period begins.");
            }

            if (date > end)
            {
                return AutotaskErrors.Failure($"The effective date {date:yyyy-MM-dd} is after the end date of contract \"{name}\" ({end:yyyy-MM-dd}). Adjustments cannot be made to an expired contract.");
            }

            var serviceId = contractService is not null ? Long(contractService["serviceID"]) : Long(body["serviceID"]);
            var service = data.Services.Find(serviceId);
            if (service is null)
            {
                return AutotaskErrors.Failure($"Service with id {serviceId} does not exist.");
            }

            if (contractService is null)
            {
                var allowRepeat = JsonRecords.GetBoolean(body["allowRepeatService"]) == true;
                contractService = allowRepeat ? null : data.ContractServices.FindBy("contractID", [contractId])!.FirstOrDefault(s => Long(s["serviceID"]) == serviceId);
                contractService ??= data.ContractServices.Insert(new JsonObject
                {
                    ["contractID"] = contractId,
                    ["serviceID"] = serviceId,
                    ["unitPrice"] = Decimal(body["adjustedUnitPrice"]) ?? Decimal(service["unitPrice"]),
                    ["unitCost"] = Decimal(body["adjustedUnitCost"]) ?? Decimal(service["unitCost"]),
                    ["invoiceDescription"] = service["invoiceDescription"]?.DeepClone(),
                });
            }

            var lineId = JsonRecords.GetId(contractService);
            var rows = data.ContractServiceUnits.FindBy("contractServiceID", [lineId])!;
            var row = rows.FirstOrDefault(u => ParseDate(JsonRecords.GetString(u["startDate"])) <= date && date <= ParseDate(JsonRecords.GetString(u["endDate"])));
            if (row is not null && row["approveAndPostDate"] is not null)
            {
                return AutotaskErrors.Failure("Unable to make changes as it would result in the deletion/modification of an already approved and posted contract period.");
            }

            var current = row is null ? 0 : (int)Long(row["units"]);
            if (current + unitChange < 0)
            {
                return AutotaskErrors.Failure($"The unit change of {unitChange} would leave {current + unitChange} units; units cannot be negative.");
            }

            var price = Decimal(contractService["unitPrice"]) ?? 0;
            var cost = Decimal(contractService["unitCost"]) ?? 0;
            if (row is null)
            {
                var period = CurrentPeriod(date);
                AutotaskSeeder.AddUnits(data, (int)contractId, lineId, (int)serviceId, date, Min(period.End, end), unitChange, price, cost);
            }
            else if (ParseDate(JsonRecords.GetString(row["startDate"])) == date)
            {
                var changed = JsonRecords.Clone(row);
                changed["units"] = current + unitChange;
                data.ContractServiceUnits.Replace(changed);
            }
            else
            {
                var rowEnd = ParseDate(JsonRecords.GetString(row["endDate"]))!.Value;
                var shortened = JsonRecords.Clone(row);
                shortened["endDate"] = AutotaskSeeder.Date(date.AddDays(-1));
                data.ContractServiceUnits.Replace(shortened);
                AutotaskSeeder.AddUnits(data, (int)contractId, lineId, (int)serviceId, date, rowEnd, current + unitChange, price, cost);
            }

            var adjustment = data.ContractServiceAdjustments.Insert(new JsonObject
            {
                ["contractID"] = contractId,
                ["contractServiceID"] = lineId,
                ["serviceID"] = serviceId,
                ["effectiveDate"] = AutotaskSeeder.Date(date),
                ["unitChange"] = unitChange,
                ["adjustedUnitPrice"] = body["adjustedUnitPrice"]?.DeepClone(),
                ["adjustedUnitCost"] = body["adjustedUnitCost"]?.DeepClone(),
                ["allowRepeatService"] = JsonRecords.GetBoolean(body["allowRepeatService"]) == true,
            });
            return ItemId(JsonRecords.GetId(adjustment));
        }
    }

    /// <summary>
    /// Autotask keeps <c>completedDate</c> itself: stamped (with the completing resource) when a ticket
    /// reaches the Complete status, kept while it stays there, cleared when the ticket is reopened.
    /// Values a client sends for these fields are overridden.
    /// </summary>
    private static void StampCompletion(JsonObject ticket, JsonObject? existing, AutotaskApiUser user, string now)
    {
        if (Long(ticket["status"]) != AutotaskPicklists.CompleteStatus)
        {
            ticket.Remove("completedDate");
            ticket.Remove("completedByResourceID");
            return;
        }

        var alreadyComplete = existing is not null && Long(existing["status"]) == AutotaskPicklists.CompleteStatus && existing["completedDate"] is not null;
        ticket["completedDate"] = alreadyComplete ? existing!["completedDate"]!.DeepClone() : now;
        ticket["completedByResourceID"] = alreadyComplete ? existing!["completedByResourceID"]?.DeepClone() : user.ResourceId;
    }

    private static IResult ItemId(long id) => JsonPayloadResult.Node(new JsonObject { ["itemId"] = id });

    private static async Task<(JsonObject? Body, IResult? Error)> ReadObjectAsync(HttpContext http)
    {
        try
        {
            var node = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            return node is JsonObject body ? (body, null) : (null, AutotaskErrors.Failure("The request body must be a JSON object."));
        }
        catch (JsonException exception)
        {
            return (null, AutotaskErrors.Failure($"The request body could not be read: {exception.Message}"));
        }
    }

    /// <summary>Field names are case-insensitive on input; store them in the model's spelling and refuse unknown ones as the vendor does.</summary>
    private static IResult? Normalize(AutotaskEntity entity, JsonObject body)
    {
        foreach (var (field, _) in body.ToList())
        {
            var canonical = field == "id" ? "id" : entity.CanonicalField(field);
            if (canonical is null)
            {
                return AutotaskErrors.Failure($"Unable to find {field} in the {entity.SingularName} Entity.");
            }

            if (canonical != field)
            {
                var value = body[field];
                body.Remove(field);
                body[canonical] = value;
            }
        }

        return null;
    }

    private static IResult? ApplyParent(HttpContext http, JsonObject body, string? parentField)
    {
        if (parentField is null)
        {
            return null;
        }

        var parentId = long.Parse((string)http.Request.RouteValues["parentId"]!, CultureInfo.InvariantCulture);
        if (body[parentField] is { } given && Long(given) != parentId)
        {
            return AutotaskErrors.Failure($"{parentField} {Long(given)} does not match the parent id {parentId} in the URL.");
        }

        body[parentField] = parentId;
        return null;
    }

    private IResult? Validate(AutotaskEntity entity, JsonObject record, JsonObject? existing)
    {
        switch (entity.Name)
        {
            case "Tickets":
                foreach (var field in new[] { "queueID", "status", "priority" })
                {
                    if (record[field] is { } value && value.GetValueKind() != JsonValueKind.Null
                        && !AutotaskPicklists.For(field)!.Any(p => p.Value == Long(value)))
                    {
                        return AutotaskErrors.Failure($"Picklist value [{value.ToJsonString().Trim('"')}] does not exist for {field}.");
                    }
                }

                if (data.Companies.Find(Long(record["companyID"])) is null)
                {
                    return AutotaskErrors.Failure($"Company with id {Long(record["companyID"])} does not exist.");
                }

                if (JsonRecords.GetString(record["title"]) is { Length: > 255 })
                {
                    return AutotaskErrors.Failure("Ticket: title must be 255 characters or fewer.");
                }

                break;
            case "Contracts":
                if (data.Companies.Find(Long(record["companyID"])) is null)
                {
                    return AutotaskErrors.Failure($"Company with id {Long(record["companyID"])} does not exist.");
                }

                if (existing is not null && JsonRecords.GetString(existing["startDate"]) != JsonRecords.GetString(record["startDate"])
                    && Long(existing["contractType"]) == AutotaskSeeder.RecurringServiceContractType
                    && data.ContractServices.FindBy("contractID", [JsonRecords.GetId(existing)])!.Count > 0)
                {
                    return AutotaskErrors.Failure("The start date of a Recurring Service contract cannot be changed once services have been added.");
                }

                break;
            case "Contacts":
                if (data.Companies.Find(Long(record["companyID"])) is null)
                {
                    return AutotaskErrors.Failure($"Company with id {Long(record["companyID"])} does not exist.");
                }

                break;
            case "ContractServices" when existing is null:
                var contract = data.Contracts.Find(Long(record["contractID"]));
                if (contract is null || Long(contract["contractType"]) != AutotaskSeeder.RecurringServiceContractType)
                {
                    return AutotaskErrors.Failure("Contract services can only be added to Recurring Service contracts.");
                }

                if (data.Services.Find(Long(record["serviceID"])) is null)
                {
                    return AutotaskErrors.Failure($"Service with id {Long(record["serviceID"])} does not exist.");
                }

                break;
        }

        return null;
    }

    private static (DateTime Start, DateTime End) CurrentPeriod(DateTime date)
    {
        var start = new DateTime(date.Year, date.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        return (start, start.AddMonths(1).AddDays(-1));
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static long Long(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var value) ? (long)value : 0;

    private static decimal? Decimal(JsonNode? node) => JsonRecords.TryGetDecimal(node, out var value) ? value : null;

    internal static DateTime? ParseDate(string? text) =>
        DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date)
            ? DateTime.SpecifyKind(date, DateTimeKind.Utc)
            : null;
}
