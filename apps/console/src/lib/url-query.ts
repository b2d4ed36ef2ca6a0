// The list pages keep their whole query in the URL (shareable links): filters as repeated
// `f=key:operator:value`, `sort=key` / `sort=-key`, `page` (1-based), `size`, `q` (keyword).
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { FilterSchema, QuerySchema } from "@cloudforet/proto/cloudforet/common/v1/query_pb";

export interface FilterRow {
  key: string;
  operator: string;
  value: string;
}

export const OPERATORS = ["eq", "not", "contain", "not_contain", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "regex"] as const;

export function parseFilters(params: URLSearchParams): FilterRow[] {
  return params.getAll("f").flatMap((raw) => {
    const first = raw.indexOf(":");
    const second = raw.indexOf(":", first + 1);
    if (first <= 0 || second < 0) return [];
    return [{ key: raw.slice(0, first), operator: raw.slice(first + 1, second), value: raw.slice(second + 1) }];
  });
}

export function encodeFilter(row: FilterRow): string {
  return `${row.key}:${row.operator}:${row.value}`;
}

/** The filter's value as the query language wants it: lists for in/not_in, numbers for comparisons. */
export function filterMessage(row: FilterRow): MessageInitShape<typeof FilterSchema> {
  let json: unknown = row.value;
  if (row.operator === "in" || row.operator === "not_in") json = row.value.split(",").map((s) => s.trim()).filter(Boolean);
  else if (["gt", "gte", "lt", "lte"].includes(row.operator) && row.value.trim() !== "" && !Number.isNaN(Number(row.value))) json = Number(row.value);
  else if (row.operator === "exists") json = row.value !== "false";
  return { k: row.key, o: row.operator, v: fromJson(ValueSchema, json as never) };
}

export interface ListState {
  filters: FilterRow[];
  keyword: string;
  sortKey: string;
  sortDesc: boolean;
  page: number;
  size: number;
}

export function readListState(params: URLSearchParams, defaults: { sort: string; size?: number }): ListState {
  const sort = params.get("sort") ?? defaults.sort;
  return {
    filters: parseFilters(params),
    keyword: params.get("q") ?? "",
    sortKey: sort.replace(/^-/, ""),
    sortDesc: sort.startsWith("-"),
    page: Math.max(1, Number(params.get("page") ?? 1) || 1),
    size: Math.min(500, Math.max(1, Number(params.get("size") ?? defaults.size ?? 25) || 25)),
  };
}

export function listQuery(state: ListState): MessageInitShape<typeof QuerySchema> {
  return {
    filter: state.filters.map(filterMessage),
    keyword: state.keyword,
    sort: state.sortKey ? { key: state.sortKey, desc: state.sortDesc } : undefined,
    page: { start: (state.page - 1) * state.size, limit: state.size },
  };
}
