import postgres from "postgres";
import { createTestDatabase, testNatsUrl, type TestDatabase } from "@cloudforet/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSequence, deleteWakeupConsumer, eventually, spawnEngine, startHttpServer, startOrchestration, waitForState, type EngineProcess, type TestOrchestration } from "./support";

// The scheduler: claim order, wake-ups, leases held while working, recovery of a dead engine's instances.

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase("orch_sched");
  cleanup.push(() => db.drop());
  return db;
}

async function orchestration(env: Record<string, string>, db?: TestDatabase): Promise<TestOrchestration> {
  const orch = await startOrchestration(env, db);
  cleanup.push(() => orch.close());
  return orch;
}

describe("the scheduler", () => {
  it("claims by priority (critical > high > normal > low), then by fire time", async () => {
    const orch = await orchestration({ ORCHESTRATION_MAX_ACTIVE: "1", ORCHESTRATION_CLAIM_BATCH: "1" });
    const seq = await createSequence(orch, "ordered", [{ type: "step", id: "mark", handler: "noop" }]);
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const specs = [
      { key: "low-1", priority: "low", next_fire_at: at(9) },
      { key: "normal-2", priority: "normal", next_fire_at: at(1) },
      { key: "critical-2", priority: "critical", next_fire_at: at(1) },
      { key: "high-1", priority: "high", next_fire_at: at(5) },
      { key: "normal-1", priority: "normal", next_fire_at: at(5) },
      { key: "critical-1", priority: "critical", next_fire_at: at(5) },
      { key: "high-2", priority: "high", next_fire_at: at(1) },
      { key: "low-2", priority: "low", next_fire_at: at(1) },
    ];
    await orch.rest("POST", "/instances/batch", { instances: specs.map((s) => ({ sequence_id: seq, tenant_id: "acme", namespace: "order", priority: s.priority, next_fire_at: s.next_fire_at, idempotency_key: s.key })) });
    const sql = postgres(orch.database.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end());
    await eventually(async () => ((await sql`select count(*)::int as n from orchestration.instances where state = 'completed'`)[0].n === 8 ? true : undefined));
    const order = await sql`select i.idempotency_key from orchestration.block_outputs o join orchestration.instances i on i.id = o.instance_id order by o.created_at, o.seq`;
    expect(order.map((r) => r.idempotency_key)).toEqual(["critical-1", "critical-2", "high-1", "high-2", "normal-1", "normal-2", "low-1", "low-2"]);
  });

  it("starts a new instance within milliseconds, not at the next poll", async () => {
    const orch = await orchestration({ ORCHESTRATION_TICK_MS: "10000" });
    const seq = await createSequence(orch, "prompt", [{ type: "step", id: "go", handler: "noop" }]);
    const sent = Date.now();
    const { body } = await orch.rest("POST", "/instances", { sequence_id: seq, tenant_id: "acme", namespace: "default" });
    const done = await waitForState(orch, body.id, ["completed"], 3_000);
    expect(Date.parse(done.updated_at) - sent).toBeLessThan(500);
  });

  it("starts instances created for later at their time, not at the next poll", async () => {
    // A 10 s tick: without a timer set to the fire time, the idle engine would find them 10 s or more late.
    const orch = await orchestration({ ORCHESTRATION_TICK_MS: "10000" });
    const seq = await createSequence(orch, "later", [{ type: "step", id: "go", handler: "noop" }]);
    const fireAt = Date.now() + 1_500;
    const later = (offset: number) => ({ sequence_id: seq, tenant_id: "acme", namespace: "later", next_fire_at: new Date(fireAt + offset).toISOString() });
    const created = await orch.rest("POST", "/instances/batch", { instances: [later(2_000), later(0), later(1_000)] });
    expect(created.body).toEqual({ count: 3 });
    const { body: single } = await orch.rest("POST", "/instances", later(500));
    const sql = postgres(orch.database.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end());
    // Not run early...
    expect((await sql`select count(*)::int as n from orchestration.instances where namespace = 'later' and state = 'completed'`)[0].n).toBe(0);
    // ...and the first of them started within a second of its time, the single create's too.
    const done = await eventually(async () => {
      const rows = await sql`select id, updated_at from orchestration.instances where namespace = 'later' and state = 'completed' order by updated_at`;
      return rows.length === 4 ? rows : undefined;
    }, 8_000, "the four instances to run");
    expect(done[0].updated_at.getTime()).toBeGreaterThanOrEqual(fireAt);
    expect(done[0].updated_at.getTime() - fireAt).toBeLessThan(1_000);
    const singleDone = done.find((row) => row.id === single.id)!;
    expect(singleDone.updated_at.getTime() - (fireAt + 500)).toBeLessThan(1_000);
  });

  it("wakes an engine in another process over NATS", async () => {
    const db = await database();
    cleanup.push(() => deleteWakeupConsumer(db.url));
    const env = { NATS_URL: testNatsUrl(), ORCHESTRATION_TICK_MS: "10000" };
    const api = await orchestration({ ...env, ORCHESTRATION_ENGINE: "off" }, db);
    const engine: EngineProcess = await spawnEngine(db.url, env);
    cleanup.push(async () => {
      engine.child.kill("SIGTERM");
      await engine.exited;
    });
    const seq = await createSequence(api, "over-nats", [{ type: "step", id: "go", handler: "noop" }]);
    // The engine's first poll is right after start; from now on only a wake-up can make it claim soon.
    await new Promise((r) => setTimeout(r, 300));
    const sent = Date.now();
    const { body } = await api.rest("POST", "/instances", { sequence_id: seq, tenant_id: "acme", namespace: "default" });
    const done = await waitForState(api, body.id, ["completed"], 5_000);
    expect(Date.parse(done.updated_at) - sent).toBeLessThan(1_000);
  }, 60_000);

  it("renews the lease of an instance it works on, so another engine never runs it at the same time", { timeout: 60_000 }, async () => {
    const db = await database();
    // Each step outlasts the lease twice over, so only renewals keep the other engine off it. The lease
    // is long enough that a loaded runner's event-loop lag cannot starve three renewals in a row.
    const slow = await startHttpServer(() => ({ status: 200, body: {}, delayMs: 2_500 }));
    cleanup.push(() => slow.close());
    const env = { ORCHESTRATION_LEASE_MS: "1200", ORCHESTRATION_TICK_MS: "50" };
    const one = await orchestration(env, db);
    await orchestration(env, db);
    const seq = await createSequence(one, "long-step", [{ type: "step", id: "call", handler: "http_request", params: { url: `${slow.url}/work?i={{ instance.id }}` } }]);
    const { body } = await one.rest("POST", "/instances/batch", { instances: Array.from({ length: 6 }, () => ({ sequence_id: seq, tenant_id: "acme", namespace: "lease" })) });
    expect(body.count).toBe(6);
    await eventually(async () => ((await one.rest("GET", "/instances?namespace=lease&state=completed")).body.length === 6 ? true : undefined), 40_000);
    const calls = slow.requests.map((r) => r.path);
    expect(calls).toHaveLength(6);
    expect(new Set(calls).size).toBe(6);
  });

  it("recovers an instance whose engine died (expired lease) and counts it", async () => {
    const orch = await orchestration({ ORCHESTRATION_LEASE_MS: "1000" });
    const seq = await createSequence(orch, "orphan", [{ type: "step", id: "first", handler: "noop" }, { type: "step", id: "second", handler: "noop" }]);
    const { body } = await orch.rest("POST", "/instances", { sequence_id: seq, tenant_id: "acme", namespace: "default", next_fire_at: new Date(Date.now() + 3_600_000).toISOString() });
    const sql = postgres(orch.database.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end());
    // As a crashed engine leaves it: running, locked, lease run out, first step done.
    await sql`update orchestration.instances set state = 'running', locked_by = 'dead-engine', lease_expires_at = now() - interval '1 second',
              execution = ${sql.json({ nodes: { first: { status: "completed", seq: 1, attempt: 0 } }, seq: 1 })}
              where id = ${body.id}`;
    await waitForState(orch, body.id, ["completed"], 5_000);
    expect((await orch.rest("GET", `/instances/${body.id}/outputs`)).body.map((o: { block_id: string }) => o.block_id)).toEqual(["second"]);
    const metrics = (await orch.rest("GET", "/metrics", undefined, { as: null })).body as string;
    expect(Number(/orch8_recovery_stale_instances_total\{[^}]*\} (\d+)/.exec(metrics)![1])).toBeGreaterThanOrEqual(1);
  });
});

afterAll(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});
