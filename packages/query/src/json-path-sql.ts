import { sql, type SQL } from "drizzle-orm";
import type { FieldColumn } from "./field-map";
import { textParameter } from "./typed-value";

/**
 * SQL for the value at a path inside a JSON column. Segments are already restricted to
 * [A-Za-z0-9_-] and always travel as bound parameters.
 *
 * A path of named segments is emitted as a chain of `->` (`data -> $1::text -> $2::text`):
 * once Postgres plans with the values (every statement here is unnamed, so it does), that
 * folds to `data -> 'cluster'`, which matches an expression index on that path. `#>` with a
 * bound text[] cannot, because text→text[] is a stable cast the planner does not fold. A
 * segment of digits keeps `#>`, which also indexes arrays (`data.disks.0`); `->` with text
 * would not.
 */
export function jsonDocument(column: FieldColumn): SQL {
  return column.columnType === "PgJsonb" ? sql`${column}` : sql`(${column})::jsonb`;
}

const pathParameter = (path: readonly string[]) =>
  sql`${textParameter(`{${path.map((segment) => `"${segment}"`).join(",")}}`)}::text[]`;

/** True when every segment names an object key, so the `->` chain means what `#>` means. */
export const isKeyChain = (path: readonly string[]) => path.every((segment) => !/^\d+$/.test(segment));

const chain = (column: FieldColumn, path: readonly string[], lastAsText: boolean): SQL => {
  const steps = path.map((segment, index) =>
    lastAsText && index === path.length - 1 ? sql` ->> ${textParameter(segment)}` : sql` -> ${textParameter(segment)}`,
  );
  return sql`(${jsonDocument(column)}${sql.join(steps, sql``)})`;
};

/** The jsonb at the path (SQL NULL when absent). */
export function jsonAt(column: FieldColumn, path: readonly string[]): SQL {
  if (path.length === 0) return jsonDocument(column);
  return isKeyChain(path) ? chain(column, path, false) : sql`(${jsonDocument(column)} #> ${pathParameter(path)})`;
}

/** The value at the path as text (strings unquoted, other JSON as its text). */
export function jsonTextAt(column: FieldColumn, path: readonly string[]): SQL {
  if (path.length > 0 && isKeyChain(path)) return chain(column, path, true);
  return sql`(${jsonDocument(column)} #>> ${pathParameter(path)})`;
}

/** The value at the path as numeric when it is a JSON number, else NULL — never a cast error. */
export function jsonNumberAt(column: FieldColumn, path: readonly string[]): SQL {
  return sql`(CASE WHEN jsonb_typeof(${jsonAt(column, path)}) = 'number' THEN ${jsonTextAt(column, path)}::numeric END)`;
}

/**
 * The value at the path as text when it is a JSON string, else NULL. A string value compares
 * only with JSON strings: `#>>` alone would read the number 8 as "8" and the boolean true as
 * "true", so "8" would match a number and "64" < "5" would hold between numbers.
 */
export function jsonStringAt(column: FieldColumn, path: readonly string[]): SQL {
  return sql`(CASE WHEN jsonb_typeof(${jsonAt(column, path)}) = 'string' THEN ${jsonTextAt(column, path)} END)`;
}

/**
 * The jsonb at the path with JSON null read as missing (SQL NULL). Stat groups and sorts by
 * this, so a key that is absent and a key that holds null make one group, printed as null,
 * and sort together (last, either direction), as Mongo's $group does.
 */
export function jsonValueAt(column: FieldColumn, path: readonly string[]): SQL {
  return sql`NULLIF(${jsonAt(column, path)}, 'null'::jsonb)`;
}

/** The value at the path as boolean when it is a JSON boolean, else NULL. */
export function jsonBooleanAt(column: FieldColumn, path: readonly string[]): SQL {
  return sql`(CASE WHEN jsonb_typeof(${jsonAt(column, path)}) = 'boolean' THEN ${jsonTextAt(column, path)}::boolean END)`;
}
