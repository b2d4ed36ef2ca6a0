import type { Query, StatQuery } from "@cloudforet/proto/cloudforet/common/v1/query_pb";

/**
 * The plain-JSON dialect of a query, as seed 000 writes it:
 * `{filter: [{k, v, o}], sort: {key, desc}, page: {start, limit}, only: [...]}`.
 * snake_case and camelCase spellings are both accepted; `sort` may also be a list.
 */
export interface FilterJson {
  k?: string;
  key?: string;
  v?: unknown;
  value?: unknown;
  o?: string;
  operator?: string;
}

export interface SortJson {
  key: string;
  desc?: boolean;
}

export interface PageJson {
  start?: number;
  limit?: number;
}

export interface QueryJson {
  filter?: FilterJson[];
  filter_or?: FilterJson[];
  filterOr?: FilterJson[];
  sort?: SortJson | SortJson[];
  page?: PageJson;
  only?: string[];
  keyword?: string;
  count_only?: boolean;
  countOnly?: boolean;
}

export interface StatisticJson {
  key?: string;
  field?: string;
  operator?: string;
}

export interface AggregateJson {
  group?: { keys?: (string | { key: string; name?: string })[] };
  statistics?: Record<string, StatisticJson>;
}

export interface StatQueryJson {
  filter?: FilterJson[];
  filter_or?: FilterJson[];
  filterOr?: FilterJson[];
  aggregate?: AggregateJson[];
  sort?: SortJson | SortJson[];
  page?: PageJson;
}

/** What List handlers pass in: the generated message or its plain-JSON form. */
export type QueryInput = Query | QueryJson | null | undefined;

/** What Stat handlers pass in: the generated message or its plain-JSON form. */
export type StatQueryInput = StatQuery | StatQueryJson | null | undefined;
