using System.ComponentModel.DataAnnotations;

namespace PsaPortal.Web.Features.Integrations;

/// <summary>What an Admin types to link ConnectWise. An empty private key keeps the one already stored.</summary>
public sealed class ConnectWiseLinkForm
{
    [Required(ErrorMessage = "Enter the Site URL, e.g. na.myconnectwise.net.")]
    [StringLength(Integration.UrlMaxLength, ErrorMessage = "A Site URL has at most 300 characters.")]
    public string SiteUrl { get; set; } = "";

    [Required(ErrorMessage = "Enter the Company ID you sign in with.")]
    [StringLength(Integration.FieldMaxLength, ErrorMessage = "A Company ID has at most 100 characters.")]
    [RegularExpression(@"^[A-Za-z0-9_.\-]+$", ErrorMessage = "A Company ID has only letters, digits, '.', '-' and '_'.")]
    public string CompanyId { get; set; } = "";

    [Required(ErrorMessage = "Enter the API member's Public Key.")]
    [StringLength(Integration.FieldMaxLength, ErrorMessage = "A Public Key has at most 100 characters.")]
    [RegularExpression(@"^[A-Za-z0-9]+$", ErrorMessage = "A Public Key has only letters and digits.")]
    public string PublicKey { get; set; } = "";

    [StringLength(Integration.FieldMaxLength, ErrorMessage = "A Private Key has at most 100 characters.")]
    [RegularExpression(@"^[A-Za-z0-9]*$", ErrorMessage = "A Private Key has only letters and digits.")]
    public string? PrivateKey { get; set; }
}

/// <summary>What an Admin types to link Autotask. Empty secret or tracking identifier keeps the stored one.</summary>
public sealed class AutotaskLinkForm
{
    [Required(ErrorMessage = "Enter the API user's Username.")]
    [EmailAddress(ErrorMessage = "An Autotask API username is an email address.")]
    [StringLength(200, ErrorMessage = "A Username has at most 200 characters.")]
    public string UserName { get; set; } = "";

    [StringLength(200, ErrorMessage = "A Secret has at most 200 characters.")]
    // The secret travels in an HTTP header, which carries ASCII only: anything else would fail as "could not reach Autotask".
    [RegularExpression(@"^[\x20-\x7E]*$", ErrorMessage = "A Secret cannot contain control characters. It has only letters, digits, punctuation and spaces (ASCII).")]
    public string? Secret { get; set; }

    [StringLength(Integration.FieldMaxLength, ErrorMessage = "A Tracking Identifier has at most 100 characters.")]
    [RegularExpression(@"^[A-Za-z0-9]*$", ErrorMessage = "A Tracking Identifier has only letters and digits.")]
    public string? IntegrationCode { get; set; }

    /// <summary>Link to the portal's built-in Autotask sandbox instead of Autotask itself (only while the sandbox is on).</summary>
    public bool UseSandbox { get; set; }
}

public sealed record LinkResult(bool Succeeded, string Message)
{
    public static LinkResult Failed(string message) => new(false, message);
}
