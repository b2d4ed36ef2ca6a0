import { sql, type SQL } from "drizzle-orm";
import type { CompileOptions } from "./compile-query";
import { resolveKey, type QueryFields } from "./field-map";
import { invalidQuery } from "./invalid-query";
import { normalizeStatQuery } from "./normalize-stat";
import { operandFor } from "./operand";
import type { NormalizedStatQuery } from "./query-model";
import type { StatQueryInput } from "./query-input";
import { groupKeyExpression, statisticExpression, type RowOrder } from "./stat-expressions";
import { whereFor } from "./where-clause";

/** A result column: the SQL alias Drizzle selects it as, and the name the caller sees. */
export interface StatOutput {
  alias: string;
  name: string;
}

/**
 * A Stat query ready for Drizzle: `db.select(selection).from(t).where(where).groupBy(...groupBy)
 * .orderBy(...orderBy).limit(limit).offset(offset)`, then rename each row's aliases by `outputs`.
 */
export interface CompiledStat {
  where: SQL | undefined;
  selection: Record<string, SQL>;
  groupBy: SQL[];
  orderBy: SQL[];
  limit: number;
  offset: number;
  outputs: StatOutput[];
}

/**
 * Validates and compiles a Stat query: filters, then one aggregate stage that groups by
 * `group.keys` and computes `statistics`, then sort and page over the groups.
 *
 * Group keys are selected first and sorted by their position. A JSON key is also grouped by
 * its position, because `data.cluster` carries its path as a bound parameter and Postgres
 * cannot match two separately bound copies of it; a column is grouped by the column itself, so
 * that `to_jsonb` runs once per group rather than once per row (on a million rows, hashing the
 * jsonb of every row's `state` doubled the time of the whole Stat). Without a sort, groups come in the order their first row
 * has under the field map's default sort (as a group stage over a sorted collection would),
 * then by the keys.
 */
export function compileStat(fields: QueryFields, input: StatQueryInput, options: CompileOptions = {}): CompiledStat {
  const query = normalizeStatQuery(input, options);
  const within = rowOrder(fields);
  const selection: Record<string, SQL> = {};
  const outputs: StatOutput[] = [];
  query.groupKeys.forEach((group, index) => {
    const alias = `g${index}`;
    selection[alias] = groupKeyExpression(resolveKey(fields, group.key, group.parameter));
    outputs.push({ alias, name: group.name });
  });
  query.statistics.forEach((statistic, index) => {
    const alias = `s${index}`;
    const resolved = statistic.key === undefined ? undefined : resolveKey(fields, statistic.key, statistic.parameter);
    selection[alias] = statisticExpression(statistic, resolved, within);
    outputs.push({ alias, name: statistic.name });
  });
  const positions = query.groupKeys.map((_, index) => sql.raw(String(index + 1)));
  const groupBy = query.groupKeys.map((group, index) => {
    const { field } = resolveKey(fields, group.key, group.parameter);
    return field.kind === "json" ? positions[index] : sql`${field.column}`;
  });
  return {
    where: whereFor(fields, query.filter, query.filterOr, options.now ?? new Date()),
    selection,
    groupBy,
    orderBy: orderFor(query, positions, firstAppearance(fields)),
    limit: query.page.limit,
    offset: query.page.start,
    outputs,
  };
}

/** Rows inside a group follow the field map's default sort (for push, first, last). */
function rowOrder(fields: QueryFields): RowOrder[] {
  return fields.defaultSort.map((entry) => ({
    expr: operandFor(resolveKey(fields, entry.key, "field map"), entry.key).order,
    desc: entry.desc,
  }));
}

/** Groups ordered by their first row under the default sort, when its key has a min/max. */
function firstAppearance(fields: QueryFields): SQL | undefined {
  const first = fields.defaultSort[0];
  if (!first) return undefined;
  const { field } = resolveKey(fields, first.key, "field map");
  if (field.kind !== "string" && field.kind !== "number" && field.kind !== "datetime") return undefined;
  return first.desc ? sql`max(${field.column}) DESC` : sql`min(${field.column}) ASC`;
}

/**
 * The groups' order: the query's sort, then every group key not sorted on yet, ascending, as
 * tie-breakers. Group keys identify a group, so the order is total and a page over groups tied
 * on the sort key is the same on every call. Without a sort: first appearance, then the keys.
 * Nulls (the one null group, a missing statistic) come last in either direction.
 */
function orderFor(query: NormalizedStatQuery, positions: SQL[], appearance: SQL | undefined): SQL[] {
  const sorted = new Set<number>();
  const orderBy: SQL[] = [];
  for (const sort of query.sort) {
    const position = outputPosition(query, sort.key);
    if (position === undefined) throw invalidQuery(sort.parameter, `Sort by a group key or a statistic name, not ${sort.key}`, sort.key);
    if (sorted.has(position)) continue;
    sorted.add(position);
    orderBy.push(sql.raw(`${position} ${sort.desc ? "DESC" : "ASC"} NULLS LAST`));
  }
  if (orderBy.length === 0 && appearance && positions.length > 0) orderBy.push(appearance);
  positions.forEach((_, index) => {
    if (!sorted.has(index + 1)) orderBy.push(sql.raw(`${index + 1} ASC NULLS LAST`));
  });
  return orderBy;
}

/** The 1-based select position of a group (by name or key) or a statistic (by name). */
function outputPosition(query: NormalizedStatQuery, key: string): number | undefined {
  const group = query.groupKeys.findIndex((item) => item.name === key || item.key === key);
  if (group >= 0) return group + 1;
  const statistic = query.statistics.findIndex((item) => item.name === key);
  return statistic >= 0 ? query.groupKeys.length + statistic + 1 : undefined;
}
