// Two orchestration replicas firing one cron schedule while the process clock (both replicas run in
// this process) is 15 minutes behind the database's, as a replica on a host whose NTP failed would
// be. What is due, and the next fire time, are the database's to say: fire times track the
// database clock, and each fire creates one instance.
import { createOrchestrationModule } from "@cloudforet/orchestration";
import { startService } from "@cloudforet/runtime";
import { startReplicas, waitFor, type Replicas } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TEST_ORCHESTRATION_CREDENTIALS_KEYS, TokenIssuer } from "../orchestration/support";
import { startBackdrop, type Backdrop } from "./backdrop";

const SKEW_MS = -15 * 60_000;
let backdrop: Backdrop;
let replicas: Replicas | undefined;
let issuer: TokenIssuer;
let restUrl: string;
let sql: postgres.Sql;

beforeAll(async () => {
  backdrop = await startBackdrop("replicas_orch_cron");
  issuer = await TokenIssuer.create();
  const module = createOrchestrationModule({ verificationKeys: async () => issuer.publicKey });
  replicas = await startReplicas(
    startService,
    module,
    2,
    backdrop.env({ ORCHESTRATION_TICK_MS: "50", ORCHESTRATION_CRON_TICK_MS: "50", ORCHESTRATION_CREDENTIALS_KEYS: TEST_ORCHESTRATION_CREDENTIALS_KEYS }),
  );
  restUrl = module.restUrl();
  sql = postgres(backdrop.database.url, { max: 2, onnotice: () => {} });
}, 120_000);

afterAll(async () => {
  vi.useRealTimers();
  await sql?.end();
  await replicas?.close();
  await backdrop?.close();
}, 60_000);

async function rest(method: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${await issuer.token("acme")}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const dbNow = async () => (await sql<{ now: Date }[]>`select clock_timestamp() as now`)[0].now.getTime();

describe("cron on two replicas whose clock is behind the database's", () => {
  it("fires by the database's clock, once per fire", async () => {
    const sequence = await rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", name: "cron-skew", version: 1, blocks: [{ type: "step", id: "s", handler: "noop" }] });
    expect(sequence.status).toBe(201);
    // Only Date is faked (timers stay real), and it keeps running: both replicas' clocks read 15 minutes slow.
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + SKEW_MS);

    const created = await rest("POST", "/cron", { tenant_id: "acme", namespace: "default", sequence_id: sequence.body.id, cron_expr: "* * * * * * *" });
    expect(created.status).toBe(201);
    const scheduleId: string = created.body.id;
    const createdAt = await dbNow();
    // The first fire time is the next second by the database's clock, not 15 minutes before it.
    expect(Math.abs(Date.parse(created.body.next_fire_at) - createdAt)).toBeLessThan(5_000);

    const fires = async () =>
      (await sql<{ key: string }[]>`select idempotency_key as key from orchestration.instances where idempotency_key like ${`cron:${scheduleId}:%`}`).map((r) => Date.parse(r.key.slice(`cron:${scheduleId}:`.length)));
    await waitFor(async () => (await fires()).length >= 3, 20_000, "three fires");
    await rest("PUT", `/cron/${scheduleId}`, { enabled: false });
    const now = await dbNow();
    const times = await fires();
    expect(new Set(times).size).toBe(times.length);
    for (const at of times) {
      expect(at).toBeGreaterThan(createdAt - 2_000);
      expect(at).toBeLessThan(now + 2_000);
    }
    const [row] = await sql<{ last: Date }[]>`select last_triggered_at as last from orchestration.cron_schedules where id = ${scheduleId}`;
    expect(Math.abs(row.last.getTime() - now)).toBeLessThan(20_000);
  }, 60_000);
});
