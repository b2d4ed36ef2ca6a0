import type { EventBus, EventSubscription, PlatformEvent, ProcessedEventStore } from "@cloudforet/events";
import type { Logger } from "pino";
import type { Severity } from "../db/schema";
import type { NotificationSender } from "./notification-sender";
import { MAX_TITLE, type SendInput } from "./rules";

export const JOB_FINISHED_SUBJECT = "cloudforet.inventory.job.finished";
export const JOB_FINISHED_CONSUMER = "notification-job-finished";

/**
 * The data of `cloudforet.inventory.job.finished` as inventory publishes it (the envelope's
 * `domainId` is the job's domain too):
 *
 * ```
 * { job_id: string, collector_id: string, collector_name?: string, domain_id: string,
 *   workspace_id?: string, status: "FINISHED" | "FAILURE" | "CANCELED" | "TIMEOUT",
 *   created_count: number, updated_count: number, deleted_count: number, error_count: number,
 *   tags?: { [key: string]: string } }
 * ```
 */
export interface JobFinishedData {
  job_id: string;
  collector_id: string;
  collector_name?: string;
  domain_id: string;
  workspace_id?: string;
  status: string;
  created_count: number;
  updated_count: number;
  deleted_count: number;
  error_count: number;
  tags?: Record<string, string>;
}

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

/** Checks an event's data; undefined (and the event is dropped) when it is not a job.finished payload. */
export function parseJobFinished(data: unknown): JobFinishedData | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as Record<string, unknown>;
  const str = (v: unknown) => typeof v === "string" && v.length > 0 && v.length <= 256;
  const count = (v: unknown) => v === undefined || (typeof v === "number" && Number.isSafeInteger(v) && v >= 0);
  if (!str(d.job_id) || !str(d.collector_id)) return undefined;
  if (!count(d.created_count) || !count(d.updated_count) || !count(d.deleted_count) || !count(d.error_count)) return undefined;
  const tags =
    typeof d.tags === "object" && d.tags !== null && !Array.isArray(d.tags)
      ? Object.fromEntries(Object.entries(d.tags as Record<string, unknown>).filter(([, v]) => typeof v === "string").slice(0, 50))
      : undefined;
  return {
    job_id: d.job_id as string,
    collector_id: d.collector_id as string,
    collector_name: str(d.collector_name) ? (d.collector_name as string) : undefined,
    domain_id: typeof d.domain_id === "string" ? d.domain_id : "",
    workspace_id: str(d.workspace_id) ? (d.workspace_id as string) : undefined,
    status: typeof d.status === "string" ? d.status : "FINISHED",
    created_count: (d.created_count as number | undefined) ?? 0,
    updated_count: (d.updated_count as number | undefined) ?? 0,
    deleted_count: (d.deleted_count as number | undefined) ?? 0,
    error_count: (d.error_count as number | undefined) ?? 0,
    tags: tags as Record<string, string> | undefined,
  };
}

/**
 * Raises a notification for every finished collection job, without anyone calling Send. Durable
 * (one consumer for all replicas) and idempotent: the notification and the event's processed marker
 * commit together, so a redelivered event never makes a second notice.
 */
export async function consumeJobFinished(deps: {
  bus: EventBus;
  processed: ProcessedEventStore;
  sender: NotificationSender;
  afterCommit: () => void;
  logger: Logger;
}): Promise<EventSubscription> {
  const log = deps.logger.child({ consumer: JOB_FINISHED_CONSUMER });
  return deps.bus.subscribe<unknown>({
    durable: JOB_FINISHED_CONSUMER,
    subjects: JOB_FINISHED_SUBJECT,
    handler: async (event: PlatformEvent<unknown>) => {
      const data = parseJobFinished(event.data);
      const domainId = event.domainId || data?.domain_id;
      if (!data || !domainId) {
        log.warn({ event_id: event.id }, "dropping a job.finished event without a job, collector or domain");
        return;
      }
      const outcome = await deps.processed.runOnce(JOB_FINISHED_CONSUMER, event.id, (tx) =>
        deps.sender.send(jobFinishedNotification(data), {
          domainId,
          workspaceId: data.workspace_id ?? "",
          channelScope: data.workspace_id ? undefined : "all",
          tx,
        }),
      );
      if (outcome.duplicate) {
        log.debug({ event_id: event.id }, "job.finished already notified");
        return;
      }
      deps.afterCommit();
      log.info({ event_id: event.id, job_id: data.job_id, notification_id: outcome.result.notificationId }, "collection job notified");
    },
  });
}
