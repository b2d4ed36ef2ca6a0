import { fromJson, type JsonObject } from "@bufbuild/protobuf";
import { inventorySubjects, type EventSubscription, type PayloadJson } from "@cloudforet/events";
import { JobEventSchema, type JobEvent } from "@cloudforet/proto/cloudforet/inventory/v1/events_pb";
import type { Severity } from "../db/schema";
import { consumeNotices, type NoticeConsumerDeps } from "./notice-consumer";
import { MAX_TITLE, type SendInput } from "./notifications";

export const JOB_FINISHED_SUBJECT = inventorySubjects.jobFinished;
export const JOB_FINISHED_CONSUMER = "notification-job-finished";

/**
 * What a `cloudforet.inventory.job.finished` notification is made of: inventory's JobEvent
 * (proto/cloudforet/inventory/v1/events.proto) as JSON with its field names, the fields this
 * consumer reads (the envelope's `domainId` is the job's domain too).
 */
export type JobFinishedData = Pick<PayloadJson<JobEvent>, "job_id" | "collector_id" | "domain_id" | "status" | "created_count" | "updated_count" | "deleted_count" | "error_count"> &
  Partial<Pick<PayloadJson<JobEvent>, "collector_name" | "workspace_id" | "tags">>;

const headline: Record<string, string> = {
  FINISHED: "Collection Complete",
  FAILURE: "Collection Failed",
  CANCELED: "Collection Canceled",
  TIMEOUT: "Collection Timed Out",
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * The notification a finished job raises, in the words of seed 000: "Collection Complete: <collector>"
 * / "Successfully collected 450 resources. 3 errors occurred.", tagged with the job's ids and counts;
 * WARNING when there were errors, ERROR when the job failed or timed out, INFO otherwise.
 */
export function jobFinishedNotification(data: JobFinishedData): SendInput {
  const collector = data.collector_name || data.collector_id;
  const resources = data.created_count + data.updated_count;
  const errors = data.error_count;
  const status = data.status || "FINISHED";
  const failed = status === "FAILURE" || status === "TIMEOUT";
  const severity: Severity = failed ? "ERROR" : errors > 0 ? "WARNING" : "INFO";
  const lead = status === "FINISHED" ? `Successfully collected ${plural(resources, "resource")}.` : `Collected ${plural(resources, "resource")} before the job ended ${status}.`;
  return {
    title: `${headline[status] ?? `Collection ${status}`}: ${collector}`.slice(0, MAX_TITLE),
    message: errors > 0 ? `${lead} ${plural(errors, "error")} occurred.` : lead,
    severity,
    notificationType: "SYSTEM",
    tags: {
      ...(data.tags ?? {}),
      collector_id: data.collector_id,
      job_id: data.job_id,
      resource_count: String(resources),
      error_count: String(errors),
    },
    channels: [],
    recipients: [],
  };
}

/**
 * Reads an event's data as a JobEvent (fields it does not know are ignored); undefined (and the
 * event is dropped) when it is not a job.finished payload: no job or collector id, a negative or
 * fractional count, a field of the wrong type.
 */
export function parseJobFinished(data: unknown): JobFinishedData | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  let event: JobEvent;
  try {
    event = fromJson(JobEventSchema, data as JsonObject, { ignoreUnknownFields: true });
  } catch {
    return undefined;
  }
  const str = (v: string | undefined): v is string => v !== undefined && v.length > 0 && v.length <= 256;
  if (!str(event.jobId) || !str(event.collectorId)) return undefined;
  const tags = Object.entries(event.tags).slice(0, 50);
  return {
    job_id: event.jobId,
    collector_id: event.collectorId,
    collector_name: str(event.collectorName) ? event.collectorName : undefined,
    domain_id: event.domainId,
    workspace_id: str(event.workspaceId) ? event.workspaceId : undefined,
    status: typeof (data as { status?: unknown }).status === "string" ? event.status : "FINISHED",
    created_count: event.createdCount,
    updated_count: event.updatedCount,
    deleted_count: event.deletedCount,
    error_count: event.errorCount,
    tags: tags.length > 0 ? Object.fromEntries(tags) : undefined,
  };
}

/** Every finished collection job, notified without anyone calling Send. */
export function consumeJobFinished(deps: NoticeConsumerDeps): Promise<EventSubscription> {
  return consumeNotices(deps, {
    durable: JOB_FINISHED_CONSUMER,
    subject: JOB_FINISHED_SUBJECT,
    parse: parseJobFinished,
    domainOf: (event, data) => event.domainId || data.domain_id,
    toSend: (data) => ({ input: jobFinishedNotification(data), workspaceId: data.workspace_id ?? "", channelScope: data.workspace_id ? undefined : "all" }),
    logFields: (data) => ({ job_id: data.job_id }),
    malformed: "dropping a job.finished event without a job, collector or domain",
    queued: "collection job notified",
  });
}
