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
 * Group keys are selected first and grouped (and sorted) by their position, because a key
 * such as `data.cluster` carries its path as a bound parameter and Postgres cannot match two
 * separately bound copies of it. Without a sort, groups come in the order their first row
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
  return {
    where: whereFor(fields, query.filter, query.filterOr, options.now ?? new Date()),
    selection,
    groupBy: positions,
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

function orderFor(query: NormalizedStatQuery, positions: SQL[], appearance: SQL | undefined): SQL[] {
  if (query.sort.length > 0) {
    return query.sort.map((sort) => {
      const position = outputPosition(query, sort.key);
      if (position === undefined) throw invalidQuery(sort.parameter, `Sort by a group key or a statistic name, not ${sort.key}`, sort.key);
      return sql.raw(`${position} ${sort.desc ? "DESC" : "ASC"} NULLS LAST`);
    });
  }
  if (positions.length === 0) return [];
  return appearance ? [appearance, ...positions] : positions;
}

/** The 1-based select position of a group (by name or key) or a statistic (by name). */
function outputPosition(query: NormalizedStatQuery, key: string): number | undefined {
  const group = query.groupKeys.findIndex((item) => item.name === key || item.key === key);
  if (group >= 0) return group + 1;
  const statistic = query.statistics.findIndex((item) => item.name === key);
  return statistic >= 0 ? query.groupKeys.length + statistic + 1 : undefined;
}
