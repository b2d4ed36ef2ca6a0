import { conflict, invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import type { WorkerTaskRow } from "../db/schema";
import { isUuid } from "../ids";
import { jsonBytes } from "../instances/rules";
import type { TaskWaiters } from "./task-waiters";
import type { TaskHolder, TaskOutcome, WorkerTaskRepository } from "./worker-task-repository";

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Longest long poll a worker may ask for. */
export const MAX_WAIT_MS = 30_000;
/** While a long poll waits, it looks at the queue itself at most this often (a wake-up may have been lost). */
const FALLBACK_RECHECK_MS = 1_000;
/**
 * A wake-up whose claim found nothing may have been announced a moment before its transaction
 * committed (announcements ride on the engine's next commit, see TaskWakeups): look once more soon.
 */
const RECHECK_AFTER_EMPTY_WAKE_MS = 50;

export interface PollRequest {
  handlerName: unknown;
  workerId: unknown;
  limit: unknown;
  /** Long poll: how long to wait for a task when none is ready (0..30,000 ms; absent: 0). */
  waitMs?: unknown;
}

/** What a worker reports about a task; `claimEpoch`, when given, must be the task's current claim. */
export interface TaskReport {
  workerId: unknown;
  claimEpoch?: unknown;
}

function optionalInt(value: unknown, parameter: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(`${parameter} must be an integer from ${min} to ${max}`, { parameter, value: String(value) });
  }
  return value;
}

const requiredText = (value: unknown, parameter: string): string => {
  if (typeof value !== "string" || value === "") throw missingParameter(parameter);
  return value;
};

function holderOf(report: TaskReport): TaskHolder {
  return { workerId: requiredText(report.workerId, "worker_id"), claimEpoch: optionalInt(report.claimEpoch, "claim_epoch", 0, 2 ** 31 - 1) };
}

/**
 * The reporting worker does not hold the task (now): someone else does, it was reaped, or it is
 * finished. ERROR_CONFLICT (REST 409).
 */
function notHeldBy(task: WorkerTaskRow, holder: TaskHolder): Error {
  const state = task.state === "claimed" ? `claimed by ${task.workerId} (claim ${task.claimEpoch})` : task.state;
  const sent = holder.claimEpoch === undefined ? holder.workerId : `${holder.workerId} (claim ${holder.claimEpoch})`;
  return conflict(`task is ${state}; not claimed by ${sent}`, { task_id: task.id, state: task.state, claim_epoch: task.claimEpoch });
}

/**
 * The external worker protocol (seed 002 "External Workers"): poll (with an optional long poll),
 * complete, fail and heartbeat, each scoped to the caller's tenant. Every claim gets a new
 * `claim_epoch`; a report that sends an older one is refused, so a worker whose task was reaped
 * (and maybe claimed again, even under the same worker_id) cannot finish it twice.
 */
export class Workers {
  constructor(
    private readonly tasks: WorkerTaskRepository,
    private readonly wake: (instanceId: string) => void,
    private readonly waiters: TaskWaiters,
  ) {}

  /**
   * Claims up to `limit` ready tasks. With `waitMs` and none ready, waits until one of the
   * handler (and tenant) is dispatched — woken in-process or over NATS — then claims; [] after
   * `waitMs`, or when `signal` aborts (the caller went away). Every call names the tenant it acts
   * for (the caller's domain; undefined only without auth).
   */
  async poll(tenant: string | undefined, request: PollRequest, signal?: AbortSignal): Promise<WorkerTaskRow[]> {
    const handlerName = requiredText(request.handlerName, "handler_name");
    const workerId = requiredText(request.workerId, "worker_id");
    const limit = request.limit === 0 ? 1 : (optionalInt(request.limit, "limit", 1, 100) ?? 1);
    const waitMs = optionalInt(request.waitMs, "wait_ms", 0, MAX_WAIT_MS) ?? 0;
    if (waitMs === 0) return this.tasks.claim(tenant, handlerName, workerId, limit);

    // Registered before the first claim, so a dispatch committed while the claim runs still wakes us.
    const ticket = this.waiters.register({ tenant, handlerName });
    try {
      const deadline = Date.now() + waitMs;
      let last: "woken" | "timeout" | "aborted" | undefined;
      for (;;) {
        const claimed = await this.tasks.claim(tenant, handlerName, workerId, limit);
        if (claimed.length > 0) {
          if (!signal?.aborted) return claimed;
          await this.tasks.release(claimed, workerId); // nobody is left to receive them
          return [];
        }
        const left = deadline - Date.now();
        if (left <= 0 || signal?.aborted) return [];
        last = await ticket.wait(Math.min(left, last === "woken" ? RECHECK_AFTER_EMPTY_WAKE_MS : FALLBACK_RECHECK_MS), signal);
        if (last === "aborted") return [];
      }
    } finally {
      ticket.dispose();
    }
  }

  /** The task's output becomes the step's BlockOutput and the instance moves on at once. */
  async complete(tenant: string | undefined, taskId: string, report: TaskReport, output: unknown): Promise<void> {
    if (output !== undefined && output !== null && !isObject(output)) throw invalidParameter("output must be an object", { parameter: "output" });
    const result = (output as Record<string, unknown> | undefined) ?? {};
    await this.report(tenant, taskId, holderOf(report), { state: "completed", output: result, outputSize: jsonBytes(result) });
  }

  /** Retryable: the step's retry policy applies. Permanent: the step fails (a try_catch may recover). */
  async fail(tenant: string | undefined, taskId: string, report: TaskReport, message: unknown, retryable: unknown): Promise<void> {
    const holder = holderOf(report);
    if (typeof message !== "string" || message === "") throw missingParameter("message");
    await this.report(tenant, taskId, holder, { state: "failed", message, retryable: retryable === true });
  }

  /** Extends the claim; ERROR_CONFLICT tells the worker the task is no longer its own (stop working). */
  async heartbeat(tenant: string | undefined, taskId: string, report: TaskReport): Promise<void> {
    const holder = holderOf(report);
    const { task, applied } = isUuid(taskId) ? await this.tasks.heartbeat(taskId.toLowerCase(), tenant, holder) : { task: undefined, applied: false };
    if (!task) throw notFound("worker task not found", { task_id: taskId });
    if (!applied) throw notHeldBy(task, holder);
  }

  /**
   * Applies a worker's report to a task it holds and wakes the instance's engine. Another tenant's
   * task is answered exactly like a missing one; repeating the same report (same claim) is a no-op.
   */
  private async report(tenant: string | undefined, taskId: string, holder: TaskHolder, outcome: TaskOutcome): Promise<void> {
    const { task, applied } = isUuid(taskId) ? await this.tasks.report(taskId.toLowerCase(), tenant, holder, outcome) : { task: undefined, applied: false };
    if (!task) throw notFound("worker task not found", { task_id: taskId });
    if (applied) return this.wake(task.instanceId);
    const sameClaim = holder.claimEpoch === undefined || holder.claimEpoch === task.claimEpoch;
    if (sameClaim && task.state === outcome.state && task.workerId === holder.workerId) return;
    throw notHeldBy(task, holder);
  }
}
