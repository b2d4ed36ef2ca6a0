import postgres from "postgres";
import { createTestDatabase, testNatsUrl, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, deleteWakeupConsumer, eventually, spawnEngine, startHttpServer, startOrchestration, type EngineProcess, type TestHttpServer, type TestOrchestration } from "./support";

// Two engine processes share one database: 2,000 instances, each run exactly once.

const INSTANCES = 2_000;

let database: TestDatabase;
let api: TestOrchestration;
let engines: EngineProcess[] = [];
let hits: TestHttpServer;
let sql: postgres.Sql;

beforeAll(async () => {
  database = await createTestDatabase("orch_replicas");
  hits = await startHttpServer(() => ({ status: 200, body: { ok: true } }));
  const env = { NATS_URL: testNatsUrl(), ORCHESTRATION_TICK_MS: "100" };
  // The API in this process (it signs the test's tokens); the engines are two other processes.
  api = await startOrchestration({ ...env, ORCHESTRATION_ENGINE: "off" }, database);
  engines = await Promise.all([spawnEngine(database.url, env), spawnEngine(database.url, env)]);
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
}, 120_000);

afterAll(async () => {
  for (const engine of engines) if (engine.child.exitCode === null) engine.child.kill("SIGKILL");
  await sql?.end();
  await api?.close();
  await hits?.close();
  if (database) await deleteWakeupConsumer(database.url);
  await database?.drop();
});

describe("two engine processes against one database", () => {
  it("run 2,000 instances, each exactly once", async () => {
    const sequence = await createSequence(api, "replicated", [
      { type: "step", id: "first", handler: "noop" },
      { type: "step", id: "call", handler: "http_request", params: { url: `${hits.url}/hit?i={{ instance.id }}` } },
      { type: "step", id: "last", handler: "transform", params: { expression: "n * 2" } },
    ]);
    const started = Date.now();
    for (let i = 0; i < INSTANCES; i += 1_000) {
      const batch = Array.from({ length: 1_000 }, (_, j) => ({ sequence_id: sequence, tenant_id: "acme", namespace: "replicas", context: { data: { n: i + j } } }));
      expect((await api.rest("POST", "/instances/batch", { instances: batch })).body).toEqual({ count: 1_000 });
    }
    await eventually(
      async () => {
        const [{ n }] = await sql`select count(*)::int as n from orchestration.instances where state = 'completed'`;
        return n === INSTANCES ? true : undefined;
      },
      90_000,
      "all instances to complete",
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`2 engines: ${INSTANCES} instances (3 steps, one of them HTTP) in ${seconds.toFixed(1)} s = ${Math.round(INSTANCES / seconds)} instances/s`);

    const [{ states }] = await sql`select json_object_agg(state, n) as states from (select state, count(*)::int as n from orchestration.instances group by state) s`;
    expect(states).toEqual({ completed: INSTANCES });
    // Exactly one output per block per instance, and the right ones.
    const dupes = await sql`select instance_id, block_id, count(*)::int as n from orchestration.block_outputs group by 1, 2 having count(*) <> 1`;
    expect(dupes).toEqual([]);
    const [{ outputs }] = await sql`select count(*)::int as outputs from orchestration.block_outputs`;
    expect(outputs).toBe(INSTANCES * 3);
    const [{ wrong }] = await sql`
      select count(*)::int as wrong from orchestration.block_outputs o join orchestration.instances i on i.id = o.instance_id
      where o.block_id = 'last' and (o.output->>'result')::int <> (i.context->'data'->>'n')::int * 2`;
    expect(wrong).toBe(0);
    // The HTTP side effect happened once per instance.
    const calls = hits.requests.map((r) => new URL(r.path, "http://x").searchParams.get("i"));
    expect(calls).toHaveLength(INSTANCES);
    expect(new Set(calls).size).toBe(INSTANCES);
    // Both engines took part.
    const claimed = await Promise.all(engines.map((e) => e.counter("orch8_instances_claimed_total")));
    expect(claimed.every((n) => n > 0)).toBe(true);
    const completed = await Promise.all(engines.map((e) => e.counter("orch8_instances_completed_total")));
    expect(completed[0] + completed[1]).toBe(INSTANCES);
  }, 120_000);
});
