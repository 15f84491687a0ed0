using System.Text;
using System.Text.Json;

namespace PsaPortal.Testing.Specs;

/// <summary>The request and response checks for one recorded exchange.</summary>
public sealed record ExchangeReport(RecordedExchange Exchange, ValidationReport Request, ValidationReport? Response)
{
    public bool Conforms => Request.Conforms && (Response?.Conforms ?? true);

    public IEnumerable<ValidationReport> Reports => Response is null ? [Request] : [Request, Response];
}

/// <summary>Checks recorded traffic against a vendor specification.</summary>
public static class SpecConformance
{
    public static ExchangeReport Check(VendorSpec spec, RecordedExchange exchange, ValidationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(exchange);

        string relativePath;
        try
        {
            relativePath = spec.GetApiRelativePath(exchange.RequestUri);
        }
        catch (SpecMismatchException mismatch)
        {
            var notUnderRoot = new ValidationReport($"request {exchange.Method} {exchange.RequestUri}", SchemaCoverage.NoSchema, [new SchemaViolation("$", mismatch.Message)], []);
            return new ExchangeReport(exchange, notUnderRoot, null);
        }

        if (!spec.TryFindOperation(exchange.Method, relativePath, out _, out var failure))
        {
            // The response cannot be checked either; saying so once is enough.
            var notInSpec = new ValidationReport($"request {exchange.Method} {VendorSpec.StripQuery(relativePath)}", SchemaCoverage.NoSchema, [new SchemaViolation("$", failure)], []);
            return new ExchangeReport(exchange, notInSpec, null);
        }

        var request = IsNonJson(exchange.RequestBody, exchange.RequestContentType)
            ? spec.ValidateRequest(exchange.Method, relativePath, null, exchange.RequestHeaderNames, options, exchange.RequestContentType)
            : WithParsedBody(exchange.RequestBody, $"request body of {exchange.Method} {relativePath}",
                body => spec.ValidateRequest(exchange.Method, relativePath, body, exchange.RequestHeaderNames, options));
        var response = exchange.StatusCode is not { } status ? null
            : IsNonJson(exchange.ResponseBody, exchange.ResponseContentType)
                ? new ValidationReport($"response {status} of {exchange.Method} {relativePath}", SchemaCoverage.NoSchema, [],
                    [$"no schema: the {exchange.ResponseContentType} body was not checked (only JSON bodies are)"])
                : WithParsedBody(exchange.ResponseBody, $"response {status} of {exchange.Method} {relativePath}",
                    body => spec.ValidateResponse(exchange.Method, relativePath, status, body, options));
        return new ExchangeReport(exchange, request, response);
    }

    public static IReadOnlyList<ExchangeReport> Check(VendorSpec spec, IEnumerable<RecordedExchange> exchanges, ValidationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(exchanges);
        return [.. exchanges.Select(exchange => Check(spec, exchange, options))];
    }

    private static bool IsNonJson(string? body, string? contentType) =>
        body is not null && contentType is not null && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase);

    private static ValidationReport WithParsedBody(string? body, string subject, Func<JsonElement?, ValidationReport> validate)
    {
        if (body is null)
        {
            return validate(null);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return validate(document.RootElement);
        }
        catch (JsonException invalid)
        {
            return new ValidationReport(subject, SchemaCoverage.Validated, [new SchemaViolation("$", $"body is not valid JSON: {invalid.Message}")], []);
        }
    }
}

/// <summary>Assertions that throw <see cref="SpecConformanceException"/> listing every violation.</summary>
public static class SpecAssert
{
    /// <summary>Throws unless the report has no violations and, unless <paramref name="allowNoSchema"/>, something was actually checked.</summary>
    public static void Conforms(ValidationReport report, bool allowNoSchema = false)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (Fails(report, allowNoSchema))
        {
            throw new SpecConformanceException(report.ToString());
        }
    }

    /// <summary>Throws unless every exchange conforms; the message lists each failing exchange with all its violations.</summary>
    public static void AllConform(VendorSpec spec, IEnumerable<RecordedExchange> exchanges, bool allowNoSchema = false, ValidationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var reports = SpecConformance.Check(spec, exchanges, options);
        if (reports.Count == 0)
        {
            throw new SpecConformanceException($"No traffic was recorded, so nothing was checked against {spec.Name}.");
        }

        var failing = reports.Where(r => r.Reports.Any(report => Fails(report, allowNoSchema))).ToList();
        if (failing.Count == 0)
        {
            return;
        }

        var message = new StringBuilder()
            .Append(failing.Count).Append(" of ").Append(reports.Count)
            .Append(" recorded exchange(s) do not conform to ").Append(spec.Name).Append(" (").Append(spec.FileName).Append("):");
        foreach (var exchange in failing)
        {
            message.Append("\n\n").Append(exchange.Exchange);
            foreach (var report in exchange.Reports.Where(report => Fails(report, allowNoSchema)))
            {
                message.Append("\n  ").Append(report.ToString().Replace("\n", "\n  ", StringComparison.Ordinal));
            }
        }

        throw new SpecConformanceException(message.ToString());
    }

    private static bool Fails(ValidationReport report, bool allowNoSchema) =>
        !report.Conforms || (!allowNoSchema && report.Coverage == SchemaCoverage.NoSchema);
}

public sealed class SpecConformanceException(string message) : Exception(message);
