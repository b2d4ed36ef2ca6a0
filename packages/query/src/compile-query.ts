import type { SQL } from "drizzle-orm";
import { resolveKey, type QueryFields } from "./field-map";
import { keywordCondition } from "./keyword";
import { normalizeQuery, type NormalizeOptions } from "./normalize";
import { orderByFor } from "./order-by";
import type { QueryInput } from "./query-input";
import { whereFor } from "./where-clause";

export interface CompileOptions extends NormalizeOptions {
  /** The instant `now` stands for in timediff values (tests pin it). Default: the clock. */
  now?: Date;
}

/** A List query ready for Drizzle: `db.select().from(t).where(where).orderBy(...orderBy).limit(limit).offset(offset)`. */
export interface CompiledQuery {
  where: SQL | undefined;
  orderBy: SQL[];
  limit: number;
  offset: number;
  /** Paths to trim each result to (see project); empty keeps everything. */
  only: string[];
  countOnly: boolean;
}

/**
 * Validates and compiles a List query against an entity's field map. `filter` is AND-ed,
 * `filter_or` OR-ed (and AND-ed with the rest), `keyword` searches the keyword fields.
 * Throws ERROR_INVALID_PARAMETER naming the part at fault.
 */
export function compileQuery(fields: QueryFields, input: QueryInput, options: CompileOptions = {}): CompiledQuery {
  const query = normalizeQuery(input, options);
  const now = options.now ?? new Date();
  const only = query.only.map(({ path, parameter }) => {
    resolveKey(fields, path, parameter);
    return path;
  });
  const keyword = query.keyword ? keywordCondition(fields, query.keyword, `${query.parameter}.keyword`) : undefined;
  return {
    where: whereFor(fields, query.filter, query.filterOr, now, keyword),
    orderBy: orderByFor(fields, query.sort),
    limit: query.page.limit,
    offset: query.page.start,
    only,
    countOnly: query.countOnly,
  };
}
