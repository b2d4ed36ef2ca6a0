import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { parseDatetime } from "./datetime";
import { invalidQuery } from "./invalid-query";
import { parseKeyPath } from "./key-path";
import { QUERY_LIMITS } from "./limits";
import { readFilterList, readFilters } from "./normalize";
import type { QueryFilter } from "./query-model";
import { readObject } from "./read-input";
import { regexProblem } from "./regex-check";
import { parseTimediff } from "./timediff";

/**
 * The query language's filters evaluated in memory against one JSON document (a collected
 * resource before it is written), with the SQL compiler's semantics: `not`, `not_in` and
 * `not_contain*` match documents lacking the key; `contain` is a case-insensitive substring, or
 * element membership on an array; comparisons order numbers as numbers and strings as text.
 */

export interface MatchOptions {
  /** Keys a document may be filtered on: a top-level name, or `name.*` for any dotted path under it. */
  keys: readonly string[];
  /** The request field holding the filters (`conditions`), prefix of every error's parameter. */
  parameter: string;
}

/**
 * Reads and checks `{filter, filter_or}` (plain JSON or the generated Filter messages' JSON) for
 * in-memory matching: every key allowed, every operator given the value it needs. Problems are
 * INVALID_ARGUMENT naming `<parameter>.filter[i]`.
 */
export function readMatchFilters(input: unknown, options: MatchOptions): { filter: QueryFilter[]; filterOr: QueryFilter[] } {
  const object = readObject(input ?? {}, options.parameter);
  const { filter, filterOr } = readFilters(object, options.parameter);
  for (const item of [...filter, ...filterOr]) checkFilter(item, options.keys);
  return { filter, filterOr };
}

/** A plain list of filters (`[{k, v, o}]`), checked as readMatchFilters does, naming `<parameter>[i]`. */
export function readMatchFilterList(input: unknown, options: MatchOptions): QueryFilter[] {
  const filters = readFilterList(input ?? [], options.parameter);
  for (const item of filters) checkFilter(item, options.keys);
  return filters;
}

/** True when the document matches every filter of `filter` and, if any, one of `filterOr`. */
export function matchesFilters(document: JsonObject, filters: { filter: QueryFilter[]; filterOr: QueryFilter[] }, now = new Date()): boolean {
  if (!filters.filter.every((f) => matchesFilter(document, f, now))) return false;
  return filters.filterOr.length === 0 || filters.filterOr.some((f) => matchesFilter(document, f, now));
}

/** The value at a dotted key (`data.cluster`), or undefined when the document lacks it. */
export function valueAtKey(document: JsonObject, key: string): JsonValue | undefined {
  let value: JsonValue | undefined = document;
  for (const segment of key.split(".")) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = Object.hasOwn(value, segment) ? (value as JsonObject)[segment] : undefined;
  }
  return value;
}

/** One checked filter against one document. */
export function matchesFilter(document: JsonObject, filter: QueryFilter, now = new Date()): boolean {
  const actual = valueAtKey(document, filter.key);
  const value = filter.value as JsonValue;
  switch (filter.operator) {
    case "eq":
      return equals(actual, value);
    case "not":
      return !equals(actual, value);
    case "lt":
      return order(actual, value, (c) => c < 0);
    case "lte":
      return order(actual, value, (c) => c <= 0);
    case "gt":
      return order(actual, value, (c) => c > 0);
    case "gte":
      return order(actual, value, (c) => c >= 0);
    case "between": {
      const [low, high] = value as JsonValue[];
      return order(actual, low, (c) => c >= 0) && order(actual, high, (c) => c <= 0);
    }
    case "exists":
      return value === (actual !== undefined && actual !== null);
    case "in":
      return (value as JsonValue[]).some((v) => equals(actual, v));
    case "not_in":
      return !(value as JsonValue[]).some((v) => equals(actual, v));
    case "contain":
      return contains(actual, [value]);
    case "not_contain":
      return !contains(actual, [value]);
    case "contain_in":
      return contains(actual, value as JsonValue[]);
    case "not_contain_in":
      return !contains(actual, value as JsonValue[]);
    case "regex":
      return actual !== undefined && actual !== null && typeof actual !== "object" && new RegExp(value as string, "u").test(String(actual).slice(0, MAX_REGEX_SUBJECT));
    case "datetime_lt":
    case "datetime_lte":
    case "datetime_gt":
    case "datetime_gte":
      return atTime(actual, parseDatetime(value as string), filter.operator.slice("datetime_".length));
    case "timediff_lt":
    case "timediff_lte":
    case "timediff_gt":
    case "timediff_gte":
      return atTime(actual, parseTimediff(value as string, now), filter.operator.slice("timediff_".length));
  }
}

/** JavaScript's regex engine backtracks: the text a rule's regex runs over is bounded. */
const MAX_REGEX_SUBJECT = 1024;

/**
 * A repeated group that itself repeats (`(a+)+`, `(\w*)*`, `(x{2,})+`) can take exponential time in
 * JavaScript's backtracking engine (Postgres's is not backtracking), so in-memory filters refuse it.
 */
function backtrackingProblem(pattern: string): string | undefined {
  return /\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)[*+{]/.test(pattern) ? "A repeated group may not repeat inside (nested quantifiers)" : undefined;
}

function checkFilter(filter: QueryFilter, keys: readonly string[]): void {
  const segments = parseKeyPath(filter.key, filter.parameter);
  const allowed = keys.some((k) => (k.endsWith(".*") ? segments.length > 1 && segments[0] === k.slice(0, -2) : k === filter.key));
  if (!allowed) throw invalidQuery(filter.parameter, `Unknown key ${filter.key.slice(0, 64)}`, filter.key);
  const value = filter.value;
  const invalid = (message: string) => invalidQuery(filter.parameter, message, value);
  if (value === undefined) throw invalid(`${filter.operator} needs a value v`);
  const scalar = (v: JsonValue) => v === null || typeof v !== "object";
  switch (filter.operator) {
    case "eq":
    case "not":
      return;
    case "lt":
    case "lte":
    case "gt":
    case "gte":
      if (typeof value !== "number" && typeof value !== "string") throw invalid(`${filter.operator} needs a number or a string`);
      return;
    case "between":
      if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === "number" || typeof v === "string")) {
        throw invalid("between needs a list of two numbers or two strings, [low, high]");
      }
      return;
    case "exists":
      if (typeof value !== "boolean") throw invalid("exists needs true or false");
      return;
    case "contain":
    case "not_contain":
      if (value === null || typeof value === "object") throw invalid("contain needs strings, numbers or booleans");
      return;
    case "in":
    case "not_in":
    case "contain_in":
    case "not_contain_in":
      if (!Array.isArray(value)) throw invalid(`${filter.operator} needs a list of values`);
      if (value.length > QUERY_LIMITS.maxListValues) throw invalid(`${filter.operator} takes at most ${QUERY_LIMITS.maxListValues} values`);
      if (filter.operator.includes("contain") && !value.every((v) => v !== null && scalar(v))) throw invalid("contain needs strings, numbers or booleans");
      return;
    case "regex": {
      if (typeof value !== "string") throw invalid("regex needs a pattern string");
      const problem = regexProblem(value) ?? backtrackingProblem(value);
      if (problem) throw invalid(problem);
      return;
    }
    case "datetime_lt":
    case "datetime_lte":
    case "datetime_gt":
    case "datetime_gte":
      if (typeof value !== "string" || !parseDatetime(value)) throw invalid(`${filter.operator} needs an ISO 8601 date-time`);
      return;
    case "timediff_lt":
    case "timediff_lte":
    case "timediff_gt":
    case "timediff_gte":
      if (typeof value !== "string" || !parseTimediff(value, new Date())) throw invalid(`${filter.operator} needs a relative time such as now/d-14d or now-1h`);
      return;
  }
}

/** JSON equality; a number and its decimal text are equal (collected data mixes the two); null matches missing. */
function equals(actual: JsonValue | undefined, expected: JsonValue): boolean {
  if (expected === null) return actual === undefined || actual === null;
  if (actual === undefined || actual === null) return false;
  if (typeof actual === "object" || typeof expected === "object") return JSON.stringify(actual) === JSON.stringify(expected);
  if (typeof actual === typeof expected) return actual === expected;
  if (typeof actual === "boolean" || typeof expected === "boolean") return false;
  return Number(actual) === Number(expected) && String(actual).trim() !== "" && String(expected).trim() !== "";
}

/** Orders as numbers when the filter's value is a number (and the document's is numeric), else as text. */
function order(actual: JsonValue | undefined, expected: JsonValue, test: (comparison: number) => boolean): boolean {
  if (actual === undefined || actual === null || typeof actual === "object") return false;
  if (typeof expected === "number") {
    const n = typeof actual === "number" ? actual : typeof actual === "string" && actual.trim() !== "" ? Number(actual) : Number.NaN;
    return !Number.isNaN(n) && test(n - expected);
  }
  const a = String(actual);
  const b = String(expected);
  return test(a < b ? -1 : a > b ? 1 : 0);
}

function contains(actual: JsonValue | undefined, values: JsonValue[]): boolean {
  if (actual === undefined || actual === null) return false;
  if (Array.isArray(actual)) return values.some((v) => actual.some((element) => element === v));
  if (typeof actual === "object") return false;
  const text = String(actual).toLowerCase();
  return values.some((v) => text.includes(String(v).toLowerCase()));
}

function atTime(actual: JsonValue | undefined, at: Date | undefined, operator: string): boolean {
  if (!at || typeof actual !== "string") return false;
  const time = parseDatetime(actual);
  if (!time) return false;
  const c = time.getTime() - at.getTime();
  return operator === "lt" ? c < 0 : operator === "lte" ? c <= 0 : operator === "gt" ? c > 0 : c >= 0;
}
