import type { JsonValue } from "@bufbuild/protobuf";
import type { FilterOperator, StatOperator } from "./operators";

/**
 * The one shape every query takes after normalize: both the generated `Query` message and
 * the plain JSON of seed 000 become this, validated, with each part knowing the request
 * parameter it came from (for the error that names it).
 */
export interface QueryFilter {
  key: string;
  /** The JSON value of `v`; undefined when the request sent none. */
  value: JsonValue | undefined;
  operator: FilterOperator;
  /** e.g. `query.filter[2]` or `query.filter_or[0]`. */
  parameter: string;
}

export interface QuerySort {
  key: string;
  desc: boolean;
  parameter: string;
}

export interface QueryPage {
  /** 0-based offset. */
  start: number;
  limit: number;
}

export interface NormalizedQuery {
  filter: QueryFilter[];
  filterOr: QueryFilter[];
  sort: QuerySort[];
  page: QueryPage;
  only: { path: string; parameter: string }[];
  keyword: string;
  countOnly: boolean;
  /** The request field the query came in (`query`), prefix of every parameter. */
  parameter: string;
}

export interface StatGroupKey {
  key: string;
  /** The result row's property: the key's last path segment unless named. */
  name: string;
  parameter: string;
}

export interface StatStatistic {
  /** The result row's property. */
  name: string;
  /** The field it aggregates; absent for a bare `count`. */
  key: string | undefined;
  operator: StatOperator;
  parameter: string;
}

export interface NormalizedStatQuery {
  filter: QueryFilter[];
  filterOr: QueryFilter[];
  groupKeys: StatGroupKey[];
  statistics: StatStatistic[];
  sort: QuerySort[];
  page: QueryPage;
  parameter: string;
}
