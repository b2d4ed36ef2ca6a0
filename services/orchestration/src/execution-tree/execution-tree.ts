import { childLists, type Block } from "../definitions/blocks";
import type { ExecutionState, NodeStatus } from "../engine/execution-state";

/** A node of an instance's execution tree, in the engine's shape (`GET /instances/{id}/tree`). */
export interface ExecutionTreeNode {
  /** The node's key in the stored tree: the block id behind its loop iterations (`poll#3/check`). */
  id: string;
  instance_id: string;
  block_id: string;
  parent_id: string | null;
  block_type: Block["type"];
  /** Which branch, route, variant or try/catch/finally list of its parent (or loop iteration) it runs in. */
  branch_index: number | null;
  state: "pending" | "running" | "waiting" | "completed" | "failed" | "cancelled";
  /** Steps: the 0-based attempt. */
  attempt: number | null;
  error: string | null;
  /** Ids of the child nodes, in definition order. */
  children: string[];
  started_at: string | null;
  completed_at: string | null;
}

/** Our node statuses in the engine's words: a suspended step (timer, worker task, review) is `waiting`. */
const STATES: Record<NodeStatus, ExecutionTreeNode["state"]> = {
  pending: "pending",
  running: "running",
  suspended: "waiting",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
};

/**
 * The execution tree of an instance as a flat list (parents before their children), built by
 * walking the definition against the stored nodes: only blocks that have run (or run now) appear,
 * each loop iteration's body under its loop with the iteration as `branch_index`, and blocks added
 * by self_modify after the step that added them. Node times are not recorded (null).
 */
export function executionTree(instanceId: string, blocks: Block[], execution: ExecutionState): ExecutionTreeNode[] {
  const out: ExecutionTreeNode[] = [];
  const nodes = execution.nodes ?? {};

  const walk = (list: Block[], scope: string, parent: ExecutionTreeNode | undefined, branchIndex: number | null) => {
    for (const block of list) {
      const key = `${scope}${block.id}`;
      const stored = nodes[key];
      if (!stored) continue;
      const node: ExecutionTreeNode = {
        id: key,
        instance_id: instanceId,
        block_id: block.id,
        parent_id: parent?.id ?? null,
        block_type: block.type,
        branch_index: branchIndex,
        state: STATES[stored.status] ?? "pending",
        attempt: block.type === "step" ? (stored.attempt ?? 0) : null,
        error: stored.error ?? null,
        children: [],
        started_at: null,
        completed_at: null,
      };
      out.push(node);
      parent?.children.push(key);
      if (block.type === "loop" || block.type === "for_each") {
        for (const iteration of iterationsOf(nodes, `${key}#`)) walk(block.body, `${key}#${iteration}/`, node, iteration);
      } else {
        childLists(block).forEach((children, index) => walk(children, scope, node, index));
      }
      const injected = execution.injected?.[key];
      if (injected) walk(injected, scope, parent, branchIndex);
    }
  };
  walk(blocks, "", undefined, null);
  return out;
}

/** The iteration numbers present under a loop's key prefix (`poll#`), ascending. */
function iterationsOf(nodes: Record<string, unknown>, prefix: string): number[] {
  const found = new Set<number>();
  for (const key of Object.keys(nodes)) {
    if (!key.startsWith(prefix)) continue;
    const n = Number(key.slice(prefix.length, key.indexOf("/", prefix.length)));
    if (Number.isInteger(n) && n >= 0) found.add(n);
  }
  return [...found].sort((a, b) => a - b);
}
