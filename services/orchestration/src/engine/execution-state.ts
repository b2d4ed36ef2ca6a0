import type { Block } from "../definitions/blocks";

/**
 * The persisted execution tree of one instance. Each block execution is a node keyed by the block
 * id prefixed with the loop iterations it runs in ("poll#3/check"); ids are unique in a sequence,
 * so the key names one execution. Only the engine that holds the instance's lease writes it.
 */
export interface ExecutionState {
  nodes: Record<string, NodeState>;
  /** Counter giving terminal nodes their order (race winners, completion order). */
  seq: number;
  /** Blocks added by self_modify, keyed by the node of the step that added them (they run after it). */
  injected?: Record<string, Block[]>;
  /** A cancel signal arrived while a cancellation_scope was running; applied when it ends. */
  cancelRequested?: boolean;
}

export type NodeStatus = "pending" | "running" | "suspended" | "completed" | "failed" | "cancelled";

export interface NodeState {
  status: NodeStatus;
  /** Steps: 0-based attempt. */
  attempt?: number;
  /** Order in which the node became terminal. */
  seq?: number;
  error?: string;
  /** Block- or handler-specific state (route chosen, iteration, timer, worker task…). */
  data?: Record<string, unknown>;
}

export const emptyExecution = (): ExecutionState => ({ nodes: {}, seq: 0 });

export const isTerminal = (status: NodeStatus) => status === "completed" || status === "failed" || status === "cancelled";
