namespace PsaPortal.Integrations;

/// <summary>The PSA products PsaPortal links to.</summary>
public enum PsaVendor
{
    ConnectWise,
    Autotask,
}

/// <summary>Names as an MSP admin reads them in messages.</summary>
public static class PsaVendorNames
{
    public static string DisplayName(this PsaVendor vendor) => vendor switch
    {
        PsaVendor.ConnectWise => "ConnectWise",
        _ => "Autotask",
    };
}
