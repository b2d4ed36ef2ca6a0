import { startTcpProxy, createTestDatabase, type TcpProxy, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, startOrchestration, waitForState, type TestOrchestration } from "./support";

// Seed 002 §Sequences and §Instances, request and response as documented, against real Postgres.

let orch: TestOrchestration;

const seedSequence = {
  id: "550e8400-e29b-41d4-a716-446655440000",
  tenant_id: "acme",
  namespace: "default",
  name: "welcome-campaign",
  version: 1,
  blocks: [
    {
      type: "step",
      id: "send_welcome",
      handler: "email_send",
      params: { template: "welcome" },
      retry: { max_attempts: 3, initial_backoff: "1s", max_backoff: "60s", backoff_multiplier: 2.0 },
      timeout: "30s",
    },
    { type: "step", id: "wait_3_days", handler: "sleep", params: { duration_ms: 259200000 } },
    {
      type: "router",
      id: "check_engagement",
      routes: [{ condition: "opened == true", blocks: [{ type: "step", id: "send_followup", handler: "email_send", params: { template: "followup" } }] }],
      default: [{ type: "step", id: "send_reminder", handler: "email_send", params: { template: "reminder" } }],
    },
  ],
  created_at: "2024-01-15T10:00:00Z",
};

const seedInstance = {
  sequence_id: "550e8400-e29b-41d4-a716-446655440000",
  tenant_id: "acme",
  namespace: "default",
  priority: "normal",
  timezone: "America/New_York",
  metadata: { campaign: "spring-2024", segment: "enterprise" },
  context: { data: { email: "john@acme.com", name: "John" }, config: { sender: "noreply@orch8.io" } },
  next_fire_at: "2024-01-15T14:00:00Z",
  concurrency_key: "contact:john@acme.com",
  max_concurrency: 1,
  idempotency_key: "welcome:john@acme.com:2024-01-15",
};

/** A sequence whose only step waits for an external worker that never comes: its instances stay put. */
let parkedSequence: string;
const future = () => new Date(Date.now() + 3_600_000).toISOString();

beforeAll(async () => {
  orch = await startOrchestration({ ORCHESTRATION_MAX_CONTEXT_BYTES: "4096" });
  parkedSequence = await createSequence(orch, "parked", [{ type: "step", id: "wait", handler: "nobody_polls_this" }]);
});

afterAll(async () => {
  await orch?.close();
});

describe("health and metrics", () => {
  it("GET /health/live and /health/ready answer 200 without a token", async () => {
    expect(await orch.rest("GET", "/health/live", undefined, { as: null })).toEqual({ status: 200, body: { status: "ok" } });
    expect(await orch.rest("GET", "/health/ready", undefined, { as: null })).toEqual({ status: 200, body: { status: "ok" } });
  });

  it("GET /metrics serves the orch8_* metrics in Prometheus text", async () => {
    const res = await orch.rest("GET", "/metrics", undefined, { as: null });
    expect(res.status).toBe(200);
    for (const name of ["orch8_instances_claimed_total", "orch8_steps_executed_total", "orch8_recovery_stale_instances_total", "orch8_tick_duration_seconds_bucket", "orch8_queue_depth", "orch8_active_tasks"]) {
      expect(res.body).toContain(name);
    }
  });

  it("unknown routes are 404 and wrong methods 405, with {error}", async () => {
    expect(await orch.rest("GET", "/nope")).toEqual({ status: 404, body: { error: "no route for GET /nope" } });
    expect((await orch.rest("DELETE", "/instances")).status).toBe(405);
  });
});

describe("authentication", () => {
  it("refuses a request without a token or with a bad one (401)", async () => {
    const none = await orch.rest("GET", "/instances?tenant_id=acme", undefined, { as: null });
    expect(none.status).toBe(401);
    expect(none.body.error).toMatch(/Authentication required/);
    const forged = await orch.rest("GET", "/instances", undefined, { as: null, headers: { authorization: "Bearer not.a.token" } });
    expect(forged).toMatchObject({ status: 401, body: { error: "Invalid or expired token" } });
  });

  it("tenant_id / X-Tenant-Id name an Orch8 tenant inside the caller's domain; they must agree and be valid names", async () => {
    const other = await orch.rest("POST", "/sequences", { ...seedSequence, id: undefined, tenant_id: "globex", name: "x" });
    expect(other.status).toBe(201);
    expect((await orch.rest("GET", `/sequences/${other.body.id}`, undefined, { headers: { "x-tenant-id": "acme" } })).status).toBe(404);
    const header = await orch.rest("GET", "/instances", undefined, { headers: { "x-tenant-id": "globex" } });
    expect(header).toEqual({ status: 200, body: [] });
    const clash = await orch.rest("GET", "/instances?tenant_id=acme", undefined, { headers: { "x-tenant-id": "globex" } });
    expect(clash).toMatchObject({ status: 400, body: { error: "tenant_id does not match X-Tenant-Id" } });
    expect((await orch.rest("POST", "/sequences", { ...seedSequence, id: undefined, tenant_id: "a b/c", name: "y" })).status).toBe(400);
  });
});

describe("sequences", () => {
  it("POST /sequences stores the seed's example: 201 {id}", async () => {
    expect(await orch.rest("POST", "/sequences", seedSequence)).toEqual({ status: 201, body: { id: "550e8400-e29b-41d4-a716-446655440000" } });
  });

  it("GET /sequences/{id} returns the full SequenceDefinition", async () => {
    expect(await orch.rest("GET", `/sequences/${seedSequence.id}`)).toEqual({ status: 200, body: seedSequence });
  });

  it("versions: a second version, by-name latest and by version", async () => {
    const v2 = await orch.rest("POST", "/sequences", { ...seedSequence, id: undefined, version: 2, created_at: undefined });
    expect(v2.status).toBe(201);
    expect(v2.body.id).toMatch(/^[0-9a-f-]{36}$/);
    const latest = await orch.rest("GET", "/sequences/by-name?tenant_id=acme&namespace=default&name=welcome-campaign");
    expect(latest.body).toMatchObject({ id: v2.body.id, version: 2, name: "welcome-campaign" });
    const first = await orch.rest("GET", "/sequences/by-name?tenant_id=acme&namespace=default&name=welcome-campaign&version=1");
    expect(first).toEqual({ status: 200, body: seedSequence });
  });

  it("refuses a duplicate (tenant, namespace, name, version) or id with 409", async () => {
    const dup = await orch.rest("POST", "/sequences", { ...seedSequence, id: undefined });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatch(/already exists/);
    expect((await orch.rest("POST", "/sequences", { ...seedSequence, version: 9 })).status).toBe(409);
  });

  it("404 for an unknown sequence, by id or by name; 400 when by-name lacks namespace or name", async () => {
    expect(await orch.rest("GET", "/sequences/00000000-0000-4000-8000-000000000000")).toEqual({ status: 404, body: { error: "sequence not found" } });
    expect((await orch.rest("GET", "/sequences/by-name?tenant_id=acme&namespace=default&name=nope")).status).toBe(404);
    expect(await orch.rest("GET", "/sequences/by-name?tenant_id=acme&name=x")).toEqual({ status: 400, body: { error: "Missing required field: namespace" } });
  });

  it.each([
    [[{ type: "bogus", id: "x" }], 'block "x": unknown block type "bogus"'],
    [[{ type: "step", id: "a", handler: "noop" }, { type: "step", id: "a", handler: "noop" }], 'block "a": duplicate block id'],
    [[{ type: "step", id: "s", handler: "noop", timeout: "30 seconds" }], 'block "s": "30 seconds" is not a duration'],
    [[{ type: "step", id: "s", handler: "noop", delay: { duration: "1d", jitter: "5" } }], 'block "s": "5" is not a duration'],
    [[{ type: "step", id: "s", handler: "noop", retries: 3 }], 'block "s": unknown field "retries" for a step block'],
  ])("rejects an invalid definition with 400 naming the block: %j", async (blocks, message) => {
    const res = await orch.rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", name: `bad-${Math.random()}`, blocks });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain(message);
  });

  it("400 for missing fields, a bad id and invalid JSON", async () => {
    expect(await orch.rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", blocks: [] })).toEqual({ status: 400, body: { error: "Missing required field: name" } });
    expect((await orch.rest("POST", "/sequences", { ...seedSequence, id: "not-a-uuid", name: "y" })).body).toEqual({ error: "id must be a UUID" });
    expect(await orch.rest("POST", "/sequences", "{oops")).toEqual({ status: 400, body: { error: "request body is not valid JSON" } });
  });
});

describe("instances", () => {
  let seedInstanceId: string;

  it("POST /instances with every field of the seed: 201 {id, deduplicated: false}", async () => {
    const res = await orch.rest("POST", "/instances", seedInstance);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), deduplicated: false });
    seedInstanceId = res.body.id;
  });

  it("a repeated idempotency_key returns the existing instance with deduplicated: true", async () => {
    expect(await orch.rest("POST", "/instances", seedInstance)).toEqual({ status: 201, body: { id: seedInstanceId, deduplicated: true } });
  });

  it("GET /instances/{id} has the seed's shape; the engine is at send_welcome, waiting for an email_send worker", async () => {
    const got = await waitForState(orch, seedInstanceId, ["waiting"]);
    // The step's 30 s timeout is the next time the engine looks at the instance.
    const timeoutAt = Date.parse(got.next_fire_at) - Date.now();
    expect(timeoutAt).toBeGreaterThan(25_000);
    expect(timeoutAt).toBeLessThanOrEqual(30_000);
    expect(got).toEqual({
      id: seedInstanceId,
      sequence_id: seedSequence.id,
      tenant_id: "acme",
      namespace: "default",
      state: "waiting",
      next_fire_at: expect.stringMatching(/Z$/),
      priority: "normal",
      timezone: "America/New_York",
      metadata: { campaign: "spring-2024", segment: "enterprise" },
      context: {
        data: { email: "john@acme.com", name: "John" },
        config: { sender: "noreply@orch8.io" },
        audit: [],
        runtime: { current_step: "send_welcome", attempt: 0 },
      },
      concurrency_key: "contact:john@acme.com",
      max_concurrency: 1,
      idempotency_key: "welcome:john@acme.com:2024-01-15",
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      updated_at: expect.stringMatching(/Z$/),
    });
  });

  it("fills the defaults: normal priority, UTC, empty metadata and context sections", async () => {
    const at = future();
    const res = await orch.rest("POST", "/instances", { sequence_id: parkedSequence, tenant_id: "acme", namespace: "default", next_fire_at: at });
    const got = await orch.rest("GET", `/instances/${res.body.id}`);
    expect(got.body).toMatchObject({
      state: "scheduled",
      priority: "normal",
      timezone: "UTC",
      metadata: {},
      context: { data: {}, config: {}, audit: [], runtime: { current_step: null, attempt: 0 } },
      next_fire_at: at.replace(".000Z", "Z"),
      concurrency_key: null,
      max_concurrency: null,
      idempotency_key: null,
    });
  });

  it.each([
    [{ sequence_id: undefined }, 400, "Missing required field: sequence_id"],
    [{ sequence_id: "00000000-0000-4000-8000-000000000000" }, 404, "sequence 00000000-0000-4000-8000-000000000000 not found"],
    [{ namespace: "" }, 400, "Missing required field: namespace"],
    [{ priority: "urgent" }, 400, "priority must be one of low, normal, high, critical"],
    [{ timezone: "Mars/Olympus" }, 400, "timezone is not an IANA time zone: Mars/Olympus"],
    [{ max_concurrency: 0 }, 400, "max_concurrency must be an integer ≥ 1"],
    [{ next_fire_at: "tomorrow" }, 400, "next_fire_at must be an RFC 3339 time"],
    [{ context: { data: "x" } }, 400, "context.data must be an object"],
    [{ context: { data: { blob: "x".repeat(5000) } } }, 413, "context is"],
  ])("rejects %# with %i", async (fields, status, message) => {
    const res = await orch.rest("POST", "/instances", { sequence_id: parkedSequence, tenant_id: "acme", namespace: "default", ...fields });
    expect(res.status).toBe(status);
    expect(res.body.error).toContain(message);
  });

  it("POST /instances/batch: 201 {count}, skipping used idempotency keys; an invalid item fails the batch naming it", async () => {
    const item = (i: number) => ({ sequence_id: parkedSequence, tenant_id: "acme", namespace: "batch", next_fire_at: future(), idempotency_key: `batch-${i}` });
    expect(await orch.rest("POST", "/instances/batch", { instances: [item(1), item(2)] })).toEqual({ status: 201, body: { count: 2 } });
    expect(await orch.rest("POST", "/instances/batch", { instances: [item(2), item(3)] })).toEqual({ status: 201, body: { count: 1 } });
    const bad = await orch.rest("POST", "/instances/batch", { instances: [item(4), { ...item(5), namespace: "" }] });
    expect(bad).toEqual({ status: 400, body: { error: "Missing required field: instances[1].namespace" } });
    expect((await orch.rest("GET", "/instances?namespace=batch")).body).toHaveLength(3);
    expect(await orch.rest("POST", "/instances/batch", { instances: [] })).toEqual({ status: 201, body: { count: 0 } });
  });

  it("GET /instances filters by tenant, namespace, sequence and states, newest first, with offset and limit", async () => {
    const all = await orch.rest("GET", `/instances?tenant_id=acme&namespace=batch&sequence_id=${parkedSequence}&state=scheduled,running`);
    expect(all.status).toBe(200);
    // batch-3 came in a later batch than batch-1 and batch-2 (created together).
    const keys = all.body.map((i: { idempotency_key: string }) => i.idempotency_key);
    expect(keys[0]).toBe("batch-3");
    expect(keys.slice(1).sort()).toEqual(["batch-1", "batch-2"]);
    const page = await orch.rest("GET", "/instances?namespace=batch&offset=1&limit=1");
    expect(page.body).toHaveLength(1);
    expect(page.body[0].id).toBe(all.body[1].id);
    expect((await orch.rest("GET", "/instances?namespace=batch&state=completed")).body).toEqual([]);
    expect(await orch.rest("GET", "/instances?limit=1001")).toEqual({ status: 400, body: { error: "limit must be an integer from 1 to 1000" } });
    expect((await orch.rest("GET", "/instances?state=sleeping")).status).toBe(400);
  });

  it("PATCH /instances/{id}/state follows the seed's table of transitions; illegal ones are 400", async () => {
    const { body } = await orch.rest("POST", "/instances", { sequence_id: parkedSequence, tenant_id: "acme", namespace: "default", next_fire_at: future() });
    const paused = await orch.rest("PATCH", `/instances/${body.id}/state`, { state: "paused" });
    expect(paused).toMatchObject({ status: 200, body: { id: body.id, state: "paused", next_fire_at: null } });
    expect(await orch.rest("PATCH", `/instances/${body.id}/state`, { state: "running" })).toEqual({ status: 400, body: { error: "cannot move instance from paused to running" } });
    const at = future();
    expect((await orch.rest("PATCH", `/instances/${body.id}/state`, { state: "scheduled", next_fire_at: at })).body).toMatchObject({ state: "scheduled", next_fire_at: at.replace(".000Z", "Z") });
    expect((await orch.rest("PATCH", `/instances/${body.id}/state`, { state: "cancelled" })).body.state).toBe("cancelled");
    expect((await orch.rest("PATCH", `/instances/${body.id}/state`, { state: "scheduled" })).status).toBe(400);
    expect(await orch.rest("PATCH", `/instances/${body.id}/state`, {})).toEqual({ status: 400, body: { error: "Missing required field: state" } });
    expect((await orch.rest("PATCH", `/instances/${body.id}/state`, { state: "asleep" })).status).toBe(400);
    expect((await orch.rest("PATCH", "/instances/00000000-0000-4000-8000-000000000000/state", { state: "paused" })).status).toBe(404);
  });

  it("PATCH /instances/{id}/context replaces the sections given and keeps the others; 413 when too large", async () => {
    const { body } = await orch.rest("POST", "/instances", {
      sequence_id: parkedSequence,
      tenant_id: "acme",
      namespace: "default",
      next_fire_at: future(),
      context: { data: { opened: false }, config: { sender: "a@b.c" } },
    });
    const patched = await orch.rest("PATCH", `/instances/${body.id}/context`, { context: { data: { opened: true, clicked_link: "pricing" } } });
    expect(patched.status).toBe(200);
    expect(patched.body.context).toMatchObject({ data: { opened: true, clicked_link: "pricing" }, config: { sender: "a@b.c" } });
    expect((await orch.rest("GET", `/instances/${body.id}`)).body.context.data).toEqual({ opened: true, clicked_link: "pricing" });
    const big = await orch.rest("PATCH", `/instances/${body.id}/context`, { context: { data: { blob: "x".repeat(5000) } } });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatch(/max_context_bytes \(4096\)/);
  });

  it("POST /instances/{id}/signals: 201 {signal_id}; unknown types 400; terminal instances 400; unknown instances 404", async () => {
    const { body } = await orch.rest("POST", "/instances", { sequence_id: parkedSequence, tenant_id: "acme", namespace: "default", next_fire_at: future() });
    const sent = await orch.rest("POST", `/instances/${body.id}/signals`, { signal_type: "pause", payload: {} });
    expect(sent).toEqual({ status: 201, body: { signal_id: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
    await waitForState(orch, body.id, ["paused"]);
    expect((await orch.rest("POST", `/instances/${body.id}/signals`, { signal_type: "custom:ping" })).status).toBe(201);
    expect((await orch.rest("POST", `/instances/${body.id}/signals`, { signal_type: "explode" })).status).toBe(400);
    expect((await orch.rest("POST", `/instances/${body.id}/signals`, { signal_type: "update_context", payload: 5 })).status).toBe(400);
    await orch.rest("PATCH", `/instances/${body.id}/state`, { state: "cancelled" });
    expect(await orch.rest("POST", `/instances/${body.id}/signals`, { signal_type: "resume" })).toEqual({ status: 400, body: { error: "instance is cancelled; it takes no signals" } });
    expect((await orch.rest("POST", "/instances/00000000-0000-4000-8000-000000000000/signals", { signal_type: "pause" })).status).toBe(404);
  });

  it("GET /instances/{id}/outputs lists the block outputs in the seed's shape", async () => {
    const seq = await createSequence(orch, "outputs", [
      { type: "step", id: "greet", handler: "log", params: { message: "hello {{ context.data.name }}" } },
      { type: "step", id: "nap", handler: "sleep", params: { duration_ms: 1 } },
    ]);
    const { body } = await orch.rest("POST", "/instances", { sequence_id: seq, tenant_id: "acme", namespace: "default", context: { data: { name: "John" } } });
    await waitForState(orch, body.id, ["completed"]);
    const outputs = await orch.rest("GET", `/instances/${body.id}/outputs`);
    expect(outputs).toEqual({
      status: 200,
      body: [
        { id: expect.any(String), instance_id: body.id, block_id: "greet", output: { message: "hello John" }, output_ref: null, output_size: 24, attempt: 0, created_at: expect.stringMatching(/Z$/) },
        { id: expect.any(String), instance_id: body.id, block_id: "nap", output: { slept_ms: 1 }, output_ref: null, output_size: 14, attempt: 0, created_at: expect.stringMatching(/Z$/) },
      ],
    });
    expect((await orch.rest("GET", "/instances/00000000-0000-4000-8000-000000000000/outputs")).status).toBe(404);
  });

  it("failed instances are in the DLQ; POST /instances/{id}/retry re-schedules them; retrying anything else is 400", async () => {
    const seq = await createSequence(orch, "flaky", [
      { type: "step", id: "first", handler: "noop" },
      { type: "step", id: "check", handler: "assert", params: { condition: "ready == true", message: "not ready" } },
    ]);
    const { body } = await orch.rest("POST", "/instances", { sequence_id: seq, tenant_id: "acme", namespace: "dlq", context: { data: { ready: false } } });
    const failed = await waitForState(orch, body.id, ["failed"]);
    expect(failed.context.runtime).toMatchObject({ error: "not ready", failed_block: "check" });
    const dlq = await orch.rest("GET", "/instances/dlq?tenant_id=acme&namespace=dlq&limit=50");
    expect(dlq.body.map((i: { id: string }) => i.id)).toEqual([body.id]);
    expect((await orch.rest("GET", "/instances/dlq?tenant_id=acme&namespace=default")).body.every((i: { state: string }) => i.state === "failed")).toBe(true);
    await orch.rest("PATCH", `/instances/${body.id}/context`, { context: { data: { ready: true } } });
    expect(await orch.rest("POST", `/instances/${body.id}/retry`)).toEqual({ status: 200, body: { id: body.id, state: "scheduled" } });
    await waitForState(orch, body.id, ["completed"]);
    const outputs = (await orch.rest("GET", `/instances/${body.id}/outputs`)).body as { block_id: string }[];
    expect(outputs.map((o) => o.block_id)).toEqual(["first", "check"]);
    expect(await orch.rest("POST", `/instances/${body.id}/retry`)).toEqual({ status: 400, body: { error: "instance is completed; only failed instances can be retried" } });
  });

  it("PATCH /instances/bulk/state moves the matching instances and answers {count}", async () => {
    const item = () => ({ sequence_id: parkedSequence, tenant_id: "acme", namespace: "bulk", next_fire_at: future() });
    await orch.rest("POST", "/instances/batch", { instances: [item(), item(), item()] });
    const paused = await orch.rest("PATCH", "/instances/bulk/state", { filter: { tenant_id: "acme", namespace: "bulk", sequence_id: parkedSequence, states: ["scheduled", "running"] }, state: "paused" });
    expect(paused).toEqual({ status: 200, body: { count: 3 } });
    // paused → running is illegal: nothing matches, nothing moves.
    expect((await orch.rest("PATCH", "/instances/bulk/state", { filter: { tenant_id: "acme", namespace: "bulk" }, state: "running" })).body).toEqual({ count: 0 });
    expect((await orch.rest("PATCH", "/instances/bulk/state", { filter: { tenant_id: "acme", namespace: "bulk" }, state: "cancelled" })).body).toEqual({ count: 3 });
    expect((await orch.rest("GET", "/instances?namespace=bulk&state=cancelled")).body).toHaveLength(3);
  });
});

describe("storage outage", () => {
  let proxy: TcpProxy;
  let database: TestDatabase;
  let cut: TestOrchestration;

  beforeAll(async () => {
    database = await createTestDatabase("orch_outage");
    const url = new URL(database.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    // API only (no scheduler) and warmed up, so no connection is being opened at the moment of the cut.
    cut = await startOrchestration({ DATABASE_URL: url.toString(), ORCHESTRATION_ENGINE: "off" }, database);
    expect((await cut.rest("GET", "/instances?tenant_id=acme")).status).toBe(200);
  });

  afterAll(async () => {
    await proxy?.start().catch(() => {});
    await cut?.close();
    await database?.drop();
  });

  it("answers 503 {error} while Postgres is unreachable, and recovers", async () => {
    await proxy.stop();
    const res = await orch.rest("GET", "/health/live");
    expect(res.status).toBe(200);
    const list = await cut.rest("GET", "/instances?tenant_id=acme");
    expect(list).toEqual({ status: 503, body: { error: "storage unavailable; retry later" } });
    expect((await cut.rest("GET", "/health/ready", undefined, { as: null })).status).toBe(503);
    await proxy.start();
    await eventually(async () => ((await cut.rest("GET", "/instances?tenant_id=acme")).status === 200 ? true : undefined), 15_000, "recovery");
  });
});
