import { isMessage, toJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import {
  QuerySchema,
  StatQuerySchema,
  type Filter,
  type Page,
  type Sort,
} from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { invalidQuery } from "./invalid-query";
import type { QueryInput, StatQueryInput } from "./query-input";

/**
 * Turns the generated messages into the plain-JSON dialect so one validator serves both.
 * Proto3 cannot tell "unset" from zero, so an empty operator, sort key or a zero limit
 * reads as absent.
 */
export function queryAsJson(input: QueryInput, parameter: string): unknown {
  if (!isMessage(input, QuerySchema)) return input;
  return {
    filter: filtersAsJson(input.filter, `${parameter}.filter`),
    filter_or: filtersAsJson(input.filterOr, `${parameter}.filter_or`),
    sort: sortAsJson(input.sort),
    page: pageAsJson(input.page),
    only: input.only,
    keyword: input.keyword || undefined,
    count_only: input.countOnly,
  };
}

export function statQueryAsJson(input: StatQueryInput, parameter: string): unknown {
  if (!isMessage(input, StatQuerySchema)) return input;
  return {
    filter: filtersAsJson(input.filter, `${parameter}.filter`),
    filter_or: filtersAsJson(input.filterOr, `${parameter}.filter_or`),
    aggregate: input.aggregate.map((aggregate) => ({
      group: aggregate.group ? { keys: aggregate.group.keys } : undefined,
      statistics: Object.fromEntries(
        Object.entries(aggregate.statistics).map(([name, statistic]) => [
          name,
          {
            key: statistic.key || undefined,
            field: statistic.field || undefined,
            operator: statistic.operator || undefined,
          },
        ]),
      ),
    })),
    sort: sortAsJson(input.sort),
    page: pageAsJson(input.page),
  };
}

function filtersAsJson(filters: Filter[], parameter: string) {
  return filters.map((filter, index) => ({
    k: filter.k,
    v: filter.v ? valueAsJson(filter.v, `${parameter}[${index}]`) : undefined,
    o: filter.o || undefined,
  }));
}

function valueAsJson(value: Value, parameter: string): JsonValue | undefined {
  if (value.kind.case === undefined) return undefined;
  try {
    return toJson(ValueSchema, value);
  } catch (err) {
    throw invalidQuery(parameter, `Unreadable value: ${(err as Error).message}`);
  }
}

const sortAsJson = (sort: Sort | undefined) => (sort?.key ? { key: sort.key, desc: sort.desc } : undefined);

const pageAsJson = (page: Page | undefined) =>
  page ? { start: page.start, limit: page.limit === 0 ? undefined : page.limit } : undefined;
