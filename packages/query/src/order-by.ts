import { sql, type SQL } from "drizzle-orm";
import { resolveKey, type QueryFields } from "./field-map";
import { operandFor } from "./operand";
import type { QuerySort } from "./query-model";

/**
 * ORDER BY for a query's sort, then the field map's default sort as tie-breakers (keys
 * already sorted on are skipped). JSON paths sort as jsonb: numbers numerically, strings
 * as text. Missing values go last either way; a NOT NULL column gets no NULLS clause, which
 * changes nothing for it but lets a btree index serve a descending sort (scanned backwards
 * it yields DESC NULLS FIRST, which DESC NULLS LAST would not match).
 */
export function orderByFor(fields: QueryFields, sort: readonly QuerySort[]): SQL[] {
  const used = new Set<string>();
  const orderBy: SQL[] = [];
  const defaults = fields.defaultSort.map((entry) => ({ ...entry, parameter: "field map" }));
  for (const entry of [...sort, ...defaults]) {
    if (used.has(entry.key)) continue;
    used.add(entry.key);
    const operand = operandFor(resolveKey(fields, entry.key, entry.parameter), entry.key);
    const nulls = operand.notNull ? sql`` : sql` NULLS LAST`;
    orderBy.push(entry.desc ? sql`${operand.order} DESC${nulls}` : sql`${operand.order} ASC${nulls}`);
  }
  return orderBy;
}
