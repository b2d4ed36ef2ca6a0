import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, outputsOf, runInstance, startHttpServer, startOrchestration, waitForState, type TestHttpServer, type TestOrchestration } from "./support";

// One test per block type, run by the engine end to end, with the failure paths.

let orch: TestOrchestration;
let http: TestHttpServer;
/** Per-path answers of the local server: a list consumed in order, the last one repeating. */
const script = new Map<string, { status: number; delayMs?: number }[]>();

const step = (id: string, handler = "noop", params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ type: "step", id, handler, params, ...extra });
const sleep = (id: string, ms: number) => step(id, "sleep", { duration_ms: ms });

beforeAll(async () => {
  http = await startHttpServer(({ path }) => {
    const key = path.split("?")[0];
    const answers = script.get(key) ?? [{ status: 200 }];
    const answer = answers.length > 1 ? answers.shift()! : answers[0];
    return { status: answer.status, delayMs: answer.delayMs, body: { path } };
  });
  orch = await startOrchestration();
});

afterAll(async () => {
  await orch?.close();
  await http?.close();
});

async function run(name: string, blocks: unknown[], fields: Record<string, unknown> = {}, until?: string[]) {
  const id = await createSequence(orch, name, blocks);
  const instance = await runInstance(orch, id, fields, until);
  return { instance, outputs: await outputsOf(orch, instance.id) };
}

async function outputRows(id: string): Promise<{ block_id: string; attempt: number; created_at: string; output: any }[]> {
  return (await orch.rest("GET", `/instances/${id}/outputs`)).body;
}

describe("step", () => {
  it("waits for its delay before running", async () => {
    const started = Date.now();
    const { instance, outputs } = await run("delay", [step("later", "noop", {}, { delay: { duration: "400ms", jitter: "50ms" } })]);
    expect(instance.state).toBe("completed");
    expect(outputs).toEqual({ later: {} });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it("retries with exponential backoff and records the attempt that succeeded", async () => {
    script.set("/flaky", [{ status: 503 }, { status: 503 }, { status: 200 }]);
    const { instance } = await run("retry", [
      step("call", "http_request", { url: `${http.url}/flaky` }, { retry: { max_attempts: 3, initial_backoff: "100ms", max_backoff: "1s", backoff_multiplier: 3 } }),
    ]);
    expect(instance.state).toBe("completed");
    const calls = http.requests.filter((r) => r.path === "/flaky");
    expect(calls).toHaveLength(3);
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(95);
    expect(calls[2].at - calls[1].at).toBeGreaterThanOrEqual(295);
    const [row] = await outputRows(instance.id);
    expect(row).toMatchObject({ block_id: "call", attempt: 2, output: { status: 200 } });
  });

  it("fails into the DLQ when the retries run out", async () => {
    script.set("/down", [{ status: 500 }]);
    const { instance } = await run("retry-out", [step("call", "http_request", { url: `${http.url}/down` }, { retry: { max_attempts: 2, initial_backoff: "50ms" } })]);
    expect(instance.state).toBe("failed");
    expect(instance.context.runtime).toMatchObject({ error: `http_request: HTTP 500 from ${http.url}/down`, failed_block: "call" });
    expect(http.requests.filter((r) => r.path === "/down")).toHaveLength(2);
  });

  it("times out a step that takes longer than its timeout", async () => {
    script.set("/slow", [{ status: 200, delayMs: 2_000 }]);
    const started = Date.now();
    const { instance } = await run("timeout", [step("call", "http_request", { url: `${http.url}/slow` }, { timeout: "200ms" })]);
    expect(instance.state).toBe("failed");
    expect(instance.context.runtime.error).toBe('step "call" timed out after 200ms');
    expect(Date.now() - started).toBeLessThan(1_800);
  });
});

describe("parallel", () => {
  it("runs its branches concurrently and completes when all finish", async () => {
    const started = Date.now();
    const { instance, outputs } = await run("parallel", [
      { type: "parallel", id: "notify_all", branches: [[sleep("email", 400)], [sleep("sms", 400)], [sleep("push", 400), step("after_push")]] },
      step("done"),
    ]);
    expect(instance.state).toBe("completed");
    expect(Object.keys(outputs).sort()).toEqual(["after_push", "done", "email", "push", "sms"]);
    expect(Date.now() - started).toBeLessThan(1_100);
  });

  it("fails when a branch fails", async () => {
    const { instance, outputs } = await run("parallel-fail", [
      { type: "parallel", id: "p", branches: [[step("ok")], [step("boom", "fail", { message: "branch broke" })]] },
      step("never"),
    ]);
    expect(instance.state).toBe("failed");
    expect(instance.context.runtime.error).toBe("branch broke");
    expect(outputs.never).toBeUndefined();
  });
});

describe("race", () => {
  it("first_to_resolve: the fastest branch wins and the losers are cancelled", async () => {
    const { instance, outputs } = await run("race", [
      { type: "race", id: "fastest", branches: [[sleep("slow", 1_500), step("slow_after")], [sleep("fast", 50)]] },
      step("next"),
    ]);
    expect(instance.state).toBe("completed");
    expect(Object.keys(outputs).sort()).toEqual(["fast", "next"]);
  });

  it("first_to_resolve: a failure that comes first fails the race", async () => {
    const { instance } = await run("race-fail", [{ type: "race", id: "r", branches: [[sleep("slow", 1_500)], [step("boom", "fail", { message: "lost" })]] }]);
    expect(instance.state).toBe("failed");
    expect(instance.context.runtime.error).toBe("lost");
  });

  it("first_to_succeed: failures are ignored until one succeeds; all failing fails it", async () => {
    const ok = await run("race-succeed", [{ type: "race", id: "r", semantics: "first_to_succeed", branches: [[step("boom", "fail")], [sleep("eventually", 100)]] }]);
    expect(ok.instance.state).toBe("completed");
    expect(ok.outputs).toEqual({ eventually: { slept_ms: 100 } });
    const bad = await run("race-all-fail", [{ type: "race", id: "r", semantics: "first_to_succeed", branches: [[step("a", "fail", { message: "a" })], [step("b", "fail", { message: "b" })]] }]);
    expect(bad.instance.state).toBe("failed");
    expect(bad.instance.context.runtime.error).toMatch(/every branch of race "r" failed/);
  });
});

describe("router", () => {
  const router = [
    {
      type: "router",
      id: "segment_users",
      routes: [
        { condition: "plan == enterprise", blocks: [step("vip_flow")] },
        { condition: "user.plan == pro", blocks: [step("pro_flow")] },
      ],
      default: [step("free_flow")],
    },
  ];
  it("takes the first route whose condition holds on context.data, else the default", async () => {
    const id = await createSequence(orch, "router", router);
    const vip = await runInstance(orch, id, { context: { data: { plan: "enterprise", user: { plan: "pro" } } } });
    expect(Object.keys(await outputsOf(orch, vip.id))).toEqual(["vip_flow"]);
    const pro = await runInstance(orch, id, { context: { data: { user: { plan: "pro" } } } });
    expect(Object.keys(await outputsOf(orch, pro.id))).toEqual(["pro_flow"]);
    const free = await runInstance(orch, id, { context: { data: {} } });
    expect(Object.keys(await outputsOf(orch, free.id))).toEqual(["free_flow"]);
  });
});

describe("try_catch", () => {
  const blocks = (tryStep: unknown) => [
    { type: "try_catch", id: "safe_send", try_block: [tryStep], catch_block: [step("fallback", "log", { message: "caught: {{ context.runtime.last_error.message }}" })], finally_block: [step("log_result", "log", { message: "send attempted" })] },
  ];
  it("skips catch when try succeeds; finally always runs", async () => {
    const { instance, outputs } = await run("try-ok", blocks(step("primary")));
    expect(instance.state).toBe("completed");
    expect(Object.keys(outputs).sort()).toEqual(["log_result", "primary"]);
  });

  it("catch recovers from a failed try, then finally runs", async () => {
    const { instance, outputs } = await run("try-catch", blocks(step("primary", "fail", { message: "smtp down" })));
    expect(instance.state).toBe("completed");
    expect(outputs).toEqual({ fallback: { message: "caught: smtp down" }, log_result: { message: "send attempted" } });
  });

  it("a failing catch fails the block after finally; without catch the failure propagates", async () => {
    const failing = await run("catch-fails", [{ type: "try_catch", id: "t", try_block: [step("a", "fail")], catch_block: [step("b", "fail", { message: "catch broke" })], finally_block: [step("f")] }]);
    expect(failing.instance.state).toBe("failed");
    expect(failing.instance.context.runtime.error).toBe("catch broke");
    expect(Object.keys(failing.outputs)).toEqual(["f"]);
    const noCatch = await run("no-catch", [{ type: "try_catch", id: "t", try_block: [step("a", "fail", { message: "boom" })], finally_block: [step("f")] }]);
    expect(noCatch.instance.state).toBe("failed");
    expect(Object.keys(noCatch.outputs)).toEqual(["f"]);
  });
});

describe("loop", () => {
  it("repeats its body while the condition holds", async () => {
    const { instance } = await run(
      "loop",
      [{ type: "loop", id: "poll", condition: "count < 3", body: [step("inc", "transform", { expression: "count + 1", target: "count" })] }, step("after")],
      { context: { data: { count: 0 } } },
    );
    expect(instance.state).toBe("completed");
    expect(instance.context.data.count).toBe(3);
    expect((await outputRows(instance.id)).map((o) => o.block_id)).toEqual(["inc", "inc", "inc", "after"]);
  });

  it("stops at max_iterations", async () => {
    const { instance } = await run("loop-cap", [{ type: "loop", id: "forever", condition: "go", body: [step("tick")], max_iterations: 5 }], { context: { data: { go: true } } });
    expect(instance.state).toBe("completed");
    expect(await outputRows(instance.id)).toHaveLength(5);
  });
});

describe("for_each", () => {
  it("runs its body for every item with item_var set", async () => {
    const { instance } = await run(
      "for-each",
      [{ type: "for_each", id: "process_batch", collection: "order.items", item_var: "line", body: [step("process", "log", { message: "{{ line.sku }} x{{ line.qty }}" })] }],
      { context: { data: { order: { items: [{ sku: "A", qty: 1 }, { sku: "B", qty: 2 }, { sku: "C", qty: 3 }] } } } },
    );
    expect(instance.state).toBe("completed");
    expect((await outputRows(instance.id)).map((o) => o.output.message)).toEqual(["A x1", "B x2", "C x3"]);
  });

  it("completes at once for a missing or empty collection, caps at max_iterations, fails on a non-array", async () => {
    const blocks = [{ type: "for_each", id: "each", collection: "items", body: [step("p")], max_iterations: 2 }];
    const id = await createSequence(orch, "for-each-edges", blocks);
    expect((await runInstance(orch, id, { context: { data: {} } })).state).toBe("completed");
    const capped = await runInstance(orch, id, { context: { data: { items: [1, 2, 3, 4] } } });
    expect(await outputRows(capped.id)).toHaveLength(2);
    const bad = await runInstance(orch, id, { context: { data: { items: "abc" } } });
    expect(bad.state).toBe("failed");
    expect(bad.context.runtime.error).toBe('for_each "each": items is not an array');
  });
});

describe("ab_split", () => {
  it("routes by weight and records the chosen variant in the context", async () => {
    const { instance, outputs } = await run("ab", [
      { type: "ab_split", id: "experiment_onboarding", variants: [{ name: "control", weight: 0, blocks: [step("standard_flow")] }, { name: "variant_a", weight: 30, blocks: [step("new_flow")] }] },
    ]);
    expect(outputs).toEqual({ new_flow: {} });
    expect(instance.context.runtime.ab_variants).toEqual({ experiment_onboarding: "variant_a" });
    expect(instance.context.audit).toEqual([{ event: "ab_split", block_id: "experiment_onboarding", variant: "variant_a", at: expect.any(String) }]);
  });

  it("splits traffic roughly by the weights", async () => {
    const id = await createSequence(orch, "ab-many", [{ type: "ab_split", id: "exp", variants: [{ name: "a", weight: 70, blocks: [step("a1")] }, { name: "b", weight: 30, blocks: [step("b1")] }] }]);
    const res = await orch.rest("POST", "/instances/batch", { instances: Array.from({ length: 200 }, () => ({ sequence_id: id, tenant_id: "acme", namespace: "ab" })) });
    expect(res.body.count).toBe(200);
    let done: { context: { runtime: { ab_variants: { exp: string } } } }[] = [];
    for (let i = 0; i < 200 && done.length < 200; i++) {
      done = (await orch.rest("GET", "/instances?namespace=ab&state=completed&limit=1000")).body;
      await new Promise((r) => setTimeout(r, 50));
    }
    const a = done.filter((i) => i.context.runtime.ab_variants.exp === "a").length;
    expect(a).toBeGreaterThan(110);
    expect(a).toBeLessThan(170);
  });
});

describe("cancellation_scope", () => {
  it("is not cancellable from outside: a cancel waits for the scope to finish, then cancels", async () => {
    const id = await createSequence(orch, "scope", [
      { type: "cancellation_scope", id: "critical_section", blocks: [sleep("charge", 700), step("confirm", "log", { message: "receipt" })] },
      step("after_scope"),
    ]);
    const { body } = await orch.rest("POST", "/instances", { sequence_id: id, tenant_id: "acme", namespace: "default" });
    await waitForState(orch, body.id, ["running"]);
    await new Promise((r) => setTimeout(r, 100));
    expect((await orch.rest("POST", `/instances/${body.id}/signals`, { signal_type: "cancel" })).status).toBe(201);
    const final = await waitForState(orch, body.id, ["cancelled", "completed", "failed"]);
    expect(final.state).toBe("cancelled");
    expect(Object.keys(await outputsOf(orch, body.id)).sort()).toEqual(["charge", "confirm"]);
  });

  it("outside a scope a cancel stops the instance at once", async () => {
    const id = await createSequence(orch, "no-scope", [sleep("long", 5_000), step("after")]);
    const { body } = await orch.rest("POST", "/instances", { sequence_id: id, tenant_id: "acme", namespace: "default" });
    await waitForState(orch, body.id, ["scheduled"]);
    await orch.rest("POST", `/instances/${body.id}/signals`, { signal_type: "cancel" });
    expect((await waitForState(orch, body.id, ["cancelled"], 2_000)).state).toBe("cancelled");
  });
});

describe("nesting", () => {
  it("a try_catch inside a parallel inside a for_each recovers per item", async () => {
    const { instance } = await run(
      "nested",
      [
        {
          type: "for_each",
          id: "each_order",
          collection: "orders",
          item_var: "order",
          body: [
            {
              type: "parallel",
              id: "fan_out",
              branches: [
                [
                  {
                    type: "try_catch",
                    id: "charge_safely",
                    try_block: [step("validate", "assert", { condition: "order.valid == true", message: "invalid order {{ order.id }}" })],
                    catch_block: [step("refund", "log", { message: "refund {{ order.id }}: {{ context.runtime.last_error.message }}" })],
                  },
                ],
                [step("notify", "log", { message: "notify {{ order.id }}" })],
              ],
            },
          ],
        },
        step("summary", "log", { message: "done" }),
      ],
      { context: { data: { orders: [{ id: "o1", valid: true }, { id: "o2", valid: false }, { id: "o3", valid: true }] } } },
    );
    expect(instance.state).toBe("completed");
    const messages = (await outputRows(instance.id)).map((o) => `${o.block_id}:${o.output.message ?? ""}`);
    expect(messages.filter((m) => m.startsWith("refund"))).toEqual(["refund:refund o2: invalid order o2"]);
    expect(messages.filter((m) => m.startsWith("notify")).sort()).toEqual(["notify:notify o1", "notify:notify o2", "notify:notify o3"]);
    expect(messages.at(-1)).toBe("summary:done");
  });

  it("a failure deep inside a nested tree fails the instance when nothing catches it", async () => {
    const { instance } = await run("nested-fail", [
      { type: "loop", id: "l", condition: "go", max_iterations: 2, body: [{ type: "router", id: "r", routes: [{ condition: "go", blocks: [{ type: "parallel", id: "p", branches: [[step("deep", "fail", { message: "deep failure" })], [step("other")]] }] }] }] },
    ], { context: { data: { go: true } } });
    expect(instance.state).toBe("failed");
    expect(instance.context.runtime).toMatchObject({ error: "deep failure", failed_block: "deep" });
  });
});
