// Orch8's own Node client (github.com/orch8-io/sdk-node: src/client.ts, src/worker.ts, src/builder.ts)
// against this engine, unchanged. The requests below are the ones that client sends — its paths,
// methods, headers (Content-Type, Accept, X-Tenant-Id, plus the Authorization header a CloudForet
// deployment needs) and JSON bodies as its sequence builder and request helpers shape them — written
// here from reading its source; the assertions are on what the client reads back.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startOrchestration, type TestOrchestration } from "./support";

const DOMAIN = "sdk-domain";
const TENANT = "my-tenant"; // the client README's example tenant

let orch: TestOrchestration;
let token: string;

/** What the client throws for a non-2xx answer: Orch8Error(status, parsed body, path). */
class Orch8Error extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly path: string,
  ) {
    super(`Orch8 API error ${status} on ${path}`);
  }
}

/**
 * Orch8Client.request: JSON headers, the configured extra headers (here Authorization), X-Tenant-Id
 * when a tenant is configured; a 204 or empty body reads as undefined, a non-JSON body as text.
 */
async function sdk<T = any>(method: string, path: string, body?: unknown, tenantId: string | undefined = TENANT): Promise<T> {
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${token}` };
  if (tenantId) headers["X-Tenant-Id"] = tenantId;
  const res = await fetch(`${orch.restUrl}${path}`, { method, headers, body: body !== undefined ? JSON.stringify(body) : undefined });
  const text = res.status === 204 ? "" : await res.text();
  let parsed: unknown;
  try {
    parsed = text.length === 0 ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  if (!res.ok) throw new Orch8Error(res.status, parsed, path);
  return parsed as T;
}

/** Orch8Worker's requests: Content-Type only (it has no header option) — plus Authorization here. */
async function workerCall(path: string, body: unknown): Promise<Response> {
  return fetch(`${orch.restUrl}${path}`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
}

/** Orch8Client.createSequence: the builder's {name, namespace, blocks} plus the defaults the client fills in. */
async function createSequence(name: string, blocks: unknown[]): Promise<string> {
  const prepared = { name, namespace: "default", blocks, id: randomUUID(), tenant_id: TENANT, version: 1, deprecated: false, status: "production", created_at: new Date().toISOString() };
  const created = await sdk<{ id: string }>("POST", "/sequences", prepared);
  expect(created.id).toBe(prepared.id);
  return created.id;
}

/** Orch8Client.prepareInstance: tenant_id and namespace filled in from the client's config. */
const instanceBody = (body: Record<string, unknown>) => ({ ...body, tenant_id: TENANT, namespace: "default" });

beforeAll(async () => {
  orch = await startOrchestration();
  token = await orch.token(DOMAIN);
}, 60_000);

afterAll(async () => {
  await orch?.close();
});

describe("sequences (builder payloads)", () => {
  it("create, get, get by name", async () => {
    // workflow("send_reminder").step("send_email", "http_request", {...}).delay({ duration: 100 }).step("log", "log", {...}).build()
    const blocks = [
      { type: "step", id: "send_email", handler: "noop", params: { to: "a@example.com" } },
      { type: "step", id: "delay_1", handler: "noop", params: {}, delay: { duration: 100 } },
      { type: "step", id: "log", handler: "log", params: { message: "done" } },
    ];
    const id = await createSequence("send_reminder", blocks);
    const got = await sdk("GET", `/sequences/${encodeURIComponent(id)}`);
    expect(got).toMatchObject({ id, tenant_id: TENANT, namespace: "default", name: "send_reminder", version: 1, blocks });
    const byName = await sdk("GET", `/sequences/by-name?${new URLSearchParams({ tenant_id: TENANT, namespace: "default", name: "send_reminder" })}`);
    expect(byName.id).toBe(id);
  });
});

describe("instances", () => {
  let sequenceId: string;
  beforeAll(async () => {
    sequenceId = await createSequence("instances", [{ type: "step", id: "s", handler: "noop", params: {} }]);
  });

  it("create, get, list, update state and context, custom signal", async () => {
    const created = await sdk<{ id: string }>("POST", "/instances", instanceBody({ sequence_id: sequenceId, next_fire_at: "2099-01-01T00:00:00Z", context: { data: { user: "u1" } } }));
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await sdk("GET", `/instances/${created.id}`)).toMatchObject({ id: created.id, tenant_id: TENANT, namespace: "default", state: "scheduled", context: { data: { user: "u1" } } });
    // listInstances accepts an array (or {items}).
    const listed = await sdk<{ id: string }[]>("GET", `/instances?${new URLSearchParams({ namespace: "default" })}`);
    expect(Array.isArray(listed) && listed.some((i) => i.id === created.id)).toBe(true);
    // updateInstanceState / updateInstanceContext read nothing back but need a parsable body or none.
    await sdk("PATCH", `/instances/${created.id}/state`, { state: "paused" });
    await sdk("PATCH", `/instances/${created.id}/context`, { context: { data: { user: "u2" } } });
    expect(await sdk("GET", `/instances/${created.id}`)).toMatchObject({ state: "paused", context: { data: { user: "u2" } } });
    const signal = await sdk<{ signal_id: string }>("POST", `/instances/${created.id}/signals`, { signal_type: { custom: "approval_granted" }, payload: { reviewer: "alice" } });
    expect(signal.signal_id).toMatch(/^[0-9a-f-]{36}$/);
    const cancelled = await sdk<{ signal_id: string }>("POST", `/instances/${created.id}/signals`, { signal_type: "cancel" });
    expect(cancelled.signal_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("batch create: {instances: [...]} answers {count}; an empty batch is {count: 0}", async () => {
    expect(await sdk("POST", "/instances/batch", { instances: [] })).toEqual({ count: 0 });
    const items = [1, 2].map((n) => instanceBody({ sequence_id: sequenceId, next_fire_at: "2099-01-01T00:00:00Z", context: { data: { n } } }));
    expect(await sdk("POST", "/instances/batch", { instances: items })).toEqual({ count: 2 });
  });

  it("errors: the client reads the status and the parsed body {error}", async () => {
    const missing = await sdk("GET", `/instances/${randomUUID()}`).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Orch8Error);
    expect(missing).toMatchObject({ status: 404, body: { error: "instance not found" } });
    const bad = await sdk("POST", `/instances/${randomUUID()}/signals`, { signal_type: { custom: "bad name!" } }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, body: { error: expect.stringContaining("signal_type") } });
    // A tenant_id that disagrees with the client's X-Tenant-Id is refused, never silently resolved.
    const wrongTenant = await sdk("GET", `/sequences/by-name?${new URLSearchParams({ tenant_id: TENANT, namespace: "default", name: "instances" })}`, undefined, "other-tenant").catch((e: unknown) => e);
    expect(wrongTenant).toMatchObject({ status: 400, body: { error: "tenant_id does not match X-Tenant-Id" } });
  });
});

describe("cron", () => {
  it("create, list by tenant, get, update, delete", async () => {
    const sequenceId = await createSequence("cron-target", [{ type: "step", id: "s", handler: "noop", params: {} }]);
    const created = await sdk<{ id: string; next_fire_at: string }>("POST", "/cron", { tenant_id: TENANT, namespace: "default", sequence_id: sequenceId, cron_expr: "0 0 9 * * MON-FRI *", timezone: "UTC", metadata: { source: "sdk" } });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(created.next_fire_at)).toBeGreaterThan(Date.now());
    const listed = await sdk<{ id: string; tenant_id: string }[]>("GET", `/cron?${new URLSearchParams({ tenant_id: TENANT })}`);
    expect(listed.map((c) => [c.id, c.tenant_id])).toEqual([[created.id, TENANT]]);
    expect(await sdk("GET", `/cron/${created.id}`)).toMatchObject({ id: created.id, cron_expr: "0 0 9 * * MON-FRI *", enabled: true, metadata: { source: "sdk" } });
    expect(await sdk("PUT", `/cron/${created.id}`, { enabled: false })).toMatchObject({ id: created.id, enabled: false });
    expect(await sdk("DELETE", `/cron/${created.id}`)).toBeUndefined();
    expect(await sdk("GET", `/cron/${created.id}`).catch((e: unknown) => e)).toMatchObject({ status: 404 });
  });
});

describe("the worker loop (Orch8Worker)", () => {
  it("polls, heartbeats, completes one task and fails another; the instances follow", async () => {
    const sequenceId = await createSequence("worker-job", [{ type: "step", id: "job", handler: "sdk_job", params: { n: 1 } }]);
    const first = await sdk<{ id: string }>("POST", "/instances", instanceBody({ sequence_id: sequenceId }));
    const second = await sdk<{ id: string }>("POST", "/instances", instanceBody({ sequence_id: sequenceId }));
    const tasks = await eventually(async () => {
      const res = await workerCall("/workers/tasks/poll", { handler_name: "sdk_job", worker_id: "sdk-worker-1", limit: 10 });
      expect(res.ok).toBe(true);
      const batch = (await res.json()) as { id: string; instance_id: string; handler_name: string; timeout_ms: number | null; params: unknown }[];
      return batch.length > 0 ? batch : undefined;
    }, 15_000, "tasks to poll");
    const more = tasks.length === 2 ? [] : await eventually(async () => {
      const batch = (await (await workerCall("/workers/tasks/poll", { handler_name: "sdk_job", worker_id: "sdk-worker-1", limit: 10 })).json()) as typeof tasks;
      return batch.length > 0 ? batch : undefined;
    }, 15_000, "the second task");
    const all = [...tasks, ...more];
    expect(all.map((t) => t.handler_name)).toEqual(["sdk_job", "sdk_job"]);
    // withTimeout(handler, task.timeout_ms): a falsy timeout means none.
    expect(all.every((t) => !t.timeout_ms)).toBe(true);
    expect(all[0].params).toEqual({ n: 1 });
    const byInstance = new Map(all.map((t) => [t.instance_id, t.id]));
    expect((await workerCall(`/workers/tasks/${byInstance.get(first.id)}/heartbeat`, { worker_id: "sdk-worker-1" })).ok).toBe(true);
    expect((await workerCall(`/workers/tasks/${byInstance.get(first.id)}/complete`, { worker_id: "sdk-worker-1", output: { sent: true } })).ok).toBe(true);
    expect((await workerCall(`/workers/tasks/${byInstance.get(second.id)}/fail`, { worker_id: "sdk-worker-1", message: "handler threw", retryable: false })).ok).toBe(true);
    await eventually(async () => ((await sdk("GET", `/instances/${first.id}`)).state === "completed" ? true : undefined), 15_000, "first instance completed");
    await eventually(async () => ((await sdk("GET", `/instances/${second.id}`)).state === "failed" ? true : undefined), 15_000, "second instance failed");
    expect(await sdk("GET", `/instances/${first.id}/outputs`)).toEqual([expect.objectContaining({ block_id: "job", output: { sent: true } })]);
  }, 60_000);
});
