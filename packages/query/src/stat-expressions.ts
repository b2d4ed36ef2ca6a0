import { sql, type SQL } from "drizzle-orm";
import type { ResolvedKey } from "./field-map";
import { invalidQuery } from "./invalid-query";
import { jsonAt, jsonNumberAt, jsonStringAt, jsonValueAt } from "./json-path-sql";
import type { StatStatistic } from "./query-model";

/**
 * SQL for group keys and statistics. Every output is jsonb, so each driver hands back plain
 * JSON values: numbers as numbers (an average as 12.5, a numeric sum exactly), strings,
 * booleans, lists; date-times as ISO strings. A JSON group key reads JSON null as missing, so
 * the two make one group (printed as null) instead of two that print the same.
 */
export function groupKeyExpression({ field, path }: ResolvedKey): SQL {
  return field.kind === "json" ? jsonValueAt(field.column, path) : sql`to_jsonb(${field.column})`;
}

/** An ordering of the rows inside a group. */
export interface RowOrder {
  expr: SQL;
  desc: boolean;
}

/**
 * One statistic. `resolved` is its key (absent only for a bare count); `within` orders the
 * rows of a group for push, first and last.
 */
export function statisticExpression(statistic: StatStatistic, resolved: ResolvedKey | undefined, within: RowOrder[]): SQL {
  // count counts the group's rows; a key, when given (seed 000 gives one), does not change that.
  if (statistic.operator === "count") return sql`to_jsonb(count(*))`;
  if (!resolved) throw invalidQuery(statistic.parameter, `${statistic.operator} needs a key`);
  const orderWithin = orderClause(within, false);
  switch (statistic.operator) {
    case "sum":
      return sql`to_jsonb(COALESCE(sum(${numberOf(resolved, statistic)}), 0))`;
    case "average":
      return sql`to_jsonb(avg(${numberOf(resolved, statistic)}))`;
    case "min":
    case "max":
      return extreme(resolved, statistic.operator);
    case "add_to_set":
      return collect(sql`DISTINCT ${valueOf(resolved)}`, valueOf(resolved), sql``);
    case "push":
      return collect(valueOf(resolved), valueOf(resolved), orderWithin);
    case "first":
      return sql`(array_agg(${valueOf(resolved)}${orderWithin}))[1]`;
    case "last":
      return sql`(array_agg(${valueOf(resolved)}${orderClause(within, true)}))[1]`;
  }
}

/** The numbers sum and average take: a numeric column, or the JSON numbers at a path. */
function numberOf({ field, path }: ResolvedKey, statistic: StatStatistic): SQL {
  if (field.kind === "json") return jsonNumberAt(field.column, path);
  if (field.kind === "number") return sql`${field.column}`;
  throw invalidQuery(statistic.parameter, `${statistic.operator} needs a numeric field`, statistic.key);
}

/** The value as jsonb, for the collecting operators. */
function valueOf({ field, path }: ResolvedKey): SQL {
  return field.kind === "json" ? jsonAt(field.column, path) : sql`to_jsonb(${field.column})`;
}

/** Postgres has no min/max for uuid, boolean or jsonb: each kind gets the ordering it has. */
function extreme({ field, path }: ResolvedKey, operator: "min" | "max"): SQL {
  const aggregate = sql.raw(operator);
  switch (field.kind) {
    case "json":
      // Numbers when the path holds any, else the strings (type-strict, as comparisons are).
      return sql`COALESCE(to_jsonb(${aggregate}(${jsonNumberAt(field.column, path)})), to_jsonb(${aggregate}(${jsonStringAt(field.column, path)})))`;
    case "boolean":
      return operator === "min" ? sql`to_jsonb(bool_and(${field.column}))` : sql`to_jsonb(bool_or(${field.column}))`;
    case "string":
    case "number":
    case "datetime":
      return sql`to_jsonb(${aggregate}(${field.column}))`;
    default:
      return sql`to_jsonb(${aggregate}((${field.column})::text))`;
  }
}

/** A JSON list of the group's (non-null) values, empty rather than null. */
function collect(argument: SQL, value: SQL, orderWithin: SQL): SQL {
  return sql`COALESCE(jsonb_agg(${argument}${orderWithin}) FILTER (WHERE ${value} IS NOT NULL), '[]'::jsonb)`;
}

function orderClause(within: RowOrder[], reversed: boolean): SQL {
  if (within.length === 0) return sql``;
  const terms = within.map(({ expr, desc }) => (desc !== reversed ? sql`${expr} DESC NULLS LAST` : sql`${expr} ASC NULLS LAST`));
  return sql` ORDER BY ${sql.join(terms, sql`, `)}`;
}
