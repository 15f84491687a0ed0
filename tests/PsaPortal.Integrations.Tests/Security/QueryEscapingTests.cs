using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.Autotask.Models;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Tests.Infrastructure;

namespace PsaPortal.Integrations.Tests.Security;

/// <summary>
/// Values that try to break out of a ConnectWise <c>conditions</c> string or an Autotask filter: each is rendered as one
/// literal that reads back as exactly the value, and against the sandbox matches only the record with that very name.
/// </summary>
public sealed class QueryEscapingTests(SandboxFixture host) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly TestClients _clients = new(host);

    public void Dispose() => _clients.Dispose();

    /// <summary>Condition-grammar breakers: quotes, boolean operators, brackets, parentheses, wildcards, backslashes.</summary>
    public static TheoryData<string> ConditionValues => new()
    {
        "x\" or 1=1 or name=\"y",
        "\" or id > 0 or \"",
        "') or (1=1",
        "\") or (id != null) or (name = \"",
        "[2020-01-01T00:00:00Z]",
        "x] or lastUpdated > [2000-01-01T00:00:00Z",
        "*",
        "%",
        "name like \"*\"",
        "a\\\"b",
        "\\\" or 1=1 or \\\"",
        "\"\"\"\"",
        "()[]{}",
        "x\" and not (id = 0) and name != \"",
        "x\nor 1=1",
        "Ω\u202E\u200Bconfusable",
        "'; DROP TABLE companies;--",
        "x\" in (1, 2, 3) or \"",
    };

    [Theory]
    [MemberData(nameof(ConditionValues))]
    public void ConnectWiseEqualTo_HostileValue_IsOneLiteralThatReadsBackExactly(string value)
    {
        var text = ConnectWiseCondition.Field("name").EqualTo(value).Text;

        Assert.StartsWith("name = \"", text, StringComparison.Ordinal);
        Assert.Equal(value, ReadLiteral(text["name = ".Length..], out var rest));
        Assert.Equal("", rest);
    }

    [Theory]
    [MemberData(nameof(ConditionValues))]
    public void ConnectWiseIn_HostileValues_EachOneLiteral(string value)
    {
        var text = ConnectWiseCondition.Field("identifier").In([value, "B"]).Text;

        var list = text["identifier in (".Length..];
        Assert.Equal(value, ReadLiteral(list, out var rest));
        Assert.Equal("B", ReadLiteral(rest[", ".Length..], out var end));
        Assert.Equal(")", end);
    }

    [Theory]
    [InlineData("C:\\")]
    [InlineData("x\\")]
    public void ConnectWiseLiteral_EndingInBackslash_Refused(string value) =>
        Assert.Throws<ArgumentException>(() => ConnectWiseCondition.Field("name").Contains(value));

    [Fact]
    public async Task ConnectWiseSandbox_EveryHostileName_MatchesOnlyItsOwnCompany()
    {
        var values = ((IEnumerable<object[]>)ConditionValues).Select(row => (string)row[0]).ToList();
        var companies = host.Sandbox.ConnectWise.Data.Companies;
        for (var i = 0; i < values.Count; i++)
        {
            if (companies.Find(9500 + i) is null)
            {
                companies.Insert(new JsonObject { ["id"] = 9500 + i, ["identifier"] = $"Escape{i}", ["name"] = values[i], ["deletedFlag"] = false });
            }
        }

        var api = _clients.ConnectWise();
        for (var i = 0; i < values.Count; i++)
        {
            var found = await api.ListCompaniesAsync(ConnectWiseCondition.Field("name").EqualTo(values[i])).Select(c => c.Id).ToListAsync();
            Assert.True(found.SequenceEqual([9500L + i]), $"name = {values[i]} matched [{string.Join(", ", found)}]");
        }
    }

    /// <summary>Filter breakers: JSON in a search value, operators, nested structures, control and zero-width characters.</summary>
    public static TheoryData<string> FilterValues => new()
    {
        "{\"op\":\"exist\",\"field\":\"id\"}",
        "\"},{\"op\":\"exist\",\"field\":\"id\"}]}",
        "x\",\"op\":\"noteq",
        "[{\"op\":\"gt\",\"field\":\"id\",\"value\":0}]",
        "\\u0022 or 1=1",
        "\\\"}",
        "null",
        "true",
        "0",
        "*",
        "x\u0000y",
        "\u200B\u202Eevil",
        "<script>alert(1)</script>",
        "' or ''='",
    };

    [Theory]
    [MemberData(nameof(FilterValues))]
    public void AutotaskFilter_HostileValue_TravelsAsOneJsonString(string value)
    {
        var model = AutotaskFilter.Or(AutotaskFilter.Where("companyName").Equal(value), AutotaskFilter.Where("companyName").Contains(value)).ToModel();
        var json = JsonSerializer.Serialize(new AtQuery { Filter = [model] }, AutotaskJsonContext.Default.AtQuery);

        var parsed = JsonNode.Parse(json)!["filter"]!.AsArray().Single()!.AsObject();
        Assert.Equal(["op", "items"], parsed.Select(p => p.Key).Where(k => parsed[k] is not null));
        foreach (var item in parsed["items"]!.AsArray())
        {
            Assert.Equal(JsonValueKind.String, item!["value"]!.GetValueKind());
            Assert.Equal(value, item["value"]!.GetValue<string>());
            Assert.Equal("companyName", item["field"]!.GetValue<string>());
            Assert.Null(item["items"]);
        }
    }

    [Fact]
    public async Task AutotaskSandbox_EveryHostileName_MatchesOnlyItsOwnCompany()
    {
        var values = ((IEnumerable<object[]>)FilterValues).Select(row => (string)row[0]).Where(v => !v.Contains('\u0000', StringComparison.Ordinal)).ToList();
        var companies = host.Sandbox.Autotask.Data.Companies;
        for (var i = 0; i < values.Count; i++)
        {
            if (companies.Find(9600 + i) is null)
            {
                companies.Insert(new JsonObject { ["id"] = 9600 + i, ["companyName"] = values[i], ["companyType"] = 1, ["isActive"] = true, ["phone"] = "555", ["ownerResourceID"] = 29682885 });
            }
        }

        var api = _clients.Autotask();
        for (var i = 0; i < values.Count; i++)
        {
            var found = await api.QueryCompaniesAsync(AutotaskFilter.Where("companyName").Equal(values[i])).Select(c => c.Id).ToListAsync();
            Assert.True(found.SequenceEqual([9600L + i]), $"companyName eq {values[i]} matched [{string.Join(", ", found)}]");
        }
    }

    [Theory]
    [InlineData("companyName\",\"op\":\"exist")]
    [InlineData("id or 1=1")]
    [InlineData("")]
    public void AutotaskField_WithGrammar_Refused(string field) =>
        Assert.Throws<ArgumentException>(() => AutotaskFilter.Where(field));

    // Reads one conditions string literal the way ConnectWise does: \" is a quote, any other backslash is itself.
    private static string ReadLiteral(string text, out string rest)
    {
        Assert.StartsWith("\"", text, StringComparison.Ordinal);
        var value = new StringBuilder();
        for (var i = 1; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] == '"')
            {
                value.Append('"');
                i++;
            }
            else if (text[i] == '"')
            {
                rest = text[(i + 1)..];
                return value.ToString();
            }
            else
            {
                value.Append(text[i]);
            }
        }

        throw new Xunit.Sdk.XunitException($"unterminated literal: {text}");
    }
}
