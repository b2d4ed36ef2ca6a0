import { and, sql, type DriverValueDecoder, type SQL } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { compileQuery, type CompileOptions } from "./compile-query";
import type { AnyPgDatabase } from "./database";
import { isComputed, type QueryFields } from "./field-map";
import { QUERY_LIMITS } from "./limits";
import { project } from "./project";
import { selectList, type SelectItem, type SelectList } from "./select-list";
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
  const columns = selectionPlan(fields, compiled.only, options.attach);
  const filter = where ? sql` WHERE ${where}` : sql``;
  const statement = sql`SELECT "matched".*, count(*) OVER () AS ${sql.identifier(totalKey)} FROM (SELECT ${columns.text}, row_number() OVER (ORDER BY ${order}) AS ${sql.identifier(ordinalKey)} FROM ${table}${filter} ORDER BY ${order} LIMIT ${bound + 1}) AS "matched" ORDER BY ${sql.identifier(ordinalKey)} LIMIT ${compiled.limit} OFFSET ${compiled.offset}`;
  const answer: unknown = await db.execute(statement);
  // postgres.js answers an array of rows, PGlite `{ rows }`.
  const rows = (Array.isArray(answer) ? answer : ((answer as { rows?: unknown[] }).rows ?? [])) as Record<string, unknown>[];
  let total: number;
  if (rows.length > 0) total = Number(rows[0][totalKey]);
  else if (compiled.offset === 0) total = 0;
  else [{ total }] = await db.select({ total: cappedCount(table, where, bound) }).from(sql`(SELECT 1) AS one`);
  const results = rows.map((row) => project(columns.decode(row), compiled.only));
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

/** Rendered select lists, per field map, per `only` and attached values. */
const plans = new WeakMap<QueryFields, Map<string, SelectList>>();
/** Identities of attached SQL values, for the plan's key: the same name may carry other SQL. */
const attachIds = new WeakMap<SQL, number>();
let lastAttachId = 0;

/**
 * The List's select list (see selectList) for `fields` trimmed by `only`, with the attached
 * values: one per shape, made on its first call.
 */
export function selectionPlan(fields: QueryFields, only: readonly string[], attach: ListOptions["attach"]): SelectList {
  const extra = attached(attach, only);
  const key = `${only.join("\u0000")}\u0001${extra.map(([name, value]) => `${name}=${idOf(value)}`).join("\u0000")}`;
  let byShape = plans.get(fields);
  const cached = byShape?.get(key);
  if (cached) return cached;
  const wanted = new Set(only.map((path) => path.split(".")[0]));
  const items: SelectItem[] = [];
  for (const [name, field] of fields.fields) {
    if (wanted.size > 0 && !wanted.has(name)) continue;
    const column = field.column;
    items.push({ name, expression: column, decoder: isComputed(column) ? decoderOf(column) : column });
  }
  for (const [name, value] of extra) items.push({ name, expression: sql`(${value})`, decoder: asRead });
  const plan = selectList(items);
  if (!byShape) plans.set(fields, (byShape = new Map()));
  byShape.set(key, plan);
  return plan;
}

const asRead: DriverValueDecoder<unknown, unknown> = { mapFromDriverValue: (value) => value };

/** A computed field's decoder: Drizzle keeps `mapWith`'s on the SQL, where its select reads it too. */
function decoderOf(column: SQL): DriverValueDecoder<unknown, unknown> {
  return (column as unknown as { decoder?: DriverValueDecoder<unknown, unknown> }).decoder ?? asRead;
}

function idOf(value: SQL): number {
  let id = attachIds.get(value);
  if (id === undefined) attachIds.set(value, (id = ++lastAttachId));
  return id;
}

function attached(attach: ListOptions["attach"], only: readonly string[]): [string, SQL][] {
  if (!attach || only.length > 0) return [];
  return Object.entries(attach);
}
