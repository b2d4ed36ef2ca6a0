import { walkBlocks, type Block } from "../definitions/blocks";
import { blockIdOfKey } from "./interpreter";
import type { ExecutionState } from "./execution-state";

/** Every block of a definition and of what self_modify injected, by id. */
export function blockIndex(blocks: Block[], exec?: ExecutionState): Map<string, Block> {
  const index = new Map<string, Block>();
  for (const block of walkBlocks(blocks)) index.set(block.id, block);
  for (const injected of Object.values(exec?.injected ?? {})) for (const block of walkBlocks(injected)) index.set(block.id, block);
  return index;
}

/**
 * Prepares a failed instance's tree for a retry: failed and cancelled steps start over (attempt 0),
 * failed composites resume where they failed (a try_catch re-enters the phase that failed), and
 * completed nodes stay completed, so no completed step runs again.
 */
export function resetFailedNodes(exec: ExecutionState, blocks: Block[]): ExecutionState {
  const index = blockIndex(blocks, exec);
  const nodes: ExecutionState["nodes"] = {};
  for (const [key, node] of Object.entries(exec.nodes)) {
    if (node.status !== "failed" && node.status !== "cancelled") {
      nodes[key] = node;
      continue;
    }
    const block = index.get(blockIdOfKey(key));
    if (!block || block.type === "step") continue;
    const data = { ...(node.data ?? {}) };
    delete data.winner;
    if (block.type === "try_catch") {
      data.phase = data.failed_phase ?? "try";
      if (data.phase !== "finally") delete data.failed;
      delete data.failed_phase;
    }
    if (block.type === "for_each" && !Array.isArray(data.items)) delete data.items;
    nodes[key] = { status: "running", data };
  }
  return { ...exec, nodes, cancelRequested: false };
}
