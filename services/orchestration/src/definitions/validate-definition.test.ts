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
      message: 'block "a": unknown block type "stepp" (one of step, parallel, race, router, try_catch, loop, for_each, ab_split, cancellation_scope)',
      metadata: { parameter: "blocks[0].type", block_id: "a" },
    });
  });

  it("rejects duplicate ids anywhere in the tree", () => {
    const dup = rejection([step("a"), { type: "parallel", id: "p", branches: [[step("b")], [{ type: "loop", id: "l", condition: "x", body: [step("a")] }]] }]);
    expect(dup).toEqual({ message: 'block "a": duplicate block id', metadata: { parameter: "blocks[1].branches[1][0].body[0].id", block_id: "a" } });
  });

  it("rejects empty lists of blocks and branches", () => {
    expect(rejection([])).toMatchObject({ message: "blocks must not be empty" });
    expect(rejection([{ type: "parallel", id: "p", branches: [[step("a")], []] }])).toMatchObject({ metadata: { parameter: "blocks[0].branches[1]", block_id: "p" } });
    expect(rejection([{ type: "race", id: "r", branches: [] }])).toMatchObject({ metadata: { parameter: "blocks[0].branches", block_id: "r" } });
    expect(rejection([{ type: "try_catch", id: "t", try_block: [] }])).toMatchObject({ metadata: { parameter: "blocks[0].try_block" } });
    expect(rejection([{ type: "loop", id: "l", condition: "x", body: [] }])).toMatchObject({ metadata: { parameter: "blocks[0].body" } });
    expect(rejection([{ type: "router", id: "r", routes: [{ condition: "a", blocks: [] }] }])).toMatchObject({ metadata: { parameter: "blocks[0].routes[0].blocks" } });
    expect(rejection([{ type: "router", id: "r", routes: [] }])).toMatchObject({ metadata: { parameter: "blocks[0].routes" } });
    expect(rejection([{ type: "ab_split", id: "ab", variants: [] }])).toMatchObject({ metadata: { parameter: "blocks[0].variants" } });
    expect(rejection([{ type: "cancellation_scope", id: "s", blocks: [] }])).toMatchObject({ metadata: { parameter: "blocks[0].blocks" } });
  });

  it.each([
    [{ timeout: "30" }, "blocks[0].timeout"],
    [{ timeout: "0s" }, "blocks[0].timeout"],
    [{ delay: { duration: "3 days" } }, "blocks[0].delay.duration"],
    [{ delay: { duration: "1d", jitter: "x" } }, "blocks[0].delay.jitter"],
    [{ retry: { initial_backoff: "1" } }, "blocks[0].retry.initial_backoff"],
    [{ retry: { max_backoff: 60 } }, "blocks[0].retry.max_backoff"],
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
