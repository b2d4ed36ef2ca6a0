import type { Database } from "@cloudforet/db";
import type { Logger } from "pino";
import type { WorkerTaskRow } from "../db/schema";
import type { OwnerScope } from "../access/tenants";
import type { ReportResult, TaskHolder, TaskOutcome, WorkerTaskRepository } from "../workers/repository";
import type { AdvancedPass, InstancePass } from "./instance-pass";
import type { Scheduler } from "./scheduler";

export interface ReportAdvanceDependencies {
  db: Database;
  tasks: Pick<WorkerTaskRepository, "report">;
  scheduler: Pick<Scheduler, "reserve">;
  pass: Pick<InstancePass, "advanceIn" | "resume" | "drop">;
  logger: Logger;
}

/**
 * A worker's report that moves its instance on at once. In one transaction: the report is applied
 * and, when the instance is waiting, free and this engine has room, the same statement locks the
 * instance row; its pass then takes the result in from memory, dispatches the next step and parks
 * it — so the worker's next poll finds that step's task already queued. The instance is never
 * marked running in between (the row lock is the claim: nobody else sees or takes it until the
 * commit), so a step costs the report, the dispatch and one checkpoint: no flag, no claim, no
 * re-read. Should the pass not park it in that round, its checkpoint claims it with this engine's
 * lease and the pass goes on after the commit.
 * Anything else (a busy engine, an instance held elsewhere or with a concurrency key, a pass that
 * fails) falls back to the report alone, after which the engine is told as before.
 */
export class ReportAdvance {
  constructor(private readonly deps: ReportAdvanceDependencies) {}

  async report(taskId: string, tenant: OwnerScope, holder: TaskHolder, outcome: TaskOutcome): Promise<ReportResult> {
    const { db, tasks, scheduler, pass, logger } = this.deps;
    const claim = scheduler.reserve();
    if (!claim) return tasks.report(taskId, tenant, holder, outcome);
    let reported = false;
    let advanced: AdvancedPass | undefined;
    try {
      const result = await db.transaction(async (tx) => {
        const applied = await tasks.report(taskId, tenant, holder, outcome, { exec: tx });
        reported = true;
        if (applied.locked && applied.task) {
          claim.claimed();
          advanced = await pass.advanceIn(tx, applied.locked, finishedTask(applied.task, outcome), claim);
        }
        return applied;
      });
      if (!advanced) {
        claim.release();
        return result;
      }
      void pass.resume(advanced).finally(() => claim.release());
      return { ...result, advanced: true };
    } catch (err) {
      if (advanced) pass.drop(advanced);
      claim.release();
      if (!reported) throw err;
      // The transaction wrote nothing (or its commit was lost): the report alone, as without an engine.
      logger.warn({ err, task_id: taskId }, "moving the instance on with its worker's report failed; applying the report alone");
      return tasks.report(taskId, tenant, holder, outcome);
    }
  }
}

/** The task as the report just left it: what its step takes in. */
function finishedTask(task: WorkerTaskRow, outcome: TaskOutcome): WorkerTaskRow {
  const completed = outcome.state === "completed";
  return {
    ...task,
    state: outcome.state,
    completedAt: new Date(),
    output: completed ? outcome.output : null,
    errorMessage: completed ? null : outcome.message,
    errorRetryable: completed ? null : outcome.retryable,
  };
}
