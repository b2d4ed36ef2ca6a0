import { getTableColumns, sql, type DriverValueDecoder, type SQL, type SQLWrapper } from "drizzle-orm";
import { PgDialect, type PgTable } from "drizzle-orm/pg-core";

const dialect = new PgDialect();

/** One value a select list reads: its expression, the name it is read under, and how to decode it. */
export interface SelectItem {
  name: string;
  expression: SQLWrapper;
  decoder: DriverValueDecoder<unknown, unknown>;
}

/** A select list rendered once, and how to read a row it returns. */
export interface SelectList<Row = Record<string, unknown>> {
  /** `<expression> AS "<name>", …`: raw SQL when the list has no parameters. */
  readonly text: SQL;
  /** The raw row as Drizzle's select maps it: each value through its decoder, a missing one as null. */
  decode(raw: Record<string, unknown>): Row;
}

/**
 * A select list rendered through Drizzle once instead of on every call. Rendering a dozen columns
 * and mapping each row back through Drizzle's builder was a quarter of a List call's CPU and most of
 * a read by key's outside the database (profiles of `pnpm load`). A list whose expressions carry
 * parameters is kept as SQL and rendered with its statement.
 */
export function selectList<Row = Record<string, unknown>>(items: readonly SelectItem[]): SelectList<Row> {
  const list = sql.join(
    items.map((item) => sql`${item.expression} AS ${sql.identifier(item.name)}`),
    sql`, `,
  );
  const rendered = dialect.sqlToQuery(list);
  return {
    text: rendered.params.length === 0 ? sql.raw(rendered.sql) : list,
    decode(raw) {
      const row: Record<string, unknown> = {};
      for (const { name, decoder } of items) {
        const value = raw[name];
        row[name] = value === null || value === undefined ? null : decoder.mapFromDriverValue(value);
      }
      return row as Row;
    },
  };
}

/**
 * A table's whole row, as `select().from(table)` reads it (properties named as in the table's
 * definition): use as `sql\`select ${reader.text} from ${table} where …\``.
 */
export function tableReader<T extends PgTable>(table: T): SelectList<T["$inferSelect"]> {
  return selectList(Object.entries(getTableColumns(table)).map(([name, column]) => ({ name, expression: column, decoder: column })));
}
