import { statQueryAsJson } from "./from-message";
import { invalidQuery } from "./invalid-query";
import { QUERY_LIMITS } from "./limits";
import { readFilters, readKey, readPage, readSort, type NormalizeOptions } from "./normalize";
import { inferStatOperator, statOperatorNamed } from "./operators";
import type { NormalizedStatQuery, StatGroupKey, StatStatistic } from "./query-model";
import type { StatQueryInput } from "./query-input";
import { isPlainObject, readArray, readObject, readString, rejectUnknownKeys, type PlainObject } from "./read-input";

/** Names of result properties: group names and statistic names. */
const outputName = /^[A-Za-z0-9_\-]{1,64}$/;

/**
 * Validates a Stat query (generated `StatQuery` or its plain JSON): filters, one aggregate
 * stage of group keys and named statistics (operators inferred from names when absent),
 * sort and page.
 */
export function normalizeStatQuery(input: StatQueryInput, options: NormalizeOptions = {}): NormalizedStatQuery {
  const parameter = options.parameter ?? "query";
  const object = readObject(statQueryAsJson(input, parameter) ?? {}, parameter);
  rejectUnknownKeys(object, ["filter", "filter_or", "filterOr", "aggregate", "sort", "page"], parameter);
  const { filter, filterOr } = readFilters(object, parameter);
  const aggregates = readArray(object.aggregate ?? [], `${parameter}.aggregate`, 1);
  if (aggregates.length === 0) throw invalidQuery(`${parameter}.aggregate`, "Missing required field aggregate");
  const at = `${parameter}.aggregate[0]`;
  const aggregate = readObject(aggregates[0], at);
  rejectUnknownKeys(aggregate, ["group", "statistics"], at);
  const groupKeys = readGroupKeys(aggregate.group, `${at}.group`);
  const statistics = readStatistics(aggregate.statistics, `${at}.statistics`);
  if (groupKeys.length === 0 && statistics.length === 0) {
    throw invalidQuery(at, "An aggregate needs group keys or statistics");
  }
  const seen = new Set<string>();
  for (const output of [...groupKeys, ...statistics]) {
    if (seen.has(output.name)) throw invalidQuery(output.parameter, `Two results would both be named ${output.name}`, output.name);
    seen.add(output.name);
  }
  return {
    filter,
    filterOr,
    groupKeys,
    statistics,
    sort: readSort(object.sort, `${parameter}.sort`),
    page: readPage(object.page, `${parameter}.page`),
    parameter,
  };
}

function readGroupKeys(value: unknown, parameter: string): StatGroupKey[] {
  if (value === undefined || value === null) return [];
  const group = readObject(value, parameter);
  rejectUnknownKeys(group, ["keys"], parameter);
  const keys = readArray(group.keys ?? [], `${parameter}.keys`, QUERY_LIMITS.maxGroupKeys);
  return keys.map((item, index) => {
    const at = `${parameter}.keys[${index}]`;
    // CloudForet also writes a group key as {key, name}.
    const entry: PlainObject = isPlainObject(item) ? item : { key: item };
    rejectUnknownKeys(entry, ["key", "name"], at);
    const key = readKey(entry.key, at);
    const name = entry.name === undefined ? lastSegment(key) : readString(entry.name, `${at}.name`, 64);
    if (!outputName.test(name)) throw invalidQuery(at, "A group name may use only letters, digits, _ and -", name);
    return { key, name, parameter: at };
  });
}

function readStatistics(value: unknown, parameter: string): StatStatistic[] {
  if (value === undefined || value === null) return [];
  const object = readObject(value, parameter);
  const entries = Object.entries(object);
  if (entries.length > QUERY_LIMITS.maxStatistics) {
    throw invalidQuery(parameter, `At most ${QUERY_LIMITS.maxStatistics} statistics are allowed`, entries.length);
  }
  return entries.map(([name, spec]) => {
    const at = `${parameter}.${outputName.test(name) ? name : "?"}`;
    if (!outputName.test(name)) throw invalidQuery(at, "A statistic name may use only letters, digits, _ and -", name);
    const statistic = readObject(spec ?? {}, at);
    rejectUnknownKeys(statistic, ["key", "field", "operator"], at);
    const key = statistic.key === undefined ? undefined : readKey(statistic.key, `${at}.key`);
    const field = statistic.field === undefined ? undefined : readKey(statistic.field, `${at}.field`);
    if (key !== undefined && field !== undefined && key !== field) {
      throw invalidQuery(at, "key and field name the same thing; give one", `${key} / ${field}`);
    }
    const operatorName = statistic.operator === undefined ? undefined : readString(statistic.operator, `${at}.operator`, 32);
    const operator = operatorName ? statOperatorNamed(operatorName) : inferStatOperator(name);
    if (!operator) {
      throw operatorName
        ? invalidQuery(at, `Unknown statistic operator ${operatorName}`, operatorName)
        : invalidQuery(at, `Cannot infer the operator of ${name}; give operator`, name);
    }
    const target = key ?? field;
    if (target === undefined && operator !== "count") throw invalidQuery(at, `${operator} needs a key`);
    return { name, key: target, operator, parameter: at };
  });
}

const lastSegment = (key: string) => key.slice(key.lastIndexOf(".") + 1);
