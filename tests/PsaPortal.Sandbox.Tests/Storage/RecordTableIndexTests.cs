using System.Text.Json.Nodes;
using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.Tests.Storage;

/// <summary>The parent-id index must follow every insert, replace, remove and clear, or per-parent reads would miss or repeat rows.</summary>
public sealed class RecordTableIndexTests
{
    [Fact]
    public void FindBy_FollowsInsertReplaceRemoveAndClear()
    {
        // Arrange
        var table = new RecordTable("finance/agreements/additions");
        table.Insert(new JsonObject { ["agreementId"] = 1, ["quantity"] = 1 });
        table.AddIndex("agreementId");
        var second = table.Insert(new JsonObject { ["agreementId"] = 1, ["quantity"] = 2 });
        var third = table.Insert(new JsonObject { ["agreementId"] = 2, ["quantity"] = 3 });
        table.Insert(new JsonObject { ["agreementId"] = "not a number" });

        // Act
        var beforeMove = Ids(table.FindBy("agreementId", [1]));
        var moved = JsonRecords.Clone(second);
        moved["agreementId"] = 2;
        table.Replace(moved);
        var afterMove = (Ids(table.FindBy("agreementId", [1])), Ids(table.FindBy("agreementId", [2, 1, 2])));
        table.Remove(JsonRecords.GetId(third));
        var afterRemove = Ids(table.FindBy("agreementId", [2]));
        var byId = Ids(table.FindBy("id", [2, 99, 1]));
        table.Clear();

        // Assert
        Assert.Equal([1, 2], beforeMove);
        Assert.Equal([1], afterMove.Item1);
        Assert.Equal([1, 2, 3], afterMove.Item2);
        Assert.Equal([2], afterRemove);
        Assert.Equal([1, 2], byId);
        Assert.Empty(table.FindBy("agreementId", [1, 2])!);
        Assert.Null(table.FindBy("quantity", [1]));
        Assert.True(table.IsIndexed("agreementId"));
        Assert.False(table.IsIndexed("quantity"));
    }

    private static long[] Ids(IReadOnlyList<JsonObject>? rows) => [.. rows!.Select(JsonRecords.GetId)];
}
