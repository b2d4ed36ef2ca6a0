import { fromJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CostRow } from "../db/schema";

/** Every field of a stored row (Get response, List result). */
export function toMessage(row: Partial<CostRow>) {
  return {
    costId: row.costId,
    dataSourceId: row.dataSourceId,
    date: row.date,
    cost: row.cost === undefined ? undefined : Number(row.cost),
    currency: row.currency,
    resourceId: row.resourceId,
    resourceType: row.resourceType,
    region: row.region,
    tags: row.tags,
    jobId: row.jobId,
    domainId: row.domainId,
    workspaceId: row.workspaceId,
    createdAt: row.createdAt ? timestampFromDate(row.createdAt) : undefined,
  };
}

/** A List result: the query language keys rows by field name, trimmed by `only`. */
export function fromListRow(row: Record<string, unknown>) {
  return toMessage({
    costId: row.cost_id as string | undefined,
    dataSourceId: row.data_source_id as string | undefined,
    date: row.date as string | undefined,
    cost: row.cost as string | undefined,
    currency: row.currency as string | undefined,
    resourceId: row.resource_id as string | undefined,
    resourceType: row.resource_type as string | undefined,
    region: row.region as string | undefined,
    tags: row.tags as Record<string, string> | undefined,
    jobId: row.job_id as string | undefined,
    domainId: row.domain_id as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    createdAt: row.created_at as Date | undefined,
  });
}

/** Create's answer: the stored row's id, day, amount and resource. */
export function createdMessage(row: CostRow) {
  return { costId: row.costId, date: row.date, cost: Number(row.cost), resourceId: row.resourceId, createdAt: timestampFromDate(row.createdAt) };
}

/** The batch response as stored for idempotent replays: the total stays decimal text. */
export interface StoredBatchResponse extends JsonObject {
  created_count: number;
  failed_count: number;
  total_cost: string;
  job_id: string;
  failures: { index: number; parameter: string; value: JsonValue; message: string }[];
}

export function batchResponse(stored: StoredBatchResponse) {
  return {
    createdCount: stored.created_count,
    failedCount: stored.failed_count,
    totalCost: Number(stored.total_cost),
    jobId: stored.job_id,
    failures: stored.failures.map((failure) => ({
      index: failure.index,
      parameter: failure.parameter,
      value: failure.value === null ? undefined : fromJson(ValueSchema, failure.value),
      message: failure.message,
    })),
  };
}
