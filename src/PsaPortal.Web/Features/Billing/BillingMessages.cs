using System.Globalization;
using PsaPortal.Integrations;

namespace PsaPortal.Web.Features.Billing;

/// <summary>
/// Every sentence a billing row or request can end with, in one place, so the pages, the notifications and the tests
/// read the same words. The four PSA-side problems are DESIGN.md's texts word for word.
/// </summary>
public static class BillingMessages
{
    public const string MultipleAgreements =
        "Multiple agreements contain the mapped product for this company. Only one agreement per company should have the product. Resolve in ConnectWise.";

    public const string SalesRefused = "Sales users cannot start or change billing runs.";

    public const string PreviewChangedSuffix = "Run a new preview.";

    public static string AlreadyRunning(PsaVendor vendor) => $"A billing run is already running for {vendor.DisplayName()}.";

    public static string NotLinked(PsaVendor vendor) => $"{vendor.DisplayName()} is not linked. Link it on the Integrations page before syncing billing.";

    public static string NotConnected(PsaVendor vendor) => $"{vendor.DisplayName()} is not connected. Link it again on the Integrations page before syncing billing.";

    public static string FutureContract(string name, DateOnly start) =>
        $"Contract \"{name}\" has a start date of {Iso(start)}, which is in the future. Billing cannot be synced until the contract period has begun — " +
        "update the contract start date in Autotask or wait until the contract is active.";

    public static string ExpiredContract(string name, DateOnly end) =>
        $"Contract \"{name}\" ended on {Iso(end)}. Billing cannot be synced to an expired contract — extend the contract end date in Autotask or map this " +
        "tenant to an active contract.";

    public static string DuplicateService(int times) =>
        $"Duplicate service found — the mapped Autotask Service appears {times} times on this contract. Remove the duplicate in Autotask by deleting it " +
        "(if not yet invoiced) or setting its units to 0 with a past-dated removal, then retry.";

    public static string ServiceNotOnContract(string service, string contract) =>
        $"The mapped Autotask service \"{service}\" is not on contract \"{contract}\". Billing changes units of services already on the contract and does " +
        "not add services: add the service to the contract in Autotask (or map this tenant to a contract that has it), then retry.";

    public static string ContractNotFound(long contractId, string? name) =>
        $"Contract \"{name ?? contractId.ToString(CultureInfo.InvariantCulture)}\" (id {contractId}) was not found in Autotask. It may have been deleted: " +
        "choose another contract for this tenant on the Mapping page.";

    public static string OnOtherAgreement(string other, string mapped) =>
        $"The mapped product is on another agreement of this company (\"{other}\"), not on the mapped agreement \"{mapped}\". Only one agreement per " +
        "company should have the product: map this tenant to that agreement on the Mapping page, or move the addition in ConnectWise, then retry.";

    public static string DuplicateAdditions(int times) =>
        $"The mapped product is on this agreement {times} times as active additions. Keep one in ConnectWise (cancel the others), then retry.";

    public static string NoCompany(PsaVendor vendor) =>
        $"No {vendor.DisplayName()} company is mapped for this tenant. Choose one on the Mapping page.";

    public static string SuggestionNotAccepted(PsaVendor vendor) =>
        $"The {vendor.DisplayName()} company for this tenant is only a suggestion. Accept it or choose a company on the Mapping page.";

    public static string NoAgreement(PsaVendor vendor) => vendor == PsaVendor.ConnectWise
        ? "No agreement is mapped for this tenant. Choose one on the Mapping page."
        : "No contract is mapped for this tenant. Choose one on the Mapping page.";

    public static string ProductNotMapped(PsaVendor vendor, string product) => vendor == PsaVendor.ConnectWise
        ? $"The product \"{product}\" is not mapped to a ConnectWise product. Map it on the Mapping page's Products tab."
        : $"The product \"{product}\" is not mapped to an Autotask service. Map it on the Mapping page's Products tab.";

    public static string NoLongerExported(PsaVendor vendor) =>
        $"This tenant's {vendor.DisplayName()} mapping is no longer export-enabled, or it no longer reports this product; nothing was synced.";

    public static string ChangedSincePreview(decimal? was, decimal? now) =>
        $"Changed in the PSA since the preview (was {Quantity(was)}, now {Quantity(now)}). {PreviewChangedSuffix}";

    public static string UnitsChangedOutside(decimal before, decimal after, decimal now) =>
        $"The units of this contract service changed outside PsaPortal while the adjustment's outcome was unknown: it was planned from {Quantity(before)} to " +
        $"{Quantity(after)} units, and Autotask now shows {Quantity(now)}. Check the contract service in Autotask, then retry this tenant.";

    public static string NotConfirmed(PsaVendor vendor, string reason) =>
        $"{vendor.DisplayName()} did not confirm the change and it could not be checked ({reason}). Retry this tenant: it reads {vendor.DisplayName()} first and never sends a change twice.";

    public static string AcceptedNotConfirmed(PsaVendor vendor, string reason) =>
        $"{vendor.DisplayName()} accepted the adjustment, but the units could not be read back to confirm it ({reason}). Retry this tenant: it reads {vendor.DisplayName()} first and never sends a change twice.";

    public const string Cancelled = "Not attempted: the run was cancelled.";

    public const string StoppedWhileInFlight = "The run was stopped while this change was being sent; the next run reads the PSA first and never sends it twice.";

    public static string Quantity(decimal? value) => value is { } v ? v.ToString("0.####", CultureInfo.InvariantCulture) : "none";

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
