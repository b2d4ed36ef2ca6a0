import type { Database } from "@cloudforet/db";
import { enqueueEvent, eventSubject, ProcessedEvents, type EventBus, type EventSubscription, type PlatformEvent, inventorySubjects } from "@cloudforet/events";
import type { Logger } from "pino";
import { outbox, processedEvents } from "../db/schema";
import type { CollectionRepository } from "./collection-repository";

/** The part of inventory's `job_task.completed` event the sweep needs. */
interface CompletedTask {
  job_task_id: string;
  collector_id: string;
  service_account_id: string;
  status: string;
  /** When the task started, by inventory's database clock (ISO). Absent in events of an older inventory. */
  started_at?: string;
}

export const TASK_COMPLETED_SUBJECT = inventorySubjects.jobTaskCompleted;
export const SWEPT_SUBJECT = eventSubject("cloud_service", "cloud_service", "swept");
const consumer = "cloud-service-collection-sweep";

/**
 * Ends a finished collection on this side: when inventory reports a FINISHED task, the resources
 * of its collector and account that the task did not write are marked DISCONNECTED (DELETED at the
 * third miss in a row), and the counts go back to inventory as a `cloud_service.swept` event.
 * Inventory and cloud-service know each other only through these two events.
 *
 * Completions may be processed in any order, so a task only sweeps what was last collected before
 * it started (see CollectionRepository.sweepMissed); each event is applied once, whichever
 * replica receives it.
 */
export async function followCompletedTasks(options: {
  db: Database;
  bus: EventBus;
  resources: CollectionRepository;
  logger: Logger;
  kickOutbox: () => void;
}): Promise<EventSubscription> {
  const processed = new ProcessedEvents(options.db, processedEvents);
  return options.bus.subscribe<CompletedTask>({
    durable: consumer,
    subjects: TASK_COMPLETED_SUBJECT,
    handler: async (event) => {
      const swept = await sweepAfter(event, processed, options.resources, options.logger);
      if (swept) {
        options.logger.info({ job_task_id: event.data.job_task_id, ...swept }, "swept resources the collection did not see");
        options.kickOutbox();
      }
    },
  });
}

async function sweepAfter(event: PlatformEvent<CompletedTask>, processed: ProcessedEvents, resources: CollectionRepository, logger: Logger) {
  const task = event.data;
  if (!event.domainId || task?.status !== "FINISHED" || !task.collector_id || !task.service_account_id || !task.job_task_id) return undefined;
  const startedAt = startOf(task);
  const result = await processed.runOnce(consumer, event.id, async (tx) => {
    // Without the start time there is nothing safe to compare with: the old rule ("not written by
    // this task") disconnects, and at the third miss deletes, resources a newer task collected
    // whenever completions arrive out of order. Skipping only delays a disconnect to the next
    // collection, whose event (from an upgraded inventory) carries its start and counts the miss.
    const counts = startedAt
      ? await resources.sweepMissed(tx, {
          domainId: event.domainId!,
          collectorId: task.collector_id,
          account: task.service_account_id,
          jobTaskId: task.job_task_id,
          startedAt,
        })
      : { disconnectedCount: 0, deletedCount: 0 };
    await enqueueEvent(tx, outbox, {
      subject: SWEPT_SUBJECT,
      domainId: event.domainId,
      data: {
        job_task_id: task.job_task_id,
        collector_id: task.collector_id,
        account: task.service_account_id,
        disconnected_count: counts.disconnectedCount,
        deleted_count: counts.deletedCount,
      },
    });
    return counts;
  });
  if (!startedAt && !result.duplicate) {
    logger.warn({ job_task_id: task.job_task_id, event_id: event.id }, "completed task without started_at (older inventory): sweep skipped");
  }
  return result.duplicate ? undefined : result.result;
}

/** The task's start from the event, if it has a valid one. */
function startOf(task: CompletedTask): Date | undefined {
  if (typeof task.started_at !== "string") return undefined;
  const startedAt = new Date(task.started_at);
  return Number.isNaN(startedAt.getTime()) ? undefined : startedAt;
}
