import type { OwnerScope } from "../access/tenants";
import { conflict, invalidParameter, missingParameter, notFound, payloadTooLarge } from "@cloudforet/errors";
import { INPUT_LIMITS } from "@cloudforet/runtime";
import type { WorkerTaskRow } from "../db/schema";
import { isUuid } from "../ids";
import type { EngineEvents } from "../engine/engine-events";
import { boundPeerText } from "../engine/handlers/peer-text";
import type { TaskWaiters } from "./task-waiters";
import type { TaskHolder, TaskOutcome, WorkerTaskRepository } from "./repository";

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
  /** The queue to take tasks from (steps naming that queue_name); absent: the default queue. */
  queueName?: unknown;
}

const QUEUE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$/;

function queueOf(value: unknown): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string" || !QUEUE_NAME.test(value)) throw invalidParameter("queue_name must be 1-128 letters, digits, _ . : / -", { parameter: "queue_name" });
  return value;
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

/** Default of ORCHESTRATION_MAX_OUTPUT_BYTES: the largest task output stored (serialized JSON). */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

export interface WorkersOptions {
  /** Larger outputs are refused with ERROR_PAYLOAD_TOO_LARGE (ORCHESTRATION_MAX_OUTPUT_BYTES). */
  maxOutputBytes: number;
}

/**
 * The serialized size of a worker's output, after checking it walks safely: nested deeper than the
 * platform's input limit is INVALID_ARGUMENT naming `output` (checked iteratively, before anything
 * recursive such as JSON.stringify or a later template sees it), larger than `max` bytes is
 * ERROR_PAYLOAD_TOO_LARGE. Outputs are refused rather than stored out of line: a step's output
 * lands in the instance's context, which has its own cap anyway.
 */
function checkedOutputSize(output: Record<string, unknown>, max: number): number {
  const stack: { value: unknown; depth: number }[] = [{ value: output, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    if (depth >= INPUT_LIMITS.maxDepth) throw invalidParameter(`output is nested deeper than ${INPUT_LIMITS.maxDepth} levels`, { parameter: "output" });
    for (const child of Array.isArray(value) ? value : Object.values(value)) if (child !== null && typeof child === "object") stack.push({ value: child, depth: depth + 1 });
  }
  const size = Buffer.byteLength(JSON.stringify(output));
  if (size > max) throw payloadTooLarge(`output is ${size} bytes, more than the ${max}-byte limit for a task output`, { parameter: "output", size, limit: max });
  return size;
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
  /**
   * Applies reports when this replica runs an engine with room: the instance takes the result in
   * and dispatches its next step in the report's own transaction. Absent: the report is applied
   * alone and the engine is told (`workerTaskCompleted`).
   */
  advance?: Pick<WorkerTaskRepository, "report">;

  constructor(
    private readonly tasks: WorkerTaskRepository,
    /** Hears of each applied report: the task's instance takes the result in. */
    private readonly events: Pick<EngineEvents, "workerTaskCompleted">,
    private readonly waiters: TaskWaiters,
    private readonly options: WorkersOptions = { maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES },
  ) {}

  /**
   * Claims up to `limit` ready tasks. With `waitMs` and none ready, waits until one of the
   * handler (and tenant) is dispatched — woken in-process or over NATS — then claims; [] after
   * `waitMs`, or when `signal` aborts (the caller went away). Every call names the tenant it acts
   * for (the caller's domain; undefined only without auth).
   */
  async poll(scope: OwnerScope, request: PollRequest, signal?: AbortSignal): Promise<WorkerTaskRow[]> {
    const handlerName = requiredText(request.handlerName, "handler_name");
    const workerId = requiredText(request.workerId, "worker_id");
    const limit = request.limit === 0 ? 1 : (optionalInt(request.limit, "limit", 1, 100) ?? 1);
    const waitMs = optionalInt(request.waitMs, "wait_ms", 0, MAX_WAIT_MS) ?? 0;
    const queueName = queueOf(request.queueName);
    if (waitMs === 0) return this.tasks.claim(scope, handlerName, workerId, limit, queueName);

    // Registered before the first claim, so a dispatch committed while the claim runs still wakes us.
    // Wake-ups are keyed by domain (every tenant of it): a poller naming a tenant re-claims and waits again.
    const ticket = this.waiters.register({ tenant: scope.domainId, handlerName });
    try {
      const deadline = Date.now() + waitMs;
      let last: "woken" | "timeout" | "aborted" | undefined;
      for (;;) {
        const claimed = await this.tasks.claim(scope, handlerName, workerId, limit, queueName);
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
  async complete(scope: OwnerScope, taskId: string, report: TaskReport, output: unknown): Promise<void> {
    if (output !== undefined && output !== null && !isObject(output)) throw invalidParameter("output must be an object", { parameter: "output" });
    const result = (output as Record<string, unknown> | undefined) ?? {};
    const holder = holderOf(report);
    const outputSize = checkedOutputSize(result, this.options.maxOutputBytes);
    await this.report(scope, taskId, holder, { state: "completed", output: result, outputSize });
  }

  /** Retryable: the step's retry policy applies. Permanent: the step fails (a try_catch may recover). */
  async fail(scope: OwnerScope, taskId: string, report: TaskReport, message: unknown, retryable: unknown): Promise<void> {
    const holder = holderOf(report);
    if (typeof message !== "string" || message === "") throw missingParameter("message");
    // A worker's words are stored in the task and become the step's error: bounded, no NUL.
    await this.report(scope, taskId, holder, { state: "failed", message: boundPeerText(message), retryable: retryable === true });
  }

  /** Extends the claim; ERROR_CONFLICT tells the worker the task is no longer its own (stop working). */
  async heartbeat(scope: OwnerScope, taskId: string, report: TaskReport): Promise<void> {
    const holder = holderOf(report);
    const { task, applied } = isUuid(taskId) ? await this.tasks.heartbeat(taskId.toLowerCase(), scope, holder) : { task: undefined, applied: false };
    if (!task) throw notFound("worker task not found", { task_id: taskId });
    if (!applied) throw notHeldBy(task, holder);
  }

  /**
   * Applies a worker's report to a task it holds and reports it (the instance's engine takes it in). Another tenant's
   * task is answered exactly like a missing one; repeating the same report (same claim) is a no-op.
   */
  private async report(scope: OwnerScope, taskId: string, holder: TaskHolder, outcome: TaskOutcome): Promise<void> {
    const reports = this.advance ?? this.tasks;
    const { task, applied, advanced } = isUuid(taskId) ? await reports.report(taskId.toLowerCase(), scope, holder, outcome) : { task: undefined, applied: false, advanced: false };
    if (!task) throw notFound("worker task not found", { task_id: taskId });
    if (applied) return advanced ? undefined : this.events.workerTaskCompleted(task.instanceId);
    const sameClaim = holder.claimEpoch === undefined || holder.claimEpoch === task.claimEpoch;
    if (sameClaim && task.state === outcome.state && task.workerId === holder.workerId) return;
    throw notHeldBy(task, holder);
  }
}
