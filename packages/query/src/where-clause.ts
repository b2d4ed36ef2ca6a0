import { and, or, type SQL } from "drizzle-orm";
import type { QueryFields } from "./field-map";
import { filterCondition } from "./filter-sql";
import type { QueryFilter } from "./query-model";

/** The WHERE of a List or Stat: all of `filter`, any of `filter_or`, and any extra condition. */
export function whereFor(
  fields: QueryFields,
  filter: readonly QueryFilter[],
  filterOr: readonly QueryFilter[],
  now: Date,
  extra?: SQL,
): SQL | undefined {
  const all = filter.map((item) => filterCondition(fields, item, now));
  const any = filterOr.map((item) => filterCondition(fields, item, now));
  return and(...all, any.length > 0 ? or(...any) : undefined, extra);
}
