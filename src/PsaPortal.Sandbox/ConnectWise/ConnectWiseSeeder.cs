using System.Globalization;
using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Seed;

namespace PsaPortal.Sandbox.ConnectWise;

/// <summary>Turns the canonical seed into ConnectWise records with the vendor's field names and reference objects.</summary>
internal static class ConnectWiseSeeder
{
    public const int HelpDeskBoardId = 1;
    public const int AlertsBoardWithoutDefaultTeamId = 2;
    public const int ProjectsBoardId = 3;
    public const int MaxSeededTickets = 120;

    public static void Seed(ConnectWiseData data, SandboxSeedData seed)
    {
        foreach (var table in data.Tables)
        {
            table.Clear();
        }

        var reference = seed.ReferenceDate.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var entered = Date(reference.AddYears(-2));
        SeedSetupTables(data, entered);

        foreach (var product in SandboxSeedData.Products)
        {
            data.Catalog.Insert(new JsonObject
            {
                ["id"] = product.Number,
                ["identifier"] = product.Sku,
                ["description"] = product.Description,
                ["inactiveFlag"] = false,
                ["subcategory"] = Ref(1, "name", "Security Services", "subcategory_href", "procurement/subcategories/1"),
                ["type"] = Ref(1, "name", "Recurring Service", "type_href", "procurement/types/1"),
                ["productClass"] = "Agreement",
                ["serializedFlag"] = false,
                ["serializedCostFlag"] = false,
                ["phaseProductFlag"] = false,
                ["unitOfMeasure"] = Ref(1, "name", "Each", "unitOfMeasure_href", "procurement/unitOfMeasures/1"),
                ["price"] = product.Price,
                ["cost"] = product.Cost,
                ["priceAttribute"] = "FixedFee",
                ["taxableFlag"] = false,
                ["dropShipFlag"] = false,
                ["specialOrderFlag"] = false,
                ["customerDescription"] = product.Description,
                ["recurringFlag"] = true,
                ["recurringRevenue"] = product.Price,
                ["recurringCost"] = product.Cost,
                ["recurringOneTimeFlag"] = false,
                ["calculatedPriceFlag"] = false,
                ["calculatedCostFlag"] = false,
                ["billableOption"] = "Billable",
                ["_info"] = Info(entered),
            });
        }

        data.Catalog.Insert(new JsonObject
        {
            ["id"] = SandboxSeedData.Products.Count + 1,
            ["identifier"] = "LEGACY-AV",
            ["description"] = "Legacy Antivirus (retired)",
            ["inactiveFlag"] = true,
            ["subcategory"] = Ref(1, "name", "Security Services", "subcategory_href", "procurement/subcategories/1"),
            ["type"] = Ref(1, "name", "Recurring Service", "type_href", "procurement/types/1"),
            ["productClass"] = "Agreement",
            ["price"] = 3.00m,
            ["cost"] = 1.00m,
            ["customerDescription"] = "Legacy Antivirus (retired)",
            ["recurringFlag"] = true,
            ["_info"] = Info(entered),
        });

        var agreementStart = Date(new DateTime(reference.Year, reference.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddYears(-1));
        var additionId = 0;
        var agreementId = 0;
        foreach (var company in seed.Companies)
        {
            var companyRef = CompanyRef(company.Number, company.Identifier, company.Name);
            var contactRef = Ref(company.Number, "name", ContactName(company), "contact_href", $"company/contacts/{company.Number}");
            var inactive = company.DuplicateOfNumber is not null;
            data.Companies.Insert(new JsonObject
            {
                ["id"] = company.Number,
                ["identifier"] = company.Identifier,
                ["name"] = company.Name,
                ["status"] = inactive ? Ref(2, "name", "Inactive", "status_href", "company/companies/statuses/2") : Ref(1, "name", "Active", "status_href", "company/companies/statuses/1"),
                ["addressLine1"] = $"{100 + company.Number % 9000} Main Street",
                ["city"] = company.City,
                ["state"] = company.State,
                ["zip"] = company.Zip,
                ["country"] = Ref(1, "name", "United States", "country_href", "company/countries/1"),
                ["phoneNumber"] = company.Phone,
                ["website"] = "www." + company.Domain,
                ["territory"] = Ref(1, "name", "Main", "location_href", "system/locations/1"),
                ["market"] = Ref(1, "name", "Small Business", "market_href", "company/marketDescriptions/1"),
                ["defaultContact"] = contactRef.DeepClone(),
                ["dateAcquired"] = entered,
                ["leadFlag"] = false,
                ["unsubscribeFlag"] = false,
                ["deletedFlag"] = false,
                ["isVendorFlag"] = false,
                ["types"] = new JsonArray(Ref(1, "name", "Client", "type_href", "company/companies/types/1")),
                ["site"] = Ref(company.Number, "name", "Main", "site_href", $"company/companies/{company.Number}/sites/{company.Number}"),
                ["_info"] = Info(entered),
            });

            data.Contacts.Insert(new JsonObject
            {
                ["id"] = company.Number,
                ["firstName"] = FirstName(company),
                ["lastName"] = LastName(company),
                ["company"] = companyRef.DeepClone(),
                ["site"] = Ref(company.Number, "name", "Main", "site_href", $"company/companies/{company.Number}/sites/{company.Number}"),
                ["inactiveFlag"] = inactive,
                ["title"] = "Office Manager",
                ["defaultFlag"] = true,
                ["defaultBillingFlag"] = true,
                ["communicationItems"] = new JsonArray(
                    new JsonObject
                    {
                        ["id"] = company.Number * 2 - 1,
                        ["type"] = Ref(1, "name", "Email", "type_href", "company/communicationTypes/1"),
                        ["value"] = $"{FirstName(company).ToLowerInvariant()}.{LastName(company).ToLowerInvariant()}@{company.Domain}",
                        ["defaultFlag"] = true,
                        ["domain"] = "@" + company.Domain,
                        ["communicationType"] = "Email",
                    },
                    new JsonObject
                    {
                        ["id"] = company.Number * 2,
                        ["type"] = Ref(2, "name", "Direct", "type_href", "company/communicationTypes/2"),
                        ["value"] = company.Phone,
                        ["defaultFlag"] = true,
                        ["communicationType"] = "Phone",
                    }),
                ["types"] = new JsonArray(),
                ["_info"] = Info(entered),
            });

            if (inactive)
            {
                continue;
            }

            var managed = AddAgreement(data, ++agreementId, "Managed Services", 1, "Managed Services", companyRef, contactRef, agreementStart, null, "Active", entered);
            foreach (var subscription in seed.SubscriptionsOf(company.Number))
            {
                AddAddition(data, ++additionId, managed, subscription.Sku, subscription.Quantity, agreementStart, null, entered);
            }

            var hard = seed.HardCases;
            if (company.Number == hard.ProductOnTwoAgreementsCompany)
            {
                var second = AddAgreement(data, ++agreementId, "Security Bundle", 3, "Security Bundle", companyRef, contactRef, agreementStart, null, "Active", entered);
                AddAddition(data, ++additionId, second, hard.ProductOnTwoAgreementsSku, 10, agreementStart, null, entered);
            }
            else if (company.Number == hard.FutureDatedContractCompany)
            {
                var start = Date(reference.AddMonths(2));
                var future = AddAgreement(data, ++agreementId, "Managed Services 2027 Renewal", 1, "Managed Services", companyRef, contactRef, start, null, "Inactive", entered);
                AddAddition(data, ++additionId, future, "SEC-EDR-ADV", 30, start, null, entered);
            }
            else if (company.Number == hard.ExpiredContractCompany)
            {
                var expired = AddAgreement(data, ++agreementId, "Managed Services (expired)", 1, "Managed Services", companyRef, contactRef,
                    Date(reference.AddYears(-2)), Date(reference.AddMonths(-3)), "Expired", entered);
                AddAddition(data, ++additionId, expired, "SEC-EDR-ADV", 12, Date(reference.AddYears(-2)), null, entered);
            }
            else if (company.Number == hard.CancelledAdditionCompany)
            {
                AddAddition(data, ++additionId, managed, hard.CancelledAdditionSku, 5, agreementStart, Date(reference.AddMonths(-2)), entered);
                AddAddition(data, ++additionId, managed, hard.CancelledAdditionSku, 7, agreementStart, Date(reference.AddMonths(-1)), entered);
            }
        }

        SeedTickets(data, seed, reference, entered);
    }

    public static string ContactName(SeedCompany company) => $"{FirstName(company)} {LastName(company)}";

    private static readonly string[] FirstNames = ["Avery", "Jordan", "Morgan", "Riley", "Casey", "Taylor", "Jamie", "Quinn", "Drew", "Parker", "Reese", "Skyler"];
    private static readonly string[] LastNames = ["Nguyen", "Patel", "Garcia", "Smith", "Okafor", "Schmidt", "Rossi", "Kim", "Haddad", "Silva", "Novak", "Brown"];

    private static string FirstName(SeedCompany company) => FirstNames[company.Number % FirstNames.Length];

    private static string LastName(SeedCompany company) => LastNames[(company.Number / FirstNames.Length) % LastNames.Length];

    private static void SeedSetupTables(ConnectWiseData data, string entered)
    {
        data.CompanyStatuses.Insert(Status(1, "Active", defaultFlag: true, inactive: false, entered));
        data.CompanyStatuses.Insert(Status(2, "Inactive", defaultFlag: false, inactive: true, entered));
        data.CompanyStatuses.Insert(Status(3, "Not-Approved", defaultFlag: false, inactive: false, entered));

        var location = Ref(1, "name", "Main", "location_href", "system/locations/1");
        var department = new JsonObject { ["id"] = 1, ["identifier"] = "Services", ["name"] = "Services", ["_info"] = new JsonObject { ["department_href"] = "system/departments/1" } };
        foreach (var (id, name, project) in new[] { (HelpDeskBoardId, "Help Desk", false), (AlertsBoardWithoutDefaultTeamId, "Security Alerts", false), (ProjectsBoardId, "Projects", true) })
        {
            data.Boards.Insert(new JsonObject
            {
                ["id"] = id,
                ["name"] = name,
                ["location"] = location.DeepClone(),
                ["department"] = department.DeepClone(),
                ["inactiveFlag"] = false,
                ["projectFlag"] = project,
                ["billTime"] = "Billable",
                ["billExpense"] = "Billable",
                ["billProduct"] = "Billable",
                ["autoAssignNewTicketsFlag"] = false,
                ["_info"] = Info(entered),
            });
        }

        var leader = Ref(1, "identifier", "PsaPortalFull", "member_href", "system/members/1");
        leader["name"] = "PsaPortal Full";
        void Team(int id, int boardId, string name, bool isDefault) => data.BoardTeams.Insert(new JsonObject
        {
            ["id"] = id,
            ["name"] = name,
            ["teamLeader"] = leader.DeepClone(),
            ["members"] = new JsonArray(1),
            ["defaultFlag"] = isDefault,
            ["notifyOnTicketDelete"] = false,
            ["defaultRoundRobinFlag"] = false,
            ["roundRobinFlag"] = false,
            ["boardId"] = boardId,
            ["locationId"] = 1,
            ["businessUnitId"] = 1,
            ["_info"] = Info(entered),
        });
        Team(1, HelpDeskBoardId, "Tier 1", isDefault: true);
        Team(2, HelpDeskBoardId, "Tier 2", isDefault: false);
        Team(3, AlertsBoardWithoutDefaultTeamId, "SOC Analysts", isDefault: false);
        Team(4, ProjectsBoardId, "Project Team", isDefault: true);

        void BoardStatus(int id, int boardId, string boardName, string name, int sort, bool closed, bool isDefault) => data.BoardStatuses.Insert(new JsonObject
        {
            ["id"] = id,
            ["name"] = name,
            ["board"] = Ref(boardId, "name", boardName, "board_href", $"service/boards/{boardId}"),
            ["sortOrder"] = sort,
            ["displayOnBoard"] = true,
            ["inactive"] = false,
            ["closedStatus"] = closed,
            ["timeEntryNotAllowed"] = closed,
            ["defaultFlag"] = isDefault,
            ["escalationStatus"] = closed ? "Resolved" : "NotResponded",
            ["customerPortalFlag"] = false,
            ["_info"] = Info(entered),
        });
        BoardStatus(1, HelpDeskBoardId, "Help Desk", "New", 0, closed: false, isDefault: true);
        BoardStatus(2, HelpDeskBoardId, "Help Desk", "In Progress", 1, closed: false, isDefault: false);
        BoardStatus(3, HelpDeskBoardId, "Help Desk", "Waiting Customer", 2, closed: false, isDefault: false);
        BoardStatus(4, HelpDeskBoardId, "Help Desk", "Closed", 3, closed: true, isDefault: false);
        BoardStatus(5, AlertsBoardWithoutDefaultTeamId, "Security Alerts", "New", 0, closed: false, isDefault: true);
        BoardStatus(6, AlertsBoardWithoutDefaultTeamId, "Security Alerts", "Resolved", 1, closed: true, isDefault: false);
        BoardStatus(7, ProjectsBoardId, "Projects", "New", 0, closed: false, isDefault: true);
        BoardStatus(8, ProjectsBoardId, "Projects", "Completed", 1, closed: true, isDefault: false);

        void Priority(int id, string name, string color, int sort, bool isDefault) => data.Priorities.Insert(new JsonObject
        {
            ["id"] = id,
            ["name"] = name,
            ["color"] = color,
            ["sortOrder"] = sort,
            ["defaultFlag"] = isDefault,
            ["level"] = $"Priority{sort}",
            ["_info"] = Info(entered),
        });
        Priority(1, "Priority 1 - Emergency Response", "Red", 1, isDefault: false);
        Priority(2, "Priority 2 - Quick Response", "Orange", 2, isDefault: false);
        Priority(3, "Priority 3 - Normal Response", "Yellow", 3, isDefault: true);
        Priority(4, "Priority 4 - Schedule Maintenance", "Green", 4, isDefault: false);
        Priority(5, "Do Not Respond", "Gray", 5, isDefault: false);

        var sourceId = 0;
        foreach (var (name, isDefault) in new[] { ("Email", false), ("Phone", true), ("Portal", false), ("Integration", false) })
        {
            data.Sources.Insert(new JsonObject { ["id"] = ++sourceId, ["name"] = name, ["defaultFlag"] = isDefault, ["enteredBy"] = "sandbox", ["dateEntered"] = entered, ["_info"] = Info(entered) });
        }

        var typeId = 0;
        foreach (var (name, isDefault) in new[] { ("Managed Services", true), ("Block Time", false), ("Security Bundle", false) })
        {
            data.AgreementTypes.Insert(new JsonObject
            {
                ["id"] = ++typeId,
                ["name"] = name,
                ["defaultFlag"] = isDefault,
                ["inactiveFlag"] = false,
                ["prePaymentFlag"] = false,
                ["location"] = location.DeepClone(),
                ["department"] = department.DeepClone(),
                ["applicationUnits"] = "Amount",
                ["applicationUnlimitedFlag"] = false,
                ["oneTimeFlag"] = false,
                ["billingCycle"] = Ref(2, "name", "Monthly", "billingCycle_href", "finance/billingCycles/2"),
                ["employeeCompRate"] = "Actual",
                ["employeeCompNotExceed"] = "Billing",
                ["invoicingCycle"] = "ContractYear",
                ["billTime"] = "Billable",
                ["billExpenses"] = "Billable",
                ["billProducts"] = "Billable",
                ["prorateFlag"] = true,
                ["_info"] = Info(entered),
            });
        }
    }

    private static JsonObject Status(int id, string name, bool defaultFlag, bool inactive, string entered) => new()
    {
        ["id"] = id,
        ["name"] = name,
        ["defaultFlag"] = defaultFlag,
        ["inactiveFlag"] = inactive,
        ["notifyFlag"] = false,
        ["disallowSavingFlag"] = false,
        ["customNoteFlag"] = false,
        ["cancelOpenTracksFlag"] = false,
        ["_info"] = Info(entered),
    };

    private static JsonObject AddAgreement(ConnectWiseData data, int id, string name, int typeId, string typeName, JsonObject company, JsonObject contact, string start, string? end, string status, string entered)
    {
        var agreement = new JsonObject
        {
            ["id"] = id,
            ["name"] = name,
            ["type"] = Ref(typeId, "name", typeName, "type_href", $"finance/agreements/types/{typeId}"),
            ["company"] = company.DeepClone(),
            ["contact"] = contact.DeepClone(),
            ["startDate"] = start,
            ["noEndingDateFlag"] = end is null,
            ["cancelledFlag"] = false,
            ["applicationUnits"] = "Amount",
            ["applicationUnlimitedFlag"] = false,
            ["oneTimeFlag"] = false,
            ["billingCycle"] = Ref(2, "name", "Monthly", "billingCycle_href", "finance/billingCycles/2"),
            ["billAmount"] = 0m,
            ["taxable"] = false,
            ["employeeCompRate"] = "Actual",
            ["employeeCompNotExceed"] = "Billing",
            ["invoicingCycle"] = "ContractYear",
            ["billTime"] = "Billable",
            ["billExpenses"] = "Billable",
            ["billProducts"] = "Billable",
            ["prorateFlag"] = true,
            ["periodType"] = "Current",
            ["agreementStatus"] = status,
            ["_info"] = Info(entered),
        };
        if (end is not null)
        {
            agreement["endDate"] = end;
        }

        return data.Agreements.Insert(agreement);
    }

    private static void AddAddition(ConnectWiseData data, int id, JsonObject agreement, string sku, int quantity, string effective, string? cancelled, string entered)
    {
        var product = SandboxSeedData.Product(sku);
        var addition = new JsonObject
        {
            ["id"] = id,
            ["product"] = new JsonObject { ["id"] = product.Number, ["identifier"] = product.Sku, ["_info"] = new JsonObject { ["product_href"] = $"procurement/catalog/{product.Number}" } },
            ["quantity"] = (decimal)quantity,
            ["lessIncluded"] = 0m,
            ["unitPrice"] = product.Price,
            ["unitCost"] = product.Cost,
            ["billCustomer"] = "Billable",
            ["effectiveDate"] = effective,
            ["taxableFlag"] = false,
            ["purchaseItemFlag"] = false,
            ["specialOrderFlag"] = false,
            ["agreementId"] = (int)agreement["id"]!.GetValue<long>(),
            ["description"] = product.Description,
            ["billedQuantity"] = (decimal)quantity,
            ["uom"] = "Each",
            ["extPrice"] = product.Price * quantity,
            ["extCost"] = product.Cost * quantity,
            ["sequenceNumber"] = (decimal)id,
            ["margin"] = (product.Price - product.Cost) * quantity,
            ["prorateCurrentPeriodFlag"] = false,
            ["agreementStatus"] = cancelled is null ? agreement["agreementStatus"]!.GetValue<string>() : "Cancelled",
            ["_info"] = Info(entered),
        };
        if (cancelled is not null)
        {
            addition["cancelledDate"] = cancelled;
        }

        data.Additions.Insert(addition);
    }

    private static void SeedTickets(ConnectWiseData data, SandboxSeedData seed, DateTime reference, string entered)
    {
        string[] summaries = ["Malware detected on endpoint", "Suspicious sign-in blocked", "Backup job failed", "Phishing email reported", "Firewall rule change request", "Disk space low on server"];
        var statuses = new[] { (1, "New", false), (2, "In Progress", false), (4, "Closed", true) };
        var active = seed.Companies.Where(c => c.DuplicateOfNumber is null).ToList();
        var count = Math.Min(MaxSeededTickets, active.Count * 2);
        for (var i = 1; i <= count; i++)
        {
            var company = active[(i - 1) % active.Count];
            var (statusId, statusName, closed) = statuses[i % statuses.Length];
            var priorityId = 1 + i % 4;
            var created = Date(reference.AddHours(-i * 7));
            var ticket = new JsonObject
            {
                ["id"] = i,
                ["summary"] = $"{summaries[i % summaries.Length]} ({company.Identifier})",
                ["recordType"] = "ServiceTicket",
                ["board"] = Ref(HelpDeskBoardId, "name", "Help Desk", "board_href", $"service/boards/{HelpDeskBoardId}"),
                ["status"] = Ref(statusId, "name", statusName, "status_href", $"service/boards/{HelpDeskBoardId}/statuses/{statusId}"),
                ["company"] = CompanyRef(company.Number, company.Identifier, company.Name),
                ["contact"] = Ref(company.Number, "name", ContactName(company), "contact_href", $"company/contacts/{company.Number}"),
                ["contactName"] = ContactName(company),
                ["team"] = Ref(1, "name", "Tier 1", "team_href", $"service/boards/{HelpDeskBoardId}/teams/1"),
                ["priority"] = PriorityRef(data, priorityId),
                ["source"] = Ref(4, "name", "Integration", "source_href", "service/sources/4"),
                ["severity"] = "Medium",
                ["impact"] = "Medium",
                ["closedFlag"] = closed,
                ["approved"] = true,
                ["customerUpdatedFlag"] = false,
                ["automaticEmailContactFlag"] = false,
                ["automaticEmailResourceFlag"] = false,
                ["automaticEmailCcFlag"] = false,
                ["_info"] = Info(created),
            };
            if (closed)
            {
                ticket["closedDate"] = Date(reference.AddHours(-i * 7 + 3));
                ticket["closedBy"] = "PsaPortalFull";
            }

            data.Tickets.Insert(ticket);
            data.TicketNotes.Insert(new JsonObject
            {
                ["ticketId"] = i,
                ["text"] = "Created by the platform integration.",
                ["detailDescriptionFlag"] = true,
                ["internalAnalysisFlag"] = false,
                ["resolutionFlag"] = false,
                ["issueFlag"] = false,
                ["member"] = Ref(1, "identifier", "PsaPortalFull", "member_href", "system/members/1"),
                ["customerUpdatedFlag"] = false,
                ["processNotifications"] = false,
                ["dateCreated"] = created,
                ["createdBy"] = "PsaPortalFull",
                ["internalFlag"] = false,
                ["externalFlag"] = true,
                ["_info"] = Info(created),
            });
        }
    }

    internal static JsonObject PriorityRef(ConnectWiseData data, long priorityId)
    {
        var priority = data.Priorities.Find(priorityId)!;
        return new JsonObject
        {
            ["id"] = priorityId,
            ["name"] = priority["name"]!.GetValue<string>(),
            ["sort"] = priority["sortOrder"]!.GetValue<int>(),
            ["level"] = priority["level"]!.GetValue<string>(),
            ["_info"] = new JsonObject { ["priority_href"] = $"service/priorities/{priorityId}", ["image_href"] = $"service/priorities/{priorityId}/image?useDefaultFlag=true" },
        };
    }

    internal static JsonObject CompanyRef(long id, string identifier, string name) => new()
    {
        ["id"] = id,
        ["identifier"] = identifier,
        ["name"] = name,
        ["_info"] = new JsonObject { ["company_href"] = $"company/companies/{id}" },
    };

    /// <summary>A reference object <c>{id, name|identifier, _info: {x_href}}</c>; hrefs are completed per request (see JsonRecords.Write).</summary>
    internal static JsonObject Ref(long id, string labelField, string label, string hrefName, string hrefPath) => new()
    {
        ["id"] = id,
        [labelField] = label,
        ["_info"] = new JsonObject { [hrefName] = hrefPath },
    };

    internal static JsonObject Info(string timestamp) => new()
    {
        ["lastUpdated"] = timestamp,
        ["updatedBy"] = "PsaPortalFull",
        ["dateEntered"] = timestamp,
        ["enteredBy"] = "PsaPortalFull",
    };

    internal static string Date(DateTime value) => value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
