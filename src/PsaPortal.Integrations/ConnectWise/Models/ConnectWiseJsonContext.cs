using System.Text.Json.Serialization;

namespace PsaPortal.Integrations.ConnectWise.Models;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(CwCompanyInfo))]
[JsonSerializable(typeof(CwSystemInfo))]
[JsonSerializable(typeof(List<CwSecuritySetting>))]
[JsonSerializable(typeof(List<CwCompany>))]
[JsonSerializable(typeof(List<CwCompanyStatus>))]
[JsonSerializable(typeof(List<CwContact>))]
[JsonSerializable(typeof(List<CwBoard>))]
[JsonSerializable(typeof(List<CwBoardTeam>))]
[JsonSerializable(typeof(List<CwBoardStatus>))]
[JsonSerializable(typeof(List<CwPriority>))]
[JsonSerializable(typeof(List<CwSource>))]
[JsonSerializable(typeof(CwTicket))]
[JsonSerializable(typeof(List<CwTicket>))]
[JsonSerializable(typeof(CwServiceNote))]
[JsonSerializable(typeof(List<CwAgreement>))]
[JsonSerializable(typeof(List<CwAgreementType>))]
[JsonSerializable(typeof(CwAddition))]
[JsonSerializable(typeof(List<CwAddition>))]
[JsonSerializable(typeof(CwCatalogItem))]
[JsonSerializable(typeof(List<CwCatalogItem>))]
[JsonSerializable(typeof(CwDocumentInfo))]
[JsonSerializable(typeof(List<CwDocumentInfo>))]
[JsonSerializable(typeof(List<CwPatchOperation>))]
[JsonSerializable(typeof(CwErrorBody))]
[JsonSerializable(typeof(decimal))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(CwReference))]
internal sealed partial class ConnectWiseJsonContext : JsonSerializerContext;
