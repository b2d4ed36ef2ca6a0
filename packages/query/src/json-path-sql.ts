import { sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { textParameter } from "./typed-value";

/**
 * SQL for the value at a path inside a JSON column. The path travels as one bound text[]
 * parameter (`{"a","b"}`); its segments are already restricted to [A-Za-z0-9_-], and
 * quoting each keeps a segment such as `NULL` a key rather than an array null.
 */
export function jsonDocument(column: PgColumn): SQL {
  return column.columnType === "PgJsonb" ? sql`${column}` : sql`(${column})::jsonb`;
}

const pathParameter = (path: readonly string[]) =>
  sql`${textParameter(`{${path.map((segment) => `"${segment}"`).join(",")}}`)}::text[]`;

/** The jsonb at the path (SQL NULL when absent). */
export function jsonAt(column: PgColumn, path: readonly string[]): SQL {
  return path.length === 0 ? jsonDocument(column) : sql`(${jsonDocument(column)} #> ${pathParameter(path)})`;
}

/** The value at the path as text (strings unquoted, other JSON as its text). */
export function jsonTextAt(column: PgColumn, path: readonly string[]): SQL {
  return sql`(${jsonDocument(column)} #>> ${pathParameter(path)})`;
}

/** The value at the path as numeric when it is a JSON number, else NULL — never a cast error. */
export function jsonNumberAt(column: PgColumn, path: readonly string[]): SQL {
  return sql`(CASE WHEN jsonb_typeof(${jsonAt(column, path)}) = 'number' THEN ${jsonTextAt(column, path)}::numeric END)`;
}

/** The value at the path as boolean when it is a JSON boolean, else NULL. */
export function jsonBooleanAt(column: PgColumn, path: readonly string[]): SQL {
  return sql`(CASE WHEN jsonb_typeof(${jsonAt(column, path)}) = 'boolean' THEN ${jsonTextAt(column, path)}::boolean END)`;
}
