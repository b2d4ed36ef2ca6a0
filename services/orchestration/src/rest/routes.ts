import { sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import type { Caller } from "@cloudforet/runtime";
import { requireOperation, type Operation } from "../access/orchestration-access";
import { tenantGrantRoutes } from "../access/rest";
import { TenantGrants } from "../access/tenant-grants";
import { cronRoutes } from "../cron/rest";
import { instanceRoutes } from "../instances/rest";
import type { Orchestration } from "../orchestration";
import { rateLimitRoutes } from "../rate-limits/rest";
import { recurrentRoutes } from "../recurrent/rest";
import { sequenceRoutes } from "../sequences/rest";
import { triggerRoutes } from "../triggers/rest";
import { workerRoutes } from "../workers/rest";
import { approvalRoutes } from "../approvals/rest";
import { eventStreamRoutes } from "../event-stream/rest";
import { executionTreeRoutes } from "../execution-tree/rest";
import { webhookRoutes } from "../webhooks/rest";
import { breakerRoutes } from "../breakers/rest";
import { clusterRoutes } from "../cluster/rest";
import { credentialRoutes } from "../credentials/rest";
import { sessionRoutes } from "../sessions/rest";
import { RestRouter, type RestHandler, type RestRequest } from "./rest-server";
import { Access, text, type Secured } from "./route-kit";

/** Routes anyone may call without a token (probes and Prometheus scraping), as before role checks. */
export const publicRestRoutes = new Set(["GET /health/live", "GET /health/ready", "GET /metrics"]);

/** What each REST route requires: its operation, or "public". */
export interface RestRouteAccess {
  method: string;
  path: string;
  access: Operation | "public";
}

/** Verifies `Authorization: Bearer …` and says who calls (UNAUTHENTICATED otherwise). */
export type Authenticate = (authorization: string | undefined) => Promise<Caller>;

/** Every endpoint of seed 002's Health, Sequences, Instances, Cron Schedules and (minimal) External Workers sections. */
export function restRoutes(orchestration: Orchestration, db: Database, authenticate?: Authenticate): { router: RestRouter; table: RestRouteAccess[] } {
  const { sequences, instances, workers, metrics } = orchestration;
  const router = new RestRouter();
  const grants = new TenantGrants(db);
  const access = async (req: RestRequest): Promise<Access> => {
    const header = req.headers.authorization;
    const caller = authenticate ? await authenticate(Array.isArray(header) ? header[0] : header) : undefined;
    const tenantHeader = req.headers["x-tenant-id"];
    // An API key with tenant grants acts only in those tenants (access/tenant-grants.ts).
    const granted = caller?.apiKeyId ? await grants.tenantsOf(caller.domainId, caller.apiKeyId) : undefined;
    return new Access(caller, text(Array.isArray(tenantHeader) ? tenantHeader[0] : tenantHeader), granted);
  };
  const guarded = new Map<RestHandler, Operation>();
  const secured: Secured = (operation, handler) => {
    const guardedHandler = async (req: RestRequest) => {
      const a = await access(req);
      // Without token verification (embedded in a test of the domain alone) there are no roles to check.
      if (a.caller) requireOperation(a.caller, operation);
      return handler(req, a);
    };
    guarded.set(guardedHandler, operation);
    return guardedHandler;
  };

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

  sequenceRoutes(router, sequences, secured);
  instanceRoutes(router, instances, secured);
  workerRoutes(router, workers, secured);
  cronRoutes(router, orchestration.cron, secured);
  triggerRoutes(router, orchestration.triggers, secured);
  recurrentRoutes(router, orchestration.recurrent, secured);
  rateLimitRoutes(router, orchestration.rateLimits, secured);
  tenantGrantRoutes(router, grants, secured);
  executionTreeRoutes(router, db, secured);
  eventStreamRoutes(router, db, orchestration.eventStreams, secured);
  approvalRoutes(router, orchestration.approvals, secured);
  webhookRoutes(router, orchestration.webhooks, secured);
  breakerRoutes(router, orchestration.breakers, secured);
  clusterRoutes(router, orchestration.cluster, secured);
  sessionRoutes(router, orchestration.sessions, secured);
  credentialRoutes(router, orchestration.credentials, secured);
  return { router, table: accessTable(router, guarded) };
}

/** Each route's requirement; a route neither guarded nor public stops the service from starting. */
function accessTable(router: RestRouter, guarded: Map<RestHandler, Operation>): RestRouteAccess[] {
  return router.list().map(({ method, path, handler }) => {
    const operation = guarded.get(handler);
    if (operation) return { method, path, access: operation };
    if (publicRestRoutes.has(`${method} ${path}`)) return { method, path, access: "public" as const };
    throw new Error(`REST route ${method} ${path} has no role check; wrap it in secured(operation, …)`);
  });
}
