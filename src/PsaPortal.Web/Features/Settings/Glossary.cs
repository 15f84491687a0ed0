namespace PsaPortal.Web.Features.Settings;

public sealed record GlossaryTerm(string Platform, string ConnectWise, string Autotask);

/// <summary>The Dictionary: the platform's terms and their names in each PSA (DESIGN.md, Glossary).</summary>
public static class Glossary
{
    public static readonly IReadOnlyList<GlossaryTerm> Terms =
    [
        new("Tenant / customer account", "Company", "Company (account)"),
        new("Subscription / contract", "Agreement", "Contract (Recurring Service)"),
        new("Product / SKU", "Catalog product (procurement/catalog)", "Service"),
        new("Billable count", "Addition quantity", "Contract service units (changed by adjustments)"),
        new("Incident", "Service ticket", "Ticket"),
        new("Board", "Service board", "Queue"),
        new("Invoice line", "Agreement addition", "—"),
    ];
}
