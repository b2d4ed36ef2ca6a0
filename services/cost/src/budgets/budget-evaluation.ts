import { costSubjects, type EventBus, type EventSubscription, type PlatformEvent } from "@cloudforet/events";
import type { Logger } from "pino";
import type { BudgetRepository } from "./repository";

export const BUDGET_EVALUATION_CONSUMER = "cost-budget-evaluation";

/** The fields of a `cost_batch.created` event this consumer reads. */
interface CostBatchCreated {
  job_id?: unknown;
  /** Set instead of a job for a cost created alone (CostService.Create). */
  cost_id?: unknown;
  data_source_id?: unknown;
  workspace_id?: unknown;
}

/**
 * Evaluates budgets as costs arrive: every committed cost batch (its outbox event) sums the periods
 * it touched for the budgets it concerns. Durable and shared by all replicas; idempotent because a
 * notice is a unique row per budget, period and threshold, so redelivery or a second replica adds
 * nothing. A failed evaluation is redelivered by the bus.
 */
export function consumeCostBatches(deps: { bus: EventBus; budgets: BudgetRepository; logger: Logger }): Promise<EventSubscription> {
  const log = deps.logger.child({ consumer: BUDGET_EVALUATION_CONSUMER });
  return deps.bus.subscribe<CostBatchCreated>({
    durable: BUDGET_EVALUATION_CONSUMER,
    subjects: costSubjects.costBatchCreated,
    handler: async (event: PlatformEvent<CostBatchCreated>) => {
      const data = event.data ?? {};
      const text = (value: unknown) => (typeof value === "string" ? value : "");
      const jobId = text(data.job_id);
      const costId = text(data.cost_id) || undefined;
      if (!event.domainId || !(jobId || costId)) {
        log.warn({ event_id: event.id }, "dropping a cost_batch.created event without a domain, job or cost");
        return;
      }
      const notified = await deps.budgets.evaluateBatch({ domainId: event.domainId, jobId, costId, workspaceId: text(data.workspace_id), dataSourceId: text(data.data_source_id) });
      if (notified > 0) log.info({ event_id: event.id, job_id: jobId, notices: notified }, "budget thresholds reached");
    },
  });
}
