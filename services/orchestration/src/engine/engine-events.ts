import type { InstanceRow } from "../db/schema";

/*
 * What the engine's parts tell each other, in one place. Every part that has news — the domain
 * (Instances, Triggers, cron, recurrent requests), the workers, the instance pass, the scheduler —
 * receives the process's EngineEvents object and reports on it; the one implementation
 * (`EngineEventRouter` in ../orchestration.ts) decides who hears it: the scheduler (claim now or
 * later), the instance pass (a signal for an instance it runs), the long-polling workers, watch
 * streams, and the other replicas over NATS. No part calls another back through a closure.
 *
 * The walk a reader follows, a worker completing a task:
 *
 *   workers/handlers.ts       WorkerService.CompleteTask → workers.complete(…)
 *   engine/report-advance.ts  On a replica whose engine has room, ReportAdvance.report: in one
 *                             transaction the report (WorkerTaskRepository.report) locks the
 *                             waiting instance, InstancePass.advanceIn takes the result in,
 *                             dispatches the next step and parks it; nobody else need be told.
 *                             Otherwise (no room, the instance held elsewhere, a concurrency key):
 *   workers/workers.ts        Workers.complete → report → WorkerTaskRepository.report (task finished,
 *                             output stored, instance flagged needs_attention, one statement)
 *                             → events.workerTaskCompleted(instanceId)
 *   orchestration.ts          EngineEventRouter.workerTaskCompleted → instanceSignalled:
 *                             pass.notify(id) (a pass running it here absorbs the result at once),
 *                             scheduler.kick() (claim the now-due instance), wakeups.publish() when
 *                             this engine has no room (another replica claims it)
 *   engine/scheduler.ts       Scheduler.claimLoop → claim → launch → events.instanceStateChanged
 *                             (running) → pass.run(row)
 *   engine/instance-pass.ts   InstancePass.drive → absorb (checkpoint-repository takeArrivals, the
 *                             task result lands on its node) → walk → StepExecutor.execute: the
 *                             next step; a worker step dispatches its task in a transactional
 *                             checkpoint → events.workerTaskDispatched (WorkerTaskRepository.dispatch)
 *                             then events.stepCommitted → TaskWakeups wakes the long-polling workers.
 */

/** A state change of an instance (`from` absent when the reporter does not know it: a claim). */
export interface InstanceStateChange {
  from?: string;
  to: string;
  /** The fire time it parks with (ms), or null. */
  next: number | null;
}

/** A worker task the reaper put back in the queue. */
export interface RequeuedTask {
  tenantId: string;
  handlerName: string;
}

export interface EngineEvents {
  /**
   * `count` instances became due now (created, rescheduled, retried, slot waiters woken): claim
   * here, and tell the other replicas when this engine cannot take them all.
   */
  instancesDue(count?: number): void;
  /**
   * This engine let go of an instance that is due at `at` (ms; now when absent) — a timer it
   * parked, a hand-back, a slot waiter back in line: claim again here then.
   */
  instanceDue(instanceId: string, at?: number): void;
  /** A signal (or a context patch) was committed for an instance: due now, and absorbed at once by a pass running it here. */
  instanceSignalled(instanceId: string): void;
  /**
   * A committed (or being committed) state change of an instance: InstanceService.Watch hears it.
   * Its webhook deliveries are not queued here: the statement that changed the state wrote them.
   */
  instanceStateChanged(row: InstanceRow, change: InstanceStateChange): void;
  /**
   * A transactional step's checkpoint committed: what it did (worker tasks dispatched, and with
   * `wakesInstances` instances created or signalled) is visible now.
   */
  stepCommitted(wakesInstances: boolean): void;
  /** A worker task was inserted in a transaction about to commit (announced to the pollers once committed). */
  workerTaskDispatched(tenantId: string, handlerName: string): void;
  /** A worker's report (completion or failure) on a task was applied: its instance takes the result in. */
  workerTaskCompleted(instanceId: string): void;
  /** The reaper put tasks back in the queue: their long-pollers may claim them. */
  workerTasksRequeued(tasks: RequeuedTask[]): void;
}
