import { getTableColumns, sql, type SQL } from "drizzle-orm";
import { PgDialect, type PgTable } from "drizzle-orm/pg-core";

const dialect = new PgDialect();

/** A table's whole row as a select list rendered once, and how to read a row it returns. */
export interface TableReader<Row> {
  /** `<column> AS "<property>", …` for every column, as raw SQL. */
  readonly columns: SQL;
  /** The raw row as Drizzle's `select().from(table)` maps it: each property through its column's decoder. */
  decode(raw: Record<string, unknown>): Row;
}

/**
 * `select().from(table)` without Drizzle rendering a select list of every column (and mapping each
 * row back through its builder) on each call: for a read by key of a wide table that was most of the
 * call's CPU outside the database. Use as `sql\`select ${reader.columns} from ${table} where …\``.
 */
export function tableReader<T extends PgTable>(table: T): TableReader<T["$inferSelect"]> {
  const columns = Object.entries(getTableColumns(table));
  const list = dialect.sqlToQuery(sql.join(columns.map(([property, column]) => sql`${column} AS ${sql.identifier(property)}`), sql`, `));
  if (list.params.length > 0) throw new Error("tableReader: a column list cannot carry parameters");
  return {
    columns: sql.raw(list.sql),
    decode(raw) {
      const row: Record<string, unknown> = {};
      for (const [property, column] of columns) {
        const value = raw[property];
        row[property] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
      }
      return row as T["$inferSelect"];
    },
  };
}
