using System.Text;

namespace PsaPortal.Testing.Specs;

/// <summary>One place where a body does not match its schema, e.g. <c>$.items[3].company.id: expected integer, got string</c>.</summary>
public sealed record SchemaViolation(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>How much of a message the specification let us check.</summary>
public enum SchemaCoverage
{
    /// <summary>The body (or its absence) was checked against a schema from the specification.</summary>
    Validated,

    /// <summary>There is no body and the specification declares none: nothing to check, and nothing wrong.</summary>
    NoBody,

    /// <summary>
    /// There is a body but the specification gives no schema for it (or no declaration at all), so it was not
    /// checked. Callers that need real coverage should assert against this.
    /// </summary>
    NoSchema,
}

/// <summary>Options for a single validation.</summary>
public sealed record ValidationOptions
{
    public static ValidationOptions Default { get; } = new();

    /// <summary>Skip <c>required</c>: the vendor returns only the requested fields (ConnectWise <c>fields=</c>).</summary>
    public bool IgnoreRequired { get; init; }

    /// <summary>
    /// Accept properties the schema does not declare. Off by default: both files were generated from the
    /// vendors' server models, so their property lists are complete in practice even though they never say
    /// <c>additionalProperties: false</c>, and an undeclared property is almost always a misspelt field.
    /// </summary>
    public bool AllowUnknownProperties { get; init; }
}

/// <summary>The outcome of checking one request or response against the specification.</summary>
public sealed class ValidationReport
{
    public ValidationReport(string subject, SchemaCoverage coverage, IReadOnlyList<SchemaViolation> violations, IReadOnlyList<string> notes)
    {
        Subject = subject;
        Coverage = coverage;
        Violations = violations;
        Notes = notes;
    }

    /// <summary>What was checked, e.g. <c>response 200 of GET /company/companies</c>.</summary>
    public string Subject { get; }

    public SchemaCoverage Coverage { get; }

    public IReadOnlyList<SchemaViolation> Violations { get; }

    /// <summary>Spec quirks that were applied or reasons nothing was checked; never failures.</summary>
    public IReadOnlyList<string> Notes { get; }

    public bool Conforms => Violations.Count == 0;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Subject).Append(": ");
        text.Append(Conforms ? "conforms" : $"{Violations.Count} violation(s)");
        text.Append(Coverage switch
        {
            SchemaCoverage.NoSchema => " (no schema)",
            SchemaCoverage.NoBody => " (no body)",
            _ => string.Empty,
        });
        foreach (var violation in Violations)
        {
            text.Append("\n  ").Append(violation);
        }

        foreach (var note in Notes)
        {
            text.Append("\n  note: ").Append(note);
        }

        return text.ToString();
    }
}
