namespace PsaPortal.Sandbox.ConnectWise.Conditions;

internal enum LiteralKind
{
    String,
    Number,
    Boolean,
    Date,
    Null,
}

internal sealed record Literal(LiteralKind Kind, string? Text = null, decimal Number = 0, bool Boolean = false, DateTimeOffset Date = default);

internal enum ComparisonOperator
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Contains,
    Like,
    In,
}

/// <summary>A parsed conditions expression.</summary>
internal abstract record ConditionNode;

internal sealed record AndNode(ConditionNode Left, ConditionNode Right) : ConditionNode;

internal sealed record OrNode(ConditionNode Left, ConditionNode Right) : ConditionNode;

internal sealed record NotNode(ConditionNode Inner) : ConditionNode;

internal sealed record ComparisonNode(string Path, string[] Segments, ComparisonOperator Operator, bool Negated, IReadOnlyList<Literal> Values) : ConditionNode;
