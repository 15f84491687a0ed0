using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace PsaPortal.Web.Data;

/// <summary>
/// Multi-row INSERT and UPDATE statements for a hot write path, built from the EF model: table and column names,
/// identifier quoting, each column's type mapping and value converter (SQLite's ticks for DateTimeOffset). So the same
/// statements run on SQLite and PostgreSQL, inside the context's transaction, with nothing tracked. A statement holds at
/// most <see cref="MaxParameters"/> parameters: binding them by name costs time with the square of their number
/// (measured with bench <c>ingest</c>: 2,000 new rows took 221–409 ms in statements of 2,000 parameters, 56–132 ms of
/// 250 and 32–80 ms of 100).
/// <para>
/// Why by hand (ADR-0012): SaveChanges tracks, orders and reads back every row, which made one ingest group of 1,000
/// usage reports (2,000 rows) take half a second of SQLite's one writer. A bulk library would bring a second ORM and its
/// own mapping for two statements; SQLite has no MERGE either way.
/// </para>
/// </summary>
public static class SetBasedWrites
{
    public const int MaxParameters = 100;

    /// <summary>Inserts the rows; a store-generated key (an identity Id) is left to the database and not read back.</summary>
    public static async Task InsertAsync<TEntity>(DbContext db, IReadOnlyCollection<TEntity> rows, CancellationToken cancellationToken)
        where TEntity : class
    {
        var (entityType, table, sql) = Target<TEntity>(db);
        var columns = entityType.GetProperties().Where(p => !(p.IsPrimaryKey() && p.ValueGenerated != ValueGenerated.Never)).ToArray();
        var head = $"INSERT INTO {TableName(sql, table)} ({string.Join(", ", columns.Select(c => Column(sql, c, table)))}) VALUES ";
        await ExecuteInChunksAsync(db, sql, rows, columns, head, string.Empty, cancellationToken);
    }

    /// <summary>Sets the named properties of each row, found by its primary key, in one statement per chunk.</summary>
    public static async Task UpdateAsync<TEntity>(DbContext db, IReadOnlyCollection<TEntity> rows, IReadOnlyList<string> propertyNames,
        CancellationToken cancellationToken)
        where TEntity : class
    {
        var (entityType, table, sql) = Target<TEntity>(db);
        var key = entityType.FindPrimaryKey()!.Properties.Single();
        var set = propertyNames.Select(name => entityType.FindProperty(name)
            ?? throw new ArgumentException($"{typeof(TEntity).Name} has no mapped property {name}.", nameof(propertyNames))).ToArray();
        var tableName = TableName(sql, table);
        // A VALUES list names its columns column1, column2, … on both SQLite and PostgreSQL.
        var assignments = string.Join(", ", set.Select((p, i) => $"{Column(sql, p, table)} = v.column{i + 2}"));
        var head = $"UPDATE {tableName} SET {assignments} FROM (VALUES ";
        var tail = $") AS v WHERE {tableName}.{Column(sql, key, table)} = v.column1";
        await ExecuteInChunksAsync(db, sql, rows, [key, .. set], head, tail, cancellationToken);
    }

    /// <summary>The entity's model, its table and the provider's SQL helper (quoting, parameter names).</summary>
    private static (IEntityType EntityType, StoreObjectIdentifier Table, ISqlGenerationHelper Sql) Target<TEntity>(DbContext db)
    {
        var entityType = db.Model.FindEntityType(typeof(TEntity)) ?? throw new ArgumentException($"{typeof(TEntity).Name} is not in the model.");
        return (entityType, StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema()), db.GetService<ISqlGenerationHelper>());
    }

    private static string TableName(ISqlGenerationHelper sql, StoreObjectIdentifier table) => sql.DelimitIdentifier(table.Name, table.Schema);

    private static string Column(ISqlGenerationHelper sql, IProperty property, StoreObjectIdentifier table) =>
        sql.DelimitIdentifier(property.GetColumnName(table)!);

    private static async Task ExecuteInChunksAsync<TEntity>(DbContext db, ISqlGenerationHelper sql, IReadOnlyCollection<TEntity> rows, IProperty[] columns,
        string head, string tail, CancellationToken cancellationToken)
        where TEntity : class
    {
        var mappings = columns.Select(c => c.GetRelationalTypeMapping()).ToArray();
        var getters = columns.Select(c => c.GetGetter()).ToArray();
        await using var factory = db.Database.GetDbConnection().CreateCommand();
        foreach (var chunk in rows.Chunk(Math.Max(1, MaxParameters / columns.Length)))
        {
            var text = new StringBuilder(head);
            var parameters = new List<DbParameter>(chunk.Length * columns.Length);
            foreach (var (index, row) in chunk.Index())
            {
                text.Append(index == 0 ? "(" : ", (");
                for (var c = 0; c < columns.Length; c++)
                {
                    var name = "p" + parameters.Count;
                    text.Append(c == 0 ? string.Empty : ", ").Append(sql.GenerateParameterNamePlaceholder(name));
                    parameters.Add(mappings[c].CreateParameter(factory, sql.GenerateParameterName(name), getters[c].GetClrValue(row), columns[c].IsNullable));
                }

                text.Append(')');
            }

            text.Append(tail);
            await db.Database.ExecuteSqlRawAsync(text.ToString(), parameters, cancellationToken);
        }
    }
}
