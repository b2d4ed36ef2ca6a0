import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, startHttpServer, startOrchestration, waitForState, type TestHttpServer, type TestOrchestration } from "./support";

// Engine features beyond seed 002, part two: per-handler circuit breakers, cluster nodes (drained
// across real replicas on one database), sessions and credentials — real engines, Postgres and a
// local HTTP peer.

// acme (the tests' domain) operates the engine: its admins may list and drain cluster nodes.
const ENV = { ORCHESTRATION_BREAKER_FAILURE_THRESHOLD: "3", ORCHESTRATION_BREAKER_COOLDOWN_MS: "60000", ORCHESTRATION_NODE_HEARTBEAT_MS: "500", ORCHESTRATION_OPERATOR_DOMAINS: "acme" };

let orch: TestOrchestration;
let peer: TestHttpServer;
let sql: postgres.Sql;
const extra: TestOrchestration[] = [];
let orchClosed = false;

const step = (id: string, handler: string, params: Record<string, unknown> = {}, more: Record<string, unknown> = {}) => ({ type: "step", id, handler, params, ...more });

async function startInstance(on: TestOrchestration, sequenceId: string, metadata: Record<string, unknown> = {}): Promise<string> {
  const res = await on.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default", metadata });
  expect(res.status).toBe(201);
  return res.body.id;
}

beforeAll(async () => {
  peer = await startHttpServer(({ path }) => (path.startsWith("/down") ? { status: 503, body: { error: "down" } } : { status: 200, body: { ok: true } }));
  orch = await startOrchestration(ENV);
  sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
}, 60_000);

afterAll(async () => {
  for (const other of extra) await other.close();
  await sql?.end();
  if (!orchClosed) await orch?.close();
  else await orch?.database.drop();
  await peer?.close();
});

describe("per-handler circuit breakers", () => {
  it("open after consecutive retryable failures, defer the handler's steps while open, and reset", async () => {
    const failing = await createSequence(orch, "breaks", [step("call", "http_request", { url: `${peer.url}/down` }, { retry: { max_attempts: 3, initial_backoff: "10ms", max_backoff: "20ms" } })]);
    const broken = await startInstance(orch, failing);
    await waitForState(orch, broken, ["failed"]);
    expect(peer.requests.filter((r) => r.path === "/down")).toHaveLength(3);

    const listed = await orch.rest("GET", "/circuit-breakers");
    expect(listed).toEqual({
      status: 200,
      body: [{ handler: "http_request", state: "open", failure_count: 3, failure_threshold: 3, cooldown_secs: 60, opened_at: expect.any(String) }],
    });
    expect((await orch.rest("GET", "/tenants/acme/circuit-breakers/http_request")).body.state).toBe("open");

    // While open, an http_request step is deferred: the peer is not called and the instance does not fail.
    const healthy = await createSequence(orch, "deferred", [step("call", "http_request", { url: `${peer.url}/up` })]);
    const deferred = await startInstance(orch, healthy);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(peer.requests.filter((r) => r.path === "/up")).toHaveLength(0);
    expect(["scheduled", "running", "waiting"]).toContain((await orch.rest("GET", `/instances/${deferred}`)).body.state);
    // Other handlers are not affected.
    const noop = await createSequence(orch, "unaffected", [step("n", "noop")]);
    await waitForState(orch, await startInstance(orch, noop), ["completed"]);

    const reset = await orch.rest("POST", "/tenants/acme/circuit-breakers/http_request/reset");
    expect(reset).toEqual({ status: 200, body: { handler: "http_request", state: "closed", failure_count: 0, failure_threshold: 3, cooldown_secs: 60 } });
    expect((await orch.rest("GET", "/tenants/acme/circuit-breakers")).body[0].state).toBe("closed");

    // Breakers are per tenant (and domain): another domain's tenant "acme" has none; unknown ones are 404.
    expect(await orch.rest("GET", "/tenants/acme/circuit-breakers", undefined, { as: "globex" })).toEqual({ status: 200, body: [] });
    expect((await orch.rest("GET", "/tenants/acme/circuit-breakers/llm_call")).status).toBe(404);
    expect((await orch.rest("POST", "/tenants/acme/circuit-breakers/llm_call/reset")).status).toBe(404);
    expect((await orch.rest("GET", "/tenants/no%20spaces/circuit-breakers")).status).toBe(400);
    expect((await orch.rest("GET", "/circuit-breakers?limit=0x")).status).toBe(400);
    // A WORKSPACE_MEMBER may read but not reset.
    const member = await orch.issuer.tokenWith("acme", "mia", [{ role: "WORKSPACE_MEMBER", workspace_id: "ws-1" }]);
    const asMember = (method: string, path: string) => fetch(`${orch.restUrl}${path}`, { method, headers: { authorization: `Bearer ${member}` } });
    expect((await asMember("GET", "/circuit-breakers")).status).toBe(200);
    expect((await asMember("POST", "/tenants/acme/circuit-breakers/http_request/reset")).status).toBe(403);
  }, 30_000);
});

describe("sessions", () => {
  it("create, read by id and key, update data and state, list the instances naming it", async () => {
    const created = await orch.rest("POST", "/sessions", { session_key: "user:123:onboarding", data: { step: 1 }, expires_at: "2099-01-01T00:00:00Z" });
    expect(created).toEqual({
      status: 201,
      body: { id: expect.any(String), tenant_id: "acme", session_key: "user:123:onboarding", data: { step: 1 }, state: "active", created_at: expect.any(String), updated_at: expect.any(String), expires_at: "2099-01-01T00:00:00Z" },
    });
    const id = created.body.id;
    expect((await orch.rest("GET", `/sessions/${id}`)).body.session_key).toBe("user:123:onboarding");
    expect((await orch.rest("GET", "/sessions/by-key/acme/user:123:onboarding")).body.id).toBe(id);
    expect((await orch.rest("PATCH", `/sessions/${id}/data`, { data: { step: 2 } })).body.data).toEqual({ step: 2 });
    expect((await orch.rest("POST", "/sessions", { session_key: "user:123:onboarding" })).status).toBe(409);

    const sequenceId = await createSequence(orch, "in-session", [step("n", "noop")]);
    const inSession = await startInstance(orch, sequenceId, { session_id: id });
    await startInstance(orch, sequenceId, { session_id: "another" });
    const members = await orch.rest("GET", `/sessions/${id}/instances`);
    expect(members.body.map((i: any) => i.id)).toEqual([inSession]);

    expect((await orch.rest("PATCH", `/sessions/${id}/state`, { state: "completed" })).body.state).toBe("completed");
    expect((await orch.rest("GET", "/sessions?state=completed")).body.map((s: any) => s.id)).toEqual([id]);
    const past = await orch.rest("POST", "/sessions", { session_key: "short-lived", expires_at: "2001-01-01T00:00:00Z" });
    expect(past.body.state).toBe("expired");

    expect(await orch.rest("PATCH", `/sessions/${id}/state`, { state: "done" })).toEqual({ status: 400, body: { error: expect.stringContaining("state") } });
    expect(await orch.rest("POST", "/sessions", { data: {} })).toEqual({ status: 400, body: { error: expect.stringContaining("session_key") } });
    expect(await orch.rest("POST", "/sessions", { session_key: "k", expires_at: "soon" })).toEqual({ status: 400, body: { error: expect.stringContaining("expires_at") } });
    expect((await orch.rest("GET", `/sessions/${id}`, undefined, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("GET", "/sessions/by-key/acme/user:123:onboarding", undefined, { as: "globex" })).status).toBe(404);
  });
});

describe("credentials", () => {
  it("are sealed at rest, write-only through the API, and scoped to their tenant", async () => {
    const secret = '{"token":"sk_live_very_secret_123"}';
    const created = await orch.rest("POST", "/credentials", { id: "stripe-prod", name: "Stripe Production", value: secret, description: "billing" });
    expect(created).toEqual({
      status: 201,
      body: { id: "stripe-prod", tenant_id: "acme", name: "Stripe Production", kind: "api_key", value: "[REDACTED]", enabled: true, description: "billing", created_at: expect.any(String), updated_at: expect.any(String) },
    });
    const oauth = await orch.rest("POST", "/credentials", { id: "google", name: "Google", kind: "oauth2", value: '{"access_token":"a1"}', refresh_url: "https://oauth2.example.com/token", refresh_token: "r-secret-9" });
    expect(oauth.body).toMatchObject({ kind: "oauth2", refresh_url: "https://oauth2.example.com/token", refresh_token: "[REDACTED]", value: "[REDACTED]" });

    const everything = JSON.stringify([await orch.rest("GET", "/credentials"), await orch.rest("GET", "/credentials/stripe-prod"), await orch.rest("GET", "/credentials/google")]);
    expect(everything).not.toContain("sk_live");
    expect(everything).not.toContain("r-secret-9");
    expect((await orch.rest("GET", "/credentials?limit=1")).body.map((c: any) => c.id)).toEqual(["google"]);

    // At rest: sealed, not plaintext; the engine opens it with the keys.
    const [row] = await sql`select sealed_value, sealed_refresh_token from orchestration.credentials where id = 'stripe-prod'`;
    expect(row.sealed_value).not.toContain("sk_live");
    expect(row.sealed_value.length).toBeGreaterThan(20);
    const credentials = orch.module.orchestration().credentials;
    expect(await credentials.open({ domainId: "acme", tenantId: "acme" }, "stripe-prod")).toBe(secret);

    const rotated = await orch.rest("PATCH", "/credentials/stripe-prod", { value: '{"token":"sk_live_rotated"}', enabled: false });
    expect(rotated.body).toMatchObject({ value: "[REDACTED]", enabled: false });
    await expect(credentials.open({ domainId: "acme", tenantId: "acme" }, "stripe-prod")).rejects.toThrow(/disabled/);
    await orch.rest("PATCH", "/credentials/stripe-prod", { enabled: true });
    expect(await credentials.open({ domainId: "acme", tenantId: "acme" }, "stripe-prod")).toBe('{"token":"sk_live_rotated"}');

    // Bad input: 400 naming the field, never echoing the secret.
    expect((await orch.rest("POST", "/credentials", { id: "stripe-prod", name: "dup", value: "x" })).status).toBe(409);
    expect(await orch.rest("POST", "/credentials", { id: "bad id!", name: "n", value: "x" })).toEqual({ status: 400, body: { error: expect.stringContaining("id") } });
    expect(await orch.rest("POST", "/credentials", { id: "ok", name: "n" })).toEqual({ status: 400, body: { error: expect.stringContaining("value") } });
    expect(await orch.rest("POST", "/credentials", { id: "ok", name: "n", value: "x", kind: "ssh" })).toEqual({ status: 400, body: { error: expect.stringContaining("kind") } });
    const noRefresh = await orch.rest("POST", "/credentials", { id: "ok", name: "n", value: "hunter2-secret", kind: "oauth2", refresh_url: "https://oauth2.example.com/token" });
    expect(noRefresh).toEqual({ status: 400, body: { error: expect.stringContaining("refresh_token") } });
    expect(JSON.stringify(noRefresh.body)).not.toContain("hunter2");
    expect((await orch.rest("POST", "/credentials", { id: "ok", name: "n", value: "x", refresh_url: "http://169.254.169.254/latest" })).status).toBe(400);

    // Another domain neither sees nor deletes it; the owner deletes it.
    expect((await orch.rest("GET", "/credentials/stripe-prod", undefined, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("DELETE", "/credentials/stripe-prod", undefined, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("DELETE", "/credentials/stripe-prod")).status).toBe(204);
    expect((await orch.rest("GET", "/credentials/stripe-prod")).status).toBe(404);
  });
});

describe("credentials:// references", () => {
  it("are resolved in the params of peer-calling steps, per tenant, and fail the step when missing", async () => {
    expect((await orch.rest("POST", "/credentials", { id: "crm", name: "CRM", value: '{"api_key":"crm-key-42","region":"eu"}' })).status).toBe(201);
    const sequenceId = await createSequence(orch, "uses-credentials", [
      step("call", "http_request", { url: `${peer.url}/crm`, method: "POST", body: { whole: "credentials://crm", key: "credentials://crm/api_key", plain: "x" } }),
    ]);
    const done = await startInstance(orch, sequenceId);
    const instance = await waitForState(orch, done, ["completed", "failed"]);
    expect(instance.state).toBe("completed");
    expect(peer.requests.filter((r) => r.path === "/crm").at(-1)!.body).toEqual({ whole: { api_key: "crm-key-42", region: "eu" }, key: "crm-key-42", plain: "x" });
    // Nothing of the secret is kept in the instance.
    expect(JSON.stringify(instance)).not.toContain("crm-key-42");

    const missing = await createSequence(orch, "missing-credential", [step("call", "http_request", { url: `${peer.url}/crm`, method: "POST", body: { key: "credentials://nope/api_key" } })]);
    const failed = await waitForState(orch, await startInstance(orch, missing), ["failed", "completed"]);
    expect(failed.state).toBe("failed");
    expect(failed.context.runtime.error).toContain("no credential registered with id 'nope'");
    // Another domain's tenant "acme" does not see this domain's credential.
    const foreignSeq = (await orch.rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", name: "foreign-ref", blocks: [step("call", "http_request", { url: `${peer.url}/crm`, method: "POST", body: { key: "credentials://crm/api_key" } })] }, { as: "globex" })).body.id;
    const foreign = (await orch.rest("POST", "/instances", { sequence_id: foreignSeq, tenant_id: "acme", namespace: "default" }, { as: "globex" })).body.id;
    const foreignDone = await eventually(async () => {
      const got = await orch.rest("GET", `/instances/${foreign}`, undefined, { as: "globex" });
      return ["failed", "completed"].includes(got.body.state) ? got.body : undefined;
    });
    expect(foreignDone.state).toBe("failed");
  }, 30_000);
});

describe("cluster nodes", () => {
  it("every replica registers and heartbeats; a drained one stops claiming while the others work", async () => {
    const second = await startOrchestration(ENV, orch.database);
    extra.push(second);
    const firstId = orch.module.orchestration().engineId;
    const secondId = second.module.orchestration().engineId;

    const nodes = await orch.rest("GET", "/cluster/nodes");
    expect(nodes.status).toBe(200);
    const byId = Object.fromEntries(nodes.body.map((n: any) => [n.id, n]));
    expect(byId[firstId]).toEqual({ id: firstId, name: expect.any(String), address: orch.restUrl, status: "active", registered_at: expect.any(String), last_heartbeat_at: expect.any(String), drain: false });
    expect(byId[secondId]).toMatchObject({ address: second.restUrl, status: "active", drain: false });
    const beat = byId[secondId].last_heartbeat_at;
    await eventually(async () => ((await orch.rest("GET", "/cluster/nodes")).body.find((n: any) => n.id === secondId).last_heartbeat_at !== beat ? true : undefined), 5_000, "a heartbeat");

    // Drain the second replica through the first one's API.
    const drained = await orch.rest("POST", `/cluster/nodes/${secondId}/drain`);
    expect(drained.body).toMatchObject({ id: secondId, status: "draining", drain: true });
    expect((await orch.rest("POST", "/cluster/nodes/no-such-node/drain")).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past its next heartbeat

    // With the first replica gone, the drained one claims nothing...
    await orch.service.close(); // the service only: the database stays for the other replicas
    orchClosed = true;
    const sequenceId = await createSequence(second, "after-drain", [step("n", "noop")]);
    const waiting = await startInstance(second, sequenceId);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await second.rest("GET", `/instances/${waiting}`)).body.state).toBe("scheduled");

    // ...and a new replica takes the work.
    const third = await startOrchestration(ENV, orch.database);
    extra.push(third);
    await waitForState(third, waiting, ["completed"], 15_000);
    const after = Object.fromEntries((await third.rest("GET", "/cluster/nodes")).body.map((n: any) => [n.id, n.status]));
    expect(after).toMatchObject({ [firstId]: "stopped", [secondId]: "draining", [third.module.orchestration().engineId]: "active" });
  }, 60_000);
});
