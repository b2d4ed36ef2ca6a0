// Over 300 lines: the walker is one recursive evaluation over the block tree, one case per block
// type sharing the node bookkeeping; split by block type, the tree's semantics would be scattered.
import { DEFAULT_MAX_ITERATIONS, childLists, type Block, type StepBlock, type SubSequenceBlock } from "../definitions/blocks";
import { evaluateCondition } from "../expressions/conditions";
import { resolvePath, type EvaluationScope } from "../expressions/paths";
import { isTerminal, type ExecutionState, type NodeState } from "./execution-state";
import { delayEnd } from "./timing";

/** What a walk needs besides the tree: the clock, randomness and what conditions read. */
export interface WalkEnvironment {
  now: number;
  timezone: string;
  random: () => number;
  /** context is mutable: for_each sets its item variable, ab_split records its variant. */
  scope: EvaluationScope;
}

/** A step the walk found ready to run (first time, retry, or resumed after a timer or a signal). */
export interface ReadyStep {
  key: string;
  block: StepBlock;
  node: NodeState;
}

export interface WalkResult {
  status: "completed" | "failed" | "pending";
  error?: string;
  /** The step that failed the instance, when status is failed. */
  failedBlock?: string;
  ready: ReadyStep[];
  /** The earliest timer (delay, backoff, sleep, timeout) among nodes still waiting. */
  wakeAt?: number;
  /** Some node waits for something outside the engine (worker task, human review). */
  waitingExternal: boolean;
  /** A cancellation_scope, or a step with `cancellable: false`, is running (external cancels wait for it). */
  inCancellationScope: boolean;
  /** Worker tasks of nodes the walk cancelled (race losers, failed parallels). */
  cancelledTasks: string[];
}

type Outcome = { status: "done"; seq: number } | { status: "failed"; seq: number; error: string; block: string } | { status: "pending" };

const pending: Outcome = { status: "pending" };

/** The part of a node key after its loop scopes: the block id. */
export const blockIdOfKey = (key: string) => key.slice(key.lastIndexOf("/") + 1);

/**
 * Evaluates an instance's block tree against its persisted execution state: advances composite
 * blocks (choosing routes and variants, finishing iterations, resolving races), records their
 * outcomes in the state, and reports the steps that are ready to run. It performs no I/O: the
 * instance pass executes the ready steps, records their outcomes and walks again until nothing is ready.
 */
export class Walker {
  private readonly ready: ReadyStep[] = [];
  private readonly timers: { node: NodeState; at: number }[] = [];
  private readonly externals: NodeState[] = [];
  private readonly cancelledTasks: string[] = [];
  private inScope = false;

  constructor(
    private readonly exec: ExecutionState,
    private readonly blocks: Block[],
    private readonly env: WalkEnvironment,
  ) {}

  walk(): WalkResult {
    const outcome = this.sequence(this.blocks, "");
    const live = (node: NodeState) => !isTerminal(node.status);
    const timers = this.timers.filter((t) => live(t.node)).map((t) => t.at);
    const base = {
      ready: this.ready.filter((r) => live(r.node)),
      wakeAt: timers.length > 0 ? Math.min(...timers) : undefined,
      waitingExternal: this.externals.some(live),
      inCancellationScope: this.inScope,
      cancelledTasks: this.cancelledTasks,
    };
    if (outcome.status === "done") return { status: "completed", ...base };
    if (outcome.status === "failed") return { status: "failed", error: outcome.error, failedBlock: outcome.block, ...base };
    return { status: "pending", ...base };
  }

  private sequence(blocks: Block[], scope: string): Outcome {
    let seq = 0;
    const list = blocks.slice();
    for (let i = 0; i < list.length; i++) {
      const block = list[i];
      const outcome = this.block(block, scope);
      if (outcome.status !== "done") return outcome;
      seq = Math.max(seq, outcome.seq);
      const injected = this.exec.injected?.[scope + block.id];
      if (injected) list.splice(i + 1, 0, ...injected);
    }
    return { status: "done", seq };
  }

  private block(block: Block, scope: string): Outcome {
    const key = scope + block.id;
    const existing = this.exec.nodes[key];
    if (existing && isTerminal(existing.status)) return outcomeOf(existing, block.id);
    if (block.type === "step") return this.step(block, key);
    if (block.type === "sub_sequence") return this.step(subSequenceStep(block), key);
    const node = (this.exec.nodes[key] ??= { status: "running", data: {} });
    const data = (node.data ??= {});
    const finish = (outcome: Outcome): Outcome => {
      if (outcome.status === "done") Object.assign(node, { status: "completed", seq: outcome.seq });
      else if (outcome.status === "failed") Object.assign(node, { status: "failed", seq: outcome.seq, error: outcome.error });
      return outcome;
    };
    switch (block.type) {
      case "parallel": {
        const results = block.branches.map((branch) => this.sequence(branch, scope));
        const failures = results.filter((r): r is Extract<Outcome, { status: "failed" }> => r.status === "failed");
        if (failures.length > 0) {
          const first = failures.reduce((a, b) => (b.seq < a.seq ? b : a));
          this.cancel(block.branches.flat(), scope);
          return finish(first);
        }
        if (results.every((r) => r.status === "done")) return finish({ status: "done", seq: maxSeq(results) });
        return pending;
      }
      case "race": {
        if (block.branches.length === 0) return finish({ status: "done", seq: 0 });
        const results = block.branches.map((branch) => this.sequence(branch, scope));
        const candidates = results
          .map((outcome, index) => ({ outcome, index }))
          .filter(({ outcome }) => (block.semantics === "first_to_succeed" ? outcome.status === "done" : outcome.status !== "pending"));
        if (candidates.length > 0) {
          const winner = candidates.reduce((a, b) => (seqOf(b.outcome) < seqOf(a.outcome) ? b : a));
          data.winner = winner.index;
          this.cancel(block.branches.filter((_, i) => i !== winner.index).flat(), scope);
          return finish(winner.outcome);
        }
        if (results.every((r) => r.status === "failed")) {
          const last = (results as Extract<Outcome, { status: "failed" }>[]).reduce((a, b) => (b.seq > a.seq ? b : a));
          return finish({ ...last, error: `every branch of race "${block.id}" failed; last: ${last.error}` });
        }
        return pending;
      }
      case "router": {
        if (data.route === undefined) {
          const index = block.routes.findIndex((route) => this.condition(route.condition));
          data.route = index >= 0 ? index : block.default ? -1 : -2;
        }
        const route = data.route as number;
        const chosen = route >= 0 ? block.routes[route].blocks : route === -1 ? (block.default ?? []) : [];
        return finish(this.sequence(chosen, scope));
      }
      case "try_catch":
        return finish(this.tryCatch(block, scope, data));
      case "loop":
        return finish(this.loop(block, scope, data));
      case "for_each":
        return finish(this.forEach(block, scope, data));
      case "ab_split":
      case "a_b_split": {
        if (data.variant === undefined) {
          data.variant = pickVariant(block.variants, this.env.random());
          this.recordVariant(block.id, data.variant as string);
        }
        const variant = block.variants.find((v) => v.name === data.variant) ?? block.variants[0];
        return finish(this.sequence(variant.blocks, scope));
      }
      case "cancellation_scope": {
        const outcome = this.sequence(block.blocks, scope);
        if (outcome.status === "pending") this.inScope = true;
        return finish(outcome);
      }
    }
  }

  private step(block: StepBlock, key: string): Outcome {
    const node = (this.exec.nodes[key] ??= { status: "pending", attempt: 0 });
    const data = (node.data ??= {});
    const { now } = this.env;
    // Reached and not ended: a cancel waits for a step that is not cancellable (the engine's `cancellable: false`).
    if (block.cancellable === false && !isTerminal(node.status)) this.inScope = true;
    switch (node.status) {
      case "pending": {
        if (block.delay && (node.attempt ?? 0) === 0 && data.fire_at === undefined) {
          data.fire_at = delayEnd(new Date(now), block.delay, this.env.timezone, this.env.random).getTime();
        }
        const notBefore = Math.max(Number(data.fire_at ?? 0), Number(data.retry_at ?? 0));
        if (notBefore > now) this.timers.push({ node, at: notBefore });
        else this.ready.push({ key, block, node });
        return pending;
      }
      case "running":
        // It was running when the engine stopped: run it again (a completed step is never re-run).
        this.ready.push({ key, block, node });
        return pending;
      case "suspended": {
        const until = data.until === undefined ? undefined : Number(data.until);
        if (data.resume || (until !== undefined && until <= now)) this.ready.push({ key, block, node });
        else {
          if (until !== undefined) this.timers.push({ node, at: until });
          if (data.external) this.externals.push(node);
        }
        return pending;
      }
      default:
        return outcomeOf(node, block.id);
    }
  }

  private tryCatch(block: Extract<Block, { type: "try_catch" }>, scope: string, data: Record<string, unknown>): Outcome {
    for (;;) {
      const phase = (data.phase as string | undefined) ?? "try";
      if (phase === "try" || phase === "catch") {
        const outcome = this.sequence(phase === "try" ? block.try_block : (block.catch_block ?? []), scope);
        if (outcome.status === "pending") return pending;
        data.seq = Math.max(Number(data.seq ?? 0), seqOf(outcome));
        if (outcome.status === "failed" && phase === "try" && block.catch_block) {
          data.phase = "catch";
          data.error = outcome.error;
          const runtime = (this.env.scope.context.runtime ??= {}) as Record<string, unknown>;
          runtime.last_error = { block_id: outcome.block, message: outcome.error };
          continue;
        }
        data.phase = "finally";
        data.failed = outcome.status === "failed";
        if (outcome.status === "failed") {
          data.error = outcome.error;
          data.failed_block = outcome.block;
          data.failed_phase = phase;
        }
        continue;
      }
      const outcome = this.sequence(block.finally_block ?? [], scope);
      if (outcome.status === "failed") data.failed_phase = "finally";
      if (outcome.status !== "done") return outcome;
      const seq = Math.max(Number(data.seq ?? 0), outcome.seq);
      return data.failed ? { status: "failed", seq, error: String(data.error), block: String(data.failed_block ?? block.id) } : { status: "done", seq };
    }
  }

  private loop(block: Extract<Block, { type: "loop" }>, scope: string, data: Record<string, unknown>): Outcome {
    const max = block.max_iterations ?? DEFAULT_MAX_ITERATIONS;
    for (;;) {
      const iteration = Number(data.iteration ?? 0);
      if (!data.started) {
        if (iteration >= max) data.capped = true;
        if (iteration >= max || !this.condition(block.condition)) return { status: "done", seq: Number(data.seq ?? 0) };
        data.started = true;
      }
      const outcome = this.iteration(block, scope, iteration, data);
      if (outcome) return outcome;
    }
  }

  private forEach(block: Extract<Block, { type: "for_each" }>, scope: string, data: Record<string, unknown>): Outcome {
    if (data.items === undefined) {
      const collection = resolvePath(this.env.scope, block.collection);
      if (collection === undefined || collection === null) return { status: "done", seq: 0 };
      if (!Array.isArray(collection)) {
        return { status: "failed", seq: ++this.exec.seq, error: `for_each "${block.id}": ${block.collection} is not an array`, block: block.id };
      }
      const max = block.max_iterations ?? DEFAULT_MAX_ITERATIONS;
      data.items = collection.slice(0, max);
      if (collection.length > max) data.capped = true;
    }
    const items = data.items as unknown[];
    for (;;) {
      const index = Number(data.iteration ?? 0);
      if (index >= items.length) return { status: "done", seq: Number(data.seq ?? 0) };
      if (!data.started) {
        const contextData = (this.env.scope.context.data ??= {}) as Record<string, unknown>;
        contextData[block.item_var ?? "item"] = items[index];
        data.started = true;
      }
      const outcome = this.iteration(block, scope, index, data);
      if (outcome) return outcome;
    }
  }

  /** Runs one iteration of a loop body; undefined when it finished and the next may start. */
  private iteration(block: Extract<Block, { type: "loop" | "for_each" }>, scope: string, index: number, data: Record<string, unknown>): Outcome | undefined {
    const inner = `${scope}${block.id}#${index}/`;
    const outcome = this.sequence(block.body, inner);
    if (outcome.status !== "done") return outcome;
    data.seq = Math.max(Number(data.seq ?? 0), outcome.seq);
    this.prune(inner);
    data.iteration = index + 1;
    data.started = false;
    return undefined;
  }

  /** Drops the nodes of a finished iteration so the tree stays small. */
  private prune(prefix: string): void {
    for (const key of Object.keys(this.exec.nodes)) if (key.startsWith(prefix)) delete this.exec.nodes[key];
    if (this.exec.injected) for (const key of Object.keys(this.exec.injected)) if (key.startsWith(prefix)) delete this.exec.injected[key];
  }

  /** Cancels every unfinished node of these blocks (and what self_modify added to them) under `scope`. */
  private cancel(blocks: Block[], scope: string): void {
    const ids = new Set<string>();
    const collect = (list: Block[]) => {
      for (const block of list) {
        if (ids.has(block.id)) continue;
        ids.add(block.id);
        for (const child of childLists(block)) collect(child);
      }
    };
    collect(blocks);
    for (let grew = true; grew && this.exec.injected; ) {
      grew = false;
      for (const [key, injected] of Object.entries(this.exec.injected)) {
        if (key.startsWith(scope) && ids.has(blockIdOfKey(key)) && injected.some((b) => !ids.has(b.id))) {
          collect(injected);
          grew = true;
        }
      }
    }
    for (const [key, node] of Object.entries(this.exec.nodes)) {
      if (!key.startsWith(scope) || !ids.has(blockIdOfKey(key)) || isTerminal(node.status)) continue;
      if (typeof node.data?.task_id === "string") this.cancelledTasks.push(node.data.task_id);
      node.status = "cancelled";
      node.seq = ++this.exec.seq;
      node.error = "cancelled";
    }
  }

  private condition(condition: string): boolean {
    try {
      return evaluateCondition(condition, this.env.scope);
    } catch {
      return false;
    }
  }

  private recordVariant(blockId: string, variant: string): void {
    const context = this.env.scope.context;
    const runtime = (context.runtime ??= {}) as Record<string, unknown>;
    runtime.ab_variants = { ...((runtime.ab_variants as Record<string, string> | undefined) ?? {}), [blockId]: variant };
    const audit = Array.isArray(context.audit) ? (context.audit as unknown[]) : (context.audit = []);
    audit.push({ event: "ab_split", block_id: blockId, variant, at: new Date(this.env.now).toISOString() });
  }
}

/** The built-in handler that runs a sub_sequence block (sub-sequence.ts). */
export const SUB_SEQUENCE_HANDLER = "__sub_sequence";

/** A sub_sequence block runs as a step of the sub-sequence handler (child instance, then its outputs). */
function subSequenceStep(block: SubSequenceBlock): StepBlock {
  const params = { sequence_name: block.sequence_name, ...(block.version !== undefined ? { version: block.version } : {}), input: block.input ?? {} };
  return { type: "step", id: block.id, handler: SUB_SEQUENCE_HANDLER, params };
}

function outcomeOf(node: NodeState, blockId: string): Outcome {
  if (node.status === "completed") return { status: "done", seq: node.seq ?? 0 };
  return { status: "failed", seq: node.seq ?? 0, error: node.error ?? node.status, block: blockId };
}

const seqOf = (outcome: Outcome) => (outcome.status === "pending" ? Number.POSITIVE_INFINITY : outcome.seq);
const maxSeq = (outcomes: Outcome[]) => Math.max(0, ...outcomes.map((o) => (o.status === "pending" ? 0 : o.seq)));

/** Weighted choice: `roll` in [0, 1). */
export function pickVariant(variants: { name: string; weight: number }[], roll: number): string {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let point = roll * total;
  for (const variant of variants) {
    if (variant.weight <= 0) continue;
    if (point < variant.weight) return variant.name;
    point -= variant.weight;
  }
  return variants.filter((v) => v.weight > 0).at(-1)!.name;
}
