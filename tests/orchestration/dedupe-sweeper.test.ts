import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, startOrchestration, type TestOrchestration } from "./support";

// Trigger dedupe scopes (seed 002 §emit_event: "parent" keys on the parent instance, "tenant" on the
// tenant) over POST /triggers/{slug}/fire, and the TTL sweeper that forgets old dedupe records.

let orch: TestOrchestration;
let sql: postgres.Sql;
let parentA: string;
let parentB: string;

beforeAll(async () => {
  // A TTL of one hour swept every 100 ms: the test ages records by hand instead of waiting.
  orch = await startOrchestration({ ORCHESTRATION_DEDUPE_TTL: "1h", ORCHESTRATION_DEDUPE_SWEEP_MS: "100" });
  sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
  const child = await createSequence(orch, "dedupe-child", [{ type: "step", id: "a", handler: "noop" }]);
  const parent = await createSequence(orch, "dedupe-parent", [{ type: "step", id: "p", handler: "noop" }]);
  await orch.rest("POST", "/triggers", { slug: "on-order", namespace: "default", sequence_id: child });
  parentA = (await orch.rest("POST", "/instances", { sequence_id: parent, tenant_id: "acme", namespace: "default" })).body.id;
  parentB = (await orch.rest("POST", "/instances", { sequence_id: parent, tenant_id: "acme", namespace: "default" })).body.id;
}, 60_000);

afterAll(async () => {
  await sql?.end();
  await orch?.close();
});

const fire = (body: Record<string, unknown>, as?: string) => orch.rest("POST", "/triggers/on-order/fire", { data: {}, ...body }, as ? { as } : {});

describe("dedupe scopes", () => {
  it('"parent": the same key under one parent dedupes, under another parent spawns its own child', async () => {
    const a1 = await fire({ dedupe_key: "ord-1", dedupe_scope: "parent", parent_instance_id: parentA });
    const a2 = await fire({ dedupe_key: "ord-1", dedupe_scope: "parent", parent_instance_id: parentA });
    const b1 = await fire({ dedupe_key: "ord-1", dedupe_scope: "parent", parent_instance_id: parentB });
    expect(a1.body.deduped).toBe(false);
    expect(a2.body).toEqual({ ...a1.body, deduped: true });
    expect(b1.body.deduped).toBe(false);
    expect(b1.body.instance_id).not.toBe(a1.body.instance_id);
  });

  it('"tenant": the key is shared by every parent of the tenant (and is the default without a parent)', async () => {
    const fromA = await fire({ dedupe_key: "delivery-9", dedupe_scope: "tenant", parent_instance_id: parentA });
    const fromB = await fire({ dedupe_key: "delivery-9", dedupe_scope: "tenant", parent_instance_id: parentB });
    const bare = await fire({ dedupe_key: "delivery-9" });
    expect(fromA.body.deduped).toBe(false);
    expect(fromB.body).toEqual({ ...fromA.body, deduped: true });
    expect(bare.body).toEqual({ ...fromA.body, deduped: true });
  });

  it("bad keys and scopes are 400; a parent scope needs a parent", async () => {
    expect((await fire({ dedupe_key: "" })).status).toBe(400);
    expect((await fire({ dedupe_key: "k", dedupe_scope: "global" })).status).toBe(400);
    expect((await fire({ dedupe_key: "k", dedupe_scope: "parent" })).status).toBe(400);
  });
});

describe("the dedupe TTL sweeper", () => {
  it("deletes records older than ORCHESTRATION_DEDUPE_TTL, so the same key fires a new child; younger ones stay", async () => {
    const first = await fire({ dedupe_key: "expiring" });
    const kept = await fire({ dedupe_key: "fresh" });
    expect((await fire({ dedupe_key: "expiring" })).body.deduped).toBe(true);
    // Age one record past the TTL (1 h); the sweeper (every 100 ms) removes it.
    await sql`update orchestration.trigger_dedupe set created_at = now() - interval '2 hours' where dedupe_key = 'expiring'`;
    await eventually(async () => {
      const [{ n }] = await sql`select count(*)::int as n from orchestration.trigger_dedupe where dedupe_key = 'expiring'`;
      return n === 0 ? true : undefined;
    }, 10_000, "the expired record to be swept");
    const again = await fire({ dedupe_key: "expiring" });
    expect(again.body.deduped).toBe(false);
    expect(again.body.instance_id).not.toBe(first.body.instance_id);
    // The young record survived the sweeps and still dedupes.
    expect((await fire({ dedupe_key: "fresh" })).body).toEqual({ ...kept.body, deduped: true });
    // The re-fire was recorded anew: a third fire dedupes against the new child.
    expect((await fire({ dedupe_key: "expiring" })).body).toEqual({ ...again.body, deduped: true });
  });
});
