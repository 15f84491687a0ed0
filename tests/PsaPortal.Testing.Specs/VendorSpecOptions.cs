namespace PsaPortal.Testing.Specs;

/// <summary>How a vendor's specification is read: the vendor's routing rules and the known quirks of its file.</summary>
public sealed record VendorSpecOptions
{
    public required string DisplayName { get; init; }

    /// <summary>Match path literals ignoring case, as the vendor's own router does.</summary>
    public bool CaseInsensitivePaths { get; init; }

    /// <summary>
    /// Accept <c>null</c> for every object property. Swagger 2.0 cannot mark a property nullable, yet the
    /// vendor sends <c>null</c> for unset fields (Autotask: <c>"nextPageUrl": null</c>).
    /// </summary>
    public bool NullAllowedForEveryProperty { get; init; }

    /// <summary>
    /// The file's POST success codes were guessed (201 for every POST), so any 2xx on a POST is checked
    /// against the one declared success schema instead of being reported as undeclared.
    /// </summary>
    public bool PostSuccessCodesGuessed { get; init; }

    public static VendorSpecOptions ConnectWise { get; } = new()
    {
        DisplayName = "ConnectWise PSA",
        PostSuccessCodesGuessed = true,
    };

    public static VendorSpecOptions Autotask { get; } = new()
    {
        DisplayName = "Autotask PSA",
        CaseInsensitivePaths = true,
        NullAllowedForEveryProperty = true,
    };
}
