/**
 * A small in-memory evaluator of the query language's comparison, null and ordering rules
 * (README: "Comparison rules", "Null rules", "Ordering rules"), written from the README and not
 * from the compiler, so the differential test can tell when the two disagree.
 *
 * It covers one entity shape: `id` (text primary key), `name` (text NOT NULL), `label` (nullable
 * text) and `data` (jsonb of scalars, nulls and the odd list or object); the operators eq, not,
 * in, not_in, lt, lte, gt, gte, between and exists; and Stat's count, sum, min and max.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ReferenceRow {
  id: string;
  name: string;
  label: string | null;
  data: Record<string, Json>;
}

export interface ReferenceFilter {
  k: string;
  v: Json;
  o: "eq" | "not" | "in" | "not_in" | "lt" | "lte" | "gt" | "gte" | "between" | "exists";
}

export interface ReferenceSort {
  key: string;
  desc: boolean;
}

/** The default sort of the field map under test; the compiler appends `id` (the primary key). */
export const referenceDefaultSort: ReferenceSort[] = [
  { key: "name", desc: false },
  { key: "id", desc: false },
];

/** A stored value: `undefined` is a missing JSON key; a column's NULL is `null`. */
type Stored = Json | undefined;

const isColumn = (key: string) => !key.includes(".");

function valueAt(row: ReferenceRow, key: string): Stored {
  if (key === "id" || key === "name" || key === "label") return row[key];
  const [, ...path] = key.split(".");
  let value: Stored = row.data;
  for (const segment of path) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = value[segment];
  }
  return value;
}

/** Code point order: the database collation here is C.UTF-8. */
export function compareText(a: string, b: string): number {
  const [x, y] = [Array.from(a), Array.from(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** JSON null and missing are one "absent" value; a column's NULL is absent too. */
const absent = (value: Stored) => value === undefined || value === null;

/** Type-strict equality of a stored value with a non-null scalar filter value. */
function equals(stored: Stored, value: Json): boolean {
  if (absent(stored)) return false;
  if (typeof stored !== typeof value || typeof stored === "object") return false;
  return stored === value;
}

/** Type-strict order of a stored value against a number or string; undefined when they do not compare. */
function order(stored: Stored, value: number | string): number | undefined {
  if (typeof value === "number") return typeof stored === "number" ? stored - value : undefined;
  return typeof stored === "string" ? compareText(stored, value) : undefined;
}

function matchesPositive(row: ReferenceRow, filter: ReferenceFilter): boolean {
  const stored = valueAt(row, filter.k);
  const { v } = filter;
  switch (filter.o) {
    case "eq":
    case "not":
      return v === null ? absent(stored) : equals(stored, v);
    case "in":
    case "not_in":
      return (v as Json[]).some((item) => (item === null ? absent(stored) : equals(stored, item)));
    case "lt":
    case "lte":
    case "gt":
    case "gte": {
      const d = order(stored, v as number | string);
      if (d === undefined) return false;
      return { lt: d < 0, lte: d <= 0, gt: d > 0, gte: d >= 0 }[filter.o];
    }
    case "between": {
      const [low, high] = v as [number | string, number | string];
      const [a, b] = [order(stored, low), order(stored, high)];
      return a !== undefined && b !== undefined && a >= 0 && b <= 0;
    }
    case "exists":
      // On a JSON path a JSON null is present; on a column NULL is not.
      return (isColumn(filter.k) ? stored !== null : stored !== undefined) === v;
  }
}

/** Whether a row matches a filter; `not` and `not_in` are exact complements. */
export function matches(row: ReferenceRow, filter: ReferenceFilter): boolean {
  const positive = matchesPositive(row, filter);
  return filter.o === "not" || filter.o === "not_in" ? !positive : positive;
}

export function selectRows(rows: readonly ReferenceRow[], filter: readonly ReferenceFilter[], filterOr: readonly ReferenceFilter[]): ReferenceRow[] {
  return rows.filter(
    (row) => filter.every((item) => matches(row, item)) && (filterOr.length === 0 || filterOr.some((item) => matches(row, item))),
  );
}

/** jsonb's order of types: strings < numbers < booleans < lists < objects. */
const typeRank = (value: Json) =>
  typeof value === "string" ? 0 : typeof value === "number" ? 1 : typeof value === "boolean" ? 2 : Array.isArray(value) ? 3 : 4;

/** Orders two present values as jsonb (and text columns, which are strings) do. */
export function compareValues(a: Json, b: Json): number {
  const rank = typeRank(a) - typeRank(b);
  if (rank !== 0) return rank;
  if (typeof a === "string") return compareText(a, b as string);
  if (typeof a === "number") return a - (b as number);
  if (typeof a === "boolean") return Number(a) - Number(b);
  // Lists and objects: not sorted on by the differential test.
  return compareText(JSON.stringify(a), JSON.stringify(b));
}

/** One sort term: absent values last in either direction. */
export function compareSorted(a: Stored, b: Stored, desc: boolean): number {
  if (absent(a) || absent(b)) return Number(absent(a)) - Number(absent(b));
  const d = compareValues(a as Json, b as Json);
  return desc ? -d : d;
}

/** List: the query's sort, then the default sort (keys not already sorted on). */
export function sortRows(rows: ReferenceRow[], sort: readonly ReferenceSort[]): ReferenceRow[] {
  const used = new Set<string>();
  const terms = [...sort, ...referenceDefaultSort].filter((term) => !used.has(term.key) && used.add(term.key));
  return [...rows].sort((x, y) => {
    for (const term of terms) {
      const d = compareSorted(valueAt(x, term.key), valueAt(y, term.key), term.desc);
      if (d !== 0) return d;
    }
    return 0;
  });
}

export interface ReferenceList {
  ids: string[];
  total_count: number;
}

export function referenceList(
  rows: readonly ReferenceRow[],
  query: { filter: ReferenceFilter[]; filterOr: ReferenceFilter[]; sort: ReferenceSort[]; start: number; limit: number },
): ReferenceList {
  const selected = sortRows(selectRows(rows, query.filter, query.filterOr), query.sort);
  return { ids: selected.slice(query.start, query.start + query.limit).map((row) => row.id), total_count: selected.length };
}

export interface ReferenceStatistic {
  name: string;
  operator: "count" | "sum" | "min" | "max";
  key?: string;
}

/** A group key's output name: its last path segment. */
export const groupName = (key: string) => key.split(".").at(-1)!;

/** A group key's value: JSON null and missing are one group, printed as null. */
const groupValue = (row: ReferenceRow, key: string): Json => {
  const value = valueAt(row, key);
  return absent(value) ? null : (value as Json);
};

function statistic(rows: ReferenceRow[], stat: ReferenceStatistic): Json {
  if (stat.operator === "count") return rows.length;
  const values = rows.map((row) => valueAt(row, stat.key!));
  const numbers = values.filter((value): value is number => typeof value === "number");
  if (stat.operator === "sum") return numbers.reduce((sum, n) => sum + n, 0);
  // min/max: over the numbers when there are any, else over the strings (type-strict).
  const sign = stat.operator === "min" ? 1 : -1;
  if (numbers.length > 0) return numbers.reduce((best, n) => (sign * (n - best) < 0 ? n : best));
  const strings = values.filter((value): value is string => typeof value === "string");
  if (strings.length === 0) return null;
  return strings.reduce((best, s) => (sign * compareText(s, best) < 0 ? s : best));
}

/**
 * Stat with one aggregate stage: groups, statistics, then the sort with the remaining group
 * keys ascending as tie-breakers (nulls last); without a sort, first appearance under the
 * default sort (min of its first key, `name`), then the group keys.
 */
export function referenceStat(
  rows: readonly ReferenceRow[],
  query: { filter: ReferenceFilter[]; keys: string[]; statistics: ReferenceStatistic[]; sort: ReferenceSort[]; start: number; limit: number },
): Record<string, Json>[] {
  const groups = new Map<string, ReferenceRow[]>();
  for (const row of selectRows(rows, query.filter, [])) {
    const id = JSON.stringify(query.keys.map((key) => groupValue(row, key)));
    groups.set(id, [...(groups.get(id) ?? []), row]);
  }
  if (query.keys.length === 0 && groups.size === 0) groups.set("[]", []);
  const results = [...groups.values()].map((members) => {
    const result: Record<string, Json> = {};
    for (const key of query.keys) result[groupName(key)] = groupValue(members[0], key);
    for (const stat of query.statistics) result[stat.name] = statistic(members, stat);
    return { result, firstName: members.map((row) => row.name).sort(compareText)[0] };
  });
  const sorted = new Set<string>();
  const terms: ReferenceSort[] = [];
  for (const term of query.sort) {
    const name = query.keys.includes(term.key) ? groupName(term.key) : term.key;
    if (!sorted.has(name)) terms.push({ key: name, desc: term.desc });
    sorted.add(name);
  }
  const tieBreakers = query.keys.map(groupName).filter((name) => !sorted.has(name)).map((key) => ({ key, desc: false }));
  results.sort((x, y) => {
    if (terms.length === 0 && query.keys.length > 0) {
      const d = compareText(x.firstName, y.firstName);
      if (d !== 0) return d;
    }
    for (const term of [...terms, ...tieBreakers]) {
      const d = compareSorted(x.result[term.key], y.result[term.key], term.desc);
      if (d !== 0) return d;
    }
    return 0;
  });
  return results.slice(query.start, query.start + query.limit).map(({ result }) => result);
}
