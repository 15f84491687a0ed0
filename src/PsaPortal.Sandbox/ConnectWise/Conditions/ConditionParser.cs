namespace PsaPortal.Sandbox.ConnectWise.Conditions;

/// <summary>
/// Recursive-descent parser for the conditions grammar:
/// <code>
/// expr       := andExpr ( OR andExpr )*
/// andExpr    := unary ( AND unary )*
/// unary      := NOT unary | '(' expr ')' | comparison
/// comparison := path [NOT] ( '=' | '!=' | '&lt;' | '&lt;=' | '&gt;' | '&gt;=' | CONTAINS | LIKE ) literal
///             | path [NOT] IN '(' literal ( ',' literal )* ')'
/// literal    := string | number | [datetime] | TRUE | FALSE | NULL
/// </code>
/// Keywords are case-insensitive, as in the vendor's examples (<c>Summary Not Contains "x"</c>).
/// </summary>
internal sealed class ConditionParser
{
    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "not", "contains", "like", "in", "null", "true", "false",
    };

    private readonly List<Token> _tokens;
    private readonly Func<string, bool>? _isKnownField;
    private int _index;

    private ConditionParser(List<Token> tokens, Func<string, bool>? isKnownField)
    {
        _tokens = tokens;
        _isKnownField = isKnownField;
    }

    /// <param name="isKnownField">Checks the first segment of each path; null accepts any field.</param>
    public static ConditionNode Parse(string text, Func<string, bool>? isKnownField = null)
    {
        var parser = new ConditionParser(ConditionTokenizer.Tokenize(text), isKnownField);
        if (parser.Current.Kind == TokenKind.End)
        {
            throw new ConditionSyntaxException("The conditions string is empty.");
        }

        var node = parser.ParseOr();
        if (parser.Current.Kind != TokenKind.End)
        {
            throw new ConditionSyntaxException($"Unexpected '{parser.Current.Text}' at position {parser.Current.Position}.");
        }

        return node;
    }

    private Token Current => _tokens[_index];

    private Token Advance() => _tokens[_index++];

    private ConditionNode ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsKeyword("or"))
        {
            Advance();
            left = new OrNode(left, ParseAnd());
        }

        return left;
    }

    private ConditionNode ParseAnd()
    {
        var left = ParseUnary();
        while (Current.IsKeyword("and"))
        {
            Advance();
            left = new AndNode(left, ParseUnary());
        }

        return left;
    }

    private ConditionNode ParseUnary()
    {
        if (Current.IsKeyword("not"))
        {
            Advance();
            return new NotNode(ParseUnary());
        }

        if (Current.Kind == TokenKind.OpenParen)
        {
            Advance();
            var inner = ParseOr();
            Expect(TokenKind.CloseParen, "')'");
            return inner;
        }

        return ParseComparison();
    }

    private ConditionNode ParseComparison()
    {
        var field = Current;
        if (field.Kind != TokenKind.Identifier || Keywords.Contains(field.Text))
        {
            throw new ConditionSyntaxException(field.Kind == TokenKind.End
                ? "Expected a field name at the end of the conditions."
                : $"Expected a field name at position {field.Position} but found '{field.Text}'.");
        }

        Advance();
        var segments = field.Text.Split('/');
        if (segments.Any(s => s.Length == 0))
        {
            throw new ConditionSyntaxException($"Invalid field path '{field.Text}' at position {field.Position}.");
        }

        if (_isKnownField is not null && !_isKnownField(segments[0]))
        {
            throw new ConditionSyntaxException($"Unknown field '{field.Text}' at position {field.Position}.");
        }

        var negated = false;
        if (Current.IsKeyword("not"))
        {
            Advance();
            negated = true;
        }

        var operatorToken = Advance();
        ComparisonOperator op;
        if (operatorToken.Kind == TokenKind.Operator)
        {
            op = operatorToken.Text switch
            {
                "=" => ComparisonOperator.Equal,
                "!=" => ComparisonOperator.NotEqual,
                "<" => ComparisonOperator.Less,
                "<=" => ComparisonOperator.LessOrEqual,
                ">" => ComparisonOperator.Greater,
                _ => ComparisonOperator.GreaterOrEqual,
            };
            if (negated)
            {
                throw new ConditionSyntaxException($"'not' cannot precede '{operatorToken.Text}' at position {operatorToken.Position}.");
            }
        }
        else if (operatorToken.IsKeyword("contains"))
        {
            op = ComparisonOperator.Contains;
        }
        else if (operatorToken.IsKeyword("like"))
        {
            op = ComparisonOperator.Like;
        }
        else if (operatorToken.IsKeyword("in"))
        {
            op = ComparisonOperator.In;
        }
        else
        {
            throw new ConditionSyntaxException(operatorToken.Kind == TokenKind.End
                ? $"Expected an operator after '{field.Text}'."
                : $"Expected an operator after '{field.Text}' at position {operatorToken.Position} but found '{operatorToken.Text}'.");
        }

        if (op != ComparisonOperator.In)
        {
            return new ComparisonNode(field.Text, segments, op, negated, [ParseLiteral()]);
        }

        Expect(TokenKind.OpenParen, "'(' after 'in'");
        var values = new List<Literal> { ParseLiteral() };
        while (Current.Kind == TokenKind.Comma)
        {
            Advance();
            values.Add(ParseLiteral());
        }

        Expect(TokenKind.CloseParen, "')' to close the 'in' list");
        return new ComparisonNode(field.Text, segments, op, negated, values);
    }

    private Literal ParseLiteral()
    {
        var token = Advance();
        return token.Kind switch
        {
            TokenKind.String => new Literal(LiteralKind.String, token.Text),
            TokenKind.Number => new Literal(LiteralKind.Number, token.Text, token.Number),
            TokenKind.Date => new Literal(LiteralKind.Date, token.Text, Date: token.Date),
            TokenKind.Identifier when token.IsKeyword("null") => new Literal(LiteralKind.Null),
            TokenKind.Identifier when token.IsKeyword("true") => new Literal(LiteralKind.Boolean, Boolean: true),
            TokenKind.Identifier when token.IsKeyword("false") => new Literal(LiteralKind.Boolean, Boolean: false),
            TokenKind.End => throw new ConditionSyntaxException("Expected a value at the end of the conditions."),
            _ => throw new ConditionSyntaxException($"Expected a value at position {token.Position} but found '{token.Text}'."),
        };
    }

    private void Expect(TokenKind kind, string description)
    {
        var token = Advance();
        if (token.Kind != kind)
        {
            throw new ConditionSyntaxException(token.Kind == TokenKind.End
                ? $"Expected {description} at the end of the conditions."
                : $"Expected {description} at position {token.Position} but found '{token.Text}'.");
        }
    }
}
