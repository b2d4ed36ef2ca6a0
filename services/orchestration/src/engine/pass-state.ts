import type { blockOutputs, InstanceRow } from "../db/schema";
import { normalizeContext } from "../instances/rules";
import type { ExecutionState } from "./execution-state";
import { isTerminal } from "./execution-state";
import type { LoadedSequence } from "./sequence-cache";

export type NewOutput = typeof blockOutputs.$inferInsert;

/** The in-memory state of one pass over a claimed instance, checkpointed as it goes. */
export interface PassState {
  row: InstanceRow;
  sequence: LoadedSequence;
  context: Record<string, unknown>;
  exec: ExecutionState;
  kv: Record<string, unknown>;
  /** The stored state this engine believes the instance has: running, or paused while it only takes signals. */
  expected: string;
  /** Latest output per block id, loaded when templates or conditions read outputs. */
  outputs?: Record<string, unknown>;
  pendingOutputs: NewOutput[];
  cancelTasks: string[];
  /** The stored row says a signal or worker result is waiting. */
  attention: boolean;
  /** The stored state was changed by someone else (PATCH /state): stop and let go. */
  stoppedBy?: string;
  /** The instance was released (paused, cancelled, finished). */
  done: boolean;
  /** Serializes this instance's checkpoints. */
  chain: Promise<unknown>;
  /** When the pass last looked at the stored needs_attention flag. */
  attentionCheckedAt: number;
  /** The instance ended and gave back its concurrency slot: waiters of its key may run now. */
  freedSlot?: boolean;
  /** A waiter for a concurrency slot, claimed only to take in its signals: it parks again after. */
  slotless: boolean;
  /**
   * Held by the open transaction's row lock alone, not by a lease (a worker's report took it in
   * place, ReportAdvance): a checkpoint that does not let go of it claims it with this lease.
   */
  claimAs?: LeaseClaim;
}

/** A lease to claim an instance with: the claim's token and how long it holds. */
export interface LeaseClaim {
  token: string;
  leaseMs: number;
}

/** The state a checkpoint moves the instance to, and whether it lets go of it. */
export interface StateChange {
  to: string;
  next: number | null;
  release: boolean;
}

/** The engine lost its lease on the instance (another replica recovered it): stop without writing. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
}

export const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/** A pass over `row` (just claimed and parsed; nothing else holds it, so no copies are made). */
export function newPassState(row: InstanceRow, sequence: LoadedSequence | undefined, slotless: boolean): PassState {
  return {
    row,
    sequence: sequence ?? { id: row.sequenceId, blocks: [], index: new Map(), readsOutputs: false },
    context: normalizeContext(row.context, "context"),
    exec: row.execution ?? { nodes: {}, seq: 0 },
    kv: row.kv ?? {},
    expected: row.state,
    pendingOutputs: [],
    cancelTasks: [],
    attention: row.needsAttention,
    done: false,
    chain: Promise.resolve(),
    attentionCheckedAt: Date.now(),
    slotless,
  };
}

/** Runs `work` after the instance's previous checkpoint finished. */
export function serial<T>(run: PassState, work: () => Promise<T>): Promise<T> {
  const next = run.chain.then(work, work);
  run.chain = next.catch(() => {});
  return next;
}

export const hasTaskNodes = (exec: ExecutionState) => Object.values(exec.nodes).some((node) => typeof node.data?.task_id === "string");

/** The instance is cancelled: its unfinished worker tasks are withdrawn with the checkpoint. */
export function withdrawOpenTasks(run: PassState): void {
  for (const node of Object.values(run.exec.nodes)) if (typeof node.data?.task_id === "string" && !isTerminal(node.status)) run.cancelTasks.push(node.data.task_id);
}
