import { create } from "@bufbuild/protobuf";
import type { SQL } from "drizzle-orm";
import { PlatformError, invalidParameter, missingParameter } from "@cloudforet/errors";
import { QuerySchema, type Filter, type Page } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { CostServiceAnalyzeRequest_Granularity } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { compileQuery } from "@cloudforet/query";
import { costFields, type GroupKey } from "./repository";
import { dateProblem, isCalendarDate, parseGroupBy, periodLength, problemError, type Granularity } from "./costs";

/** An Analyze request, validated. */
export interface AnalyzeRequest {
  periodLength: number;
  start: string;
  end: string;
  groups: GroupKey[];
  where?: SQL;
  limit: number;
  offset: number;
}

export interface AnalyzeInput {
  granularity: CostServiceAnalyzeRequest_Granularity;
  start: string;
  end: string;
  groupBy: string[];
  filter: Filter[];
  page?: Page;
}

/** Checks every part of an Analyze request; ERROR_INVALID_PARAMETER names the part at fault. */
export function readAnalyzeRequest(input: AnalyzeInput): AnalyzeRequest {
  const granularity = CostServiceAnalyzeRequest_Granularity[input.granularity] as Granularity | undefined;
  if (!granularity || !(granularity in periodLength)) {
    throw invalidParameter("granularity must be DAILY, MONTHLY or YEARLY", { parameter: "granularity", value: input.granularity });
  }
  const start = calendarDate(input.start, "start");
  const end = calendarDate(input.end, "end");
  if (end < start) throw invalidParameter("end must not be before start", { parameter: "end", value: end });
  const limit = input.page?.limit || 100;
  const offset = input.page?.start ?? 0;
  if (limit < 1 || limit > 1000) throw invalidParameter("page.limit must be 1 to 1000", { parameter: "page.limit", value: limit });
  if (offset < 0) throw invalidParameter("page.start must not be negative", { parameter: "page.start", value: offset });
  return { periodLength: periodLength[granularity], start, end, groups: parseGroupBy(input.groupBy), where: filterCondition(input.filter), limit, offset };
}

function calendarDate(value: string, parameter: string): string {
  if (!value) throw missingParameter(parameter);
  if (!isCalendarDate(value)) throw problemError(dateProblem(value, parameter));
  return value;
}

/** The filters compiled by the query language, with errors naming `filter[i]` as the request spells it. */
function filterCondition(filter: Filter[]): SQL | undefined {
  if (filter.length === 0) return undefined;
  try {
    return compileQuery(costFields, create(QuerySchema, { filter })).where;
  } catch (err) {
    if (err instanceof PlatformError && err.metadata.parameter?.startsWith("query.")) {
      throw new PlatformError(err.code, err.message, { metadata: { ...err.metadata, parameter: err.metadata.parameter.slice("query.".length) } });
    }
    throw err;
  }
}
