using System.Globalization;
using System.Text;

namespace PsaPortal.Sandbox.ConnectWise.Conditions;

internal enum TokenKind
{
    Identifier,
    String,
    Number,
    Date,
    Operator,
    OpenParen,
    CloseParen,
    Comma,
    End,
}

internal readonly record struct Token(TokenKind Kind, string Text, int Position, decimal Number = 0, DateTimeOffset Date = default)
{
    public bool IsKeyword(string keyword) => Kind == TokenKind.Identifier && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Splits a ConnectWise conditions string into tokens: field paths (<c>board/name</c>), double- or
/// single-quoted strings, numbers, <c>[datetimes]</c>, comparison operators, parentheses and commas.
/// Keywords (and, or, not, contains, like, in, null, true, false) are identifiers the parser recognises.
/// </summary>
internal static class ConditionTokenizer
{
    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            var start = i;
            switch (c)
            {
                case '(':
                    tokens.Add(new Token(TokenKind.OpenParen, "(", start));
                    i++;
                    continue;
                case ')':
                    tokens.Add(new Token(TokenKind.CloseParen, ")", start));
                    i++;
                    continue;
                case ',':
                    tokens.Add(new Token(TokenKind.Comma, ",", start));
                    i++;
                    continue;
                case '"' or '\'':
                    tokens.Add(ReadString(text, ref i));
                    continue;
                case '[':
                    tokens.Add(ReadDate(text, ref i));
                    continue;
                case '=':
                    tokens.Add(new Token(TokenKind.Operator, "=", start));
                    i++;
                    continue;
                case '!' when Peek(text, i + 1) == '=':
                    tokens.Add(new Token(TokenKind.Operator, "!=", start));
                    i += 2;
                    continue;
                case '<' or '>':
                    var op = Peek(text, i + 1) == '=' ? c + "=" : c.ToString();
                    tokens.Add(new Token(TokenKind.Operator, op, start));
                    i += op.Length;
                    continue;
            }

            if (char.IsDigit(c) || (c is '-' or '.' && char.IsDigit(Peek(text, i + 1))))
            {
                i++;
                while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.'))
                {
                    i++;
                }

                var literal = text[start..i];
                if (!decimal.TryParse(literal, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                {
                    throw new ConditionSyntaxException($"Invalid number '{literal}' at position {start}.");
                }

                tokens.Add(new Token(TokenKind.Number, literal, start, number));
                continue;
            }

            if (char.IsLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '/' or '.'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Identifier, text[start..i], start));
                continue;
            }

            throw new ConditionSyntaxException($"Unexpected character '{c}' at position {start}.");
        }

        tokens.Add(new Token(TokenKind.End, string.Empty, text.Length));
        return tokens;
    }

    private static char Peek(string text, int index) => index < text.Length ? text[index] : '\0';

    private static Token ReadString(string text, ref int i)
    {
        var quote = text[i];
        var start = i;
        i++;
        var value = new StringBuilder();
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\\' && i + 1 < text.Length && text[i + 1] == quote)
            {
                value.Append(quote);
                i += 2;
                continue;
            }

            if (c == quote)
            {
                i++;
                return new Token(TokenKind.String, value.ToString(), start);
            }

            value.Append(c);
            i++;
        }

        throw new ConditionSyntaxException($"Unterminated string starting at position {start}.");
    }

    private static Token ReadDate(string text, ref int i)
    {
        var start = i;
        var close = text.IndexOf(']', i + 1);
        if (close < 0)
        {
            throw new ConditionSyntaxException($"Unterminated date starting at position {start}.");
        }

        var literal = text[(i + 1)..close];
        i = close + 1;
        if (!DateTimeOffset.TryParse(literal, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date))
        {
            throw new ConditionSyntaxException($"Invalid date '{literal}' at position {start}.");
        }

        return new Token(TokenKind.Date, literal, start, Date: date);
    }
}
