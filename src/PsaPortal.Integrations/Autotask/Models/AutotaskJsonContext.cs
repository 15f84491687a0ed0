using System.Text.Json.Serialization;

namespace PsaPortal.Integrations.Autotask.Models;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(AtZoneInformation))]
[JsonSerializable(typeof(AtThresholdInformation))]
[JsonSerializable(typeof(AtEntityInformation))]
[JsonSerializable(typeof(AtFieldInformation))]
[JsonSerializable(typeof(AtQuery))]
[JsonSerializable(typeof(AtCountResult))]
[JsonSerializable(typeof(AtCreateResult))]
[JsonSerializable(typeof(AtErrorBody))]
[JsonSerializable(typeof(AtTicket))]
[JsonSerializable(typeof(AtItemResult<AtTicket>))]
[JsonSerializable(typeof(AtContractServiceAdjustment))]
[JsonSerializable(typeof(AtQueryResult<AtCompany>))]
[JsonSerializable(typeof(AtQueryResult<AtTicket>))]
[JsonSerializable(typeof(AtQueryResult<AtContract>))]
[JsonSerializable(typeof(AtQueryResult<AtContractService>))]
[JsonSerializable(typeof(AtQueryResult<AtContractServiceUnit>))]
[JsonSerializable(typeof(AtQueryResult<AtService>))]
[JsonSerializable(typeof(AtQueryResult<AtResource>))]
internal sealed partial class AutotaskJsonContext : JsonSerializerContext;
