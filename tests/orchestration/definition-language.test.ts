import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, outputsOf, runInstance, startOrchestration, waitForState, type TestOrchestration } from "./support";

// The real Orch8 engine's definition language, sent over REST and run to completion on Postgres and NATS.

let orch: TestOrchestration;

const step = (id: string, handler = "noop", params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ type: "step", id, handler, params, ...extra });
const transform = (id: string, expression: string, target?: string) => step(id, "transform", { expression, ...(target ? { target } : {}) });
const signal = (id: string, signal_type: string) => orch.rest("POST", `/instances/${id}/signals`, { signal_type });
const poll = (handler_name: string, extra: Record<string, unknown> = {}) => orch.rest("POST", "/workers/tasks/poll", { handler_name, worker_id: "w-1", limit: 5, ...extra });
const complete = (taskId: string, output: Record<string, unknown>) => orch.rest("POST", `/workers/tasks/${taskId}/complete`, { worker_id: "w-1", output });

async function start(sequenceId: string, data: Record<string, unknown> = {}): Promise<string> {
  const res = await orch.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default", context: { data } });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function rejected(name: string, blocks: unknown[]): Promise<{ status: number; body: any }> {
  return orch.rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", name, version: 1, blocks });
}

beforeAll(async () => {
  orch = await startOrchestration();
});

afterAll(async () => {
  await orch?.close();
});

describe("engine-style definitions run as the engine runs them", () => {
  it("integer-millisecond durations, `true` loops, arithmetic conditions, a_b_split and empty lists", async () => {
    const started = Date.now();
    const id = await createSequence(orch, "engine-style", [
      step("wait", "noop", {}, { delay: { duration: 300 }, timeout: 30000, retry: { max_attempts: 2, initial_backoff: 1000, max_backoff: 30000 } }),
      { type: "loop", id: "forever", condition: "true", max_iterations: 3, body: [transform("bump", "counter + 1", "counter")] },
      {
        type: "router",
        id: "route",
        routes: [
          { condition: "count * 2 > threshold", blocks: [step("doubled")] },
          { condition: "true", blocks: [step("never")] },
        ],
      },
      { type: "router", id: "sum", routes: [{ condition: "context.data.a + context.data.b == 10", blocks: [step("ten")] }], default: [step("not_ten")] },
      { type: "a_b_split", id: "ab", variants: [{ name: "only", weight: 100, blocks: [step("variant_step")] }] },
      { type: "parallel", id: "par", branches: [[], [step("branch")]] },
      { type: "cancellation_scope", id: "empty_scope", blocks: [] },
      { type: "race", id: "empty_race", branches: [] },
    ]);
    const instance = await runInstance(orch, id, { context: { data: { counter: 0, count: 5, threshold: 8, a: 4, b: 6 } } });
    expect(instance.state).toBe("completed");
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(instance.context.data.counter).toBe(3);
    expect(instance.context.runtime.ab_variants).toEqual({ ab: "only" });
    const outputs = await outputsOf(orch, instance.id);
    expect(Object.keys(outputs).sort()).toEqual(["branch", "bump", "doubled", "ten", "variant_step", "wait"]);
  });

  it("a sequence with no blocks completes at once", async () => {
    const instance = await runInstance(orch, await createSequence(orch, "empty", []));
    expect(instance.state).toBe("completed");
  });

  it("seed conditions keep their seed reading beside the engine grammar", async () => {
    const id = await createSequence(orch, "seed-conditions", [
      { type: "router", id: "plan", routes: [{ condition: "plan == enterprise", blocks: [step("vip")] }], default: [step("free")] },
      { type: "router", id: "status", routes: [{ condition: "status == in-progress", blocks: [step("busy")] }], default: [step("idle")] },
      { type: "router", id: "missing", routes: [{ condition: "nothing", blocks: [step("something")] }], default: [step("none")] },
    ]);
    const instance = await runInstance(orch, id, { context: { data: { plan: "enterprise", status: "in-progress" } } });
    expect(Object.keys(await outputsOf(orch, instance.id)).sort()).toEqual(["busy", "none", "vip"]);
  });

  it("resolves the engine's template rules: fallback chains, bracket paths, missing values inline", async () => {
    const id = await createSequence(orch, "templates", [
      step("first", "transform", { expression: "'v1'" }),
      step("msg", "log", { message: 'Hi {{ nickname | context.data.user["full name"] | stranger }} [{{ missing }}] {{ items[1] }} {{ steps.first.result }}' }),
    ]);
    const instance = await runInstance(orch, id, { context: { data: { user: { "full name": "Ada L" }, items: ["a", "b"] } } });
    expect(instance.state).toBe("completed");
    expect((await outputsOf(orch, instance.id)).msg).toEqual({ message: "Hi Ada L [] b v1" });
  });
});

describe("bad definitions answer 400 naming the field", () => {
  it.each([
    ["condition", [{ type: "loop", id: "l", condition: "count * (2 > threshold", body: [] }], { parameter: "blocks[0].condition", position: "22" }],
    ["a_b_split without variants", [{ type: "a_b_split", id: "ab", variants: [] }], { parameter: "blocks[0].variants" }],
    ["sub_sequence without a name", [{ type: "sub_sequence", id: "s" }], { parameter: "blocks[0].sequence_name" }],
    ["negative duration", [step("s", "noop", {}, { timeout: -1 })], { parameter: "blocks[0].timeout" }],
    ["bad queue", [step("s", "noop", {}, { queue_name: "no spaces please" })], { parameter: "blocks[0].queue_name" }],
    ["bad holiday", [step("s", "noop", {}, { delay: { duration: 1000, holidays: ["2024-13-01"] } })], { parameter: "blocks[0].delay.holidays[0]" }],
  ])("%s", async (_, blocks, metadata) => {
    const res = await rejected(`bad-${Math.random()}`, blocks);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(metadata.parameter);
    if ("position" in metadata) expect(JSON.stringify(res.body)).toContain(`position ${metadata.position}`);
  });
});

describe("step queue_name and cancellable", () => {
  it("routes a step's task to the workers polling its queue", async () => {
    const id = await start(await createSequence(orch, "queued", [step("gpu_work", "render", { frame: 1 }, { queue_name: "gpu" })]));
    const task = await eventually(async () => {
      const res = await poll("render", { queue_name: "gpu" });
      return res.body.length > 0 ? res.body[0] : undefined;
    });
    expect(task).toMatchObject({ block_id: "gpu_work", params: { frame: 1 } });
    // The default queue and another queue saw nothing of it.
    expect((await poll("render")).body).toEqual([]);
    expect((await poll("render", { queue_name: "cpu" })).body).toEqual([]);
    expect((await complete(task.id, { done: true })).status).toBe(200);
    expect((await waitForState(orch, id, ["completed"])).state).toBe("completed");
    expect((await poll("render", { queue_name: "bad queue" })).status).toBe(400);
  });

  it("a cancel waits for a step that is not cancellable, then ends the instance before the next step", async () => {
    const id = await start(await createSequence(orch, "non-cancellable", [step("charge", "payment", {}, { cancellable: false, queue_name: "payments" }), step("after")]));
    const task = await eventually(async () => {
      const res = await poll("payment", { queue_name: "payments" });
      return res.body.length > 0 ? res.body[0] : undefined;
    });
    expect((await signal(id, "cancel")).status).toBeLessThan(300);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await orch.rest("GET", `/instances/${id}`)).body.state).toBe("waiting");
    expect((await complete(task.id, { charged: true })).status).toBe(200);
    const ended = await waitForState(orch, id, ["cancelled", "completed", "failed"]);
    expect(ended.state).toBe("cancelled");
    expect(await outputsOf(orch, id)).toEqual({ charge: { charged: true } });
  });

  it("a cancellable worker step is cancelled at once", async () => {
    const id = await start(await createSequence(orch, "cancellable-step", [step("work", "slow_thing")]));
    await eventually(async () => ((await orch.rest("GET", `/instances/${id}`)).body.state === "waiting" ? true : undefined));
    await signal(id, "cancel");
    expect((await waitForState(orch, id, ["cancelled"])).state).toBe("cancelled");
  });
});

describe("sub_sequence", () => {
  it("runs the named sequence as a child and hands its outputs to the parent", async () => {
    const child = await createSequence(orch, "child-double", [transform("double", "x * 2")]);
    await orch.rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", name: "child-double", version: 2, blocks: [transform("double", "x * 100")] });
    const parent = await createSequence(orch, "parent", [
      { type: "sub_sequence", id: "sub", sequence_name: "child-double", version: 1, input: { x: "{{ context.data.n }}" } },
      { type: "sub_sequence", id: "latest", sequence_name: "child-double", input: { x: 1 } },
      step("use", "log", { message: "{{ outputs.sub.double.result }}/{{ outputs.latest.double.result }}" }),
    ]);
    const instance = await runInstance(orch, parent, { context: { data: { n: 7 } } }, undefined, 20_000);
    expect(instance.state).toBe("completed");
    const outputs = await outputsOf(orch, instance.id);
    expect(outputs.sub).toEqual({ double: { result: 14 } });
    expect(outputs.latest).toEqual({ double: { result: 100 } });
    expect(outputs.use).toEqual({ message: "14/100" });
    const children = (await orch.rest("GET", `/instances?tenant_id=acme&sequence_id=${child}`)).body;
    expect(children).toHaveLength(1);
    expect(children[0]).toMatchObject({ state: "completed", metadata: { source: "sub_sequence", parent_instance_id: instance.id, parent_block_id: "sub" }, context: { data: { x: 7 } } });
  });

  it("fails the parent when the child fails, and when the sequence does not exist", async () => {
    await createSequence(orch, "child-fails", [step("boom", "fail", { message: "kaput" })]);
    const failing = await runInstance(orch, await createSequence(orch, "parent-of-failure", [{ type: "sub_sequence", id: "sub", sequence_name: "child-fails" }]), {}, undefined, 20_000);
    expect(failing.state).toBe("failed");
    expect(failing.context.runtime.error).toMatch(/^sub_sequence: child instance [0-9a-f-]+ failed: kaput$/);
    const missing = await runInstance(orch, await createSequence(orch, "parent-of-nothing", [{ type: "sub_sequence", id: "sub", sequence_name: "no-such-sequence" }]));
    expect(missing.state).toBe("failed");
    expect(missing.context.runtime.error).toBe('sub_sequence: sequence "no-such-sequence" not found in namespace default');
  });

  it("cancelling the parent cancels the child", async () => {
    const child = await createSequence(orch, "child-waits", [step("wait_for_worker", "never_polled")]);
    const id = await start(await createSequence(orch, "parent-cancelled", [{ type: "sub_sequence", id: "sub", sequence_name: "child-waits" }]));
    const childRow = await eventually(async () => {
      const rows = (await orch.rest("GET", `/instances?tenant_id=acme&sequence_id=${child}`)).body;
      return rows.length > 0 && rows[0].state === "waiting" ? rows[0] : undefined;
    });
    expect((await orch.rest("GET", `/instances/${id}`)).body.state).toBe("waiting");
    await signal(id, "cancel");
    expect((await waitForState(orch, id, ["cancelled"])).state).toBe("cancelled");
    expect((await waitForState(orch, childRow.id, ["cancelled"])).state).toBe("cancelled");
  });

  it("cancelling a parked parent through PATCH /state cancels the child too", async () => {
    const child = await createSequence(orch, "child-waits-patch", [step("wait_for_worker", "never_polled")]);
    const id = await start(await createSequence(orch, "parent-patched", [{ type: "sub_sequence", id: "sub", sequence_name: "child-waits-patch" }]));
    const childRow = await eventually(async () => {
      const rows = (await orch.rest("GET", `/instances?tenant_id=acme&sequence_id=${child}`)).body;
      return rows.length > 0 && rows[0].state === "waiting" ? rows[0] : undefined;
    });
    await eventually(async () => ((await orch.rest("GET", `/instances/${id}`)).body.state === "waiting" ? true : undefined));
    expect((await orch.rest("PATCH", `/instances/${id}/state`, { state: "cancelled" })).status).toBe(200);
    expect((await waitForState(orch, childRow.id, ["cancelled"])).state).toBe("cancelled");
  });
});
