import { ConnectError } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { CronService } from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, startOrchestration, type TestOrchestration } from "./support";

// Seed 002 §Cron Schedules over REST (request and response as documented) and CronService over gRPC,
// against real Postgres with the real clock.

let orch: TestOrchestration;
let sequenceId: string;
let sql: postgres.Sql;

const seedBody = () => ({
  tenant_id: "acme",
  namespace: "default",
  sequence_id: sequenceId,
  cron_expr: "0 9 * * MON-FRI *",
  timezone: "America/New_York",
  metadata: { type: "daily-report" },
  enabled: true,
});

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

beforeAll(async () => {
  orch = await startOrchestration({ ORCHESTRATION_CRON_TICK_MS: "50" });
  sequenceId = await createSequence(orch, "cron-target", [{ type: "step", id: "hello", handler: "noop" }]);
  sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
}, 60_000);

afterAll(async () => {
  await sql?.end();
  await orch?.close();
});

describe("REST /cron", () => {
  it("POST /cron with the seed's body: 201 {id, next_fire_at} at 9:00 New York on a weekday", async () => {
    const res = await orch.rest("POST", "/cron", seedBody());
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(["id", "next_fire_at"]);
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.next_fire_at).toMatch(ISO);
    const next = new Date(res.body.next_fire_at);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    const local = new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", hourCycle: "h23", weekday: "short", hour: "numeric", minute: "numeric", second: "numeric" }).format(next);
    expect(local).toMatch(/^(Mon|Tue|Wed|Thu|Fri),? 09:00:00$/);
  });

  it("GET /cron/{id} returns the full CronSchedule", async () => {
    const created = await orch.rest("POST", "/cron", seedBody());
    const res = await orch.rest("GET", `/cron/${created.body.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: created.body.id,
      tenant_id: "acme",
      namespace: "default",
      sequence_id: sequenceId,
      cron_expr: "0 9 * * MON-FRI *",
      timezone: "America/New_York",
      enabled: true,
      metadata: { type: "daily-report" },
      last_triggered_at: null,
      next_fire_at: created.body.next_fire_at,
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
    });
  });

  it("defaults: timezone UTC, metadata {}, enabled true", async () => {
    const created = await orch.rest("POST", "/cron", { tenant_id: "acme", namespace: "default", sequence_id: sequenceId, cron_expr: "0 0 12 * * * *" });
    expect(created.status).toBe(201);
    expect(created.body.next_fire_at).toMatch(/T12:00:00Z$/);
    const got = await orch.rest("GET", `/cron/${created.body.id}`);
    expect(got.body).toMatchObject({ timezone: "UTC", metadata: {}, enabled: true });
  });

  it("GET /cron?tenant_id=acme lists the tenant's schedules in creation order (a bare array)", async () => {
    const res = await orch.rest("GET", "/cron?tenant_id=acme");
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(res.body.length).toBeGreaterThanOrEqual(3);
    const created = res.body.map((s: any) => s.created_at);
    expect([...created].sort()).toEqual(created);
    expect(res.body.every((s: any) => s.tenant_id === "acme")).toBe(true);
    const disabled = await orch.rest("GET", "/cron?tenant_id=acme&enabled=false");
    expect(disabled.body.every((s: any) => s.enabled === false)).toBe(true);
    expect((await orch.rest("GET", "/cron?enabled=maybe")).status).toBe(400);
  });

  it("PUT /cron/{id} with the seed's body changes those fields and recomputes next_fire_at", async () => {
    const created = await orch.rest("POST", "/cron", seedBody());
    const res = await orch.rest("PUT", `/cron/${created.body.id}`, { cron_expr: "0 10 * * * *", timezone: "Europe/London", enabled: false, metadata: { type: "weekly-digest" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: created.body.id, cron_expr: "0 10 * * * *", timezone: "Europe/London", enabled: false, metadata: { type: "weekly-digest" }, sequence_id: sequenceId });
    // The seed's 6-field form: minute 0, hour 10, every day — the next 10:00 in London, within a day.
    const next = new Date(res.body.next_fire_at);
    expect(next.getTime()).not.toBe(new Date(created.body.next_fire_at).getTime());
    expect(new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", hourCycle: "h23", hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(next)).toBe("10:00:00");
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    expect((await orch.rest("GET", `/cron/${created.body.id}`)).body).toEqual(res.body);
  });

  it("PUT with some fields keeps the others", async () => {
    const created = await orch.rest("POST", "/cron", seedBody());
    const res = await orch.rest("PUT", `/cron/${created.body.id}`, { enabled: false });
    expect(res.body).toMatchObject({ cron_expr: "0 9 * * MON-FRI *", timezone: "America/New_York", metadata: { type: "daily-report" }, enabled: false });
  });

  it("DELETE /cron/{id}: 204 with no body, then 404", async () => {
    const created = await orch.rest("POST", "/cron", seedBody());
    const res = await orch.rest("DELETE", `/cron/${created.body.id}`);
    expect(res).toEqual({ status: 204, body: undefined });
    expect(await orch.rest("GET", `/cron/${created.body.id}`)).toEqual({ status: 404, body: { error: "cron schedule not found" } });
    expect((await orch.rest("DELETE", `/cron/${created.body.id}`)).status).toBe(404);
    expect((await orch.rest("PUT", `/cron/${created.body.id}`, { enabled: true })).status).toBe(404);
  });

  it.each([
    [{ cron_expr: "0 9 * *" }, /cron_expr is invalid: expected 7 fields/],
    [{ cron_expr: "0 61 * * * * *" }, /cron_expr is invalid: minute: 61 is outside 0-59/],
    [{ cron_expr: 5 }, /cron_expr must be a string/],
    [{ cron_expr: "0 0 0 1 1 * 2001" }, /cron_expr never fires again/],
    [{ cron_expr: undefined }, /Missing required field: cron_expr/],
    [{ timezone: "Mars/Olympus" }, /timezone is not an IANA time zone/],
    [{ metadata: [1] }, /metadata must be an object/],
    [{ enabled: "yes" }, /enabled must be a boolean/],
    [{ sequence_id: "nope" }, /sequence_id must be a UUID/],
    [{ namespace: undefined }, /Missing required field: namespace/],
  ])("400 for a bad body %j", async (change, message) => {
    const res = await orch.rest("POST", "/cron", { ...seedBody(), ...change });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
  });

  it("404 for an unknown sequence; 400 for a bad update", async () => {
    const res = await orch.rest("POST", "/cron", { ...seedBody(), sequence_id: "00000000-0000-4000-8000-000000000000" });
    expect(res.status).toBe(404);
    const created = await orch.rest("POST", "/cron", seedBody());
    expect((await orch.rest("PUT", `/cron/${created.body.id}`, { cron_expr: "* * *" })).status).toBe(400);
    expect((await orch.rest("PUT", `/cron/${created.body.id}`, { timezone: "Nowhere/City" })).status).toBe(400);
    expect((await orch.rest("GET", "/cron/not-a-uuid")).status).toBe(404);
  });

  it("tenants: another tenant_id is another Orch8 tenant of the domain, another domain cannot see or change the schedule, no token is 401", async () => {
    const created = await orch.rest("POST", "/cron", seedBody());
    // The sequence lives in tenant "acme", not in our tenant "globex".
    expect((await orch.rest("POST", "/cron", { ...seedBody(), tenant_id: "globex" })).status).toBe(404);
    expect((await orch.rest("GET", "/cron?tenant_id=globex")).body).toEqual([]);
    expect((await orch.rest("GET", `/cron/${created.body.id}`, undefined, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("PUT", `/cron/${created.body.id}`, { enabled: false }, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("DELETE", `/cron/${created.body.id}`, undefined, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("GET", "/cron", undefined, { as: "globex" })).body).toEqual([]);
    expect((await orch.rest("GET", "/cron?tenant_id=acme", undefined, { as: null })).status).toBe(401);
    // A sequence of another tenant is not found.
    expect((await orch.rest("POST", "/cron", { ...seedBody(), tenant_id: undefined }, { as: "globex" })).status).toBe(404);
  });
});

describe("CronService (gRPC)", () => {
  it("Create, Get, List, Update, Delete", async () => {
    const client = await orch.client(CronService);
    const created = await client.create({ namespace: "default", sequenceId, cronExpr: "0 0 9 * * MON-FRI *", timezone: "America/New_York", metadata: { type: "grpc" } });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.nextFireAt).toBeDefined();
    const got = await client.get({ id: created.id });
    expect(got).toMatchObject({ id: created.id, tenantId: "acme", cronExpr: "0 0 9 * * MON-FRI *", timezone: "America/New_York", enabled: true, metadata: { type: "grpc" } });
    expect(got.lastTriggeredAt).toBeUndefined();
    const list = await client.list({ limit: 1000 });
    expect(list.totalCount).toBeGreaterThanOrEqual(1);
    expect(list.results.some((s) => s.id === created.id)).toBe(true);
    const updated = await client.update({ id: created.id, enabled: false, cronExpr: "0 30 * * * * *" });
    expect(updated).toMatchObject({ enabled: false, cronExpr: "0 30 * * * * *", timezone: "America/New_York", metadata: { type: "grpc" } });
    await client.delete({ id: created.id });
    const missing = await client.get({ id: created.id }).catch((err: ConnectError) => err);
    expect(decodeError(missing)).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });

  it("a bad expression is ERROR_INVALID_PARAMETER with parameter=cron_expr; a sequence of another tenant is ERROR_NOT_FOUND", async () => {
    const client = await orch.client(CronService);
    const bad = await client.create({ namespace: "default", sequenceId, cronExpr: "nope" }).catch((err: ConnectError) => err);
    expect(decodeError(bad)).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "cron_expr" } });
    const other = await client.create({ tenantId: "globex", namespace: "default", sequenceId, cronExpr: "0 0 0 * * * *" }).catch((err: ConnectError) => err);
    expect(decodeError(other)).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });
});

describe("firing", () => {
  it("an every-second schedule creates instances carrying the schedule's metadata, one per fire", async () => {
    const created = await orch.rest("POST", "/cron", { tenant_id: "acme", namespace: "cron-fire", sequence_id: sequenceId, cron_expr: "* * * * * * *", metadata: { type: "tick", n: 1 } });
    expect(created.status).toBe(201);
    const rows = await eventually(
      async () => {
        const found = await sql`select id, state, metadata, idempotency_key, created_at from orchestration.instances where namespace = 'cron-fire' order by created_at`;
        return found.length >= 3 ? found : undefined;
      },
      10_000,
      "three cron instances",
    );
    await orch.rest("PUT", `/cron/${created.body.id}`, { enabled: false });
    for (const row of rows) {
      expect(row.metadata).toEqual({ type: "tick", n: 1 });
      expect(row.idempotency_key).toMatch(new RegExp(`^cron:${created.body.id}:\\d{4}-.*\\.000Z$`));
    }
    // Distinct whole-second fire times.
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(rows.length);
    const done = await eventually(async () => {
      const res = await orch.rest("GET", `/instances/${rows[0].id}`);
      return res.body.state === "completed" ? res.body : undefined;
    });
    expect(done.metadata).toEqual({ type: "tick", n: 1 });
    const schedule = await orch.rest("GET", `/cron/${created.body.id}`);
    expect(schedule.body.last_triggered_at).toMatch(ISO);
    const metrics = await orch.rest("GET", "/metrics", undefined, { as: null });
    const count = Number(/^orch8_cron_triggered_total(?:\{[^}]*\})? (\d+)$/m.exec(metrics.body)?.[1] ?? 0);
    expect(count).toBeGreaterThanOrEqual(rows.length);
  });

  it("a disabled schedule does not fire", async () => {
    const created = await orch.rest("POST", "/cron", { tenant_id: "acme", namespace: "cron-disabled", sequence_id: sequenceId, cron_expr: "* * * * * * *", enabled: false });
    expect(created.status).toBe(201);
    const paused = await orch.rest("POST", "/cron", { tenant_id: "acme", namespace: "cron-paused", sequence_id: sequenceId, cron_expr: "* * * * * * *" });
    await orch.rest("PUT", `/cron/${paused.body.id}`, { enabled: false });
    const before = (await sql`select count(*)::int as n from orchestration.instances where namespace = 'cron-paused'`)[0].n;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const [{ n }] = await sql`select count(*)::int as n from orchestration.instances where namespace = 'cron-disabled'`;
    expect(n).toBe(0);
    const [{ n: after }] = await sql`select count(*)::int as n from orchestration.instances where namespace = 'cron-paused'`;
    expect(after).toBe(before);
    expect((await orch.rest("GET", `/cron/${created.body.id}`)).body.last_triggered_at).toBeNull();
  });
});
