import { and, sql, type SQL } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { compileQuery, type CompileOptions } from "./compile-query";
import type { AnyPgDatabase } from "./database";
import type { QueryFields } from "./field-map";
import { project } from "./project";
import type { QueryInput } from "./query-input";

/** A List response (seed 000): the page of results and the size of the whole filtered set. */
export interface ListResult {
  results: Record<string, unknown>[];
  total_count: number;
}

/**
 * Runs a List query. Each result has one property per field of the field map (named as in
 * the map, valued as Drizzle maps the column), trimmed by `only`. `total_count` counts the
 * filtered rows regardless of page; `count_only` answers it alone. `extraWhere` adds the
 * caller's own scope (domain, workspace) to the query's filters.
 */
export async function listWith(
  db: AnyPgDatabase,
  table: PgTable,
  fields: QueryFields,
  query: QueryInput,
  extraWhere?: SQL,
  options?: CompileOptions,
): Promise<ListResult> {
  const compiled = compileQuery(fields, query, options);
  const where = and(compiled.where, extraWhere);
  const counted = db.select({ total: sql<number>`count(*)`.mapWith(Number) }).from(table).where(where);
  if (compiled.countOnly) {
    const [{ total }] = await counted;
    return { results: [], total_count: total };
  }
  const rows = db
    .select(selectionFor(fields, compiled.only))
    .from(table)
    .where(where)
    .orderBy(...compiled.orderBy)
    .limit(compiled.limit)
    .offset(compiled.offset);
  const [[{ total }], page] = await Promise.all([counted, rows]);
  return { results: page.map((row) => project(row as Record<string, unknown>, compiled.only)), total_count: total };
}

/** The columns to read: every field, or only those `only` reaches into. */
function selectionFor(fields: QueryFields, only: readonly string[]): Record<string, PgColumn> {
  const wanted = new Set(only.map((path) => path.split(".")[0]));
  const selection: Record<string, PgColumn> = {};
  for (const [name, field] of fields.fields) {
    if (wanted.size === 0 || wanted.has(name)) selection[name] = field.column;
  }
  return selection;
}
