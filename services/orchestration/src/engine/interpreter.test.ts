import { describe, expect, it } from "vitest";
import { validateDefinition } from "../definitions/validate-definition";
import { emptyExecution, type ExecutionState } from "./execution-state";
import { resetFailedNodes } from "./execution-reset";
import { Walker, pickVariant, type WalkResult } from "./interpreter";
import { backoffMs, delayEnd, maxAttempts } from "./timing";

const step = (id: string, handler = "noop") => ({ type: "step", id, handler });

/** Runs a tree to the end with fake steps: `fails` lists the steps that fail; returns the order steps ran in. */
function simulate(definition: unknown[], options: { fails?: string[]; data?: Record<string, unknown>; exec?: ExecutionState; random?: number } = {}) {
  const blocks = validateDefinition(definition);
  const exec = options.exec ?? emptyExecution();
  const context: Record<string, unknown> = { data: { ...(options.data ?? {}) }, runtime: {} };
  const ran: string[] = [];
  let result: WalkResult;
  for (let round = 0; ; round++) {
    if (round > 10_000) throw new Error("no progress");
    result = new Walker(exec, blocks, { now: Date.now(), timezone: "UTC", random: () => options.random ?? 0.5, scope: { context, outputs: {} } }).walk();
    if (result.status !== "pending" || result.ready.length === 0) break;
    for (const { block, node, key } of result.ready) {
      ran.push(key);
      const fails = options.fails?.includes(block.id);
      Object.assign(node, { status: fails ? "failed" : "completed", seq: ++exec.seq, ...(fails ? { error: `${block.id} failed` } : {}) });
    }
  }
  return { result, ran, exec, context };
}

describe("the block interpreter", () => {
  it("runs a sequence of steps in order", () => {
    const { result, ran } = simulate([step("a"), step("b"), step("c")]);
    expect(result.status).toBe("completed");
    expect(ran).toEqual(["a", "b", "c"]);
  });

  it("runs parallel branches together and fails the block when one branch fails, cancelling the rest", () => {
    const ok = simulate([{ type: "parallel", id: "p", branches: [[step("a1"), step("a2")], [step("b1")]] }]);
    expect(ok.ran).toEqual(["a1", "b1", "a2"]);
    const bad = simulate([{ type: "parallel", id: "p", branches: [[step("a1"), step("a2")], [step("b1"), step("b2")]] }, step("after")], { fails: ["b1"] });
    expect(bad.result).toMatchObject({ status: "failed", error: "b1 failed", failedBlock: "b1" });
    expect(bad.ran).toEqual(["a1", "b1"]);
    expect(bad.exec.nodes.a2).toMatchObject({ status: "cancelled" });
  });

  it("resolves a race by the first branch to finish and cancels the losers", () => {
    const exec = emptyExecution();
    const blocks = validateDefinition([{ type: "race", id: "r", branches: [[step("slow1"), step("slow2")], [step("fast")]] }]);
    const walk = () => new Walker(exec, blocks, { now: Date.now(), timezone: "UTC", random: Math.random, scope: { context: { data: {} }, outputs: {} } }).walk();
    const first = walk();
    expect(first.ready.map((r) => r.key)).toEqual(["slow1", "fast"]);
    // fast finishes first, slow1 after it: fast wins although its branch comes second.
    Object.assign(exec.nodes.fast, { status: "completed", seq: ++exec.seq });
    Object.assign(exec.nodes.slow1, { status: "completed", seq: ++exec.seq });
    expect(walk().status).toBe("completed");
    expect(exec.nodes.r.data).toMatchObject({ winner: 1 });
    expect(exec.nodes.slow2).toMatchObject({ status: "cancelled" });
  });

  it("first_to_resolve lets a failure win; first_to_succeed waits for a success and fails only when all fail", () => {
    const race = (semantics: string) => [{ type: "race", id: "r", semantics, branches: [[step("x")], [step("y")]] }];
    expect(simulate(race("first_to_resolve"), { fails: ["x"] }).result.status).toBe("failed");
    expect(simulate(race("first_to_succeed"), { fails: ["x"] }).result.status).toBe("completed");
    expect(simulate(race("first_to_succeed"), { fails: ["x", "y"] }).result).toMatchObject({ status: "failed", error: expect.stringContaining("every branch") });
  });

  it("routes by the first matching condition on context.data, else the default", () => {
    const router = [
      {
        type: "router",
        id: "seg",
        routes: [
          { condition: "plan == enterprise", blocks: [step("vip")] },
          { condition: "plan == pro", blocks: [step("pro")] },
        ],
        default: [step("free")],
      },
    ];
    expect(simulate(router, { data: { plan: "pro" } }).ran).toEqual(["pro"]);
    expect(simulate(router, { data: { plan: "enterprise" } }).ran).toEqual(["vip"]);
    expect(simulate(router, { data: {} }).ran).toEqual(["free"]);
    expect(simulate([{ type: "router", id: "r", routes: [{ condition: "x", blocks: [step("a")] }] }]).result.status).toBe("completed");
  });

  it("try_catch: catch recovers, finally always runs, a failure without catch propagates after finally", () => {
    const tc = (withCatch: boolean) => [
      { type: "try_catch", id: "tc", try_block: [step("t1"), step("t2")], ...(withCatch ? { catch_block: [step("c")] } : {}), finally_block: [step("f")] },
      step("after"),
    ];
    expect(simulate(tc(true)).ran).toEqual(["t1", "t2", "f", "after"]);
    const recovered = simulate(tc(true), { fails: ["t1"] });
    expect(recovered.ran).toEqual(["t1", "c", "f", "after"]);
    expect(recovered.context.runtime).toMatchObject({ last_error: { block_id: "t1", message: "t1 failed" } });
    const failed = simulate(tc(false), { fails: ["t1"] });
    expect(failed.ran).toEqual(["t1", "f"]);
    expect(failed.result).toMatchObject({ status: "failed", failedBlock: "t1" });
    expect(simulate(tc(true), { fails: ["t1", "c"] }).result.status).toBe("failed");
  });

  it("loops while the condition holds, up to max_iterations, pruning finished iterations", () => {
    const data = { pending: true };
    const blocks = validateDefinition([{ type: "loop", id: "poll", condition: "pending", body: [step("check")], max_iterations: 3 }]);
    const exec = emptyExecution();
    const context = { data };
    const ran: string[] = [];
    for (;;) {
      const walk = new Walker(exec, blocks, { now: 0, timezone: "UTC", random: Math.random, scope: { context, outputs: {} } }).walk();
      if (walk.status !== "pending") break;
      for (const r of walk.ready) {
        ran.push(r.key);
        Object.assign(r.node, { status: "completed", seq: ++exec.seq });
      }
    }
    expect(ran).toEqual(["poll#0/check", "poll#1/check", "poll#2/check"]);
    expect(exec.nodes.poll.data).toMatchObject({ iteration: 3, capped: true });
    expect(Object.keys(exec.nodes)).toEqual(["poll"]);
  });

  it("for_each sets the item variable for each element and skips a missing collection", () => {
    const blocks = [{ type: "for_each", id: "each", collection: "items", item_var: "it", body: [step("process")] }];
    const seen: unknown[] = [];
    const exec = emptyExecution();
    const context: Record<string, unknown> = { data: { items: ["a", "b", "c"] } };
    const tree = validateDefinition(blocks);
    for (;;) {
      const walk = new Walker(exec, tree, { now: 0, timezone: "UTC", random: Math.random, scope: { context, outputs: {} } }).walk();
      if (walk.status !== "pending") break;
      for (const r of walk.ready) {
        seen.push((context.data as Record<string, unknown>).it);
        Object.assign(r.node, { status: "completed", seq: ++exec.seq });
      }
    }
    expect(seen).toEqual(["a", "b", "c"]);
    expect(simulate(blocks).result.status).toBe("completed");
    expect(simulate(blocks, { data: { items: "nope" } }).result).toMatchObject({ status: "failed", error: expect.stringContaining("not an array") });
  });

  it("ab_split picks a variant by weight once and records it in the context", () => {
    expect(pickVariant([{ name: "control", weight: 70 }, { name: "variant_a", weight: 30 }], 0.5)).toBe("control");
    expect(pickVariant([{ name: "control", weight: 70 }, { name: "variant_a", weight: 30 }], 0.75)).toBe("variant_a");
    const run = simulate([{ type: "ab_split", id: "exp", variants: [{ name: "control", weight: 70, blocks: [step("c")] }, { name: "variant_a", weight: 30, blocks: [step("v")] }] }], { random: 0.9 });
    expect(run.ran).toEqual(["v"]);
    expect(run.context.runtime).toMatchObject({ ab_variants: { exp: "variant_a" } });
  });

  it("reports a running cancellation_scope", () => {
    const exec = emptyExecution();
    const blocks = validateDefinition([{ type: "cancellation_scope", id: "cs", blocks: [step("charge")] }]);
    const walk = new Walker(exec, blocks, { now: 0, timezone: "UTC", random: Math.random, scope: { context: { data: {} }, outputs: {} } }).walk();
    expect(walk.inCancellationScope).toBe(true);
    expect(exec.nodes.cs.status).toBe("running");
  });

  it("a nested try_catch inside a parallel inside a for_each recovers per item", () => {
    const blocks = [
      {
        type: "for_each",
        id: "each",
        collection: "items",
        body: [
          {
            type: "parallel",
            id: "par",
            branches: [[{ type: "try_catch", id: "tc", try_block: [step("risky")], catch_block: [step("recover")] }], [step("side")]],
          },
        ],
      },
    ];
    const run = simulate(blocks, { data: { items: [1, 2] }, fails: ["risky"] });
    expect(run.result.status).toBe("completed");
    expect(run.ran).toEqual(["each#0/risky", "each#0/side", "each#0/recover", "each#1/risky", "each#1/side", "each#1/recover"]);
  });

  it("a retry resets failed nodes but keeps completed ones", () => {
    const blocks = [{ type: "try_catch", id: "tc", try_block: [step("a"), step("b")], finally_block: [step("f")] }, step("after")];
    const failed = simulate(blocks, { fails: ["b"] });
    expect(failed.result.status).toBe("failed");
    const retried = simulate(blocks, { exec: resetFailedNodes(failed.exec, validateDefinition(blocks)) });
    expect(retried.result.status).toBe("completed");
    expect(retried.ran).toEqual(["b", "after"]);
  });
});

describe("timing", () => {
  it("adds a delay, with jitter up to its maximum", () => {
    const from = new Date("2024-01-15T10:00:00Z");
    expect(delayEnd(from, { duration: "1h" }, "UTC").toISOString()).toBe("2024-01-15T11:00:00.000Z");
    expect(delayEnd(from, { duration: "1h", jitter: "10m" }, "UTC", () => 0.999).getTime()).toBeLessThanOrEqual(from.getTime() + 70 * 60_000);
  });

  it("counts business days only and moves weekend ends to Monday in the instance's time zone", () => {
    const friday = new Date("2024-01-19T15:00:00Z");
    expect(delayEnd(friday, { duration: "1d", business_days_only: true }, "UTC").toISOString()).toBe("2024-01-22T15:00:00.000Z");
    expect(delayEnd(friday, { duration: "3d", business_days_only: true }, "UTC").toISOString()).toBe("2024-01-24T15:00:00.000Z");
    expect(delayEnd(friday, { duration: "12h", business_days_only: true }, "UTC").toISOString()).toBe("2024-01-22T03:00:00.000Z");
    // 23:00 Friday in New York is already Saturday in UTC: the zone decides.
    const fridayNight = new Date("2024-01-20T04:00:00Z");
    expect(delayEnd(fridayNight, { duration: "1h", business_days_only: true }, "America/New_York").toISOString()).toBe("2024-01-22T05:00:00.000Z");
  });

  it("backs off exponentially up to max_backoff", () => {
    const retry = { max_attempts: 5, initial_backoff: "1s", max_backoff: "5s", backoff_multiplier: 2 };
    expect([0, 1, 2, 3].map((i) => backoffMs(retry, i))).toEqual([1000, 2000, 4000, 5000]);
    expect(maxAttempts(undefined)).toBe(1);
    expect(maxAttempts({})).toBe(3);
  });
});

describe("the engine's definition language in the interpreter", () => {
  it("runs a_b_split like ab_split, empty lists at once, and a loop on `true` up to max_iterations", () => {
    const { result, ran, context } = simulate([
      { type: "a_b_split", id: "ab", variants: [{ name: "a", weight: 1, blocks: [step("va")] }, { name: "b", weight: 1, blocks: [step("vb")] }] },
      { type: "parallel", id: "p", branches: [[], []] },
      { type: "race", id: "r", branches: [] },
      { type: "loop", id: "l", condition: "true", max_iterations: 2, body: [step("body")] },
      { type: "router", id: "ro", routes: [{ condition: "count * 2 > threshold", blocks: [step("big")] }], default: [step("small")] },
    ], { random: 0.75, data: { count: 5, threshold: 8 } });
    expect(result.status).toBe("completed");
    expect(ran).toEqual(["vb", "l#0/body", "l#1/body", "big"]);
    expect((context.runtime as Record<string, unknown>).ab_variants).toEqual({ ab: "b" });
  });

  it("runs a sub_sequence as a step of the sub-sequence handler with its name, version and input", () => {
    const blocks = validateDefinition([{ type: "sub_sequence", id: "child", sequence_name: "onboard", version: 3, input: { user: "{{ context.data.user }}" } }]);
    const walk = new Walker(emptyExecution(), blocks, { now: Date.now(), timezone: "UTC", random: Math.random, scope: { context: { data: {} }, outputs: {} } }).walk();
    expect(walk.ready).toHaveLength(1);
    expect(walk.ready[0].block).toEqual({ type: "step", id: "child", handler: "__sub_sequence", params: { sequence_name: "onboard", version: 3, input: { user: "{{ context.data.user }}" } } });
  });

  it("holds external cancels while a step that is not cancellable has not ended", () => {
    const blocks = validateDefinition([step("before"), { ...step("charge"), cancellable: false }, step("after")]);
    const exec = emptyExecution();
    const walk = () => new Walker(exec, blocks, { now: Date.now(), timezone: "UTC", random: Math.random, scope: { context: { data: {} }, outputs: {} } }).walk();
    expect(walk().inCancellationScope).toBe(false);
    exec.nodes.before = { status: "completed", seq: 1 };
    expect(walk().inCancellationScope).toBe(true);
    exec.nodes.charge = { status: "suspended", data: { task_id: "t", external: true } };
    expect(walk().inCancellationScope).toBe(true);
    exec.nodes.charge = { status: "completed", seq: 2 };
    expect(walk().inCancellationScope).toBe(false);
  });
});
