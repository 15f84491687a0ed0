using System.Net;
using System.Text.Json;
using PsaPortal.Integrations.ConnectWise.Models;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Recording;

namespace PsaPortal.Integrations.ConnectWise;

/// <summary>What a call was about, for error messages an MSP admin can act on.</summary>
/// <param name="Area">The security function the call needs, as ConnectWise names it ("Service > Priority").</param>
/// <param name="Subject">What was asked for ("agreement 17").</param>
internal sealed record ConnectWiseCall(string Operation, string Area, string? Subject = null)
{
    public string CorrelationId { get; } = Guid.NewGuid().ToString("N");
}

/// <summary>Maps ConnectWise error responses (<c>{code, message, errors[]}</c>) to <see cref="PsaException"/>.</summary>
internal static class ConnectWiseErrors
{
    public const string CodebaseInvalidText = "Cannot route. Codebase/company is invalid";

    public static async Task<PsaException> ToExceptionAsync(HttpResponseMessage response, ConnectWiseCall call, CancellationToken cancellationToken)
    {
        var text = await SecretRedactor.ResponseTextAsync(response, cancellationToken).ConfigureAwait(false);
        var body = Parse(text);
        var errors = new List<PsaVendorError>();
        if (body is not null && (body.Message is not null || body.Code is not null || body.Error is not null))
        {
            errors.Add(new PsaVendorError(body.Code ?? body.Error, body.Message ?? string.Empty));
        }
        else if (!string.IsNullOrWhiteSpace(text))
        {
            errors.Add(new PsaVendorError(null, text.Length > 500 ? text[..500] : text));
        }

        errors.AddRange(body?.Errors?.Select(e => new PsaVendorError(e.Code, e.Message ?? string.Empty, e.Field, e.Resource)) ?? []);
        var status = response.StatusCode;
        var verb = Verb(response.RequestMessage?.Method);
        var vendorMessage = body?.Message ?? text;
        var (kind, message) = status switch
        {
            HttpStatusCode.Unauthorized when vendorMessage.Contains("clientId", StringComparison.OrdinalIgnoreCase) =>
                (PsaErrorKind.Unauthorized, "ConnectWise did not accept PsaPortal's clientId. Check the clientId in the integration settings."),
            HttpStatusCode.Unauthorized =>
                (PsaErrorKind.Unauthorized, "ConnectWise rejected the API keys. Check the Company ID, public key and private key of the API member."),
            HttpStatusCode.Forbidden =>
                (PsaErrorKind.Forbidden, $"ConnectWise API user does not have permission to {verb} {call.Area}."),
            HttpStatusCode.NotFound when text.Contains(CodebaseInvalidText, StringComparison.OrdinalIgnoreCase) =>
                (PsaErrorKind.NotFound, "ConnectWise could not route the call to this company's site. Check the site URL and Company ID."),
            HttpStatusCode.NotFound =>
                (PsaErrorKind.NotFound, $"ConnectWise could not find {call.Subject ?? "the requested record"}. It may have been deleted in ConnectWise."),
            HttpStatusCode.TooManyRequests =>
                (PsaErrorKind.RateLimited, $"ConnectWise is throttling this integration ({vendorMessage}). PsaPortal will slow down; try again in a minute."),
            >= HttpStatusCode.InternalServerError =>
                (PsaErrorKind.Unavailable, $"ConnectWise answered with a server error ({(int)status}: {vendorMessage}). Try again later."),
            _ => (PsaErrorKind.Validation, ValidationMessage(call, errors)),
        };
        return new PsaException(PsaVendor.ConnectWise, kind, message, status, errors) { RetryAfter = response.Headers.RetryAfter?.Delta };
    }

    private static string ValidationMessage(ConnectWiseCall call, List<PsaVendorError> errors)
    {
        var details = errors.Skip(errors.Count > 1 ? 1 : 0)
            .Select(e => e.Field is null ? e.Message : $"{e.Message} (field {e.Field})");
        return $"ConnectWise refused {call.Subject ?? "the request"}: {string.Join("; ", details)}";
    }

    private static string Verb(HttpMethod? method) =>
        method == HttpMethod.Post ? "add to" : method == HttpMethod.Patch || method == HttpMethod.Put ? "edit" : method == HttpMethod.Delete ? "delete in" : "access";

    private static CwErrorBody? Parse(string text)
    {
        if (!text.TrimStart().StartsWith('{'))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(text, ConnectWiseJsonContext.Default.CwErrorBody);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Was the request refused before ConnectWise processed it? Throttling (429) is; a 5xx may come after a write was applied.</summary>
    public static ValueTask<bool> IsUnprocessedAsync(HttpResponseMessage response) =>
        ValueTask.FromResult(response.StatusCode == HttpStatusCode.TooManyRequests);

    /// <summary>May the same request succeed later? 429, 5xx and the vendor's "timeout has occured" 500.</summary>
    public static ValueTask<bool> IsTransientAsync(HttpResponseMessage response) =>
        ValueTask.FromResult(response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500);
}
