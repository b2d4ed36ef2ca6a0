import type { Database } from "@cloudforet/db";
import { enqueueEvent, eventSubject, ProcessedEvents, type EventBus, type EventSubscription, type PlatformEvent } from "@cloudforet/events";
import type { Logger } from "pino";
import { outbox, processedEvents } from "../db/schema";
import type { CloudServiceRepository } from "./repository";

/** The part of inventory's `job_task.completed` event the sweep needs. */
interface CompletedTask {
  job_task_id: string;
  collector_id: string;
  service_account_id: string;
  status: string;
}

export const TASK_COMPLETED_SUBJECT = "cloudforet.inventory.job_task.completed";
export const SWEPT_SUBJECT = eventSubject("cloud_service", "cloud_service", "swept");
const consumer = "cloud-service-collection-sweep";

/**
 * Ends a finished collection on this side: when inventory reports a FINISHED task, the resources
 * of its collector and account that the task did not write are marked DISCONNECTED (DELETED at the
 * third miss in a row), and the counts go back to inventory as a `cloud_service.swept` event.
 * Inventory and cloud-service know each other only through these two events.
 */
export async function followCompletedTasks(options: {
  db: Database;
  bus: EventBus;
  resources: CloudServiceRepository;
  logger: Logger;
  kickOutbox: () => void;
}): Promise<EventSubscription> {
  const processed = new ProcessedEvents(options.db, processedEvents);
  return options.bus.subscribe<CompletedTask>({
    durable: consumer,
    subjects: TASK_COMPLETED_SUBJECT,
    handler: async (event) => {
      const swept = await sweepAfter(event, processed, options.resources);
      if (swept) {
        options.logger.info({ job_task_id: event.data.job_task_id, ...swept }, "swept resources the collection did not see");
        options.kickOutbox();
      }
    },
  });
}

async function sweepAfter(event: PlatformEvent<CompletedTask>, processed: ProcessedEvents, resources: CloudServiceRepository) {
  const task = event.data;
  if (!event.domainId || task?.status !== "FINISHED" || !task.collector_id || !task.service_account_id || !task.job_task_id) return undefined;
  const result = await processed.runOnce(consumer, event.id, async (tx) => {
    const counts = await resources.sweepMissed(tx, {
      domainId: event.domainId!,
      collectorId: task.collector_id,
      account: task.service_account_id,
      jobTaskId: task.job_task_id,
    });
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
  return result.duplicate ? undefined : result.result;
}
