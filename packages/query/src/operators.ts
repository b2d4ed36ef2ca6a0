/** The filter operators of SPEC §5. */
export const FILTER_OPERATORS = [
  "eq",
  "not",
  "lt",
  "lte",
  "gt",
  "gte",
  "exists",
  "contain",
  "not_contain",
  "in",
  "not_in",
  "contain_in",
  "not_contain_in",
  "regex",
  "between",
  "datetime_lt",
  "datetime_lte",
  "datetime_gt",
  "datetime_gte",
  "timediff_lt",
  "timediff_lte",
  "timediff_gt",
  "timediff_gte",
] as const;

export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** The aggregate operators of a StatQuery statistic. */
export const STAT_OPERATORS = ["count", "sum", "average", "min", "max", "add_to_set", "push", "first", "last"] as const;

export type StatOperator = (typeof STAT_OPERATORS)[number];

const filterOperators = new Set<string>(FILTER_OPERATORS);
const statOperators = new Set<string>(STAT_OPERATORS);

export const isFilterOperator = (name: string): name is FilterOperator => filterOperators.has(name);

/** A stat operator by name, accepting `avg` for `average`; undefined when unknown. */
export function statOperatorNamed(name: string): StatOperator | undefined {
  if (name === "avg") return "average";
  return statOperators.has(name) ? (name as StatOperator) : undefined;
}

/**
 * The operator a statistic's name implies when the request gives none (seed 000's
 * "Statistics Query"): `count`, `avg_*`, `total_*` / `sum_*`, `min_*`, `max_*`.
 */
export function inferStatOperator(statisticName: string): StatOperator | undefined {
  if (statisticName === "count") return "count";
  if (statisticName.startsWith("avg_")) return "average";
  if (statisticName.startsWith("total_") || statisticName.startsWith("sum_")) return "sum";
  if (statisticName.startsWith("min_")) return "min";
  if (statisticName.startsWith("max_")) return "max";
  return undefined;
}
