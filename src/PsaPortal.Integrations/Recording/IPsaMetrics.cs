namespace PsaPortal.Integrations.Recording;

/// <summary>
/// Where the PSA clients report what operators watch: every HTTP attempt with its status, every retry, every wait for
/// the connection's request budget. The portal implements it with System.Diagnostics.Metrics; keep each call cheap.
/// </summary>
public interface IPsaMetrics
{
    /// <summary>One HTTP attempt ended: <paramref name="statusCode"/> is null when no response arrived.</summary>
    void CallCompleted(PsaVendor vendor, string method, int? statusCode, TimeSpan duration);

    /// <summary>The resilience pipeline is about to send again; <paramref name="reason"/> is the status code or the failure's name.</summary>
    void Retrying(PsaVendor vendor, string reason);

    /// <summary>An attempt waited <paramref name="waited"/> for the connection's request budget (only attempts that had to wait).</summary>
    void BudgetWaited(PsaVendor vendor, TimeSpan waited);
}

/// <summary>For callers that keep no metrics.</summary>
public sealed class NullPsaMetrics : IPsaMetrics
{
    public static readonly NullPsaMetrics Instance = new();

    public void CallCompleted(PsaVendor vendor, string method, int? statusCode, TimeSpan duration)
    {
    }

    public void Retrying(PsaVendor vendor, string reason)
    {
    }

    public void BudgetWaited(PsaVendor vendor, TimeSpan waited)
    {
    }
}
