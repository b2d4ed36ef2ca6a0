import { sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { invalidParameter, permissionDenied } from "@cloudforet/errors";
import type { Caller } from "@cloudforet/runtime";
import type { NewInstance } from "../instances/instances";
import { pageOf } from "../instances/instances";
import { parseState, type InstanceState } from "../instances/rules";
import type { Orchestration } from "../orchestration";
import { instanceJson, outputJson, sequenceJson, workerTaskJson } from "./rest-json";
import { cronRoutes } from "./cron-routes";
import { rateLimitRoutes } from "./rate-limit-routes";
import { triggerRoutes } from "./trigger-routes";
import { recurrentRoutes } from "./recurrent-routes";
import { RestRouter, type RestRequest } from "./rest-server";

/** A handler that runs with the caller's access (tenant rules) resolved. */
export type Secured = (handler: (req: RestRequest, access: Access) => Promise<{ status: number; body?: unknown }>) => (req: RestRequest) => Promise<{ status: number; body?: unknown }>;

/** Verifies `Authorization: Bearer …` and says who calls (UNAUTHENTICATED otherwise). */
export type Authenticate = (authorization: string | undefined) => Promise<Caller>;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

export async function objectBody(req: RestRequest): Promise<Record<string, unknown>> {
  const body = await req.body();
  if (!isObject(body)) throw invalidParameter("request body must be a JSON object");
  return body;
}

function optionalTime(value: unknown, parameter: string): Date | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const at = typeof value === "string" ? new Date(value) : undefined;
  if (!at || Number.isNaN(at.getTime())) throw invalidParameter(`${parameter} must be an RFC 3339 time`, { parameter, value: String(value) });
  return at;
}

function optionalInt(value: unknown, parameter: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n)) throw invalidParameter(`${parameter} must be an integer`, { parameter, value: String(value) });
  return n;
}

function statesOf(value: unknown, parameter: string): InstanceState[] | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const list = Array.isArray(value) ? value : String(value).split(",");
  return list.map((s) => parseState(typeof s === "string" ? s.trim() : s, parameter));
}

export const text = (value: unknown) => (value === undefined || value === null || value === "" ? undefined : String(value));

/** Seed 002's request body of Create Instance → the domain's input. */
function newInstanceOf(body: Record<string, unknown>, tenantId: string, at = ""): NewInstance {
  return {
    sequenceId: body.sequence_id,
    tenantId,
    namespace: body.namespace,
    priority: body.priority,
    timezone: body.timezone,
    metadata: body.metadata,
    context: body.context,
    nextFireAt: optionalTime(body.next_fire_at, `${at}next_fire_at`),
    concurrencyKey: body.concurrency_key,
    maxConcurrency: body.max_concurrency,
    idempotencyKey: body.idempotency_key,
  };
}

/**
 * Who the request acts as. With token verification, the caller's domain is the tenant: a tenant_id
 * or X-Tenant-Id naming another one is refused. Without it, the tenant is what the request names.
 */
export class Access {
  constructor(
    private readonly caller: Caller | undefined,
    private readonly headerTenant: string | undefined,
  ) {}

  /** The tenant a write or a tenant-wide read acts in. */
  tenant(given: unknown): string {
    const named = text(given);
    if (this.caller) {
      const own = this.caller.domainId;
      if (this.headerTenant && this.headerTenant !== own) throw permissionDenied("X-Tenant-Id does not match the caller's domain", { tenant_id: this.headerTenant });
      if (named && named !== own) throw permissionDenied("tenant_id is not the caller's domain", { tenant_id: named });
      return own;
    }
    if (named && this.headerTenant && named !== this.headerTenant) throw permissionDenied("tenant_id does not match X-Tenant-Id", { tenant_id: named });
    return named ?? this.headerTenant ?? "";
  }

  /** The tenant lookups by id are restricted to (none without auth or X-Tenant-Id). */
  scope(): string | undefined {
    if (this.caller && this.headerTenant && this.headerTenant !== this.caller.domainId) {
      throw permissionDenied("X-Tenant-Id does not match the caller's domain", { tenant_id: this.headerTenant });
    }
    return this.caller?.domainId ?? this.headerTenant;
  }

  /** A list's tenant filter: required with auth, optional without. */
  filterTenant(given: unknown): string | undefined {
    return this.caller || text(given) || this.headerTenant ? this.tenant(given) : undefined;
  }
}

/** Every endpoint of seed 002's Health, Sequences, Instances, Cron Schedules and (minimal) External Workers sections. */
export function restRoutes(orchestration: Orchestration, db: Database, authenticate?: Authenticate): RestRouter {
  const { sequences, instances, workers, metrics } = orchestration;
  const router = new RestRouter();
  const access = async (req: RestRequest): Promise<Access> => {
    const header = req.headers.authorization;
    const caller = authenticate ? await authenticate(Array.isArray(header) ? header[0] : header) : undefined;
    const tenantHeader = req.headers["x-tenant-id"];
    return new Access(caller, text(Array.isArray(tenantHeader) ? tenantHeader[0] : tenantHeader));
  };
  const secured: Secured = (handler) => async (req: RestRequest) => handler(req, await access(req));

  router
    .on("GET", "/health/live", async () => ({ status: 200, body: { status: "ok" } }))
    .on("GET", "/health/ready", async () => {
      try {
        await Promise.race([db.execute(sql`select 1`), new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), 2_000).unref())]);
        return { status: 200, body: { status: "ok" } };
      } catch (err) {
        return { status: 503, body: { status: "unavailable", error: `database unreachable: ${(err as Error).message}` } };
      }
    })
    .on("GET", "/metrics", async () => ({ status: 200, text: await metrics.registry.metrics(), contentType: metrics.registry.contentType }));

  router
    .on(
      "POST",
      "/sequences",
      secured(async (req, a) => {
        const body = await objectBody(req);
        const version = optionalInt(body.version, "version");
        const row = await sequences.create({
          id: text(body.id),
          tenantId: a.tenant(body.tenant_id),
          namespace: body.namespace as string,
          name: body.name as string,
          version,
          blocks: body.blocks,
          createdAt: optionalTime(body.created_at, "created_at"),
        });
        return { status: 201, body: { id: row.id } };
      }),
    )
    .on(
      "GET",
      "/sequences/by-name",
      secured(async (req, a) => {
        const q = req.query;
        const row = await sequences.getByName(a.tenant(q.get("tenant_id")), q.get("namespace") ?? "", q.get("name") ?? "", optionalInt(q.get("version"), "version"));
        return { status: 200, body: sequenceJson(row) };
      }),
    )
    .on(
      "GET",
      "/sequences/:id",
      secured(async (req, a) => ({ status: 200, body: sequenceJson(await sequences.get(req.params.id, a.scope())) })),
    );

  const listQuery = (req: RestRequest, a: Access) => {
    const q = req.query;
    return {
      filter: { tenantId: a.filterTenant(q.get("tenant_id")), namespace: text(q.get("namespace")), sequenceId: text(q.get("sequence_id")), states: statesOf(q.get("state") ?? q.get("states"), "state") },
      page: pageOf(q.get("offset"), q.get("limit")),
    };
  };

  router
    .on(
      "POST",
      "/instances",
      secured(async (req, a) => {
        const body = await objectBody(req);
        const created = await instances.create(newInstanceOf(body, a.tenant(body.tenant_id)));
        return { status: 201, body: { id: created.id, deduplicated: created.deduplicated } };
      }),
    )
    .on(
      "POST",
      "/instances/batch",
      secured(async (req, a) => {
        const body = await objectBody(req);
        if (!Array.isArray(body.instances)) throw invalidParameter("instances must be an array", { parameter: "instances" });
        const items = body.instances.map((item, i) => {
          if (!isObject(item)) throw invalidParameter(`instances[${i}] must be an object`, { parameter: `instances[${i}]` });
          return newInstanceOf(item, a.tenant(item.tenant_id), `instances[${i}].`);
        });
        return { status: 201, body: await instances.batchCreate(items) };
      }),
    )
    .on(
      "GET",
      "/instances",
      secured(async (req, a) => {
        const { filter, page } = listQuery(req, a);
        const { results } = await instances.list(filter, page);
        return { status: 200, body: results.map(instanceJson) };
      }),
    )
    .on(
      "GET",
      "/instances/dlq",
      secured(async (req, a) => {
        const { filter, page } = listQuery(req, a);
        const { results } = await instances.list(filter, page, { dlq: true });
        return { status: 200, body: results.map(instanceJson) };
      }),
    )
    .on(
      "PATCH",
      "/instances/bulk/state",
      secured(async (req, a) => {
        const body = await objectBody(req);
        const filter = isObject(body.filter) ? body.filter : {};
        if (body.state === undefined || body.state === null) throw invalidParameter("Missing required field: state", { parameter: "state" });
        const to = parseState(body.state, "state");
        const result = await instances.bulkUpdateState(
          { tenantId: a.tenant(filter.tenant_id), namespace: text(filter.namespace), sequenceId: text(filter.sequence_id), states: statesOf(filter.states, "filter.states") },
          to,
        );
        return { status: 200, body: result };
      }),
    )
    .on(
      "GET",
      "/instances/:id",
      secured(async (req, a) => ({ status: 200, body: instanceJson(await instances.get(req.params.id, a.scope())) })),
    )
    .on(
      "PATCH",
      "/instances/:id/state",
      secured(async (req, a) => {
        const body = await objectBody(req);
        if (body.state === undefined || body.state === null) throw invalidParameter("Missing required field: state", { parameter: "state" });
        const row = await instances.updateState(req.params.id, parseState(body.state, "state"), optionalTime(body.next_fire_at, "next_fire_at"), a.scope());
        return { status: 200, body: instanceJson(row) };
      }),
    )
    .on(
      "PATCH",
      "/instances/:id/context",
      secured(async (req, a) => {
        const body = await objectBody(req);
        if (!isObject(body.context)) throw invalidParameter("context must be an object", { parameter: "context" });
        return { status: 200, body: instanceJson(await instances.updateContext(req.params.id, body.context, a.scope())) };
      }),
    )
    .on(
      "POST",
      "/instances/:id/signals",
      secured(async (req, a) => {
        const body = await objectBody(req);
        const { signalId } = await instances.sendSignal(req.params.id, body.signal_type, body.payload, a.scope());
        return { status: 201, body: { signal_id: signalId } };
      }),
    )
    .on(
      "GET",
      "/instances/:id/outputs",
      secured(async (req, a) => ({ status: 200, body: (await instances.outputs(req.params.id, a.scope())).map(outputJson) })),
    )
    .on(
      "POST",
      "/instances/:id/retry",
      secured(async (req, a) => ({ status: 200, body: await instances.retry(req.params.id, a.scope()) })),
    );

  router
    .on(
      "POST",
      "/workers/tasks/poll",
      secured(async (req, access) => {
        const body = await objectBody(req);
        const scope = access.scope();
        const request = { handlerName: body.handler_name, workerId: body.worker_id, limit: body.limit, waitMs: body.wait_ms };
        return { status: 200, body: (await workers.poll(scope, request, req.signal)).map(workerTaskJson) };
      }),
    )
    .on(
      "POST",
      "/workers/tasks/:id/complete",
      secured(async (req, access) => {
        const body = await objectBody(req);
        const scope = access.scope();
        await workers.complete(scope, req.params.id, { workerId: body.worker_id, claimEpoch: body.claim_epoch }, body.output);
        return { status: 200, body: {} };
      }),
    )
    .on(
      "POST",
      "/workers/tasks/:id/fail",
      secured(async (req, access) => {
        const body = await objectBody(req);
        const scope = access.scope();
        await workers.fail(scope, req.params.id, { workerId: body.worker_id, claimEpoch: body.claim_epoch }, body.message, body.retryable);
        return { status: 200, body: {} };
      }),
    )
    .on(
      "POST",
      "/workers/tasks/:id/heartbeat",
      secured(async (req, access) => {
        const body = await objectBody(req);
        const scope = access.scope();
        await workers.heartbeat(scope, req.params.id, { workerId: body.worker_id, claimEpoch: body.claim_epoch });
        return { status: 200, body: {} };
      }),
    );
  cronRoutes(router, orchestration.cron, secured);
  triggerRoutes(router, orchestration.triggers, secured);
  recurrentRoutes(router, orchestration.recurrent, secured);
  rateLimitRoutes(router, orchestration.rateLimits, secured);
  return router;
}
