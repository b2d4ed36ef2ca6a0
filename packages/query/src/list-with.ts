import { and, sql, type SQL } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { compileQuery, type CompileOptions } from "./compile-query";
import type { AnyPgDatabase } from "./database";
import { isComputed, type QueryFields } from "./field-map";
import { QUERY_LIMITS } from "./limits";
import { project } from "./project";
import type { QueryInput } from "./query-input";

/** A List response (seed 000): the page of results and the size of the whole filtered set. */
export interface ListResult {
  results: Record<string, unknown>[];
  /** The number of matching rows; a lower bound when `total_count_exact` is false. */
  total_count: number;
  /** False when more rows match than were counted (see ListOptions.countCap). */
  total_count_exact: boolean;
}

export interface ListOptions extends CompileOptions {
  /**
   * Count matching rows exactly up to this many, or up to the end of the requested page when
   * that is further (QUERY_LIMITS.exactCountCap by default). When more match, total_count is
   * that bound + 1 ("at least this many": a next page exists) and total_count_exact is false.
   * `count_only` always counts exactly: it is the request for the count.
   */
  countCap?: number;
  /**
   * Extra values read with each row in the same statement (say, a child table folded into JSON),
   * keyed by names starting with `#`, which no field can have. Left out when `only` trims the
   * results: that caller asked for fields alone.
   */
  attach?: Record<`#${string}`, SQL>;
}

/** Aliases of the helper columns; `#` cannot appear in a field name, so they never clash. */
const ordinalKey = "#ordinal";
const totalKey = "#total";

/**
 * Runs a List query in one statement. The inner query reads the first `bound + 1` matching rows
 * in the page's order, numbering them; the outer one counts them (a window count) and keeps the
 * page. So the count walks the same path as the page (an index that serves the sort stops after
 * `bound + 1` matches) instead of a plan of its own: a separate count(*) was free to pick a GIN
 * bitmap of every match, which at a million rows cost more than the page. Only a page past the
 * end (no rows, start > 0) needs a second statement for the count.
 *
 * Each result has one property per field of the field map (named as in the map, valued as
 * Drizzle maps the column), trimmed by `only`. `extraWhere` adds the caller's own scope
 * (domain, workspace) to the query's filters.
 */
export async function listWith(
  db: AnyPgDatabase,
  table: PgTable,
  fields: QueryFields,
  query: QueryInput,
  extraWhere?: SQL,
  options: ListOptions = {},
): Promise<ListResult> {
  const compiled = compileQuery(fields, query, options);
  const where = and(compiled.where, extraWhere);
  if (compiled.countOnly) {
    const [{ total }] = await db.select({ total: sql<number>`count(*)`.mapWith(Number) }).from(table).where(where);
    return { results: [], total_count: total, total_count_exact: true };
  }
  const bound = Math.max(options.countCap ?? QUERY_LIMITS.exactCountCap, compiled.offset + compiled.limit);
  const order = sql.join(compiled.orderBy, sql`, `);
  const matched = db
    .select({ ...selectionFor(fields, compiled.only), ...attached(options.attach, compiled.only), [ordinalKey]: sql<number>`row_number() OVER (ORDER BY ${order})`.as(ordinalKey) })
    .from(table)
    .where(where)
    .orderBy(...compiled.orderBy)
    .limit(bound + 1)
    .as("matched");
  const rows = (await db
    .select({ ...matched._.selectedFields, [totalKey]: sql<number>`count(*) OVER ()`.mapWith(Number) })
    .from(matched)
    .orderBy(matched[ordinalKey as keyof typeof matched] as never)
    .limit(compiled.limit)
    .offset(compiled.offset)) as Record<string, unknown>[];
  let total: number;
  if (rows.length > 0) total = Number(rows[0][totalKey]);
  else if (compiled.offset === 0) total = 0;
  else [{ total }] = await db.select({ total: cappedCount(table, where, bound) }).from(sql`(SELECT 1) AS one`);
  const results = rows.map((row) => {
    delete row[totalKey];
    delete row[ordinalKey];
    return project(row, compiled.only);
  });
  return total > bound ? { results, total_count: bound + 1, total_count_exact: false } : { results, total_count: total, total_count_exact: true };
}

/**
 * count(*) of at most `bound + 1` matching rows, for a page past the end. The subquery names the
 * same table as any outer query; its columns bind to the innermost FROM, so it stands alone.
 */
function cappedCount(table: PgTable, where: SQL | undefined, bound: number): SQL<number> {
  const condition = where ? sql` WHERE ${where}` : sql``;
  // `bound` is an integer computed here, not input, so it can be inlined for the planner.
  return sql<number>`(SELECT count(*) FROM (SELECT 1 FROM ${table}${condition} LIMIT ${sql.raw(String(bound + 1))}) AS capped)`.mapWith(Number);
}

function attached(attach: ListOptions["attach"], only: readonly string[]): Record<string, SQL.Aliased> {
  if (!attach || only.length > 0) return {};
  return Object.fromEntries(Object.entries(attach).map(([name, value]) => [name, sql`${value}`.as(name)]));
}

/** The columns to read: every field, or only those `only` reaches into. */
function selectionFor(fields: QueryFields, only: readonly string[]): Record<string, PgColumn | SQL.Aliased> {
  const wanted = new Set(only.map((path) => path.split(".")[0]));
  const selection: Record<string, PgColumn | SQL.Aliased> = {};
  for (const [name, field] of fields.fields) {
    // A computed field is read under its name (a subquery's fields need names).
    if (wanted.size === 0 || wanted.has(name)) selection[name] = isComputed(field.column) ? field.column.as(name) : field.column;
  }
  return selection;
}
