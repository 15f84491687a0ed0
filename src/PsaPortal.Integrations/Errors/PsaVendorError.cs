namespace PsaPortal.Integrations.Errors;

/// <summary>One error exactly as the PSA reported it (ConnectWise <c>errors[]</c> entry or one Autotask <c>errors[]</c> string).</summary>
public sealed record PsaVendorError(string? Code, string Message, string? Field = null, string? Resource = null);
