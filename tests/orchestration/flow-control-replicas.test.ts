import postgres from "postgres";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, startOrchestration, type TestOrchestration } from "./support";

// Two engines on one database share the slots of a concurrency key: never more than max_concurrency
// instances of the key run at once across both, and both take part.

let database: TestDatabase;
let engines: TestOrchestration[] = [];
let sql: postgres.Sql;

beforeAll(async () => {
  database = await createTestDatabase("orch_flow_replicas");
  // Two instances at a time per engine, so reaching three at once needs both engines.
  const env = { ORCHESTRATION_TICK_MS: "50", ORCHESTRATION_MAX_ACTIVE: "2", ORCHESTRATION_CLAIM_BATCH: "2" };
  engines = [await startOrchestration(env, database), await startOrchestration(env, database)];
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
}, 60_000);

afterAll(async () => {
  await sql?.end();
  for (const engine of engines) await engine.close();
  await database?.drop();
});

describe("concurrency keys across two engine replicas", () => {
  it("max_concurrency 3: 50 instances, at most 3 running at once across both engines, all complete", async () => {
    const [api] = engines;
    const sequence = await createSequence(api, "conc-replicas", [
      { type: "step", id: "start", handler: "noop" },
      { type: "step", id: "work", handler: "sleep", params: { duration_ms: 20 } },
      { type: "step", id: "end", handler: "noop" },
    ]);
    const instances = Array.from({ length: 50 }, () => ({ sequence_id: sequence, tenant_id: "acme", namespace: "replicas", concurrency_key: "crm-sync", max_concurrency: 3 }));
    expect((await api.rest("POST", "/instances/batch", { instances })).body).toEqual({ count: 50 });
    await eventually(
      async () => {
        const [{ n }] = await sql`select count(*)::int as n from orchestration.instances where state = 'completed'`;
        return n === 50 ? true : undefined;
      },
      90_000,
      "all 50 instances to complete",
    );
    const rows = await sql<{ instance_id: string; block_id: string; at: Date }[]>`
      select instance_id, block_id, created_at as at from orchestration.block_outputs where block_id in ('start', 'end')`;
    const spans = new Map<string, number[]>();
    for (const row of rows) {
      const span = spans.get(row.instance_id) ?? [0, 0];
      span[row.block_id === "start" ? 0 : 1] = row.at.getTime();
      spans.set(row.instance_id, span);
    }
    expect(spans.size).toBe(50);
    const events = [...spans.values()].flatMap(([s, e]) => [
      [s, 1],
      [e, -1],
    ]);
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let most = 0;
    for (const [, delta] of events) most = Math.max(most, (running += delta));
    expect(most).toBeLessThanOrEqual(3);
    const claimed = await Promise.all(engines.map((e) => e.module.orchestration().metrics.instancesClaimed.get()));
    expect(claimed.every((c) => c.values[0].value > 0)).toBe(true);
    const [{ slots }] = await sql`select count(*)::int as slots from orchestration.concurrency_slots`;
    expect(slots).toBe(0);
  }, 120_000);
});
