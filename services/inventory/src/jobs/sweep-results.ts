import type { Database } from "@cloudforet/db";
import { ProcessedEvents, type EventBus, type EventSubscription, cloudServiceSubjects } from "@cloudforet/events";
import type { Logger } from "pino";
import { processedEvents } from "../db/schema";
import type { JobTasks } from "../job-tasks/job-tasks";

/** cloud-service's answer to a finished task: what its end-of-collection sweep did. */
interface SweptResources {
  job_task_id: string;
  disconnected_count: number;
  deleted_count: number;
}

export const SWEPT_SUBJECT = cloudServiceSubjects.cloudServiceSwept;
const consumer = "inventory-sweep-results";

/** Adds cloud-service's disconnect/delete counts to the task they belong to (and its job). */
export function followSweepResults(options: { db: Database; bus: EventBus; tasks: JobTasks; logger: Logger; kickOutbox: () => void }): Promise<EventSubscription> {
  const processed = new ProcessedEvents(options.db, processedEvents);
  return options.bus.subscribe<SweptResources>({
    durable: consumer,
    subjects: SWEPT_SUBJECT,
    handler: async (event) => {
      const data = event.data;
      if (!event.domainId || typeof data?.job_task_id !== "string") return;
      const counts = { disconnectedCount: nonNegative(data.disconnected_count), deletedCount: nonNegative(data.deleted_count) };
      const result = await processed.runOnce(consumer, event.id, (tx) => options.tasks.addSweepResult(event.domainId!, data.job_task_id, counts, tx));
      if (!result.duplicate) options.kickOutbox();
    },
  });
}

const nonNegative = (value: unknown) => (typeof value === "number" && Number.isInteger(value) && value > 0 ? value : 0);
