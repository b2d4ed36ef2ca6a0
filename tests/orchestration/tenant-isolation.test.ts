// Orch8 tenants inside a domain (services/orchestration/src/access/tenants.ts): domains A and B both
// use tenant "acme". For EVERY REST route — enumerated from the service's own route table, so a new
// route cannot be missed — domain B can neither read, list nor change domain A's objects. Then tenant
// scoping inside one domain (a domain admin sees all its tenants) and API-key tenant grants.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { decodeError } from "@cloudforet/errors";
import { InstanceService } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { TriggerService } from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startOrchestration, type RestReply, type TestOrchestration } from "./support";

const A = "domain-a";
const B = "domain-b";
const TENANT = "acme";
const MARKER = "only-domain-a-sees-this";

let orch: TestOrchestration;
let sql: postgres.Sql;
/** Every id of domain A's objects, by the path parameter a route names it with. */
const ids = { sequence: "", instance: "", pendingTask: "", claimedTask: "", cron: "", recurrent: "" };

const asA = <T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = { "x-tenant-id": TENANT }) => orch.rest<T>(method, path, body, { as: A, headers });
const asB = <T = any>(method: string, path: string, body?: unknown) => orch.rest<T>(method, path, body, { as: B, headers: { "x-tenant-id": TENANT } });

function created(reply: RestReply, what: string): RestReply {
  if (reply.status >= 300) throw new Error(`${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply;
}

/** Domain A's rows in every orchestration table that has a domain_id (new tables included), and its worker tasks. */
async function snapshotOfA(): Promise<Record<string, readonly unknown[]>> {
  const tables = await sql<{ table_name: string }[]>`
    select table_name from information_schema.columns
    where table_schema = 'orchestration' and column_name = 'domain_id' order by table_name`;
  const snapshot: Record<string, readonly unknown[]> = {};
  for (const { table_name: table } of tables) {
    snapshot[table] = await sql`select * from ${sql("orchestration")}.${sql(table)} where domain_id = ${A} order by 1, 2`;
  }
  snapshot.worker_tasks = await sql`select id, state, worker_id, output, error_message, claim_epoch from orchestration.worker_tasks where id in ${sql([ids.pendingTask, ids.claimedTask])} order by id`;
  return snapshot;
}

beforeAll(async () => {
  orch = await startOrchestration();
  sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
  const blocks = [{ type: "step", id: "job", handler: "isolation_job", params: { marker: MARKER } }];
  ids.sequence = created(await asA("POST", "/sequences", { tenant_id: TENANT, namespace: "default", name: "isolated", blocks }), "sequence").body.id;
  // Two instances that reach the external worker step: one task stays pending, one is claimed by A's worker.
  for (let i = 0; i < 2; i++) created(await asA("POST", "/instances", { sequence_id: ids.sequence, namespace: "default", context: { data: { marker: MARKER } } }), "instance");
  const tasks = await eventually(async () => {
    const rows = await sql<{ id: string }[]>`select id from orchestration.worker_tasks where handler_name = 'isolation_job' order by created_at`;
    return rows.length === 2 ? rows : undefined;
  }, 15_000, "two worker tasks");
  const claimed = created(await asA("POST", "/workers/tasks/poll", { handler_name: "isolation_job", worker_id: "w-a", limit: 1 }), "poll").body;
  ids.claimedTask = claimed[0].id;
  ids.pendingTask = tasks.map((t) => t.id).find((id) => id !== ids.claimedTask)!;
  // Far in the future: stays scheduled, so any change B could make would show.
  ids.instance = created(await asA("POST", "/instances", { sequence_id: ids.sequence, namespace: "default", next_fire_at: "2099-01-01T00:00:00Z", context: { data: { marker: MARKER } } }), "instance").body.id;
  ids.cron = created(await asA("POST", "/cron", { namespace: "default", sequence_id: ids.sequence, cron_expr: "0 0 0 1 1 * *" }), "cron").body.id;
  created(await asA("POST", "/triggers", { slug: "on-a", namespace: "default", sequence_id: ids.sequence }), "trigger");
  created(await asA("PUT", "/rate-limits/api:a", { max_count: 5, window: "1m" }), "rate limit");
  ids.recurrent = created(
    await asA("POST", "/recurrent-requests", { name: MARKER, recurrence: { schedule_type: "interval", interval_seconds: 86_400 }, target: { url: "http://127.0.0.1:9/a", method: "GET" } }),
    "recurrent request",
  ).body.id;
  created(await asA("PUT", "/tenant-grants/ak-a", { tenant_ids: [TENANT] }, {}), "tenant grant");
}, 60_000);

afterAll(async () => {
  await sql?.end();
  await orch?.close();
});

/** Domain A's object a route's path parameter names (by the route's first segment), or an id nobody has. */
function pathOf(path: string): string {
  const first = path.split("/")[1];
  return path.replace(/:([a-z_]+)/g, (_, name: string) => {
    if (name === "slug") return "on-a";
    if (name === "key") return "api:a";
    if (name === "api_key_id") return "ak-a";
    const byPrefix: Record<string, string> = { sequences: ids.sequence, instances: ids.instance, cron: ids.cron, "recurrent-requests": ids.recurrent, workers: ids.claimedTask };
    return byPrefix[first] ?? "00000000-0000-4000-8000-00000000000a";
  });
}

/** A body aimed at domain A's objects: every field a route might read, naming A's ids and tenant. */
const hostileBody = () => ({
  tenant_id: TENANT,
  sequence_id: ids.sequence,
  namespace: "default",
  name: "b-copy",
  blocks: [{ type: "step", id: "s", handler: "noop" }],
  instances: [{ sequence_id: ids.sequence, tenant_id: TENANT, namespace: "default" }],
  filter: { tenant_id: TENANT, namespace: "default" },
  state: "cancelled",
  context: { data: { pwned: true } },
  signal_type: "cancel",
  cron_expr: "* * * * * * *",
  enabled: false,
  slug: "on-a",
  max_count: 1,
  window: "1s",
  handler_name: "isolation_job",
  worker_id: "w-a",
  output: { pwned: true },
  message: "pwned",
  retryable: false,
  tenant_ids: [TENANT],
  recurrence: { schedule_type: "interval", interval_seconds: 60 },
  target: { url: "http://127.0.0.1:9/b", method: "GET" },
});

describe("two domains, one tenant name", () => {
  it("every REST route: domain B neither reads, lists nor changes domain A's objects", async () => {
    const routes = orch.module.restRouteAccess().filter((r) => r.access !== "public");
    expect(routes.length).toBeGreaterThan(40);
    const before = await snapshotOfA();
    expect(before.instances.length).toBe(3);
    const secrets = [ids.sequence, ids.instance, ids.pendingTask, ids.claimedTask, ids.cron, ids.recurrent, MARKER];
    for (const route of routes) {
      const path = pathOf(route.path);
      const body = route.method === "GET" || route.method === "DELETE" ? undefined : hostileBody();
      const reply = await asB(route.method, path, body);
      const label = `${route.method} ${route.path}`;
      expect(reply.status, `${label}: ${JSON.stringify(reply.body)}`).not.toBe(500);
      // A route naming one of A's objects never succeeds for B. Where the caller names the object (a
      // rate-limit key, an API key's grants) B acts on its own object of that name: the snapshot below shows A's stayed.
      const callerNamed = /:(key|api_key_id)$/.test(route.path);
      if (route.path.includes(":") && !callerNamed) expect({ label, ok: reply.status < 300 }).toEqual({ label, ok: false });
      // No answer of B's carries anything of A's (an error may echo the id B sent, never A's data).
      const text = JSON.stringify(reply.body ?? "");
      for (const secret of reply.status < 300 ? secrets : [MARKER]) expect({ label, leaked: text.includes(secret) ? secret : undefined }).toEqual({ label, leaked: undefined });
    }
    // Lists of B, with and without naming the tenant, are of B's objects alone.
    for (const list of ["/instances", "/instances?tenant_id=acme", "/cron", "/triggers", "/rate-limits", "/recurrent-requests", "/tenant-grants"]) {
      expect(JSON.stringify((await asB("GET", list)).body)).not.toContain(ids.sequence);
    }
    // Nothing of A changed: every row of A in every table, and A's worker tasks.
    expect(await snapshotOfA()).toEqual(before);
    // While A still reads its objects.
    expect((await asA("GET", `/instances/${ids.instance}`)).body).toMatchObject({ id: ids.instance, tenant_id: TENANT, state: "scheduled" });
    expect((await asA("GET", "/triggers/on-a")).body).toMatchObject({ slug: "on-a", enabled: true });
  }, 120_000);

  it("the same tenant name in domain B holds B's own objects, apart from A's", async () => {
    const sequence = created(await asB("POST", "/sequences", { tenant_id: TENANT, namespace: "default", name: "isolated", blocks: [{ type: "step", id: "s", handler: "noop" }] }), "B's sequence").body.id;
    expect(sequence).not.toBe(ids.sequence);
    // Same (tenant, namespace, name, version) as A's: no conflict across domains.
    expect((await asB("GET", "/sequences/by-name?tenant_id=acme&namespace=default&name=isolated")).body.id).toBe(sequence);
    expect((await asA("GET", "/sequences/by-name?tenant_id=acme&namespace=default&name=isolated")).body.id).toBe(ids.sequence);
    expect((await asB("PUT", "/triggers/on-a", { enabled: false })).status).toBe(404);
    expect((await asB("POST", "/triggers", { slug: "on-a", namespace: "default", sequence_id: sequence })).status).toBe(201);
    expect((await asA("GET", "/triggers/on-a")).body.sequence_id).toBe(ids.sequence);
  });
});

describe("tenants inside one domain", () => {
  it("naming no tenant acts in the default tenant (the domain id); a domain admin's list without a tenant shows every tenant", async () => {
    const blocks = [{ type: "step", id: "s", handler: "noop" }];
    const own = created(await asA("POST", "/sequences", { namespace: "default", name: "default-tenant", blocks }, {}), "default-tenant sequence").body.id;
    expect((await asA("GET", `/sequences/${own}`, undefined, {})).body.tenant_id).toBe(A);
    const beta = created(await asA("POST", "/sequences", { tenant_id: "beta", namespace: "default", name: "beta-seq", blocks }, {}), "beta sequence").body.id;
    const inBeta = created(await asA("POST", "/instances", { tenant_id: "beta", sequence_id: beta, namespace: "listing", next_fire_at: "2099-01-01T00:00:00Z" }, {}), "beta instance").body.id;
    const inAcme = created(await asA("POST", "/instances", { sequence_id: ids.sequence, namespace: "listing", next_fire_at: "2099-01-01T00:00:00Z" }), "acme instance").body.id;
    // A sequence of tenant beta does not serve tenant acme.
    expect((await asA("POST", "/instances", { sequence_id: beta, namespace: "listing" })).status).toBe(404);
    const all = (await asA("GET", "/instances?namespace=listing", undefined, {})).body.map((i: { id: string }) => i.id);
    expect(all.sort()).toEqual([inAcme, inBeta].sort());
    expect((await asA("GET", "/instances?namespace=listing")).body.map((i: { id: string }) => i.id)).toEqual([inAcme]);
    expect((await asA("GET", `/instances/${inBeta}`)).status).toBe(404); // X-Tenant-Id acme
    expect((await asA("GET", `/instances/${inBeta}`, undefined, {})).body.tenant_id).toBe("beta");
  });

  it("a bad tenant name is INVALID_ARGUMENT naming where it sat", async () => {
    expect(await asA("GET", "/instances", undefined, { "x-tenant-id": "a/b" })).toMatchObject({ status: 400, body: { error: expect.stringContaining("X-Tenant-Id") } });
    expect(await asA("GET", "/instances?tenant_id=" + "x".repeat(129), undefined, {})).toMatchObject({ status: 400, body: { error: expect.stringContaining("tenant_id") } });
    expect((await asA("POST", "/sequences", { tenant_id: "has space", namespace: "d", name: "n", blocks: [] }, {})).status).toBe(400);
  });
});

describe("API keys limited by tenant grants", () => {
  it("a key with grants acts only in its tenants; without grants it is not limited", async () => {
    const key = await orch.issuer.tokenWith(A, "robot", [{ role: "DOMAIN_ADMIN" }], "ak-robot");
    const asKey = (path: string, tenant?: string) => orch.rest("GET", path, undefined, { as: null, headers: { authorization: `Bearer ${key}`, ...(tenant ? { "x-tenant-id": tenant } : {}) } });
    expect((await asKey(`/instances/${ids.instance}`)).status).toBe(200);
    expect(await asA("PUT", "/tenant-grants/ak-robot", { tenant_ids: [TENANT, "gamma"] }, {})).toEqual({ status: 200, body: { api_key_id: "ak-robot", tenant_ids: [TENANT, "gamma"] } });
    expect((await asKey(`/instances/${ids.instance}`, TENANT)).status).toBe(200);
    expect((await asKey("/instances", "beta")).status).toBe(403);
    // Naming no tenant means the default one (the domain id), which is not granted.
    expect((await asKey(`/instances/${ids.instance}`)).status).toBe(403);
    expect((await asKey("/instances?tenant_id=gamma")).status).toBe(200);
    const listed = (await asA("GET", "/tenant-grants?api_key_id=ak-robot", undefined, {})).body.map((g: { tenant_id: string }) => g.tenant_id);
    expect(listed).toEqual([TENANT, "gamma"]);
    expect((await asA("PUT", "/tenant-grants/ak-robot", { tenant_ids: [] }, {})).status).toBe(400);
    expect((await asA("PUT", "/tenant-grants/ak-robot", { tenant_ids: ["no/slash"] }, {})).body.error).toContain("tenant_ids[0]");
    // Only a domain admin manages grants.
    const owner = await orch.issuer.tokenWith(A, "owner", [{ role: "WORKSPACE_OWNER", workspace_id: "ws-1" }]);
    expect((await orch.rest("PUT", "/tenant-grants/ak-robot", { tenant_ids: ["beta"] }, { as: null, headers: { authorization: `Bearer ${owner}` } })).status).toBe(403);
    expect((await asA("DELETE", "/tenant-grants/ak-robot", undefined, {})).status).toBe(204);
    expect((await asKey(`/instances/${ids.instance}`)).status).toBe(200);
    expect((await asA("DELETE", "/tenant-grants/ak-robot", undefined, {})).status).toBe(404);
  });
});

describe("the gRPC front door applies the same rules", () => {
  const clientWith = (token: string, tenant?: string) =>
    createConnectTransport({
      baseUrl: orch.service.url,
      httpVersion: "2",
      interceptors: [
        (next) => (req) => {
          req.header.set("authorization", `Bearer ${token}`);
          if (tenant) req.header.set("x-tenant-id", tenant);
          return next(req);
        },
      ],
    });
  const failure = (call: Promise<unknown>) => call.then(() => undefined, (e: ConnectError) => decodeError(e));

  it("domain B gets NOT_FOUND for A's objects and lists only its own, tenant acme or not", async () => {
    const instancesOfB = createClient(InstanceService, clientWith(await orch.token(B), TENANT));
    expect(await failure(instancesOfB.get({ id: ids.instance }))).toMatchObject({ code: "ERROR_NOT_FOUND", grpcCode: Code.NotFound });
    expect(await failure(instancesOfB.updateContext({ id: ids.instance, context: { data: { pwned: true } } }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect((await instancesOfB.list({ tenantId: TENANT, limit: 100 })).results.map((i) => i.id)).not.toContain(ids.instance);
    // B's own trigger "on-a" (made above) in B's tenant acme, not A's.
    expect((await createClient(TriggerService, clientWith(await orch.token(B))).get({ tenantId: TENANT, slug: "on-a" })).sequenceId).not.toBe(ids.sequence);
    expect(await failure(createClient(TriggerService, clientWith(await orch.token(B))).get({ tenantId: "beta", slug: "on-a" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    const instancesOfA = createClient(InstanceService, clientWith(await orch.token(A), TENANT));
    expect(await instancesOfA.get({ id: ids.instance })).toMatchObject({ id: ids.instance, tenantId: TENANT });
    expect(await failure(instancesOfA.list({ tenantId: "beta" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "tenant_id" } });
  });

  it("an API key's tenant grants hold over gRPC", async () => {
    expect((await asA("PUT", "/tenant-grants/ak-grpc", { tenant_ids: ["beta"] }, {})).status).toBe(200);
    const key = await orch.issuer.tokenWith(A, "robot-grpc", [{ role: "DOMAIN_ADMIN" }], "ak-grpc");
    expect(await failure(createClient(InstanceService, clientWith(key, TENANT)).get({ id: ids.instance }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(createClient(InstanceService, clientWith(key)).get({ id: ids.instance }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    const granted = createClient(InstanceService, clientWith(key, "beta"));
    expect(await failure(granted.get({ id: ids.instance }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect((await granted.list({ limit: 10 })).results.every((i) => i.tenantId === "beta")).toBe(true);
  });
});

describe("flow control is per (domain, tenant)", () => {
  it("a rate-limit window or a concurrency slot used in A's tenant acme leaves B's tenant acme alone", async () => {
    const limited = [{ type: "step", id: "s", handler: "noop", params: {}, rate_limit_key: "api:z" }];
    const held = [{ type: "step", id: "job", handler: "iso_slot", params: {} }];
    const run = async (as: typeof asA, blocks: unknown[], extra: Record<string, unknown> = {}) => {
      const sequence = created(await as("POST", "/sequences", { tenant_id: TENANT, namespace: "flow", name: `flow-${randomName()}`, blocks }), "flow sequence").body.id;
      return created(await as("POST", "/instances", { sequence_id: sequence, tenant_id: TENANT, namespace: "flow", ...extra }), "flow instance").body.id as string;
    };
    for (const as of [asA, asB]) expect((await as("PUT", "/rate-limits/api:z", { max_count: 1, window: "1h" })).status).toBe(200);
    const stateOf = (as: typeof asA, id: string) => async () => ((await as("GET", `/instances/${id}`)).body.state === "completed" ? true : undefined);
    await eventually(stateOf(asA, await run(asA, limited)), 15_000, "A's rate-limited instance");
    // A's window is used up; B's own window is not.
    await eventually(stateOf(asB, await run(asB, limited)), 15_000, "B's rate-limited instance");
    expect((await asA("GET", "/rate-limits/api:z")).body).toMatchObject({ max_count: 1 });
    // A's instance holds the only slot of key "k" while its worker task waits; B's takes its own slot.
    const slot = { concurrency_key: "k", max_concurrency: 1 };
    const holderA = await run(asA, held, slot);
    const holderB = await run(asB, held, slot);
    const tasks = await eventually(async () => {
      const rows = await sql<{ instance_id: string }[]>`select instance_id from orchestration.worker_tasks where handler_name = 'iso_slot'`;
      return rows.length === 2 ? rows.map((r) => r.instance_id).sort() : undefined;
    }, 15_000, "both holders' worker tasks");
    expect(tasks).toEqual([holderA, holderB].sort());
  }, 60_000);
});

const randomName = () => Math.random().toString(36).slice(2, 10);

describe("migration 0005 on a database of the previous release", () => {
  it("backfills domain_id = tenant_id, makes it required and keys uniqueness by domain", async () => {
    const database = await createTestDatabase("orch_mig");
    const db = postgres(database.url, { max: 1, onnotice: () => {} });
    const apply = async (tag: string) => {
      const text = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../services/orchestration/drizzle", `${tag}.sql`), "utf8");
      for (const statement of text.split("--> statement-breakpoint")) if (statement.trim()) await db.unsafe(statement);
    };
    try {
      for (const tag of ["0000_init", "0001_cron", "0002_worker_claims", "0003_flow_control", "0004_recurrent_requests"]) await apply(tag);
      const seq = "11111111-1111-4111-8111-111111111111";
      await db`insert into orchestration.sequences (id, tenant_id, namespace, name, version, blocks) values (${seq}, 'domain-old', 'default', 'n', 1, '[]')`;
      await db`insert into orchestration.rate_limits (tenant_id, key, max_count, window_ms) values ('domain-old', 'api', 1, 1000)`;
      await apply("0005_domain_tenants");
      expect(await db`select domain_id, tenant_id from orchestration.sequences`).toEqual([{ domain_id: "domain-old", tenant_id: "domain-old" }]);
      expect(await db`select domain_id, tenant_id from orchestration.rate_limits`).toEqual([{ domain_id: "domain-old", tenant_id: "domain-old" }]);
      // The same tenant, namespace, name and version in another domain is no conflict; in the same domain it is.
      await db`insert into orchestration.sequences (id, domain_id, tenant_id, namespace, name, version, blocks) values (gen_random_uuid(), 'domain-new', 'domain-old', 'default', 'n', 1, '[]')`;
      const duplicate = await db`insert into orchestration.sequences (id, domain_id, tenant_id, namespace, name, version, blocks) values (gen_random_uuid(), 'domain-old', 'domain-old', 'default', 'n', 1, '[]')`.catch((e: { code?: string }) => e);
      expect(duplicate).toMatchObject({ code: "23505" });
      const missing = await db`insert into orchestration.rate_limits (tenant_id, key, max_count, window_ms) values ('t', 'k', 1, 1000)`.catch((e: { code?: string }) => e);
      expect(missing).toMatchObject({ code: "23502" }); // domain_id is NOT NULL
    } finally {
      await db.end();
      await database.drop();
    }
  }, 60_000);
});
