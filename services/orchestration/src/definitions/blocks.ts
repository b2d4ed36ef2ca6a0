import type { Duration } from "./durations";

/**
 * The block tree of a sequence, as seed 002's Block Definition Reference writes it, plus what the
 * real Orch8 engine's definitions add: `sub_sequence`, the `a_b_split` tag, integer-millisecond
 * durations, step `queue_name` and `cancellable`, `delay.holidays`.
 */
export type Block = StepBlock | ParallelBlock | RaceBlock | RouterBlock | TryCatchBlock | LoopBlock | ForEachBlock | AbSplitBlock | CancellationScopeBlock | SubSequenceBlock;

export type BlockType = Block["type"];

export interface RetryPolicy {
  max_attempts?: number;
  initial_backoff?: Duration;
  max_backoff?: Duration;
  backoff_multiplier?: number;
}

export interface StepDelay {
  duration: Duration;
  business_days_only?: boolean;
  jitter?: Duration;
  /** Dates (YYYY-MM-DD, in the instance's time zone) a business-day delay skips like weekends. */
  holidays?: string[];
}

export interface StepBlock {
  type: "step";
  id: string;
  handler: string;
  params?: Record<string, unknown>;
  delay?: StepDelay;
  retry?: RetryPolicy;
  timeout?: Duration;
  rate_limit_key?: string;
  /** The worker queue the step's task goes to (workers polling with that queue_name); default queue when absent. */
  queue_name?: string;
  /** false: an external cancel waits until this step has ended (the engine's default is true). */
  cancellable?: boolean;
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
  /** `a_b_split` is the real engine's spelling of the same block. */
  type: "ab_split" | "a_b_split";
  id: string;
  variants: { name: string; weight: number; blocks: Block[] }[];
}

export interface CancellationScopeBlock {
  type: "cancellation_scope";
  id: string;
  blocks: Block[];
}

/** Runs another sequence (by name, latest or given version) as a child instance and waits for it; its output is the child's outputs. */
export interface SubSequenceBlock {
  type: "sub_sequence";
  id: string;
  sequence_name: string;
  version?: number;
  /** The child's context.data (templates resolved against the parent). */
  input?: Record<string, unknown>;
}

export const BLOCK_TYPES: readonly BlockType[] = ["step", "parallel", "race", "router", "try_catch", "loop", "for_each", "ab_split", "cancellation_scope", "a_b_split", "sub_sequence"];

/** Default cap of loop and for_each iterations (seed 002). */
export const DEFAULT_MAX_ITERATIONS = 1000;

/** Every block list directly under a block, in evaluation order. */
export function childLists(block: Block): Block[][] {
  switch (block.type) {
    case "step":
    case "sub_sequence":
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
    case "a_b_split":
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
