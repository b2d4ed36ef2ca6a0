import { eventSubject } from "@cloudforet/events";
import type { JobRow, JobTaskRow } from "../db/schema";

/** Subjects of job and task events: `cloudforet.inventory.job.<event>` and `cloudforet.inventory.job_task.<event>`. */
export const jobSubject = (event: string) => eventSubject("inventory", "job", event);
export const taskSubject = (event: string) => eventSubject("inventory", "job_task", event);
export const JOB_SUBJECTS = ["cloudforet.inventory.job.>", "cloudforet.inventory.job_task.>"];

/** A row as JSON: dates as ISO strings. */
type Jsonified<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

export type JobJson = Jsonified<JobRow>;
export type JobTaskJson = Jsonified<JobTaskRow>;

/**
 * What every job and task event carries: the job after the change (its `version` orders events)
 * and, for task events, the task. Flat copies of the task's key fields make the event easy to
 * consume (cloud-service's sweep reads them).
 */
export interface JobEventData {
  job_id: string;
  version: number;
  /** The task's status for task events, the job's for job events. */
  status: string;
  job: JobJson;
  task?: JobTaskJson;
  job_task_id?: string;
  collector_id: string;
  /** Set on `job.finished`. */
  collector_name?: string;
  service_account_id?: string;
  workspace_id: string;
  domain_id: string;
  /** The job's counters (task events: the task's). */
  created_count: number;
  updated_count: number;
  deleted_count: number;
  error_count: number;
}

function toJson<T extends object>(row: T): Jsonified<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = value instanceof Date ? value.toISOString() : value;
  return out as Jsonified<T>;
}

function fromJson<T>(json: object, dateKeys: string[]): T {
  const out: Record<string, unknown> = { ...json };
  for (const key of dateKeys) out[key] = typeof out[key] === "string" ? new Date(out[key] as string) : null;
  return out as T;
}

export function jobEventData(job: JobRow, task?: JobTaskRow, collectorName?: string): JobEventData {
  const counters = task ?? job;
  return {
    job_id: job.jobId,
    version: job.version,
    status: task ? task.status : job.status,
    job: toJson(job),
    ...(task ? { task: toJson(task), job_task_id: task.jobTaskId, service_account_id: task.serviceAccountId } : {}),
    collector_id: job.collectorId,
    ...(collectorName !== undefined ? { collector_name: collectorName } : {}),
    workspace_id: job.workspaceId,
    domain_id: job.domainId,
    created_count: counters.createdCount,
    updated_count: counters.updatedCount,
    deleted_count: counters.deletedCount,
    error_count: counters.errorCount,
  };
}

export function jobFromEvent(json: JobJson): JobRow {
  return fromJson<JobRow>(json, ["timeoutAt", "createdAt", "updatedAt", "startedAt", "finishedAt"]);
}

export function taskFromEvent(json: JobTaskJson): JobTaskRow {
  return fromJson<JobTaskRow>(json, ["createdAt", "updatedAt", "startedAt", "finishedAt"]);
}
