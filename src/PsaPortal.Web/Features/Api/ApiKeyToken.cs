using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace PsaPortal.Web.Features.Api;

/// <summary>
/// The form of an API key token: <c>psak_&lt;12-character prefix&gt;_&lt;43-character secret&gt;</c>. The prefix
/// (lower-case letters and digits) finds the key and tells keys apart in lists; the secret is 32 random bytes in
/// base64url. Only the SHA-256 hash of the whole token is stored: a secret this long and random needs no slow hash.
/// </summary>
public static class ApiKeyToken
{
    public const string Marker = "psak_";
    public const int SecretLength = 43;
    public const int Length = 5 + ApiKey.PrefixLength + 1 + SecretLength;

    private const string PrefixAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    public static (string Token, string Prefix, byte[] Hash) Create()
    {
        var prefix = RandomNumberGenerator.GetString(PrefixAlphabet, ApiKey.PrefixLength);
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var token = $"{Marker}{prefix}_{secret}";
        return (token, prefix, Hash(token));
    }

    /// <summary>The prefix of a token of the right shape, or null: a malformed token never reaches the database.</summary>
    public static string? PrefixOf(string token)
    {
        if (token.Length != Length || !token.StartsWith(Marker, StringComparison.Ordinal) || token[Marker.Length + ApiKey.PrefixLength] != '_')
        {
            return null;
        }

        var prefix = token.AsSpan(Marker.Length, ApiKey.PrefixLength);
        var secret = token.AsSpan(Marker.Length + ApiKey.PrefixLength + 1);
        return !prefix.ContainsAnyExcept(PrefixAlphabet) && !secret.ContainsAnyExcept(SecretAlphabet) ? prefix.ToString() : null;
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>Constant-time: how long the comparison takes says nothing about how much of the hash matched.</summary>
    public static bool Matches(string token, byte[] storedHash) => CryptographicOperations.FixedTimeEquals(Hash(token), storedHash);
}
