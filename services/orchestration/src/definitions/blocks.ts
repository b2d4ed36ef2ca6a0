/** The block tree of a sequence, exactly as seed 002's Block Definition Reference writes it. */
export type Block = StepBlock | ParallelBlock | RaceBlock | RouterBlock | TryCatchBlock | LoopBlock | ForEachBlock | AbSplitBlock | CancellationScopeBlock;

export type BlockType = Block["type"];

export interface RetryPolicy {
  max_attempts?: number;
  initial_backoff?: string;
  max_backoff?: string;
  backoff_multiplier?: number;
}

export interface StepDelay {
  duration: string;
  business_days_only?: boolean;
  jitter?: string;
}

export interface StepBlock {
  type: "step";
  id: string;
  handler: string;
  params?: Record<string, unknown>;
  delay?: StepDelay;
  retry?: RetryPolicy;
  timeout?: string;
  rate_limit_key?: string;
}

export interface ParallelBlock {
  type: "parallel";
  id: string;
  branches: Block[][];
}

export interface RaceBlock {
  type: "race";
  id: string;
  branches: Block[][];
  semantics?: "first_to_resolve" | "first_to_succeed";
}

export interface RouterBlock {
  type: "router";
  id: string;
  routes: { condition: string; blocks: Block[] }[];
  default?: Block[];
}

export interface TryCatchBlock {
  type: "try_catch";
  id: string;
  try_block: Block[];
  catch_block?: Block[];
  finally_block?: Block[];
}

export interface LoopBlock {
  type: "loop";
  id: string;
  condition: string;
  body: Block[];
  max_iterations?: number;
}

export interface ForEachBlock {
  type: "for_each";
  id: string;
  collection: string;
  item_var?: string;
  body: Block[];
  max_iterations?: number;
}

export interface AbSplitBlock {
  type: "ab_split";
  id: string;
  variants: { name: string; weight: number; blocks: Block[] }[];
}

export interface CancellationScopeBlock {
  type: "cancellation_scope";
  id: string;
  blocks: Block[];
}

export const BLOCK_TYPES: readonly BlockType[] = ["step", "parallel", "race", "router", "try_catch", "loop", "for_each", "ab_split", "cancellation_scope"];

/** Default cap of loop and for_each iterations (seed 002). */
export const DEFAULT_MAX_ITERATIONS = 1000;

/** Every block list directly under a block, in evaluation order. */
export function childLists(block: Block): Block[][] {
  switch (block.type) {
    case "step":
      return [];
    case "parallel":
    case "race":
      return block.branches;
    case "router":
      return [...block.routes.map((r) => r.blocks), ...(block.default ? [block.default] : [])];
    case "try_catch":
      return [block.try_block, block.catch_block ?? [], block.finally_block ?? []];
    case "loop":
    case "for_each":
      return [block.body];
    case "ab_split":
      return block.variants.map((v) => v.blocks);
    case "cancellation_scope":
      return [block.blocks];
  }
}

/** Every block of a tree, depth first. */
export function* walkBlocks(blocks: Block[]): Generator<Block> {
  for (const block of blocks) {
    yield block;
    for (const list of childLists(block)) yield* walkBlocks(list);
  }
}
