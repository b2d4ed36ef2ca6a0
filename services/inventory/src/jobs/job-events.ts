import { create, toJson, type JsonObject } from "@bufbuild/protobuf";
import { eventSubject, inventorySubjects, type PayloadJson } from "@cloudforet/events";
import { JobEventSchema, type JobEvent } from "@cloudforet/proto/cloudforet/inventory/v1/events_pb";
import type { JobRow, JobTaskRow } from "../db/schema";

/** Subjects of job and task events: `cloudforet.inventory.job.<event>` and `cloudforet.inventory.job_task.<event>`. */
export const jobSubject = (event: string) => eventSubject("inventory", "job", event);
export const taskSubject = (event: string) => eventSubject("inventory", "job_task", event);
export const JOB_SUBJECTS = [inventorySubjects.everyJobEvent, inventorySubjects.everyJobTaskEvent];

/** A row as JSON: dates as ISO strings. */
type Jsonified<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

export type JobJson = Jsonified<JobRow>;
export type JobTaskJson = Jsonified<JobTaskRow>;

/**
 * What every job and task event carries (JobEvent in proto/cloudforet/inventory/v1/events.proto,
 * as JSON with its field names): the job after the change (its `version` orders events) and, for
 * task events, the task, whose rows are typed here. Flat copies of the task's key fields make the
 * event easy to consume (cloud-service's sweep reads them).
 */
export type JobEventData = Omit<PayloadJson<JobEvent>, "job" | "task" | "tags"> & { job: JobJson; task?: JobTaskJson };

function rowJson<T extends object>(row: T): Jsonified<T> {
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
  const event = create(JobEventSchema, {
    jobId: job.jobId,
    version: job.version,
    status: task ? task.status : job.status,
    job: rowJson(job) as JsonObject,
    ...(task ? { task: rowJson(task) as JsonObject, jobTaskId: task.jobTaskId, serviceAccountId: task.serviceAccountId, startedAt: task.startedAt?.toISOString() } : {}),
    collectorId: job.collectorId,
    collectorName,
    workspaceId: job.workspaceId,
    domainId: job.domainId,
    createdCount: counters.createdCount,
    updatedCount: counters.updatedCount,
    deletedCount: counters.deletedCount,
    errorCount: counters.errorCount,
  });
  // Inventory sets no tags: the empty map stays out of the JSON.
  const { tags: _none, ...data } = toJson(JobEventSchema, event, { useProtoFieldName: true, alwaysEmitImplicit: true }) as JsonObject;
  return data as unknown as JobEventData;
}

export function jobFromEvent(json: JobJson): JobRow {
  return fromJson<JobRow>(json, ["timeoutAt", "createdAt", "updatedAt", "startedAt", "finishedAt"]);
}

export function taskFromEvent(json: JobTaskJson): JobTaskRow {
  return fromJson<JobTaskRow>(json, ["createdAt", "updatedAt", "startedAt", "finishedAt"]);
}
