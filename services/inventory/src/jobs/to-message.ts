import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Job_Status } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import type { JobRow } from "../db/schema";

const at = (value: unknown) => (value instanceof Date ? timestampFromDate(value) : undefined);
const jobStatus = (status: unknown) => (typeof status === "string" ? Job_Status[status as keyof typeof Job_Status] : undefined);

/** Every field of a job (Get, Cancel, Collect and Watch share it). */
export function jobMessage(row: JobRow) {
  return {
    jobId: row.jobId,
    name: row.name,
    collectorId: row.collectorId,
    status: jobStatus(row.status),
    serviceAccountIds: row.serviceAccountIds,
    options: row.options,
    totalTaskCount: row.totalTaskCount,
    succeededTaskCount: row.succeededTaskCount,
    failedTaskCount: row.failedTaskCount,
    createdCount: row.createdCount,
    updatedCount: row.updatedCount,
    deletedCount: row.deletedCount,
    errorCount: row.errorCount,
    progress: row.progress,
    workspaceId: row.workspaceId,
    domainId: row.domainId,
    createdAt: at(row.createdAt),
    updatedAt: at(row.updatedAt),
    startedAt: at(row.startedAt),
    finishedAt: at(row.finishedAt),
    startedBy: row.startedBy,
  };
}

/** Exactly the fields of seed 000's Create Job response. */
export function jobCreatedMessage(row: JobRow) {
  return {
    jobId: row.jobId,
    collectorId: row.collectorId,
    status: jobStatus(row.status),
    createdAt: at(row.createdAt),
    startedAt: at(row.startedAt),
    finishedAt: at(row.finishedAt),
    totalTaskCount: row.totalTaskCount,
    succeededTaskCount: row.succeededTaskCount,
    failedTaskCount: row.failedTaskCount,
  };
}

export function jobListMessage(row: Record<string, unknown>) {
  return {
    jobId: row.job_id as string | undefined,
    name: row.name as string | undefined,
    collectorId: row.collector_id as string | undefined,
    status: jobStatus(row.status),
    serviceAccountIds: row.service_account_ids as string[] | undefined,
    options: row.options as JsonObject | undefined,
    totalTaskCount: row.total_task_count as number | undefined,
    succeededTaskCount: row.succeeded_task_count as number | undefined,
    failedTaskCount: row.failed_task_count as number | undefined,
    createdCount: row.created_count as number | undefined,
    updatedCount: row.updated_count as number | undefined,
    deletedCount: row.deleted_count as number | undefined,
    errorCount: row.error_count as number | undefined,
    progress: row.progress as number | undefined,
    workspaceId: row.workspace_id as string | undefined,
    domainId: row.domain_id as string | undefined,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
    startedAt: at(row.started_at),
    finishedAt: at(row.finished_at),
    startedBy: row.started_by as string | undefined,
  };
}
