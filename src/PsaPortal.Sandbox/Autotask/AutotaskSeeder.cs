using System.Globalization;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Seed;

namespace PsaPortal.Sandbox.Autotask;

/// <summary>Turns the canonical seed into Autotask entities (camelCase model fields, UTC dates without a zone suffix).</summary>
internal static class AutotaskSeeder
{
    public const int CompanyIdOffset = 1000;
    public const int ContractIdOffset = 5000;
    public const int RecurringServiceContractType = 7;
    public const int MaxSeededTickets = 120;

    public static long CompanyId(int companyNumber) => CompanyIdOffset + companyNumber;

    public static void Seed(AutotaskData data, SandboxSeedData seed)
    {
        foreach (var table in data.Tables)
        {
            table.Clear();
        }

        var reference = seed.ReferenceDate.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var created = Date(reference.AddYears(-2));
        var ownerId = AutotaskApiUser.Seeded[0].ResourceId;

        foreach (var user in AutotaskApiUser.Seeded)
        {
            var local = user.UserName.Split('@')[0];
            data.Resources.Insert(new JsonObject
            {
                ["id"] = user.ResourceId,
                ["userName"] = user.UserName,
                ["email"] = user.UserName,
                ["firstName"] = "API",
                ["lastName"] = local,
                ["isActive"] = true,
                ["licenseType"] = 7,
                ["resourceType"] = "Employee",
                ["userType"] = 17,
                ["title"] = user.SecurityLevel,
            });
        }

        foreach (var product in SandboxSeedData.Products)
        {
            data.Services.Insert(new JsonObject
            {
                ["id"] = product.Number,
                ["name"] = product.Description,
                ["description"] = product.Description,
                ["invoiceDescription"] = product.Description,
                ["unitPrice"] = product.Price,
                ["unitCost"] = product.Cost,
                ["periodType"] = 1,
                ["billingCodeID"] = 29682801,
                ["isActive"] = true,
                ["createDate"] = created,
                ["creatorResourceID"] = ownerId,
                ["sku"] = product.Sku,
                ["catalogNumberPartNumber"] = product.Sku,
                ["userDefinedFields"] = new JsonArray(),
            });
        }

        var periodStart = new DateTime(reference.Year, reference.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        var contractStart = periodStart.AddYears(-1);
        var contractId = ContractIdOffset;
        var hard = seed.HardCases;
        foreach (var company in seed.Companies)
        {
            var companyId = CompanyId(company.Number);
            var active = company.DuplicateOfNumber is null;
            data.Companies.Insert(new JsonObject
            {
                ["id"] = companyId,
                ["companyName"] = company.Name,
                ["companyNumber"] = company.Identifier,
                ["companyType"] = 1,
                ["phone"] = company.Phone,
                ["address1"] = $"{100 + company.Number % 9000} Main Street",
                ["city"] = company.City,
                ["state"] = company.State,
                ["postalCode"] = company.Zip,
                ["countryID"] = 237,
                ["webAddress"] = "www." + company.Domain,
                ["isActive"] = active,
                ["isClientPortalActive"] = false,
                ["isTaskFireActive"] = false,
                ["isTaxExempt"] = false,
                ["isSample"] = false,
                ["ownerResourceID"] = ownerId,
                ["createDate"] = created,
                ["lastActivityDate"] = created,
                ["userDefinedFields"] = new JsonArray(),
            });
            data.Contacts.Insert(new JsonObject
            {
                ["id"] = companyId,
                ["companyID"] = companyId,
                ["firstName"] = ConnectWise.ConnectWiseSeeder.ContactName(company).Split(' ')[0],
                ["lastName"] = ConnectWise.ConnectWiseSeeder.ContactName(company).Split(' ')[1],
                ["emailAddress"] = $"{ConnectWise.ConnectWiseSeeder.ContactName(company).Replace(' ', '.').ToLowerInvariant()}@{company.Domain}",
                ["phone"] = company.Phone,
                ["isActive"] = active ? 1 : 0,
                ["primaryContact"] = true,
                ["createDate"] = created,
                ["userDefinedFields"] = new JsonArray(),
            });

            if (!active)
            {
                continue;
            }

            var subscriptions = seed.SubscriptionsOf(company.Number).ToList();
            var main = AddContract(data, ++contractId, companyId, $"Managed Services - {company.Name}", contractStart, contractStart.AddYears(3).AddDays(-1), created);
            foreach (var subscription in subscriptions)
            {
                var copies = company.Number == hard.DuplicateServiceCompany && subscription.Sku == hard.DuplicateServiceSku ? 2 : 1;
                for (var copy = 0; copy < copies; copy++)
                {
                    AddService(data, main, subscription.Sku, subscription.Quantity, periodStart);
                }
            }

            if (company.Number == hard.FutureDatedContractCompany)
            {
                var start = reference.AddMonths(2);
                var future = AddContract(data, ++contractId, companyId, $"Managed Services Renewal - {company.Name}", start, start.AddYears(1).AddDays(-1), created);
                foreach (var subscription in subscriptions)
                {
                    AddService(data, future, subscription.Sku, 0, null);
                }
            }
            else if (company.Number == hard.ExpiredContractCompany)
            {
                var start = reference.AddYears(-2);
                var expired = AddContract(data, ++contractId, companyId, $"Managed Services 2024 - {company.Name}", start, reference.AddMonths(-3), created);
                foreach (var subscription in subscriptions)
                {
                    AddService(data, expired, subscription.Sku, subscription.Quantity, null);
                }
            }
        }

        SeedTickets(data, seed, reference, ownerId);
    }

    private static JsonObject AddContract(AutotaskData data, long id, long companyId, string name, DateTime start, DateTime end, string created) =>
        data.Contracts.Insert(new JsonObject
        {
            ["id"] = id,
            ["companyID"] = companyId,
            ["contractName"] = name,
            ["contractNumber"] = $"RS-{id}",
            ["contractType"] = RecurringServiceContractType,
            ["contractCategory"] = 1,
            ["contractPeriodType"] = 1,
            ["billingPreference"] = 2,
            ["startDate"] = Date(start),
            ["endDate"] = Date(end),
            ["status"] = 1,
            ["isCompliant"] = true,
            ["isDefaultContract"] = false,
            ["timeReportingRequiresStartAndStopTimes"] = 0,
            ["lastModifiedDateTime"] = created,
            ["userDefinedFields"] = new JsonArray(),
        });

    /// <summary>A contract service line and, when <paramref name="periodStart"/> is given, its current billing-period units row.</summary>
    internal static JsonObject AddService(AutotaskData data, JsonObject contract, string sku, int units, DateTime? periodStart)
    {
        var product = SandboxSeedData.Product(sku);
        var contractId = (int)contract["id"]!.GetValue<long>();
        var line = data.ContractServices.Insert(new JsonObject
        {
            ["contractID"] = contractId,
            ["serviceID"] = product.Number,
            ["unitPrice"] = product.Price,
            ["unitCost"] = product.Cost,
            ["internalCurrencyUnitPrice"] = product.Price,
            ["internalCurrencyAdjustedPrice"] = product.Price,
            ["invoiceDescription"] = product.Description,
        });
        if (periodStart is { } start)
        {
            AddUnits(data, contractId, line["id"]!.GetValue<long>(), product.Number, start, start.AddMonths(1).AddDays(-1), units, product.Price, product.Cost);
        }

        return line;
    }

    internal static JsonObject AddUnits(AutotaskData data, int contractId, long contractServiceId, int serviceId, DateTime start, DateTime end, int units, decimal price, decimal cost) =>
        data.ContractServiceUnits.Insert(new JsonObject
        {
            ["contractID"] = contractId,
            ["contractServiceID"] = (int)contractServiceId,
            ["serviceID"] = serviceId,
            ["startDate"] = Date(start),
            ["endDate"] = Date(end),
            ["units"] = units,
            ["price"] = price,
            ["cost"] = cost,
            ["internalCurrencyPrice"] = price,
        });

    private static void SeedTickets(AutotaskData data, SandboxSeedData seed, DateTime reference, long ownerId)
    {
        var active = seed.Companies.Where(c => c.DuplicateOfNumber is null).ToList();
        var count = Math.Min(MaxSeededTickets, active.Count * 2);
        int[] statuses = [1, 8, 5];
        for (var i = 1; i <= count; i++)
        {
            var company = active[(i - 1) % active.Count];
            var created = reference.AddHours(-i * 5);
            var status = statuses[i % statuses.Length];
            var ticket = new JsonObject
            {
                ["id"] = 7000 + i,
                ["ticketNumber"] = $"T{reference:yyyyMMdd}.{i:D4}",
                ["title"] = $"Security alert for {company.Name}",
                ["description"] = "Raised by the platform integration.",
                ["companyID"] = CompanyId(company.Number),
                ["contactID"] = CompanyId(company.Number),
                ["queueID"] = AutotaskPicklists.MonitoringAlertQueue,
                ["status"] = status,
                ["priority"] = 1 + i % 4,
                ["source"] = 4,
                ["ticketType"] = 1,
                ["ticketCategory"] = 3,
                ["createDate"] = Date(created),
                ["creatorResourceID"] = ownerId,
                ["creatorType"] = 1,
                ["dueDateTime"] = Date(created.AddDays(2)),
                ["lastActivityDate"] = Date(created),
                ["userDefinedFields"] = new JsonArray(),
            };
            if (status == AutotaskPicklists.CompleteStatus)
            {
                ticket["completedDate"] = Date(created.AddHours(2));
                ticket["completedByResourceID"] = ownerId;
            }

            data.Tickets.Insert(ticket);
        }
    }

    /// <summary>Autotask returns UTC date-times without a zone designator.</summary>
    internal static string Date(DateTime value) => value.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
}
