import postgres from "postgres";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, spawnEngine, startHttpServer, startOrchestration, type EngineProcess, type TestHttpServer, type TestOrchestration } from "./support";

// kill -9 of the engine mid-run: after a restart every instance completes and no completed step runs again.

const INSTANCES = 120;
/** Calls per instance: a and b in parallel for each of two items, then c. */
const CALLS = 5;

let database: TestDatabase;
let api: TestOrchestration;
let hits: TestHttpServer;
let sql: postgres.Sql;
const engines: EngineProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase("orch_crash");
  // Each step's call takes a moment, so the kill lands while many instances are mid-sequence.
  hits = await startHttpServer(({ path }) => ({ status: 200, body: { call: key(path) }, delayMs: 15 }));
  api = await startOrchestration({ ORCHESTRATION_ENGINE: "off" }, database);
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
}, 60_000);

afterAll(async () => {
  for (const engine of engines) if (engine.child.exitCode === null) engine.child.kill("SIGKILL");
  await sql?.end();
  await api?.close();
  await hits?.close();
  await database?.drop();
});

/** instance/step/item of a call. */
const key = (path: string) => {
  const params = new URL(path, "http://x").searchParams;
  return `${params.get("i")}/${params.get("s")}/${params.get("n")}`;
};
const call = (s: string, item = "{{ context.data.n }}") => ({ type: "step", id: s, handler: "http_request", params: { url: `${"{{ context.data.server }}"}/hit?i={{ instance.id }}&s=${s}&n=${item}` } });

describe("an engine killed with SIGKILL", () => {
  it("is recovered after a restart: every instance completes, no completed step runs again", async () => {
    // Composite blocks on the way: the tree must resume mid-iteration, mid-parallel.
    const sequence = await createSequence(api, "crashy", [
      { type: "for_each", id: "each", collection: "items", item_var: "n", body: [{ type: "parallel", id: "par", branches: [[call("a")], [call("b")]] }] },
      call("c", "last"),
    ]);
    const env = { ORCHESTRATION_LEASE_MS: "1500", ORCHESTRATION_TICK_MS: "50", ORCHESTRATION_MAX_ACTIVE: "32" };
    engines.push(await spawnEngine(database.url, env));
    const batch = Array.from({ length: INSTANCES }, () => ({ sequence_id: sequence, tenant_id: "acme", namespace: "crash", context: { data: { items: [1, 2], server: hits.url } } }));
    expect((await api.rest("POST", "/instances/batch", { instances: batch })).body).toEqual({ count: INSTANCES });

    // Kill it hard once about a third of the calls are made.
    await eventually(async () => (hits.requests.length >= (INSTANCES * CALLS) / 3 ? true : undefined), 60_000, "progress");
    engines[0].child.kill("SIGKILL");
    await engines[0].exited;
    const callsBeforeKill = hits.requests.length;
    const before = new Map<string, number>();
    for (const r of hits.requests) before.set(key(r.path), (before.get(key(r.path)) ?? 0) + 1);
    expect([...before.values()].filter((n) => n > 1)).toEqual([]);
    const recorded = async () => (await sql`select output from orchestration.block_outputs`).map((r) => JSON.parse(r.output.body).call as string);
    const completedSteps = new Set(await recorded());
    const [{ held }] = await sql`select count(*)::int as held from orchestration.instances where locked_by is not null`;
    expect(completedSteps.size).toBeGreaterThan(0);
    expect(completedSteps.size).toBeLessThan(INSTANCES * CALLS);
    expect(held).toBeGreaterThan(0);

    // A new engine recovers the dead one's instances once their leases expire, and finishes the work.
    engines.push(await spawnEngine(database.url, env));
    await eventually(
      async () => {
        const [{ n }] = await sql`select count(*)::int as n from orchestration.instances where state = 'completed'`;
        return n === INSTANCES ? true : undefined;
      },
      60_000,
      "every instance to complete after the restart",
    );
    expect(await engines[1].counter("orch8_recovery_stale_instances_total")).toBeGreaterThan(0);

    // Every step of every instance (each iteration) ran and has exactly one output.
    const outputs = await recorded();
    expect(outputs).toHaveLength(INSTANCES * CALLS);
    expect(new Set(outputs).size).toBe(INSTANCES * CALLS);
    // No step that had completed before the kill was called again afterwards.
    const callsAfter = hits.requests.slice(callsBeforeKill).map((r) => key(r.path));
    expect(callsAfter.filter((k) => completedSteps.has(k))).toEqual([]);
    // Only steps that were in flight at the kill (called, not yet recorded) ran twice.
    const counts = new Map<string, number>();
    for (const r of hits.requests) counts.set(key(r.path), (counts.get(key(r.path)) ?? 0) + 1);
    const twice = [...counts.entries()].filter(([, n]) => n > 1);
    expect(twice.every(([, n]) => n === 2)).toBe(true);
    expect(twice.length).toBeLessThanOrEqual(32 * 2); // at most MAX_ACTIVE instances × 2 parallel branches were in flight
    expect(counts.size).toBe(INSTANCES * CALLS);
    console.log(`kill -9 after ${callsBeforeKill} calls with ${completedSteps.size} steps recorded and ${held} instances held; ${twice.length} in-flight step(s) ran again`);
  }, 120_000);
});
