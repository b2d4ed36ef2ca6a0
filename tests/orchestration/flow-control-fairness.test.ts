import postgres from "postgres";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { eventually, startOrchestration, type TestOrchestration } from "./support";

// The claimer interleaves tenants (a flood of one does not starve another) and honours priorities
// within a tenant.

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});
afterAll(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});

async function start(env: Record<string, string>): Promise<{ orch: TestOrchestration; sql: postgres.Sql }> {
  const orch = await startOrchestration({ ORCHESTRATION_TICK_MS: "50", ...env });
  cleanup.push(() => orch.close());
  const sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
  cleanup.push(() => sql.end());
  return { orch, sql };
}

async function sequenceIn(orch: TestOrchestration, tenant: string, name: string, blocks: unknown[]): Promise<string> {
  const res = await orch.rest("POST", "/sequences", { tenant_id: tenant, namespace: "default", name, version: 1, blocks }, { as: tenant });
  if (res.status !== 201) throw new Error(`sequence ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function completedCount(sql: postgres.Sql, where: postgres.PendingQuery<postgres.Row[]>): Promise<number> {
  const [{ n }] = await sql`select count(*)::int as n from orchestration.instances where state = 'completed' and ${where}`;
  return n;
}

describe("per-tenant fairness", () => {
  it("tenant B's instances created after tenant A's flood of 3,000 complete before the flood is done", async () => {
    const { orch, sql } = await start({ ORCHESTRATION_MAX_ACTIVE: "8", ORCHESTRATION_CLAIM_BATCH: "8" });
    const step = [{ type: "step", id: "work", handler: "sleep", params: { duration_ms: 20 } }];
    const flood = await sequenceIn(orch, "acme", "flood", step);
    const few = await sequenceIn(orch, "globex", "few", step);
    const FLOOD = 3_000;
    for (let from = 0; from < FLOOD; from += 1_000) {
      const instances = Array.from({ length: 1_000 }, () => ({ sequence_id: flood, tenant_id: "acme", namespace: "flood" }));
      expect((await orch.rest("POST", "/instances/batch", { instances })).body).toEqual({ count: 1_000 });
    }
    const instances = Array.from({ length: 5 }, () => ({ sequence_id: few, tenant_id: "globex", namespace: "few" }));
    expect((await orch.rest("POST", "/instances/batch", { instances }, { as: "globex" })).body).toEqual({ count: 5 });
    await eventually(async () => ((await completedCount(sql, sql`tenant_id = 'globex'`)) === 5 ? true : undefined), 60_000, "tenant B's instances");
    const floodDoneWhenBWas = await completedCount(sql, sql`tenant_id = 'acme'`);
    expect(floodDoneWhenBWas).toBeLessThan(FLOOD);
    // And B did not merely finish before the very end: the claimer took B in its first rounds.
    const [{ last_b }] = await sql`select max(updated_at) as last_b from orchestration.instances where tenant_id = 'globex'`;
    const [{ after }] = await sql`select count(*)::int as after from orchestration.instances where tenant_id = 'acme' and (state <> 'completed' or updated_at > ${last_b})`;
    expect(after).toBeGreaterThan(FLOOD / 2);
    await eventually(async () => ((await completedCount(sql, sql`tenant_id = 'acme'`)) === FLOOD ? true : undefined), 120_000, "the flood to drain");
  }, 180_000);
});

describe("priorities", () => {
  it("with one instance at a time, critical instances run before low ones created earlier", async () => {
    const { orch, sql } = await start({ ORCHESTRATION_MAX_ACTIVE: "1", ORCHESTRATION_CLAIM_BATCH: "1" });
    const blocker = await sequenceIn(orch, "acme", "blocker", [{ type: "step", id: "hold", handler: "sleep", params: { duration_ms: 800 } }]);
    const quick = await sequenceIn(orch, "acme", "quick", [{ type: "step", id: "run", handler: "noop" }]);
    await orch.rest("POST", "/instances", { sequence_id: blocker, tenant_id: "acme", namespace: "prio" });
    await eventually(async () => {
      const [{ n }] = await sql`select count(*)::int as n from orchestration.instances where state = 'running'`;
      return n === 1 ? true : undefined;
    });
    const make = (priority: string) => ({ sequence_id: quick, tenant_id: "acme", namespace: "prio", priority });
    // Low ones first (earlier fire times), then critical, then normal.
    await orch.rest("POST", "/instances/batch", { instances: [1, 2, 3, 4].map(() => make("low")) });
    await orch.rest("POST", "/instances/batch", { instances: [1, 2, 3, 4].map(() => make("critical")) });
    await orch.rest("POST", "/instances/batch", { instances: [1, 2].map(() => make("normal")) });
    await eventually(async () => ((await completedCount(sql, sql`namespace = 'prio'`)) === 11 ? true : undefined), 30_000, "all to complete");
    const order = await sql<{ priority: string }[]>`
      select i.priority from orchestration.block_outputs o join orchestration.instances i on i.id = o.instance_id
      where o.block_id = 'run' order by o.created_at, o.seq`;
    expect(order.map((r) => r.priority)).toEqual(["critical", "critical", "critical", "critical", "normal", "normal", "low", "low", "low", "low"]);
  }, 60_000);
});
