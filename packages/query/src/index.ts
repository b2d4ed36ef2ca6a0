export { QUERY_LIMITS } from "./limits";
export { FILTER_OPERATORS, STAT_OPERATORS, type FilterOperator, type StatOperator } from "./operators";
export type { FieldKind } from "./column-kind";
export {
  col,
  json,
  defineQueryFields,
  resolveKey,
  type QueryField,
  type QueryFields,
  type QueryFieldsOptions,
  type ResolvedKey,
  type SortKey,
} from "./field-map";
export type {
  QueryInput,
  QueryJson,
  FilterJson,
  SortJson,
  PageJson,
  StatQueryInput,
  StatQueryJson,
  AggregateJson,
  StatisticJson,
} from "./query-input";
export type {
  NormalizedQuery,
  NormalizedStatQuery,
  QueryFilter,
  QuerySort,
  QueryPage,
  StatGroupKey,
  StatStatistic,
} from "./query-model";
export { normalizeQuery, type NormalizeOptions } from "./normalize";
export { normalizeStatQuery } from "./normalize-stat";
export { compileQuery, type CompiledQuery, type CompileOptions } from "./compile-query";
export { compileStat, type CompiledStat, type StatOutput } from "./compile-stat";
export { listWith, type ListResult } from "./list-with";
export { statWith, type StatResult } from "./stat-with";
export { project } from "./project";
export { parseTimediff } from "./timediff";
export { parseDatetime } from "./datetime";
export type { AnyPgDatabase } from "./database";
