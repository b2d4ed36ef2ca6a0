import { and, type SQL } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { compileStat } from "./compile-stat";
import type { CompileOptions } from "./compile-query";
import type { AnyPgDatabase } from "./database";
import type { QueryFields } from "./field-map";
import type { StatQueryInput } from "./query-input";

/** A Stat response (seed 000): one row per group, named by group keys and statistics. */
export interface StatResult {
  results: Record<string, unknown>[];
}

/** Runs a Stat query; `extraWhere` adds the caller's own scope to the query's filters. */
export async function statWith(
  db: AnyPgDatabase,
  table: PgTable,
  fields: QueryFields,
  query: StatQueryInput,
  extraWhere?: SQL,
  options?: CompileOptions,
): Promise<StatResult> {
  const compiled = compileStat(fields, query, options);
  let select = db.select(compiled.selection).from(table).where(and(compiled.where, extraWhere)).$dynamic();
  if (compiled.groupBy.length > 0) select = select.groupBy(...compiled.groupBy);
  const rows = (await select
    .orderBy(...compiled.orderBy)
    .limit(compiled.limit)
    .offset(compiled.offset)) as Record<string, unknown>[];
  return {
    results: rows.map((row) => {
      const result: Record<string, unknown> = {};
      for (const { alias, name } of compiled.outputs) {
        Object.defineProperty(result, name, { value: row[alias] ?? null, enumerable: true, writable: true, configurable: true });
      }
      return result;
    }),
  };
}
