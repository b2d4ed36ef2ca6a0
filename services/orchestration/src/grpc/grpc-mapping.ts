import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { callerOf } from "@cloudforet/runtime";
import { TenantRules, type Owner, type OwnerScope } from "../access/tenants";

/** The tenants the calling API key is limited to (set by guardService from its tenant grants). */
export const grantedTenantsKey = createContextKey<ReadonlySet<string> | undefined>(undefined, { description: "tenant grants of the API key" });

/** The tenant rules of an RPC (access/tenants.ts), as the REST routes apply them; `x-tenant-id` metadata names a tenant too. */
function rulesOf(ctx: HandlerContext): TenantRules {
  return new TenantRules(callerOf(ctx), ctx.requestHeader.get("x-tenant-id") ?? undefined, ctx.values.get(grantedTenantsKey));
}

/** Who owns what the RPC writes: the caller's domain and the named tenant (default: the domain id). */
export function ownerOf(ctx: HandlerContext, given: string | undefined, parameter?: string): Owner {
  return rulesOf(ctx).owner(given || undefined, parameter);
}

/** What the RPC's lookups and lists are restricted to: the domain, and the tenant when one is named. */
export function scopeOf(ctx: HandlerContext, given?: string, parameter?: string): OwnerScope {
  return rulesOf(ctx).scope(given || undefined, parameter);
}

export const ts = (at: Date | null | undefined): Timestamp | undefined => (at ? timestampFromDate(at) : undefined);
export const dateOf = (at: Timestamp | undefined): Date | undefined => (at ? timestampDate(at) : undefined);
