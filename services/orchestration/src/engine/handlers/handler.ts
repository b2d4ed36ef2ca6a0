import type { Database, Transaction } from "@cloudforet/db";
import type { Logger } from "pino";
import type { Block } from "../../definitions/blocks";
import type { EvaluationScope } from "../../expressions/paths";
import { boundPeerText } from "./peer-text";

/** What a step's handler reports. */
export type StepOutcome =
  | {
      kind: "completed";
      output: Record<string, unknown>;
      /** Blocks to run right after this step (self_modify). */
      inject?: Block[];
      /** The output is already stored (a worker's CompleteTask stored it). */
      outputStored?: boolean;
    }
  | { kind: "failed"; message: string; retryable: boolean }
  /** Not finished: run the handler again at `until`, or when a signal or worker result arrives. */
  | { kind: "suspended"; data: Record<string, unknown>; until?: number; external: boolean }
  /** Hand the step to another handler (human_review's escalation_handler after its timeout). */
  | { kind: "escalate"; handler: string };

/**
 * How a handler's work relates to the instance's checkpoints:
 * - pure: no effect outside the instance (its result is saved with the next checkpoint);
 * - transactional: its effects are database writes, made in the same transaction as the
 *   checkpoint that records its completion, so they happen exactly once;
 * - external: effects outside the database (HTTP), checkpointed as soon as it returns.
 */
export type HandlerEffects = "pure" | "transactional" | "external";

export interface RunningInstanceInfo {
  id: string;
  domainId: string;
  tenantId: string;
  namespace: string;
  sequenceId: string;
  timezone: string;
  metadata: Record<string, unknown>;
}

export interface StepInvocation {
  instance: RunningInstanceInfo;
  /** The handler name the step asked for. */
  handler: string;
  blockId: string;
  /** The execution-tree node of this run of the step. */
  key: string;
  attempt: number;
  /** The step's params with templates resolved. */
  params: Record<string, unknown>;
  /** The live execution context (transform writes to context.data). */
  context: Record<string, unknown>;
  /** The instance-scoped key/value state (set_state & co. change it in place). */
  state: Record<string, unknown>;
  /** What this node kept from an earlier run of the handler (timers, task ids, review answers). */
  data: Record<string, unknown>;
  /** The step's timeout, when it has one. */
  timeoutMs?: number;
  /** The step's queue_name: its worker task goes to workers polling that queue. */
  queueName?: string;
  /** What templates, conditions and expressions of this step read (context, outputs, instance, state). */
  scope: EvaluationScope;
  now: number;
  signal: AbortSignal;
  /** The checkpoint transaction, for transactional handlers. */
  tx?: Transaction;
  /** Every block id the instance knows (definition and injected), for self_modify. */
  knownBlockIds(): Iterable<string>;
}

export interface StepHandler {
  effects: HandlerEffects;
  /**
   * A transactional handler whose writes can make other instances due (a child instance created,
   * a signal sent): the scheduler looks for due instances once its transaction commits. Others
   * (a worker task dispatched) spare every step that claim.
   */
  wakesInstances?: boolean;
  run(step: StepInvocation): Promise<StepOutcome>;
}

export interface HandlerDependencies {
  db: Database;
  logger: Logger;
}

/** A failure a handler throws; anything else thrown counts as retryable when it is a connection error. */
export class StepError extends Error {
  override name = "StepError";
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

// Failure texts often carry a peer's words (a URL, a worker's message): bounded once, here.
export const permanent = (message: string): StepOutcome => ({ kind: "failed", message: boundPeerText(message), retryable: false });
export const retryable = (message: string): StepOutcome => ({ kind: "failed", message: boundPeerText(message), retryable: true });
export const completed = (output: Record<string, unknown> = {}): StepOutcome => ({ kind: "completed", output });

export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
