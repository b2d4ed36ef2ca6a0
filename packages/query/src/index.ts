export { QUERY_LIMITS } from "./limits";
export { FILTER_OPERATORS, STAT_OPERATORS, type FilterOperator, type StatOperator } from "./operators";
export type { FieldKind } from "./column-kind";
export {
  col,
  json,
  computed,
  defineQueryFields,
  resolveKey,
  type QueryField,
  type FieldColumn,
  type ComputedColumn,
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
export { listWith, type ListResult, type ListOptions } from "./list-with";
export { statWith, type StatResult } from "./stat-with";
export { project } from "./project";
export { parseTimediff } from "./timediff";
export { parseDatetime } from "./datetime";
export type { AnyPgDatabase } from "./database";
export {
  tenantScope,
  domainScope,
  scopeCondition,
  tenantCondition,
  type TenantCaller,
  type TenantScope,
  type TenantColumns,
  type ScopeConditionOptions,
} from "./tenant-scope";
export { validateTags, mergeTags, tagsProblem, TAG_LIMITS, type TagsProblem } from "./tags";
export { isStorableText } from "./storable-text";
export { readMatchFilters, readMatchFilterList, matchesFilters, matchesFilter, valueAtKey, type MatchOptions } from "./match-filters";
export {
  CONDITIONS_POLICIES,
  CONDITION_KEYS,
  compileRule,
  applyRules,
  applyRulesToResource,
  ruleSubject,
  changedKeys,
  type ConditionsPolicy,
  type CollectorRuleSpec,
  type CompiledRule,
  type RuleSubject,
  type RuleOutcome,
  type RuledResource,
} from "./collector-rules";
export { selectList, tableReader, type SelectItem, type SelectList } from "./select-list";
