import { createOrchestrationModule, type OrchestrationModule } from "@cloudforet/orchestration";
import { startService, type RunningService } from "@cloudforet/runtime";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_ORCHESTRATION_CREDENTIALS_KEYS, TokenIssuer } from "./support";

// Cron with an injected clock: the fire instants of DST days in America/New_York, the missed-fire
// policy, and two engines (two services of the module in this process, one database) that create
// exactly one instance per fire.

let database: TestDatabase;
let issuer: TokenIssuer;
let sql: postgres.Sql;
let now = Date.parse("2024-01-15T14:00:00Z");
const clock = () => new Date(now);

interface Engine {
  module: OrchestrationModule;
  service: RunningService;
}
const engines: Engine[] = [];
let sequenceId: string;

async function startEngine(): Promise<Engine> {
  const env = {
    DATABASE_URL: database.url,
    ORCHESTRATION_ADDR: "127.0.0.1:0",
    ORCHESTRATION_HTTP_ADDR: "127.0.0.1:0",
    ORCHESTRATION_TICK_MS: "50",
    ORCHESTRATION_CRON_TICK_MS: "20",
    ORCHESTRATION_CREDENTIALS_KEYS: TEST_ORCHESTRATION_CREDENTIALS_KEYS, // required with DATABASE_URL
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
  };
  const module = createOrchestrationModule({ env, clock, verificationKeys: async () => issuer.publicKey });
  const service = await startService(module, env);
  return { module, service };
}

async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${engines[0].module.restUrl()}${path}`, {
    method,
    headers: { authorization: `Bearer ${await issuer.token("acme")}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function createSchedule(namespace: string, cronExpr: string, timezone = "America/New_York", extra: Record<string, unknown> = {}): Promise<string> {
  const res = await rest("POST", "/cron", { tenant_id: "acme", namespace, sequence_id: sequenceId, cron_expr: cronExpr, timezone, ...extra });
  if (res.status !== 201) throw new Error(`creating schedule: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** The fire times (from the idempotency keys) of the instances a schedule created, ascending. */
async function fireTimes(scheduleId: string): Promise<string[]> {
  const rows = await sql`select idempotency_key from orchestration.instances where idempotency_key like ${`cron:${scheduleId}:%`} order by idempotency_key`;
  return rows.map((r) => r.idempotency_key.slice(`cron:${scheduleId}:`.length));
}

async function nextFireOf(scheduleId: string): Promise<number | undefined> {
  const [row] = await sql`select next_fire_at from orchestration.cron_schedules where id = ${scheduleId}`;
  return row?.next_fire_at ? new Date(row.next_fire_at).getTime() : undefined;
}

/** Waits until a schedule's fire at the current clock is committed (an engine's own ticker may hold it, SKIP LOCKED). */
async function settled(scheduleId: string): Promise<void> {
  for (let wait = 0; wait < 500; wait++) {
    const next = await nextFireOf(scheduleId);
    if (next === undefined || next > now) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`schedule ${scheduleId} still due at ${new Date(now).toISOString()}`);
}

/** Moves the clock from fire time to fire time up to `until`, letting the engine fire at each. */
async function runUntil(scheduleId: string, until: string): Promise<void> {
  const end = Date.parse(until);
  for (;;) {
    const next = await nextFireOf(scheduleId);
    if (next === undefined || next > end) return;
    now = next;
    await engines[0].module.orchestration().fireCron();
  }
}

beforeAll(async () => {
  database = await createTestDatabase("orch_cron");
  issuer = await TokenIssuer.create();
  engines.push(await startEngine());
  engines.push(await startEngine());
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  const seq = await rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", name: "cron-clock", version: 1, blocks: [{ type: "step", id: "s", handler: "noop" }] });
  sequenceId = seq.body.id;
}, 60_000);

afterAll(async () => {
  await sql?.end();
  for (const engine of engines) await engine.service.close();
  await database?.drop();
});

describe("cron with an injected clock", () => {
  it("the seed's example: created Monday 2024-01-15 at 9:00 New York, next_fire_at is 2024-01-16T14:00:00Z", async () => {
    now = Date.parse("2024-01-15T14:00:00Z");
    const res = await rest("POST", "/cron", {
      tenant_id: "acme",
      namespace: "default",
      sequence_id: sequenceId,
      cron_expr: "0 9 * * MON-FRI *",
      timezone: "America/New_York",
      metadata: { type: "daily-report" },
      enabled: true,
    });
    expect(res).toEqual({ status: 201, body: { id: expect.any(String), next_fire_at: "2024-01-16T14:00:00Z" } });
    await rest("PUT", `/cron/${res.body.id}`, { enabled: false });
  });

  it("spring forward (2024-03-10): 1:30 EST and 3:30 EDT fire, the nonexistent 2:30 is skipped", async () => {
    now = Date.parse("2024-03-10T04:00:00Z");
    const id = await createSchedule("dst-spring", "0 30 1,2,3 * * * *");
    await runUntil(id, "2024-03-10T23:59:59Z");
    expect(await fireTimes(id)).toEqual(["2024-03-10T06:30:00.000Z", "2024-03-10T07:30:00.000Z"]);
    expect(new Date((await nextFireOf(id))!).toISOString()).toBe("2024-03-11T05:30:00.000Z");
  });

  it("spring forward: a daily 9:00 schedule fires at 14:00Z before and 13:00Z from the change on", async () => {
    now = Date.parse("2024-03-08T15:00:00Z");
    const id = await createSchedule("dst-spring-daily", "0 0 9 * * * *");
    await runUntil(id, "2024-03-12T00:00:00Z");
    expect(await fireTimes(id)).toEqual(["2024-03-09T14:00:00.000Z", "2024-03-10T13:00:00.000Z", "2024-03-11T13:00:00.000Z"]);
  });

  it("fall back (2024-11-03): 1:30, which happens twice, fires once (05:30Z, not 06:30Z)", async () => {
    now = Date.parse("2024-11-03T03:00:00Z");
    const id = await createSchedule("dst-fall", "0 30 0,1,2 * * * *");
    await runUntil(id, "2024-11-03T23:59:59Z");
    expect(await fireTimes(id)).toEqual(["2024-11-03T04:30:00.000Z", "2024-11-03T05:30:00.000Z", "2024-11-03T07:30:00.000Z"]);
  });

  it("fall back: an hourly schedule fires every elapsed hour, the repeated 1:00 included", async () => {
    now = Date.parse("2024-11-03T03:30:00Z");
    const id = await createSchedule("dst-fall-hourly", "0 0 * * * * *");
    await runUntil(id, "2024-11-03T07:00:00Z");
    expect(await fireTimes(id)).toEqual(["2024-11-03T04:00:00.000Z", "2024-11-03T05:00:00.000Z", "2024-11-03T06:00:00.000Z", "2024-11-03T07:00:00.000Z"]);
  });

  it("missed fires while no engine ran: one fire on recovery, then it resumes from now", async () => {
    now = Date.parse("2024-05-01T10:00:30Z");
    const id = await createSchedule("missed", "0 * * * * * *", "UTC");
    expect(new Date((await nextFireOf(id))!).toISOString()).toBe("2024-05-01T10:01:00.000Z");
    now = Date.parse("2024-05-01T10:05:30Z"); // five fire times passed unseen
    await engines[0].module.orchestration().fireCron();
    await engines[1].module.orchestration().fireCron();
    await settled(id);
    expect(await fireTimes(id)).toEqual(["2024-05-01T10:01:00.000Z"]);
    expect(new Date((await nextFireOf(id))!).toISOString()).toBe("2024-05-01T10:06:00.000Z");
    const schedule = await rest("GET", `/cron/${id}`);
    expect(schedule.body.last_triggered_at).toBe("2024-05-01T10:05:30Z");
  });

  it("two engines firing together create exactly one instance per fire", async () => {
    now = Date.parse("2024-06-01T12:00:00Z");
    const counted = async () => {
      let total = 0;
      for (const e of engines) total += (await e.module.orchestration().metrics.cronTriggered.get()).values[0]?.value ?? 0;
      return total;
    };
    // Schedules of the earlier tests would fire once at this jump of the clock: out of the count.
    await sql`update orchestration.cron_schedules set enabled = false`;
    // A tick that claimed them before the update counts its instances after it commits: wait until quiet.
    let before = await counted();
    for (let quiet = 0; quiet < 3; ) {
      await new Promise((r) => setTimeout(r, 100));
      const again = await counted();
      quiet = again === before ? quiet + 1 : 0;
      before = again;
    }
    const ids = await Promise.all([createSchedule("replicas-a", "* * * * * * *", "UTC"), createSchedule("replicas-b", "*/2 * * * * * *", "UTC")]);
    for (let i = 1; i <= 30; i++) {
      now = Date.parse("2024-06-01T12:00:00Z") + i * 1000;
      // Both engines claim at once (and their own tickers run meanwhile, on the same clock).
      await Promise.all([engines[0].module.orchestration().fireCron(), engines[1].module.orchestration().fireCron(), engines[0].module.orchestration().fireCron()]);
      // A ticker may hold a schedule (the calls above skip it, SKIP LOCKED): the clock moves on only
      // once this instant's fires are done, as real time would not outrun a fire in progress.
      for (let wait = 0; wait < 200; wait++) {
        const [{ due }] = await sql`select count(*)::int as due from orchestration.cron_schedules where id = any(${ids}) and next_fire_at <= ${new Date(now)}`;
        if (due === 0) break;
        await new Promise((r) => setTimeout(r, 10));
        await engines[wait % 2].module.orchestration().fireCron();
      }
    }
    const every = await fireTimes(ids[0]);
    const even = await fireTimes(ids[1]);
    expect(every).toEqual(Array.from({ length: 30 }, (_, i) => new Date(Date.parse("2024-06-01T12:00:00Z") + (i + 1) * 1000).toISOString()));
    expect(even).toEqual(Array.from({ length: 15 }, (_, i) => new Date(Date.parse("2024-06-01T12:00:00Z") + (i + 1) * 2000).toISOString()));
    const [{ n }] = await sql`select count(*)::int as n from orchestration.instances where namespace in ('replicas-a', 'replicas-b')`;
    expect(n).toBe(45);
    expect((await counted()) - before).toBe(45);
    for (const id of ids) await rest("PUT", `/cron/${id}`, { enabled: false });
  });

  it("the instances of a fire carry the schedule's metadata and run", async () => {
    now = Date.parse("2024-07-01T00:00:00Z");
    const id = await createSchedule("meta", "0 0 * * * * *", "UTC", { metadata: { type: "hourly", team: "ops" } });
    await runUntil(id, "2024-07-01T01:00:00Z");
    const [row] = await sql`select id, metadata from orchestration.instances where namespace = 'meta'`;
    expect(row.metadata).toEqual({ type: "hourly", team: "ops" });
    const deadline = Date.now() + 10_000;
    let state = "";
    while (Date.now() < deadline && state !== "completed") {
      state = (await rest("GET", `/instances/${row.id}`)).body.state;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(state).toBe("completed");
  });
});
