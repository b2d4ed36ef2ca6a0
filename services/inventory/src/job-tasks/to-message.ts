import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { JobTask_Status } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import type { JobTaskRow } from "../db/schema";

const at = (value: unknown) => (value instanceof Date ? timestampFromDate(value) : undefined);
const taskStatus = (status: unknown) => (typeof status === "string" ? JobTask_Status[status as keyof typeof JobTask_Status] : undefined);

/** Every field of a task (Get, List and Watch share it). */
export function taskMessage(row: JobTaskRow) {
  return {
    jobTaskId: row.jobTaskId,
    jobId: row.jobId,
    collectorId: row.collectorId,
    serviceAccountId: row.serviceAccountId,
    secretId: row.secretId,
    status: taskStatus(row.status),
    progress: row.progress,
    createdCount: row.createdCount,
    updatedCount: row.updatedCount,
    deletedCount: row.deletedCount,
    errorCount: row.errorCount,
    disconnectedCount: row.disconnectedCount,
    errors: row.errors,
    workspaceId: row.workspaceId,
    domainId: row.domainId,
    createdAt: at(row.createdAt),
    updatedAt: at(row.updatedAt),
    startedAt: at(row.startedAt),
    finishedAt: at(row.finishedAt),
  };
}

/** Exactly the fields of seed 000's Create JobTask response. */
export function taskCreatedMessage(row: JobTaskRow) {
  return {
    jobTaskId: row.jobTaskId,
    jobId: row.jobId,
    serviceAccountId: row.serviceAccountId,
    secretId: row.secretId,
    status: taskStatus(row.status),
    createdCount: row.createdCount,
    updatedCount: row.updatedCount,
    deletedCount: row.deletedCount,
    errorCount: row.errorCount,
    createdAt: at(row.createdAt),
    startedAt: at(row.startedAt),
    finishedAt: at(row.finishedAt),
  };
}

export function taskListMessage(row: Record<string, unknown>) {
  return {
    jobTaskId: row.job_task_id as string | undefined,
    jobId: row.job_id as string | undefined,
    collectorId: row.collector_id as string | undefined,
    serviceAccountId: row.service_account_id as string | undefined,
    secretId: row.secret_id as string | undefined,
    status: taskStatus(row.status),
    progress: row.progress as number | undefined,
    createdCount: row.created_count as number | undefined,
    updatedCount: row.updated_count as number | undefined,
    deletedCount: row.deleted_count as number | undefined,
    errorCount: row.error_count as number | undefined,
    disconnectedCount: row.disconnected_count as number | undefined,
    errors: row.errors as string[] | undefined,
    workspaceId: row.workspace_id as string | undefined,
    domainId: row.domain_id as string | undefined,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
    startedAt: at(row.started_at),
    finishedAt: at(row.finished_at),
  };
}
