using System.Net;

namespace PsaPortal.Integrations.Errors;

/// <summary>
/// A failed PSA call. <see cref="Exception.Message"/> is written for an MSP admin; the vendor's own
/// code, message and failing field are kept alongside so that logs and support can see exactly what the PSA said.
/// </summary>
public sealed class PsaException : Exception
{
    public PsaException(PsaVendor vendor, PsaErrorKind kind, string message, HttpStatusCode? statusCode = null,
        IReadOnlyList<PsaVendorError>? vendorErrors = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Vendor = vendor;
        Kind = kind;
        StatusCode = statusCode;
        VendorErrors = vendorErrors ?? [];
    }

    public PsaVendor Vendor { get; }

    public PsaErrorKind Kind { get; }

    /// <summary>The HTTP status the PSA answered with; null when no answer arrived or PsaPortal refused to send.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Every error the PSA listed, first one first.</summary>
    public IReadOnlyList<PsaVendorError> VendorErrors { get; }

    public string? VendorCode => VendorErrors.Count > 0 ? VendorErrors[0].Code : null;

    public string? VendorMessage => VendorErrors.Count > 0 ? VendorErrors[0].Message : null;

    public string? Field => VendorErrors.FirstOrDefault(e => e.Field is not null)?.Field;

    /// <summary>How long the PSA asked us to wait, when it said so.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
