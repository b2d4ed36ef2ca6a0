import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, outputsOf, startOrchestration, waitForState, type TestOrchestration } from "./support";

let orch: TestOrchestration;
let sql: postgres.Sql;

const step = (id: string, handler: string, params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ type: "step", id, handler, params, ...extra });

beforeAll(async () => {
  orch = await startOrchestration();
  sql = postgres(orch.database.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await orch?.close();
});

async function start(sequence: string, fields: Record<string, unknown> = {}) {
  const { body } = await orch.rest("POST", "/instances", { sequence_id: sequence, tenant_id: "acme", namespace: "default", ...fields });
  return body.id as string;
}

const signal = (id: string, signal_type: string, payload?: unknown) => orch.rest("POST", `/instances/${id}/signals`, { signal_type, payload });

describe("signals", () => {
  it("pause stops a running instance between steps; resume carries on where it stopped", async () => {
    const seq = await createSequence(orch, "pausable", [step("first", "noop"), step("nap", "sleep", { duration_ms: 1_500 }), step("last", "noop")]);
    const id = await start(seq);
    await eventually(async () => ((await outputsOf(orch, id)).first ? true : undefined));
    await signal(id, "pause");
    const paused = await waitForState(orch, id, ["paused"]);
    expect(paused.next_fire_at).toBeNull();
    await new Promise((r) => setTimeout(r, 1_700));
    expect((await orch.rest("GET", `/instances/${id}`)).body.state).toBe("paused");
    expect(await outputsOf(orch, id)).toEqual({ first: {} });
    await signal(id, "resume");
    await waitForState(orch, id, ["completed"]);
    expect(Object.keys(await outputsOf(orch, id))).toEqual(["first", "nap", "last"]);
  });

  it("pause and resume of an instance that has not started yet", async () => {
    const seq = await createSequence(orch, "later", [step("only", "noop")]);
    const id = await start(seq, { next_fire_at: new Date(Date.now() + 60_000).toISOString() });
    await signal(id, "pause");
    await waitForState(orch, id, ["paused"]);
    await signal(id, "resume");
    await waitForState(orch, id, ["completed"]);
  });

  it("cancel ends the instance; later signals are refused", async () => {
    const seq = await createSequence(orch, "cancellable", [step("wait", "human_review")]);
    const id = await start(seq);
    await waitForState(orch, id, ["waiting"]);
    await signal(id, "cancel");
    await waitForState(orch, id, ["cancelled"]);
    expect((await signal(id, "resume")).status).toBe(400);
  });

  it("update_context merges its payload into context.data before the next step", async () => {
    const seq = await createSequence(orch, "updatable", [step("wait", "sleep", { duration_ms: 1_200 }), step("greet", "log", { message: "hi {{ context.data.name }} ({{ context.data.plan }})" })]);
    const id = await start(seq, { context: { data: { name: "Ann", plan: "free" } } });
    await waitForState(orch, id, ["scheduled"]);
    await signal(id, "update_context", { plan: "pro" });
    await waitForState(orch, id, ["completed"]);
    expect((await outputsOf(orch, id)).greet).toEqual({ message: "hi Ann (pro)" });
  });

  it("custom signals are recorded in the audit with their payload", async () => {
    const seq = await createSequence(orch, "custom", [step("wait", "human_review")]);
    const id = await start(seq);
    await waitForState(orch, id, ["waiting"]);
    await signal(id, "custom:approval_granted", { reviewer: "alice" });
    const audit = await eventually(async () => {
      const got = (await orch.rest("GET", `/instances/${id}`)).body.context.audit;
      return got.length > 0 ? got : undefined;
    });
    expect(audit).toEqual([{ event: "signal", signal_type: "custom:approval_granted", payload: { reviewer: "alice" }, at: expect.any(String) }]);
  });

  it("delivers many signals in order, each exactly once", async () => {
    const seq = await createSequence(orch, "many-signals", [step("wait", "human_review"), step("show", "log", { message: "{{ context.data.counter }}" })]);
    const id = await start(seq);
    await waitForState(orch, id, ["waiting"]);
    for (let i = 0; i < 30; i++) expect((await signal(id, "update_context", { counter: i, [`k${i}`]: true })).status).toBe(201);
    await signal(id, "custom:human_review", { approved: true });
    await waitForState(orch, id, ["completed"]);
    const instance = (await orch.rest("GET", `/instances/${id}`)).body;
    expect(instance.context.data.counter).toBe(29);
    for (let i = 0; i < 30; i++) expect(instance.context.data[`k${i}`]).toBe(true);
    expect(instance.context.audit.map((a: { signal_type: string }) => a.signal_type)).toEqual([...Array(30).fill("update_context"), "custom:human_review"]);
    expect((await outputsOf(orch, id)).show).toEqual({ message: 29 });
    const rows = await sql`select processed, count(*)::int as n from orchestration.signals where instance_id = ${id} group by processed`;
    expect(rows).toEqual([{ processed: true, n: 31 }]);
    const metrics = (await orch.rest("GET", "/metrics", undefined, { as: null })).body as string;
    expect(Number(/orch8_signals_delivered_total\{[^}]*\} (\d+)/.exec(metrics)![1])).toBeGreaterThanOrEqual(31);
  });

  it("a signal reaches an idle instance within milliseconds, not at the next poll", async () => {
    const seq = await createSequence(orch, "fast-wake", [step("wait", "human_review"), step("after", "noop")]);
    const id = await start(seq);
    await waitForState(orch, id, ["waiting"]);
    const sent = Date.now();
    await signal(id, "custom:human_review", { approved: true });
    const done = await waitForState(orch, id, ["completed"]);
    expect(Date.parse(done.updated_at) - sent).toBeLessThan(500);
  });
});
