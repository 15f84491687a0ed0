using System.Net;
using System.Text.Json;
using PsaPortal.Integrations.Autotask.Models;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Recording;

namespace PsaPortal.Integrations.Autotask;

/// <summary>What a call was about, for messages an MSP admin can act on.</summary>
/// <param name="Entity">The Autotask entity whose rights the call needs (Tickets, ContractServices…).</param>
/// <param name="Action">query, create or update.</param>
internal sealed record AutotaskCall(string Operation, string Entity, string Action, string? Subject = null)
{
    public string CorrelationId { get; } = Guid.NewGuid().ToString("N");
}

/// <summary>Maps Autotask error responses (<c>{"errors":["…"]}</c>, usually with status 500) to <see cref="PsaException"/>.</summary>
internal static class AutotaskErrors
{
    public const string ZoneUnknown = "Zone information could not be determined";
    private const string IntegrationCodeInvalid = "IntegrationCode is invalid";
    private const string ThreadLimit = "Thread Threshold Exceeded";
    private const string ThreadLimitCode = "Itgenatr005";
    private const string ThresholdExceeded = "Request threshold exceeded";
    private const string UnexpectedError = "An unexpected error occurred";

    public static async Task<PsaException> ToExceptionAsync(HttpResponseMessage response, AutotaskCall call, string userName, CancellationToken cancellationToken)
    {
        var messages = await MessagesAsync(response, cancellationToken).ConfigureAwait(false);
        var vendorErrors = messages.Select(m => new PsaVendorError(m.Contains(ThreadLimitCode, StringComparison.Ordinal) ? ThreadLimitCode : null, m)).ToList();
        var all = string.Join(" ", messages);
        var status = response.StatusCode;
        var (kind, message) = status switch
        {
            _ when Has(all, ZoneUnknown) => (PsaErrorKind.Unauthorized, $"Autotask does not know the API user \"{userName}\". Check the username of the API-only user."),
            _ when Has(all, IntegrationCodeInvalid) => (PsaErrorKind.Unauthorized, "Autotask did not accept the API Tracking Identifier. Check it in Admin > Resources (Users) > the API user's Security tab."),
            _ when Has(all, ThreadLimit) => (PsaErrorKind.RateLimited, "Autotask refused the call because too many requests ran at the same time for this integration. Try again in a moment."),
            _ when Has(all, ThresholdExceeded) => (PsaErrorKind.RateLimited, "Autotask's hourly API request threshold for this database is used up. Calls continue when usage drops; see Admin > API Usage in Autotask."),
            HttpStatusCode.Unauthorized => (PsaErrorKind.Unauthorized, "Autotask rejected the API user's credentials. Check the username and secret of the API-only user."),
            HttpStatusCode.Forbidden => (PsaErrorKind.Forbidden, $"Autotask API user does not have permission to {call.Action} {call.Entity}."),
            HttpStatusCode.NotFound => (PsaErrorKind.NotFound, $"Autotask could not find {call.Subject ?? "the requested record"}."),
            HttpStatusCode.TooManyRequests => (PsaErrorKind.RateLimited, "Autotask is throttling this integration. Try again in a minute."),
            _ when (int)status >= 500 && (messages.Count == 0 || Has(all, UnexpectedError)) => (PsaErrorKind.Unavailable, $"Autotask answered with a server error ({(int)status}). Try again later."),
            _ => (PsaErrorKind.Validation, $"Autotask refused {call.Subject ?? "the request"}: {all}"),
        };
        return new PsaException(PsaVendor.Autotask, kind, message, status, vendorErrors) { RetryAfter = response.Headers.RetryAfter?.Delta };
    }

    /// <summary>
    /// May the same request succeed later? Thread-limit rejections (whatever their status), other 429s
    /// except the used-up hourly threshold, gateway errors and 500s without a specific vendor message.
    /// Autotask reports refused data as 500 too; those are not retried.
    /// </summary>
    public static async ValueTask<bool> IsTransientAsync(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode || (status < 500 && status != 429 && status != 403 && status != 400))
        {
            return false;
        }

        var messages = await MessagesAsync(response, CancellationToken.None).ConfigureAwait(false);
        var all = string.Join(" ", messages);
        if (Has(all, ThreadLimit) || Has(all, ThreadLimitCode))
        {
            return true;
        }

        return status switch
        {
            429 => !Has(all, ThresholdExceeded),
            500 => messages.Count == 0 || Has(all, UnexpectedError),
            >= 500 => true,
            _ => false,
        };
    }

    /// <summary>
    /// Was the request refused before Autotask processed it? Thread-limit rejections (whatever their status) and
    /// other 429s are; a 500 "unexpected error" or a gateway error may come after a write was applied.
    /// </summary>
    public static async ValueTask<bool> IsUnprocessedAsync(HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            return true;
        }

        var all = string.Join(" ", await MessagesAsync(response, CancellationToken.None).ConfigureAwait(false));
        return Has(all, ThreadLimit) || Has(all, ThreadLimitCode);
    }

    private static bool Has(string text, string marker) => text.Contains(marker, StringComparison.OrdinalIgnoreCase);

    private static async Task<List<string>> MessagesAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await SecretRedactor.ResponseTextAsync(response, cancellationToken).ConfigureAwait(false);
        if (!text.TrimStart().StartsWith('{'))
        {
            return string.IsNullOrWhiteSpace(text) ? [] : [text.Length > 500 ? text[..500] : text];
        }

        try
        {
            return JsonSerializer.Deserialize(text, AutotaskJsonContext.Default.AtErrorBody)?.Errors ?? [];
        }
        catch (JsonException)
        {
            return [text];
        }
    }
}
