import postgres from "postgres";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, startOrchestration, type TestOrchestration } from "./support";

// Cron on the real clock across an engine outage: the fires missed while no engine ran produce ONE
// instance on recovery (for the oldest missed fire time), then the schedule continues every second.

let database: TestDatabase;
let sql: postgres.Sql;
const running: TestOrchestration[] = [];

beforeAll(async () => {
  database = await createTestDatabase("orch_cron_recovery");
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
}, 60_000);

afterAll(async () => {
  await sql?.end();
  for (const orch of running) await orch.close().catch(() => {});
  await database?.drop();
});

async function fireTimes(scheduleId: string): Promise<number[]> {
  const rows = await sql`select idempotency_key from orchestration.instances where idempotency_key like ${`cron:${scheduleId}:%`}`;
  return rows.map((r) => Date.parse(r.idempotency_key.slice(`cron:${scheduleId}:`.length))).sort((a, b) => a - b);
}

describe("cron across an engine outage", () => {
  it("fires once for the missed fire times on recovery, then resumes on schedule", async () => {
    const first = await startOrchestration({ ORCHESTRATION_CRON_TICK_MS: "50" }, database);
    running.push(first);
    const sequence = await createSequence(first, "cron-recovery", [{ type: "step", id: "s", handler: "noop" }]);
    const created = await first.rest("POST", "/cron", { tenant_id: "acme", namespace: "default", sequence_id: sequence, cron_expr: "* * * * * * *", timezone: "UTC" });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await eventually(async () => ((await fireTimes(id)).length >= 2 ? true : undefined), 15_000, "two fires before the outage");

    await first.close();
    running.splice(running.indexOf(first), 1);
    const before = await fireTimes(id);
    const lastBefore = before[before.length - 1];
    // The outage: at least three fire times pass with no engine.
    await new Promise((resolve) => setTimeout(resolve, 3_500));

    const restartedAt = Date.now();
    const second = await startOrchestration({ ORCHESTRATION_CRON_TICK_MS: "50" }, database);
    running.push(second);
    await eventually(async () => ((await fireTimes(id)).length >= before.length + 3 ? true : undefined), 15_000, "fires after the restart");
    await second.close();
    running.splice(running.indexOf(second), 1);

    const after = (await fireTimes(id)).filter((t) => t > lastBefore);
    // Exactly one fire for the outage: the oldest missed fire time...
    const missed = after.filter((t) => t < restartedAt);
    expect(missed).toEqual([lastBefore + 1_000]);
    // ...and from then on every second, starting after the recovery (nothing replayed).
    const resumed = after.slice(1);
    expect(resumed.length).toBeGreaterThanOrEqual(2);
    expect(resumed[0]).toBeGreaterThanOrEqual(restartedAt - 1_000);
    for (let i = 1; i < resumed.length; i++) expect(resumed[i] - resumed[i - 1]).toBe(1_000);
    // One instance per fire time.
    const [{ dupes }] = await sql`select count(*)::int as dupes from (select idempotency_key from orchestration.instances group by 1 having count(*) > 1) d`;
    expect(dupes).toBe(0);
  }, 60_000);
});
