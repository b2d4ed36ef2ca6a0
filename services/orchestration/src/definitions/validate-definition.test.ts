import { PlatformError } from "@cloudforet/errors";
import { describe, expect, it } from "vitest";
import { validateDefinition, validateInjectedBlocks } from "./validate-definition";

const step = (id: string, extra: Record<string, unknown> = {}) => ({ type: "step", id, handler: "noop", ...extra });

function rejection(blocks: unknown): { message: string; metadata: Record<string, string> } {
  try {
    validateDefinition(blocks);
  } catch (err) {
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe("ERROR_INVALID_PARAMETER");
    return { message: (err as PlatformError).message, metadata: (err as PlatformError).metadata };
  }
  throw new Error("expected the definition to be rejected");
}

describe("validateDefinition", () => {
  it("accepts the seed's example and every block type nested in each other", () => {
    const blocks = validateDefinition([
      {
        type: "step",
        id: "send_welcome",
        handler: "email_send",
        params: { template: "welcome" },
        retry: { max_attempts: 3, initial_backoff: "1s", max_backoff: "60s", backoff_multiplier: 2.0 },
        timeout: "30s",
      },
      { type: "step", id: "wait_3_days", handler: "sleep", params: { duration_ms: 259200000 }, delay: { duration: "1d", business_days_only: true, jitter: "300s" } },
      {
        type: "router",
        id: "check_engagement",
        routes: [{ condition: "opened == true", blocks: [step("send_followup")] }],
        default: [step("send_reminder")],
      },
      {
        type: "for_each",
        id: "each",
        collection: "items",
        body: [
          {
            type: "parallel",
            id: "par",
            branches: [[{ type: "try_catch", id: "tc", try_block: [step("t1")], catch_block: [step("c1")], finally_block: [step("f1")] }], [step("p2")]],
          },
        ],
      },
      { type: "race", id: "race", branches: [[step("r1")], [step("r2")]], semantics: "first_to_succeed" },
      { type: "loop", id: "loop", condition: "status.pending", body: [step("l1")], max_iterations: 50 },
      { type: "ab_split", id: "ab", variants: [{ name: "control", weight: 70, blocks: [step("v1")] }, { name: "variant_a", weight: 30, blocks: [step("v2")] }] },
      { type: "cancellation_scope", id: "scope", blocks: [step("charge"), step("confirm")] },
    ]);
    expect(blocks).toHaveLength(8);
    expect(blocks[3]).toMatchObject({ type: "for_each", item_var: "item" });
    expect(blocks[4]).toMatchObject({ semantics: "first_to_succeed" });
  });

  it("rejects an unknown block type naming the block", () => {
    expect(rejection([{ type: "stepp", id: "a", handler: "noop" }])).toEqual({
      message: 'block "a": unknown block type "stepp" (one of step, parallel, race, router, try_catch, loop, for_each, ab_split, cancellation_scope, a_b_split, sub_sequence)',
      metadata: { parameter: "blocks[0].type", block_id: "a" },
    });
  });

  it("rejects duplicate ids anywhere in the tree", () => {
    const dup = rejection([step("a"), { type: "parallel", id: "p", branches: [[step("b")], [{ type: "loop", id: "l", condition: "x", body: [step("a")] }]] }]);
    expect(dup).toEqual({ message: 'block "a": duplicate block id', metadata: { parameter: "blocks[1].branches[1][0].body[0].id", block_id: "a" } });
  });

  it("accepts empty lists of blocks and branches, as the engine does", () => {
    expect(validateDefinition([])).toEqual([]);
    const blocks = validateDefinition([
      { type: "parallel", id: "p", branches: [[step("a")], []] },
      { type: "race", id: "r", branches: [] },
      { type: "try_catch", id: "t", try_block: [], catch_block: [] },
      { type: "loop", id: "l", condition: "x", body: [] },
      { type: "router", id: "ro", routes: [{ condition: "a", blocks: [] }] },
      { type: "router", id: "ro2", routes: [] },
      { type: "cancellation_scope", id: "s", blocks: [] },
    ]);
    expect(blocks).toHaveLength(7);
    expect(rejection([{ type: "ab_split", id: "ab", variants: [] }])).toMatchObject({ metadata: { parameter: "blocks[0].variants" } });
  });

  it("accepts the engine's definitions: integer-millisecond durations, a_b_split, sub_sequence, queue_name, cancellable, holidays", () => {
    const blocks = validateDefinition([
      {
        type: "step",
        id: "s",
        handler: "noop",
        timeout: 30000,
        retry: { max_attempts: 3, initial_backoff: 1000, max_backoff: 30000 },
        delay: { duration: 3600000, business_days_only: true, jitter: 0, holidays: ["2024-12-25", "2025-01-01"] },
        queue_name: "gpu-pool",
        cancellable: false,
      },
      { type: "a_b_split", id: "ab", variants: [{ name: "a", weight: 1, blocks: [step("v")] }] },
      { type: "sub_sequence", id: "child", sequence_name: "onboarding", version: 2, input: { user: "{{ context.data.user }}" } },
    ]);
    expect(blocks[0]).toMatchObject({ timeout: 30000, queue_name: "gpu-pool", cancellable: false });
    expect(blocks[1]).toMatchObject({ type: "a_b_split" });
    expect(blocks[2]).toEqual({ type: "sub_sequence", id: "child", sequence_name: "onboarding", version: 2, input: { user: "{{ context.data.user }}" } });
  });

  it.each([
    [{ type: "sub_sequence", id: "x" }, "blocks[0].sequence_name"],
    [{ type: "sub_sequence", id: "x", sequence_name: "a", version: 0 }, "blocks[0].version"],
    [{ type: "sub_sequence", id: "x", sequence_name: "a", input: [1] }, "blocks[0].input"],
    [{ type: "sub_sequence", id: "x", sequence_name: "a", body: [] }, "blocks[0].body"],
    [step("x", { queue_name: "bad queue" }), "blocks[0].queue_name"],
    [step("x", { cancellable: "no" }), "blocks[0].cancellable"],
    [step("x", { delay: { duration: 1000, holidays: ["2024-02-30"] } }), "blocks[0].delay.holidays[0]"],
    [step("x", { delay: { duration: 1000, holidays: ["2024-13-01"] } }), "blocks[0].delay.holidays[0]"],
    [step("x", { delay: { duration: 1000, holidays: "2024-12-25" } }), "blocks[0].delay.holidays"],
    [step("x", { timeout: -5 }), "blocks[0].timeout"],
    [step("x", { timeout: 1.5 }), "blocks[0].timeout"],
  ])("rejects a bad engine field: %j", (block, parameter) => {
    expect(rejection([block])).toMatchObject({ metadata: { parameter, block_id: "x" } });
  });

  it("names the position of a condition's syntax error", () => {
    const bad = rejection([{ type: "loop", id: "l", condition: "count * (2 > threshold", body: [] }]);
    expect(bad.metadata).toEqual({ parameter: "blocks[0].condition", block_id: "l", position: "22" });
    expect(bad.message).toMatch(/bad condition: expected "\)"/);
  });

  it.each([
    [{ timeout: "30" }, "blocks[0].timeout"],
    [{ timeout: "0s" }, "blocks[0].timeout"],
    [{ delay: { duration: "3 days" } }, "blocks[0].delay.duration"],
    [{ delay: { duration: "1d", jitter: "x" } }, "blocks[0].delay.jitter"],
    [{ retry: { initial_backoff: "1" } }, "blocks[0].retry.initial_backoff"],
    [{ retry: { max_backoff: -60 } }, "blocks[0].retry.max_backoff"],
    [{ retry: { max_backoff: true } }, "blocks[0].retry.max_backoff"],
    [{ retry: { max_attempts: 0 } }, "blocks[0].retry.max_attempts"],
    [{ retry: { backoff_multiplier: 0.5 } }, "blocks[0].retry.backoff_multiplier"],
  ])("rejects bad durations and retry policies: %j", (extra, parameter) => {
    expect(rejection([step("s", extra)])).toMatchObject({ metadata: { parameter, block_id: "s" } });
  });

  it("rejects unknown fields, a step without a handler, bad conditions and bad ids", () => {
    expect(rejection([step("s", { retires: 3 })])).toEqual({ message: 'block "s": unknown field "retires" for a step block', metadata: { parameter: "blocks[0].retires", block_id: "s" } });
    expect(rejection([step("s", { retry: { attempts: 3 } })])).toMatchObject({ metadata: { parameter: "blocks[0].retry.attempts" } });
    expect(rejection([{ type: "step", id: "s" }])).toMatchObject({ message: 'block "s": a step needs a handler', metadata: { parameter: "blocks[0].handler" } });
    expect(rejection([{ type: "router", id: "r", routes: [{ condition: "a ==", blocks: [step("x")] }] }])).toMatchObject({ metadata: { parameter: "blocks[0].routes[0].condition", block_id: "r" } });
    expect(rejection([{ type: "step", handler: "noop" }])).toMatchObject({ metadata: { parameter: "blocks[0].id" } });
    expect(rejection([step("has space")])).toMatchObject({ metadata: { parameter: "blocks[0].id" } });
    expect(rejection([{ type: "for_each", id: "f", collection: "", body: [step("x")] }])).toMatchObject({ metadata: { parameter: "blocks[0].collection" } });
    expect(rejection([{ type: "ab_split", id: "ab", variants: [{ name: "a", weight: 0, blocks: [step("x")] }] }])).toMatchObject({ metadata: { parameter: "blocks[0].variants" } });
    expect(rejection("nope")).toMatchObject({ metadata: { parameter: "blocks" } });
  });

  it("checks injected blocks against the ids already used", () => {
    expect(validateInjectedBlocks([step("new")], ["a", "b"])).toHaveLength(1);
    expect(() => validateInjectedBlocks([step("a")], ["a"])).toThrow(/duplicate block id/);
  });
});
