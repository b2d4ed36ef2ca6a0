import { queryAsJson } from "./from-message";
import { readFilterValue } from "./filter-value";
import { invalidQuery } from "./invalid-query";
import { QUERY_LIMITS } from "./limits";
import { isFilterOperator } from "./operators";
import type { NormalizedQuery, QueryFilter, QueryPage, QuerySort } from "./query-model";
import type { QueryInput } from "./query-input";
import {
  pick,
  readArray,
  readBoolean,
  readInteger,
  readObject,
  readString,
  rejectUnknownKeys,
  type PlainObject,
} from "./read-input";

export interface NormalizeOptions {
  /** The request field holding the query, prefix of every error's `parameter`. Default `query`. */
  parameter?: string;
}

const queryFields = ["filter", "filter_or", "filterOr", "sort", "page", "only", "keyword", "count_only", "countOnly"];

/**
 * Validates a List query (generated `Query` or its plain JSON) into the one internal shape.
 * Keys are checked against a field map later, by compileQuery.
 */
export function normalizeQuery(input: QueryInput, options: NormalizeOptions = {}): NormalizedQuery {
  const parameter = options.parameter ?? "query";
  const json = queryAsJson(input, parameter) ?? {};
  const object = readObject(json, parameter);
  rejectUnknownKeys(object, queryFields, parameter);
  const { filter, filterOr } = readFilters(object, parameter);
  const onlyValue = object.only ?? [];
  const only = readArray(onlyValue, `${parameter}.only`, QUERY_LIMITS.maxOnly).map((path, index) => {
    const at = `${parameter}.only[${index}]`;
    return { path: readKey(path, at), parameter: at };
  });
  const keyword = object.keyword === undefined ? "" : readString(object.keyword, `${parameter}.keyword`, QUERY_LIMITS.maxKeywordLength);
  const countOnlyValue = pick(object, "count_only", "countOnly");
  return {
    filter,
    filterOr,
    sort: readSort(object.sort, `${parameter}.sort`),
    page: readPage(object.page, `${parameter}.page`),
    only,
    keyword: keyword.trim(),
    countOnly: countOnlyValue === undefined ? false : readBoolean(countOnlyValue, `${parameter}.count_only`),
    parameter,
  };
}

/** `filter` and `filter_or`, at most QUERY_LIMITS.maxFilters between them. */
export function readFilters(object: PlainObject, parameter: string): { filter: QueryFilter[]; filterOr: QueryFilter[] } {
  const filter = readFilterList(object.filter, `${parameter}.filter`);
  const filterOr = readFilterList(pick(object, "filter_or", "filterOr"), `${parameter}.filter_or`);
  if (filter.length + filterOr.length > QUERY_LIMITS.maxFilters) {
    throw invalidQuery(`${parameter}.filter`, `At most ${QUERY_LIMITS.maxFilters} filters are allowed`, filter.length + filterOr.length);
  }
  return { filter, filterOr };
}

export function readFilterList(value: unknown, parameter: string): QueryFilter[] {
  if (value === undefined || value === null) return [];
  return readArray(value, parameter, QUERY_LIMITS.maxFilters).map((item, index) => readFilter(item, `${parameter}[${index}]`));
}

const filterFields = ["k", "key", "v", "value", "o", "operator"];

/** One `{k, v, o}`; every problem with it names the filter itself (`query.filter[2]`). */
function readFilter(value: unknown, parameter: string): QueryFilter {
  const object = readObject(value, parameter);
  const unknown = Object.keys(object).find((name) => !filterFields.includes(name));
  if (unknown !== undefined) throw invalidQuery(parameter, `Unknown filter field ${unknown.slice(0, 40)}`, unknown);
  const keyValue = pick(object, "k", "key");
  if (keyValue === undefined) throw invalidQuery(parameter, "Missing required field k");
  const key = readKey(keyValue, parameter);
  const operatorValue = pick(object, "o", "operator") ?? "eq";
  if (typeof operatorValue !== "string") throw invalidQuery(parameter, "The operator must be a string", operatorValue);
  const operator = operatorValue === "" ? "eq" : operatorValue;
  if (!isFilterOperator(operator)) throw invalidQuery(parameter, `Unknown operator ${operator.slice(0, 40)}`, operator);
  const rawValue = pick(object, "v", "value");
  const filterValue = rawValue === undefined ? undefined : readFilterValue(rawValue, parameter);
  return { key, value: filterValue, operator, parameter };
}

/** A key's outer shape; its path grammar is checked against the field map when compiled. */
export function readKey(value: unknown, parameter: string): string {
  const key = readString(value, parameter, QUERY_LIMITS.maxKeyLength);
  if (key === "") throw invalidQuery(parameter, "The key must not be empty");
  return key;
}

/** `sort` as one `{key, desc}` or a list of them. */
export function readSort(value: unknown, parameter: string): QuerySort[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? readArray(value, parameter, QUERY_LIMITS.maxSortKeys) : [value];
  return list.map((item, index) => {
    const at = Array.isArray(value) ? `${parameter}[${index}]` : parameter;
    const object = readObject(item, at);
    rejectUnknownKeys(object, ["key", "desc"], at);
    return {
      key: readKey(object.key, `${at}.key`),
      desc: object.desc === undefined ? false : readBoolean(object.desc, `${at}.desc`),
      parameter: `${at}.key`,
    };
  });
}

/** `page.start` is a 0-based offset; a missing or zero `limit` means the default. */
export function readPage(value: unknown, parameter: string): QueryPage {
  if (value === undefined || value === null) return { start: 0, limit: QUERY_LIMITS.defaultPageLimit };
  const object = readObject(value, parameter);
  rejectUnknownKeys(object, ["start", "limit"], parameter);
  const start = object.start === undefined ? 0 : readInteger(object.start, `${parameter}.start`, 0, QUERY_LIMITS.maxPageStart);
  const limit =
    object.limit === undefined || object.limit === 0
      ? QUERY_LIMITS.defaultPageLimit
      : readInteger(object.limit, `${parameter}.limit`, 1, QUERY_LIMITS.maxPageLimit);
  return { start, limit };
}
