import { invalidParameter } from "@cloudforet/errors";
import { TenantRules, type Owner, type OwnerScope } from "../access/tenants";
import type { Operation } from "../access/orchestration-access";
import type { RestRequest } from "./rest-server";

// What routes.ts and the per-entity route files it gathers (<entity>/rest.ts: sequences, instances,
// workers, cron, triggers, recurrent, rate-limits) all build on, in a module of its own so that those
// files do not import routes.ts back (a cycle).

/**
 * A handler that runs once the caller may perform `operation` (orchestration-access.ts, the same row
 * as the RPC of that name) and with its tenant rules resolved.
 */
export type Secured = (
  operation: Operation,
  handler: (req: RestRequest, access: Access) => Promise<{ status: number; body?: unknown }>,
) => (req: RestRequest) => Promise<{ status: number; body?: unknown }>;

export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

export async function objectBody(req: RestRequest): Promise<Record<string, unknown>> {
  const body = await req.body();
  if (!isObject(body)) throw invalidParameter("request body must be a JSON object");
  return body;
}

export const text = (value: unknown) => (value === undefined || value === null || value === "" ? undefined : String(value));

export type { Owner, OwnerScope } from "../access/tenants";

/**
 * Who the request acts as and in which Orch8 tenant (access/tenants.ts): the caller's domain, and
 * the tenant named by `tenant_id` (body or query) or `X-Tenant-Id`, by default the domain id.
 */
export class Access extends TenantRules {
  /** Who owns what a write creates, or the one tenant a tenant-wide call acts on. */
  override owner(given: unknown, parameter?: string): Owner {
    return super.owner(text(given), parameter);
  }

  /** What lookups by id and lists are restricted to: the domain, and a tenant when the request names one. */
  ownerScope(given?: unknown, parameter?: string): OwnerScope {
    return this.scope(text(given), parameter);
  }
}
