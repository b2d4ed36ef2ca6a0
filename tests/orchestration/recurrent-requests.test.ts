// Recurrent requests: REST and gRPC CRUD, validation, interval and cron firing against a local HTTP
// server, pause / trigger / delete, two replicas (one call per due time), and a platform RPC target
// called on a real identity service with the creator's sealed credentials.
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectError } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { createOrchestrationModule } from "@cloudforet/orchestration";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { Recurrence_ScheduleType, RecurrentRequest_Status, RecurrentRequestService } from "@cloudforet/proto/cloudforet/orchestration/v1/recurrent_request_pb";
import { createTestDatabase, TEST_OUTBOUND_ALLOW, type TestDatabase } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, startTestPlatform, type TestPlatform } from "../support/platform";
import { startService } from "@cloudforet/runtime";
import { TEST_ORCHESTRATION_CREDENTIALS_KEYS, TokenIssuer, eventually, startHttpServer, startOrchestration, waitForState, type TestHttpServer, type TestOrchestration } from "./support";

let orch: TestOrchestration;
let hits: TestHttpServer;
let sql: postgres.Sql;

const FAST = { ORCHESTRATION_CRON_TICK_MS: "50", CLOUDFORET_INVENTORY_URL: "http://127.0.0.1:1" };

beforeAll(async () => {
  hits = await startHttpServer(() => ({ status: 200, body: { ok: true } }));
  orch = await startOrchestration(FAST);
  sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await orch?.close();
  await hits?.close();
});

const callsTo = (path: string) => hits.requests.filter((r) => r.path === path);
const intervalBody = (path: string, seconds: number, extra: Record<string, unknown> = {}) => ({
  name: `rr ${path}`,
  recurrence: { schedule_type: "interval", interval_seconds: seconds },
  target: { url: `${hits.url}${path}`, method: "POST", json: { from: "recurrent" } },
  ...extra,
});

async function create(body: unknown): Promise<any> {
  const res = await orch.rest("POST", "/recurrent-requests", body);
  if (res.status !== 201) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function instancesOf(id: string): Promise<{ id: string; state: string; due_at: string }[]> {
  return sql`select id, state, context->'data'->>'due_at' as due_at from orchestration.instances
             where metadata->>'recurrent_request_id' = ${id} order by context->'data'->>'due_at'`;
}

describe("REST", () => {
  it("creates, reads, lists (skip/limit, status and name filters), patches and deletes", async () => {
    const before = Date.now();
    const created = await create(intervalBody("/crud", 3600, { name: "crud-one" }));
    expect(created).toMatchObject({
      name: "crud-one",
      tenant_id: "acme",
      status: "active",
      recurrence: { schedule_type: "interval", interval_seconds: 3600 },
      target: { url: `${hits.url}/crud`, method: "POST", headers: {}, json: { from: "recurrent" }, sealed_headers: [] },
      last_run_at: null,
      last_instance_id: null,
      run_count: 0,
    });
    const next = Date.parse(created.next_run_at);
    expect(next).toBeGreaterThanOrEqual(before + 3_600_000 - 1_000);
    expect(next).toBeLessThanOrEqual(Date.now() + 3_600_000 + 1_000);
    expect((await orch.rest("GET", `/recurrent-requests/${created.id}`)).body).toEqual(created);

    const second = await create({ ...intervalBody("/crud2", 600), name: "crud-two", status: "paused" });
    expect(second.next_run_at).toBeNull();
    const all = await orch.rest("GET", "/recurrent-requests?limit=1000");
    expect(all.status).toBe(200);
    expect(all.body.count).toBeGreaterThanOrEqual(2);
    const page = await orch.rest("GET", "/recurrent-requests?name=crud-two");
    expect(page.body).toEqual({ data: [second], count: 1 });
    const paused = await orch.rest("GET", "/recurrent-requests?status=paused&limit=1000");
    expect(paused.body.data.map((r: any) => r.id)).toContain(second.id);
    expect(paused.body.data.every((r: any) => r.status === "paused")).toBe(true);
    const skipped = await orch.rest("GET", `/recurrent-requests?skip=1&limit=1`);
    expect(skipped.body.data).toHaveLength(1);
    expect(skipped.body.data[0].id).not.toBe(all.body.data[0].id);

    const renamed = await orch.rest("PATCH", `/recurrent-requests/${created.id}`, { name: "renamed", status: "paused" });
    expect(renamed.body).toMatchObject({ name: "renamed", status: "paused", next_run_at: null });
    const cron = await orch.rest("PATCH", `/recurrent-requests/${created.id}`, {
      status: "active",
      recurrence: { schedule_type: "cron", cron_expression: "0 0 9 * * * *", timezone: "America/New_York" },
    });
    expect(cron.body.recurrence).toEqual({ schedule_type: "cron", cron_expression: "0 0 9 * * * *", timezone: "America/New_York" });
    const nine = new Date(cron.body.next_run_at);
    expect(new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", hour: "numeric", minute: "numeric", hour12: false }).format(nine)).toBe("09:00");
    expect(nine.getTime()).toBeGreaterThan(Date.now());

    expect((await orch.rest("DELETE", `/recurrent-requests/${created.id}`)).status).toBe(204);
    expect((await orch.rest("GET", `/recurrent-requests/${created.id}`)).status).toBe(404);
    expect((await orch.rest("DELETE", `/recurrent-requests/${created.id}`)).status).toBe(404);
    expect((await orch.rest("PATCH", `/recurrent-requests/${created.id}`, { name: "x" })).status).toBe(404);
    expect((await orch.rest("POST", `/recurrent-requests/${created.id}/trigger`)).status).toBe(404);
  });

  it("keeps credential headers and tokens sealed: never in the answer, never in plaintext in the database", async () => {
    const created = await create({
      ...intervalBody("/sealed", 3600),
      target: { url: `${hits.url}/sealed`, headers: { Authorization: "Bearer tok-SECRET-1", "X-Trace": "t1", "X-Api-Key": "key-SECRET-2" } },
    });
    expect(created.target.headers).toEqual({ "x-trace": "t1" });
    expect(created.target.sealed_headers).toEqual(["authorization", "x-api-key"]);
    expect(JSON.stringify(created)).not.toContain("SECRET");
    const [row] = await sql`select target::text as target, sealed_credentials from orchestration.recurrent_requests where id = ${created.id}`;
    expect(row.target).not.toContain("SECRET");
    expect(row.sealed_credentials).toMatch(/^v1:/);
    expect(row.sealed_credentials).not.toContain("SECRET");

    // The call carries them; the instance's context and outputs do not.
    const { body } = await orch.rest("POST", `/recurrent-requests/${created.id}/trigger`);
    const instance = await waitForState(orch, body.instance_id, ["completed", "failed"]);
    expect(instance.state).toBe("completed");
    const [call] = callsTo("/sealed");
    expect(call).toBeDefined();
    const outputs = await orch.rest("GET", `/instances/${body.instance_id}/outputs`);
    expect(JSON.stringify(instance) + JSON.stringify(outputs.body)).not.toContain("SECRET");
  });

  it.each([
    [{ recurrence: undefined }, /recurrence/],
    [{ recurrence: { schedule_type: "weekly" } }, /recurrence.schedule_type/],
    [{ recurrence: { schedule_type: "interval" } }, /recurrence.interval_seconds/],
    [{ recurrence: { schedule_type: "interval", interval_seconds: 0 } }, /recurrence.interval_seconds/],
    [{ recurrence: { schedule_type: "interval", interval_seconds: 1.5 } }, /recurrence.interval_seconds/],
    [{ recurrence: { schedule_type: "cron" } }, /recurrence.cron_expression/],
    [{ recurrence: { schedule_type: "cron", cron_expression: "0 61 * * * * *" } }, /recurrence.cron_expression is invalid/],
    [{ recurrence: { schedule_type: "cron", cron_expression: "0 0 0 1 1 * 2001" } }, /never fires again/],
    [{ recurrence: { schedule_type: "cron", cron_expression: "* * * * * * *", timezone: "Mars/Olympus" } }, /recurrence.timezone/],
    [{ target: undefined }, /target/],
    [{ target: { url: "http://a.example", rpc: "cloudforet.inventory.v1.JobService/Create" } }, /exactly one of url and rpc/],
    [{ target: { url: "ftp://a.example" } }, /target.url/],
    [{ target: { url: "not a url" } }, /target.url/],
    [{ target: { url: "http://a.example", method: "BREW" } }, /target.method/],
    [{ target: { url: "http://a.example", headers: { "X-A": 1 } } }, /target.headers.X-A/],
    [{ target: { rpc: "JobService.Create" } }, /target.rpc/],
    [{ target: { url: "http://a.example", json: { big: "x".repeat(300_000) } } }, /target.json/],
    [{ target: { rpc: "cloudforet.cost.v1.CostService/List" } }, /CLOUDFORET_COST_URL/],
    [{ status: "sleeping" }, /status/],
    [{ name: 5 }, /name/],
  ])("400 naming the parameter for %#", async (change, message) => {
    const res = await orch.rest("POST", "/recurrent-requests", { ...intervalBody("/bad", 60), ...change });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
  });

  it("400 for bad list parameters and patches; another tenant sees nothing", async () => {
    expect((await orch.rest("GET", "/recurrent-requests?limit=0")).body.error).toMatch(/limit/);
    expect((await orch.rest("GET", "/recurrent-requests?skip=-1")).body.error).toMatch(/skip/);
    expect((await orch.rest("GET", "/recurrent-requests?status=odd")).body.error).toMatch(/status/);
    const created = await create(intervalBody("/tenant", 3600));
    expect((await orch.rest("PATCH", `/recurrent-requests/${created.id}`, { recurrence: { schedule_type: "interval", interval_seconds: -1 } })).body.error).toMatch(/recurrence.interval_seconds/);
    expect((await orch.rest("GET", `/recurrent-requests/${created.id}`, undefined, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("GET", "/recurrent-requests", undefined, { as: "globex" })).body).toEqual({ data: [], count: 0 });
    expect((await orch.rest("DELETE", `/recurrent-requests/${created.id}`, undefined, { as: "globex" })).status).toBe(404);
    // tenant_id names an Orch8 tenant inside our domain: domain "globex" never sees it.
    const named = await orch.rest("POST", "/recurrent-requests", { ...intervalBody("/x", 3600), tenant_id: "globex" });
    expect(named).toMatchObject({ status: 201, body: { tenant_id: "globex" } });
    expect((await orch.rest("GET", `/recurrent-requests/${named.body.id}`, undefined, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("DELETE", `/recurrent-requests/${named.body.id}?tenant_id=globex`)).status).toBe(204);
  });
});

describe("gRPC", () => {
  it("RecurrentRequestService: create, get, list, update, trigger, delete; validation names the parameter", async () => {
    const client = await orch.client(RecurrentRequestService);
    const created = await client.create({
      name: "grpc-one",
      recurrence: { scheduleType: Recurrence_ScheduleType.INTERVAL, intervalSeconds: 3600 },
      target: { url: `${hits.url}/grpc`, method: "PUT", headers: { "X-Kind": "grpc" }, json: fromJson(ValueSchema, { n: 1 }), token: "tok-GRPC-SECRET" },
    });
    expect(created).toMatchObject({ name: "grpc-one", tenantId: "acme", status: RecurrentRequest_Status.ACTIVE, runCount: 0 });
    expect(created.target).toMatchObject({ url: `${hits.url}/grpc`, method: "PUT", headers: { "x-kind": "grpc" }, sealedHeaders: ["authorization"] });
    expect(created.target?.token).toBeUndefined();
    expect(created.nextRunAt).toBeDefined();
    expect((await client.get({ id: created.id })).name).toBe("grpc-one");
    const listed = await client.list({ name: "grpc-one" });
    expect(listed.totalCount).toBe(1);
    expect(listed.results[0].id).toBe(created.id);

    const updated = await client.update({ id: created.id, status: RecurrentRequest_Status.PAUSED, recurrence: { scheduleType: Recurrence_ScheduleType.CRON, cronExpression: "0 0 * * * * *", timezone: "Asia/Seoul" } });
    expect(updated).toMatchObject({ status: RecurrentRequest_Status.PAUSED, recurrence: { scheduleType: Recurrence_ScheduleType.CRON, cronExpression: "0 0 * * * * *", timezone: "Asia/Seoul" } });
    expect(updated.nextRunAt).toBeUndefined();

    const { instanceId } = await client.trigger({ id: created.id });
    expect((await waitForState(orch, instanceId, ["completed", "failed"])).state).toBe("completed");
    const [call] = callsTo("/grpc");
    expect(call).toMatchObject({ method: "PUT", body: { n: 1 } });
    expect((await client.get({ id: created.id })).runCount).toBe(1);

    await client.delete({ id: created.id });
    expect(decodeError(await client.get({ id: created.id }).catch((e: ConnectError) => e))).toMatchObject({ code: "ERROR_NOT_FOUND" });

    const bad = await client.create({ recurrence: { scheduleType: Recurrence_ScheduleType.INTERVAL, intervalSeconds: 0 }, target: { url: hits.url } }).catch((e: ConnectError) => e);
    expect(decodeError(bad)).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "recurrence.interval_seconds" } });
    const noTarget = await client.create({ recurrence: { scheduleType: Recurrence_ScheduleType.INTERVAL, intervalSeconds: 5 } }).catch((e: ConnectError) => e);
    expect(decodeError(noTarget)).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "target" } });
    const badTenant = await client.create({ tenantId: "not a name", recurrence: { intervalSeconds: 5 }, target: { url: hits.url } }).catch((e: ConnectError) => e);
    expect(decodeError(badTenant)).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "tenant_id" } });
  });
});

describe("firing", () => {
  it("an interval of 1 s fires every second; each fire is a completed instance of the built-in sequence", async () => {
    const created = await create(intervalBody("/every-second", 1));
    await eventually(async () => (callsTo("/every-second").length >= 2 ? true : undefined), 15_000, "two calls");
    await orch.rest("PATCH", `/recurrent-requests/${created.id}`, { status: "paused" });
    const got = (await orch.rest("GET", `/recurrent-requests/${created.id}`)).body;
    expect(got.run_count).toBeGreaterThanOrEqual(2);
    expect(got.last_run_at).not.toBeNull();
    const runs = await instancesOf(created.id);
    expect(runs).toHaveLength(got.run_count);
    expect(runs.map((r) => r.id)).toContain(got.last_instance_id);
    // Due times one interval apart, counted from creation.
    const dues = runs.map((r) => Date.parse(r.due_at));
    for (let i = 1; i < dues.length; i++) expect((dues[i] - dues[0]) % 1000).toBe(0);
    expect((dues[0] - Date.parse(created.created_at)) % 1000).toBe(0);
    const instance = await waitForState(orch, got.last_instance_id, ["completed", "failed"]);
    expect(instance).toMatchObject({ state: "completed", namespace: "recurrent-requests", metadata: { recurrent_request_id: created.id } });
    const outputs = await orch.rest("GET", `/instances/${got.last_instance_id}/outputs`);
    expect(outputs.body[0]).toMatchObject({ block_id: "request", output: { status: 200 } });
    expect(callsTo("/every-second")[0]).toMatchObject({ method: "POST", body: { from: "recurrent" } });
  }, 30_000);

  it("a cron expression fires at its times (every second here)", async () => {
    const created = await create({ recurrence: { schedule_type: "cron", cron_expression: "* * * * * * *", timezone: "Europe/Berlin" }, target: { url: `${hits.url}/cron`, method: "GET" } });
    await eventually(async () => (callsTo("/cron").length >= 2 ? true : undefined), 15_000, "two cron calls");
    await orch.rest("DELETE", `/recurrent-requests/${created.id}`);
    const runs = await instancesOf(created.id);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) expect(Date.parse(run.due_at) % 1000).toBe(0);
    expect(callsTo("/cron")[0].method).toBe("GET");
  }, 30_000);

  it("pausing stops the fires; resuming starts them again", async () => {
    const created = await create(intervalBody("/pause", 1));
    await eventually(async () => ((await instancesOf(created.id)).length >= 1 ? true : undefined), 15_000, "a first fire");
    await orch.rest("PATCH", `/recurrent-requests/${created.id}`, { status: "paused" });
    const count = (await instancesOf(created.id)).length;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await instancesOf(created.id)).length).toBe(count);
    expect((await orch.rest("GET", `/recurrent-requests/${created.id}`)).body.run_count).toBe(count);
    await orch.rest("PATCH", `/recurrent-requests/${created.id}`, { status: "active" });
    await eventually(async () => ((await instancesOf(created.id)).length > count ? true : undefined), 15_000, "fires after resuming");
    await orch.rest("DELETE", `/recurrent-requests/${created.id}`);
  }, 30_000);

  it("trigger fires exactly once, now, also when paused, and leaves the schedule alone", async () => {
    const created = await create(intervalBody("/trigger", 3600, { status: "paused" }));
    const res = await orch.rest("POST", `/recurrent-requests/${created.id}/trigger`);
    expect(res.status).toBe(201);
    expect((await waitForState(orch, res.body.instance_id, ["completed", "failed"])).state).toBe("completed");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(callsTo("/trigger")).toHaveLength(1);
    const got = (await orch.rest("GET", `/recurrent-requests/${created.id}`)).body;
    expect(got).toMatchObject({ run_count: 1, last_instance_id: res.body.instance_id, status: "paused", next_run_at: null });
  });

  it("deleting stops the fires", async () => {
    const created = await create(intervalBody("/delete", 1));
    await eventually(async () => ((await instancesOf(created.id)).length >= 1 ? true : undefined), 15_000, "a first fire");
    expect((await orch.rest("DELETE", `/recurrent-requests/${created.id}`)).status).toBe(204);
    const count = (await instancesOf(created.id)).length;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await instancesOf(created.id)).length).toBe(count);
  }, 30_000);

  it("a failing target is retried and ends in the DLQ like any instance", async () => {
    const failing = await startHttpServer(() => ({ status: 503, body: { error: "down" } }));
    try {
      const created = await create({ recurrence: { schedule_type: "interval", interval_seconds: 3600 }, target: { url: `${failing.url}/down` } });
      const { body } = await orch.rest("POST", `/recurrent-requests/${created.id}/trigger`);
      const instance = await waitForState(orch, body.instance_id, ["completed", "failed"], 30_000);
      expect(instance.state).toBe("failed");
      expect(failing.requests).toHaveLength(3); // the built-in step's three attempts
      const dlq = await orch.rest("GET", "/instances/dlq?namespace=recurrent-requests&limit=1000");
      expect(dlq.body.map((i: any) => i.id)).toContain(body.instance_id);
    } finally {
      await failing.close();
    }
  }, 40_000);
});

describe("two replicas", () => {
  let database: TestDatabase;
  let replicas: TestOrchestration[] = [];
  let calls: TestHttpServer;

  beforeAll(async () => {
    database = await createTestDatabase("orch_rr_replicas");
    calls = await startHttpServer(() => ({ status: 200, body: {} }));
    replicas = [await startOrchestration(FAST, database), await startOrchestration(FAST, database)];
  }, 120_000);

  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await calls?.close();
    await database?.drop();
  });

  it("make one call per due time", async () => {
    const res = await replicas[0].rest("POST", "/recurrent-requests", { recurrence: { schedule_type: "interval", interval_seconds: 1 }, target: { url: `${calls.url}/replicas` } });
    expect(res.status).toBe(201);
    await eventually(async () => (calls.requests.length >= 4 ? true : undefined), 20_000, "four calls");
    await replicas[1].rest("PATCH", `/recurrent-requests/${res.body.id}`, { status: "paused" });
    const db = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      await eventually(
        async () => {
          const [{ open }] = await db`select count(*)::int as open from orchestration.instances where state not in ('completed', 'failed', 'cancelled')`;
          return open === 0 ? true : undefined;
        },
        20_000,
        "all runs to end",
      );
      const runs = await db`select context->'data'->>'due_at' as due_at from orchestration.instances order by 1`;
      const dues = runs.map((r) => r.due_at as string);
      expect(new Set(dues).size).toBe(dues.length);
      expect(calls.requests).toHaveLength(dues.length);
      const [{ run_count }] = await db`select run_count from orchestration.recurrent_requests where id = ${res.body.id}`;
      expect(run_count).toBe(dues.length);
    } finally {
      await db.end();
    }
  }, 60_000);
});

describe("platform RPC target", () => {
  let platform: TestPlatform;
  const module = createOrchestrationModule();

  beforeAll(async () => {
    platform = await startTestPlatform({ modules: [module], env: { ORCHESTRATION_CRON_TICK_MS: "50", ORCHESTRATION_TICK_MS: "50" } });
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
  });

  it("calls identity's WorkspaceService/Create over Connect JSON with the creator's sealed credentials", async () => {
    const rest = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${module.restUrl()}${path}`, {
        method,
        headers: { authorization: `Bearer ${platform.admin.token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
    };
    const created = await rest("POST", "/recurrent-requests", {
      name: "make a workspace",
      status: "paused",
      recurrence: { schedule_type: "interval", interval_seconds: 3600 },
      target: { rpc: "cloudforet.identity.v1.WorkspaceService/Create", json: { workspace_id: "ws-recurrent", name: "made by a recurrent request" } },
    });
    expect(created.status).toBe(201);
    expect(created.body.target).toMatchObject({ rpc: "cloudforet.identity.v1.WorkspaceService/Create", method: "POST", sealed_headers: ["authorization"] });
    expect(JSON.stringify(created.body)).not.toContain(platform.admin.token);

    const fired = await rest("POST", `/recurrent-requests/${created.body.id}/trigger`);
    expect(fired.status).toBe(201);
    const instance = await eventually(async () => {
      const got = await rest("GET", `/instances/${fired.body.instance_id}`);
      return ["completed", "failed"].includes(got.body?.state) ? got.body : undefined;
    }, 20_000);
    expect(instance.state).toBe("completed");
    const workspace = await platform.client(WorkspaceService).get({ workspaceId: "ws-recurrent" });
    expect(workspace.name).toBe("made by a recurrent request");
    const outputs = await rest("GET", `/instances/${fired.body.instance_id}/outputs`);
    expect(outputs.body[0].output.status).toBe(200);
    expect(JSON.parse(outputs.body[0].output.body)).toMatchObject({ workspace_id: "ws-recurrent" });
  }, 60_000);

  it("runs as the workspace's service identity: it keeps working after its creator is deleted; a person's token does not", async () => {
    // Recurrent requests are a domain admin's; this one will be deleted.
    await platform.client(WorkspaceService).create({ workspaceId: "ws-run-as", name: "ws-run-as" });
    await platform.client(UserService).create({ userId: "run-as-owner", password: ADMIN_PASSWORD, name: "run-as-owner", roleBindings: [{ role: RoleBinding_Role.DOMAIN_ADMIN }] });
    const owner = await platform.login(platform.admin.domainId, "run-as-owner", ADMIN_PASSWORD);
    const rest = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${module.restUrl()}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
    };
    const makeProject = (projectId: string, runAs?: string) => ({
      name: `make ${projectId}`,
      status: "paused",
      recurrence: { schedule_type: "interval", interval_seconds: 3600 },
      target: { rpc: "cloudforet.identity.v1.ProjectService/Create", json: { project_id: projectId, name: projectId, workspace_id: "ws-run-as" }, run_as_workspace_id: runAs },
    });
    const runAs = await rest(owner.token, "POST", "/recurrent-requests", makeProject("project-run-as", "ws-run-as"));
    expect(runAs.status).toBe(201);
    expect(runAs.body.target).toMatchObject({ run_as_workspace_id: "ws-run-as", sealed_headers: [] });
    expect(JSON.stringify(runAs.body)).not.toMatch(/cfs_|Bearer/);
    // A new target that keeps the workspace keeps the identity (no second grant).
    const orchestrationIdentities = async () => {
      const db = postgres(platform.databaseUrl, { max: 1, onnotice: () => {} });
      try {
        return (await db`select count(*)::int as n from identity.service_identities where service = 'orchestration'`)[0].n as number;
      } finally {
        await db.end();
      }
    };
    expect(await orchestrationIdentities()).toBe(1);
    const patched = await rest(owner.token, "PATCH", `/recurrent-requests/${runAs.body.id}`, { target: makeProject("project-run-as", "ws-run-as").target });
    expect(patched.status).toBe(200);
    expect(await orchestrationIdentities()).toBe(1);
    const asPerson = await rest(owner.token, "POST", "/recurrent-requests", makeProject("project-as-person"));
    expect(asPerson.body.target.sealed_headers).toEqual(["authorization"]);

    // Its creator is gone (and with them every token they had).
    await platform.client(UserService).delete({ userId: "run-as-owner" });
    const fire = async (id: string) => {
      const fired = await rest(platform.admin.token, "POST", `/recurrent-requests/${id}/trigger`);
      expect(fired.status).toBe(201);
      return eventually(async () => {
        const got = await rest(platform.admin.token, "GET", `/instances/${fired.body.instance_id}`);
        return ["completed", "failed"].includes(got.body?.state) ? got.body : undefined;
      }, 30_000);
    };
    expect((await fire(runAs.body.id)).state).toBe("completed");
    expect((await platform.client(ProjectService).get({ projectId: "project-run-as" })).workspaceId).toBe("ws-run-as");
    expect((await fire(asPerson.body.id)).state).toBe("failed");
    await expect(platform.client(ProjectService).get({ projectId: "project-as-person" })).rejects.toThrow();

    // The gRPC twin shows it; a url target, or one with its own token, cannot run as an identity.
    const viaGrpc = await platform.client(RecurrentRequestService).get({ id: runAs.body.id });
    expect(viaGrpc.target?.runAsWorkspaceId).toBe("ws-run-as");
    for (const target of [
      { url: "https://example.com/hook", run_as_workspace_id: "ws-run-as" },
      { rpc: "cloudforet.identity.v1.ProjectService/List", token: "t", run_as_workspace_id: "ws-run-as" },
      { rpc: "cloudforet.identity.v1.ProjectService/List", run_as_workspace_id: "no such/id" },
    ]) {
      const refused = await rest(platform.admin.token, "POST", "/recurrent-requests", { ...makeProject("x"), target });
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).toContain("target.run_as_workspace_id");
    }
    // A workspace the caller does not own (none here: another domain's) is refused by identity.
    const stranger = await platform.createDomainAdmin("domain-run-as-other");
    const notTheirs = await rest(stranger.token, "POST", "/recurrent-requests", makeProject("project-other", "ws-run-as"));
    expect(notTheirs.status).toBeGreaterThanOrEqual(400);
    expect(notTheirs.status).toBeLessThan(500);
  }, 90_000);
});

describe("with an injected clock", () => {
  let database: TestDatabase;
  let service: Awaited<ReturnType<typeof startService>>;
  let module: ReturnType<typeof createOrchestrationModule>;
  let issuer: TokenIssuer;
  let now = Date.parse("2024-03-09T12:00:00Z");
  const clock = () => new Date(now);

  beforeAll(async () => {
    database = await createTestDatabase("orch_rr_clock");
    issuer = await TokenIssuer.create();
    const env = {
      DATABASE_URL: database.url,
      ORCHESTRATION_ADDR: "127.0.0.1:0",
      ORCHESTRATION_HTTP_ADDR: "127.0.0.1:0",
      // The test fires by hand; the ticker's own ticks are rare.
      ORCHESTRATION_CRON_TICK_MS: "600000",
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
      CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
      ORCHESTRATION_CREDENTIALS_KEYS: TEST_ORCHESTRATION_CREDENTIALS_KEYS,
    };
    module = createOrchestrationModule({ env, clock, verificationKeys: async () => issuer.publicKey });
    service = await startService(module, env);
  }, 120_000);

  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${module.restUrl()}${path}`, {
      method,
      headers: { authorization: `Bearer ${await issuer.token("acme")}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
  };
  const fire = () => module.orchestration().fireRecurrent();

  it("cron in a time zone fires at its local times, across the spring-forward night, once per due time", async () => {
    const created = await rest("POST", "/recurrent-requests", {
      recurrence: { schedule_type: "cron", cron_expression: "0 30 2,9 * * * *", timezone: "America/New_York" },
      target: { url: "http://127.0.0.1:1/never-called" },
      status: "active",
    });
    expect(created.status).toBe(201);
    // 2024-03-09 12:00Z is 07:00 in New York: next is 09:30 EST = 14:30Z.
    expect(created.body.next_run_at).toBe("2024-03-09T14:30:00Z");
    now = Date.parse("2024-03-09T14:30:00Z");
    // The ticker, woken by the create's NOTIFY, may see the moved clock first and make this fire
    // itself: count the runs, not which tick made them.
    await fire();
    const after = await eventually(async () => {
      const got = await rest("GET", `/recurrent-requests/${created.body.id}`);
      return got.body.run_count >= 1 ? got : undefined;
    });
    expect(await fire()).toBe(0);
    // 02:30 on 2024-03-10 does not exist in New York (spring forward): skipped; next is 09:30 EDT = 13:30Z.
    expect(after.body).toMatchObject({ run_count: 1, last_run_at: "2024-03-09T14:30:00Z" });
    expect(after.body.next_run_at).toBe("2024-03-10T13:30:00Z");
    await rest("DELETE", `/recurrent-requests/${created.body.id}`);
  });

  it("interval due times are counted from creation; missed ones fire once, then the grid resumes after now", async () => {
    now = Date.parse("2024-04-01T00:00:00Z");
    const created = await rest("POST", "/recurrent-requests", { recurrence: { schedule_type: "interval", interval_seconds: 3600 }, target: { url: "http://127.0.0.1:1/never-called" } });
    expect(created.body.next_run_at).toBe("2024-04-01T01:00:00Z");
    now = Date.parse("2024-04-01T00:59:59Z");
    expect(await fire()).toBe(0);
    // The ticker runs too (its own timer sees the moved clock): count the runs, not which tick made them.
    const runs = (count: number) =>
      eventually(async () => {
        const got = await rest("GET", `/recurrent-requests/${created.body.id}`);
        return got.body.run_count >= count ? got.body : undefined;
      });
    now = Date.parse("2024-04-01T01:00:00Z");
    await fire();
    expect((await runs(1)).next_run_at).toBe("2024-04-01T02:00:00Z");
    // No engine for 5 h 30 min: one fire for the oldest missed due time, next at 07:00.
    now = Date.parse("2024-04-01T06:30:00Z");
    await fire();
    await runs(2);
    expect(await fire()).toBe(0);
    const got = (await rest("GET", `/recurrent-requests/${created.body.id}`)).body;
    expect(got).toMatchObject({ run_count: 2, next_run_at: "2024-04-01T07:00:00Z" });
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select idempotency_key from orchestration.instances where metadata->>'recurrent_request_id' = ${created.body.id} order by 1`;
      expect(rows.map((r) => r.idempotency_key)).toEqual([`recurrent:${created.body.id}:2024-04-01T01:00:00.000Z`, `recurrent:${created.body.id}:2024-04-01T02:00:00.000Z`]);
    } finally {
      await sql.end();
    }
  });
});
