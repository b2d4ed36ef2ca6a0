import type { SignalRow, WorkerTaskRow } from "../db/schema";
import { walkBlocks } from "../definitions/blocks";
import { jsonBytes, normalizeContext } from "../instances/rules";
import type { ExecutionState, NodeState } from "./execution-state";
import { HUMAN_REVIEW_SIGNAL } from "./handlers/human-review";
import { blockIdOfKey } from "./interpreter";
import type { PassState } from "./pass-state";

const AUDIT_LIMIT = 100;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The suspended steps waiting for a worker task, by task id. */
export function waitingTaskNodes(exec: ExecutionState): Map<string, NodeState> {
  const nodes = new Map<string, NodeState>();
  for (const node of Object.values(exec.nodes)) if (node.status === "suspended" && typeof node.data?.task_id === "string") nodes.set(node.data.task_id, node);
  return nodes;
}

/** Hands each finished task's result to the step waiting for it (the step resumes at the next walk). */
export function applyTaskResults(waiting: Map<string, NodeState>, tasks: WorkerTaskRow[]): void {
  for (const task of tasks) {
    const node = waiting.get(task.id)!;
    node.data = {
      ...node.data,
      resume: true,
      task: { state: task.state, output: task.output, error_message: task.errorMessage, error_retryable: task.errorRetryable },
    };
  }
}

/**
 * Applies signals, in order, to the in-memory instance (persisted by the absorbing transaction).
 * Returns the state they move the instance to (paused, running, cancelled), or undefined when it
 * stays as it is; `run.expected` is left unchanged either way.
 */
export function applySignals(run: PassState, signals: SignalRow[], maxContextBytes: number): string | undefined {
  const before = run.expected;
  for (const signal of signals) applySignal(run, signal.signalType, signal.payload, maxContextBytes);
  const to = run.expected;
  run.expected = before;
  return to === before ? undefined : to;
}

/** One signal's effect: the audit trail, a state to move to, the context, or a review's answer. */
function applySignal(run: PassState, type: string, payload: unknown, maxContextBytes: number): void {
  const context = run.context;
  const audit = Array.isArray(context.audit) ? (context.audit as unknown[]) : (context.audit = []);
  if (type !== "context_patch") audit.push({ event: "signal", signal_type: type, ...(type.startsWith("custom:") ? { payload } : {}), at: new Date().toISOString() });
  if (audit.length > AUDIT_LIMIT) audit.splice(0, audit.length - AUDIT_LIMIT);
  if (run.expected === "cancelled") return;
  switch (type) {
    case "pause":
      if (run.expected === "running") run.expected = "paused";
      return;
    case "resume":
      if (run.expected === "paused") run.expected = "running";
      return;
    case "cancel":
      if (inCancellationScope(run)) run.exec.cancelRequested = true;
      else run.expected = "cancelled";
      return;
    case "update_context": {
      if (!isObject(payload)) return;
      const data = { ...((context.data as Record<string, unknown> | undefined) ?? {}), ...payload };
      if (jsonBytes({ ...context, data }) > maxContextBytes) {
        audit.push({ event: "signal_rejected", signal_type: type, reason: "context would exceed max_context_bytes", at: new Date().toISOString() });
        return;
      }
      context.data = data;
      return;
    }
    case "context_patch":
      if (isObject(payload)) Object.assign(context, normalizeContext({ ...context, ...payload }, "context"));
      return;
    case HUMAN_REVIEW_SIGNAL: {
      const target = isObject(payload) && typeof payload.block_id === "string" ? payload.block_id : undefined;
      for (const [key, node] of Object.entries(run.exec.nodes)) {
        if (node.status !== "suspended" || !node.data?.review_pending || node.data.review) continue;
        if (target !== undefined && blockIdOfKey(key) !== target) continue;
        node.data = { ...node.data, review: isObject(payload) ? payload : {}, resume: true };
        return;
      }
      return;
    }
  }
}

/** Whether a cancellation_scope is running: an external cancel then waits until it ends. */
function inCancellationScope(run: PassState): boolean {
  const index = new Map(run.sequence.index);
  for (const injected of Object.values(run.exec.injected ?? {})) for (const block of walkBlocks(injected)) index.set(block.id, block);
  return Object.entries(run.exec.nodes).some(([key, node]) => node.status === "running" && index.get(blockIdOfKey(key))?.type === "cancellation_scope");
}
