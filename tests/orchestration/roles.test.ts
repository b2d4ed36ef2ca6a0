// Role checks of orchestration (services/orchestration/src/access/orchestration-access.ts): every REST
// route and every RPC, for a user without any role, a WORKSPACE_MEMBER, a WORKSPACE_OWNER and a DOMAIN_ADMIN.
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { decodeError } from "@cloudforet/errors";
import { operationLevels, type AccessLevel } from "@cloudforet/orchestration";
import * as cronPb from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import * as instancePb from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import * as rateLimitPb from "@cloudforet/proto/cloudforet/orchestration/v1/rate_limit_pb";
import * as recurrentPb from "@cloudforet/proto/cloudforet/orchestration/v1/recurrent_request_pb";
import * as sequencePb from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import * as triggerPb from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import * as workerPb from "@cloudforet/proto/cloudforet/orchestration/v1/worker_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, startOrchestration, type RestReply, type TestOrchestration } from "./support";

type Who = "none" | "member" | "owner" | "admin";
const roleBindings: Record<Who, { role: string; workspace_id?: string }[]> = {
  none: [],
  member: [{ role: "WORKSPACE_MEMBER", workspace_id: "ws-1" }],
  owner: [{ role: "WORKSPACE_OWNER", workspace_id: "ws-1" }],
  admin: [{ role: "DOMAIN_ADMIN" }],
};
/** Which levels each caller may use: the table the README states. */
const allowed: Record<Who, AccessLevel[]> = { none: [], member: ["read"], owner: ["read", "write"], admin: ["read", "write", "admin"] };

/** Every service descriptor of cloudforet.orchestration.v1, found in the generated code (not in the service's own list). */
const descriptors: DescService[] = [cronPb, instancePb, rateLimitPb, recurrentPb, sequencePb, triggerPb, workerPb].flatMap((m) =>
  Object.values(m).filter((v): v is DescService => (v as { kind?: string } | null)?.kind === "service"),
);

let orch: TestOrchestration;
const tokens = {} as Record<Who, string>;
let sequenceId: string;
let instanceId: string;
let cronId: string;

beforeAll(async () => {
  // acme operates the engine (its admins may list and drain cluster nodes); "other" is a tenant domain.
  orch = await startOrchestration({ ORCHESTRATION_OPERATOR_DOMAINS: "acme" });
  for (const who of Object.keys(roleBindings) as Who[]) tokens[who] = await orch.issuer.tokenWith("acme", `user-${who}`, roleBindings[who]);
  sequenceId = await createSequence(orch, "roles", [{ type: "step", id: "s", handler: "noop", params: {} }]);
  // Far in the future: stays scheduled, so it can be cancelled and patched.
  const created = await orch.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default", next_fire_at: "2099-01-01T00:00:00Z", context: { data: { n: 1 } } });
  instanceId = created.body.id;
  cronId = (await orch.rest("POST", "/cron", { namespace: "default", sequence_id: sequenceId, cron_expr: "0 0 0 * * * *" })).body.id;
  expect((await orch.rest("POST", "/triggers", { slug: "on-order", namespace: "default", sequence_id: sequenceId })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await orch?.close();
});

async function restAs<T = any>(who: Who, method: string, path: string, body?: unknown): Promise<RestReply<T>> {
  return orch.rest<T>(method, path, body, { as: null, headers: { authorization: `Bearer ${tokens[who]}` } });
}

function clientAs<S extends DescService>(service: S, who: Who): Client<S> {
  const transport = createConnectTransport({
    baseUrl: orch.service.url,
    httpVersion: "2",
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${tokens[who]}`);
        return next(req);
      },
    ],
  });
  return createClient(service, transport);
}

const denied403 = (reply: RestReply) => {
  expect(reply.status).toBe(403);
  expect(reply.body).toEqual({ error: expect.any(String) });
};

const deniedRpc = async (call: Promise<unknown>) => {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the call should have been refused").toBeDefined();
  expect(decodeError(err)).toMatchObject({ code: "ERROR_PERMISSION_DENIED", grpcCode: Code.PermissionDenied });
};

describe("a user of the domain without any role", () => {
  it("gets 403 on REST: instance context, cancel, patch context, disable trigger, delete cron, set rate limit", async () => {
    denied403(await restAs("none", "GET", `/instances/${instanceId}`));
    denied403(await restAs("none", "PATCH", `/instances/${instanceId}/state`, { state: "cancelled" }));
    denied403(await restAs("none", "PATCH", `/instances/${instanceId}/context`, { context: { data: { n: 2 } } }));
    denied403(await restAs("none", "PUT", "/triggers/on-order", { enabled: false }));
    denied403(await restAs("none", "DELETE", `/cron/${cronId}`));
    denied403(await restAs("none", "PUT", "/rate-limits/api:crm", { max_count: 1, window: "1s" }));
    // Nothing changed.
    const instance = await orch.rest("GET", `/instances/${instanceId}`);
    expect(instance.body).toMatchObject({ state: "scheduled", context: { data: { n: 1 } } });
    expect((await orch.rest("GET", "/triggers/on-order")).body.enabled).toBe(true);
    expect((await orch.rest("GET", `/cron/${cronId}`)).status).toBe(200);
    expect((await orch.rest("GET", "/rate-limits/api:crm")).status).toBe(404);
  });

  it("gets PERMISSION_DENIED on the same operations over gRPC", async () => {
    const instances = clientAs(instancePb.InstanceService, "none");
    await deniedRpc(instances.get({ id: instanceId }));
    await deniedRpc(instances.updateState({ id: instanceId, state: instancePb.TaskInstance_State.CANCELLED }));
    await deniedRpc(instances.updateContext({ id: instanceId, context: { data: { n: 2 } } }));
    await deniedRpc(clientAs(triggerPb.TriggerService, "none").update({ slug: "on-order", enabled: false }));
    await deniedRpc(clientAs(cronPb.CronService, "none").delete({ id: cronId }));
    await deniedRpc(clientAs(rateLimitPb.RateLimitService, "none").set({ key: "api:crm", maxCount: 1, window: "1s" }));
    expect((await orch.rest("GET", `/instances/${instanceId}`)).body).toMatchObject({ state: "scheduled", context: { data: { n: 1 } } });
  });
});

describe("each role", () => {
  it("a WORKSPACE_MEMBER reads but does not write", async () => {
    expect((await restAs("member", "GET", `/instances/${instanceId}`)).body).toMatchObject({ id: instanceId, context: { data: { n: 1 } } });
    expect((await restAs("member", "GET", `/sequences/${sequenceId}`)).status).toBe(200);
    expect((await restAs("member", "GET", "/cron")).status).toBe(200);
    expect((await clientAs(instancePb.InstanceService, "member").get({ id: instanceId })).id).toBe(instanceId);
    denied403(await restAs("member", "PATCH", `/instances/${instanceId}/context`, { context: { data: { n: 2 } } }));
    denied403(await restAs("member", "POST", "/instances", { sequence_id: sequenceId, namespace: "default" }));
    denied403(await restAs("member", "POST", "/workers/tasks/poll", { handler_name: "h", worker_id: "w" }));
    await deniedRpc(clientAs(instancePb.InstanceService, "member").updateContext({ id: instanceId, context: { data: { n: 2 } } }));
  });

  it("a WORKSPACE_OWNER writes (and polls as a worker) but does no admin operation", async () => {
    expect((await restAs("owner", "PATCH", `/instances/${instanceId}/context`, { context: { data: { n: 2 } } })).status).toBe(200);
    expect((await clientAs(instancePb.InstanceService, "owner").updateContext({ id: instanceId, context: { data: { n: 3 } } })).context).toMatchObject({ data: { n: 3 } });
    expect((await restAs("owner", "POST", "/workers/tasks/poll", { handler_name: "h", worker_id: "w" })).body).toEqual([]);
    denied403(await restAs("owner", "PUT", "/triggers/on-order", { enabled: false }));
    denied403(await restAs("owner", "DELETE", `/cron/${cronId}`));
    denied403(await restAs("owner", "PUT", "/rate-limits/api:crm", { max_count: 1, window: "1s" }));
    denied403(await restAs("owner", "GET", "/instances/dlq"));
    await deniedRpc(clientAs(cronPb.CronService, "owner").delete({ id: cronId }));
    await deniedRpc(clientAs(rateLimitPb.RateLimitService, "owner").set({ key: "api:crm", maxCount: 1, window: "1s" }));
  });

  it("an owner's API key keeps working for an external worker", async () => {
    const key = await orch.issuer.tokenWith("acme", "worker-owner", roleBindings.owner, "ak-worker-1");
    const reply = await orch.rest("POST", "/workers/tasks/poll", { handler_name: "h", worker_id: "w" }, { as: null, headers: { authorization: `Bearer ${key}` } });
    expect(reply).toEqual({ status: 200, body: [] });
  });

  it("a DOMAIN_ADMIN does everything", async () => {
    expect((await restAs("admin", "PUT", "/rate-limits/api:crm", { max_count: 1, window: "1s" })).status).toBe(200);
    expect((await restAs("admin", "PUT", "/triggers/on-order", { enabled: false })).body.enabled).toBe(false);
    expect((await clientAs(triggerPb.TriggerService, "admin").update({ slug: "on-order", enabled: true })).enabled).toBe(true);
    expect((await restAs("admin", "PATCH", `/instances/${instanceId}/state`, { state: "cancelled" })).body.state).toBe("cancelled");
    expect((await restAs("admin", "DELETE", `/cron/${cronId}`)).status).toBe(204);
    expect((await restAs("admin", "GET", "/instances/dlq")).status).toBe(200);
  });
});

describe("cluster nodes are the operators'", () => {
  it("a DOMAIN_ADMIN of a domain that is not an operator domain can neither list nor drain them", async () => {
    const outsider = await orch.issuer.tokenWith("other", "user-admin", roleBindings.admin);
    for (const [method, path] of [["GET", "/cluster/nodes"], ["POST", `/cluster/nodes/${orch.module.orchestration().engineId}/drain`]] as const) {
      const reply = await orch.rest(method, path, undefined, { as: null, headers: { authorization: `Bearer ${outsider}` } });
      expect(reply.status, `${method} ${path}`).toBe(403);
      expect(reply.body.error).toMatch(/ORCHESTRATION_OPERATOR_DOMAINS/);
    }
    const nodes = await restAs("admin", "GET", "/cluster/nodes");
    expect(nodes.status).toBe(200);
    expect(nodes.body.map((n: { drain: boolean }) => n.drain)).not.toContain(true);
  });
});

describe("every route and every RPC is guarded", () => {
  it("the role table names every RPC of every orchestration service; its other entries each guard a REST route", () => {
    const rpcs = descriptors.flatMap((service) => service.methods.map((m) => `${service.name}.${m.name}`)).sort();
    expect(descriptors.length).toBe(7);
    const restOperations = new Set(orch.module.restRouteAccess().map((r) => r.access));
    for (const rpc of rpcs) expect(Object.keys(operationLevels)).toContain(rpc);
    // REST-only operations (tenant grants, engine features beyond the seed) are no dead entries.
    for (const operation of Object.keys(operationLevels)) if (!rpcs.includes(operation)) expect(restOperations, operation).toContain(operation);
  });

  it("every REST route names an operation of the table; only health and metrics are public", () => {
    const routes = orch.module.restRouteAccess();
    expect(routes.length).toBeGreaterThan(40);
    expect(routes.filter((r) => r.access === "public").map((r) => `${r.method} ${r.path}`)).toEqual(["GET /health/live", "GET /health/ready", "GET /metrics"]);
    for (const route of routes) if (route.access !== "public") expect(Object.keys(operationLevels), `${route.method} ${route.path}`).toContain(route.access);
  });

  it("every REST route refuses the callers its level excludes with 403, and lets the others past the check", async () => {
    const absent = "00000000-0000-4000-8000-000000000000";
    for (const route of orch.module.restRouteAccess()) {
      if (route.access === "public") continue;
      const level = operationLevels[route.access];
      const path = route.path.replace(/:[a-z_]+/g, absent);
      const body = route.method === "GET" || route.method === "DELETE" ? undefined : {};
      for (const who of ["none", "member", "owner", "admin"] as Who[]) {
        const reply = await restAs(who, route.method, path, body);
        const expected = allowed[who].includes(level) ? "past" : "denied";
        expect({ route: `${route.method} ${route.path}`, who, outcome: reply.status === 403 ? "denied" : "past" }).toEqual({ route: `${route.method} ${route.path}`, who, outcome: expected });
        if (expected === "denied") expect(reply.body).toEqual({ error: expect.stringContaining(route.access) });
      }
    }
  }, 60_000);

  it("every RPC of every service refuses the callers its level excludes with PERMISSION_DENIED", async () => {
    for (const service of descriptors) {
      for (const method of service.methods) {
        const level = operationLevels[`${service.name}.${method.name}` as keyof typeof operationLevels];
        for (const who of ["none", "member", "owner", "admin"] as Who[]) {
          const client = clientAs(service, who) as unknown as Record<string, (req: object, opts?: object) => unknown>;
          const expected = allowed[who].includes(level) ? "past" : "denied";
          if (expected === "past" && method.methodKind === "server_streaming") continue; // a Watch that is let in never ends
          const abort = new AbortController();
          const call =
            method.methodKind === "server_streaming"
              ? (async () => {
                  for await (const _ of client[method.localName]({}, { signal: abort.signal }) as AsyncIterable<unknown>) break;
                })()
              : Promise.resolve(client[method.localName]({}, { signal: abort.signal }));
          const err = await call.then(
            () => undefined,
            (e: unknown) => ConnectError.from(e),
          );
          const outcome = err?.code === Code.PermissionDenied ? "denied" : "past";
          expect({ rpc: `${service.name}.${method.name}`, who, outcome }).toEqual({ rpc: `${service.name}.${method.name}`, who, outcome: expected });
          abort.abort();
        }
      }
    }
  }, 60_000);
});
