import { and, eq, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { invalidParameter, notFound, permissionDenied } from "@cloudforet/errors";
import type { Caller } from "@cloudforet/runtime";

/**
 * Orch8 tenants inside a domain. An Orch8 `tenant_id` is a free-form name scoped to the caller's
 * domain: domains A and B may both use tenant "acme" and never see each other's rows. A request
 * naming no tenant acts in the default tenant, the caller's domain id (what every row was before
 * tenants existed, so older clients answer as before). Every tenant-scoped row carries both.
 */
export interface Owner {
  domainId: string;
  tenantId: string;
}

/** What lookups and lists are restricted to: absent fields are not filtered on. */
export type OwnerScope = Partial<Owner>;

/** Letters, digits and `_ . : @ -`, 1 to 128 characters: never `/`, so `domain/tenant` keys stay unambiguous. */
const TENANT_NAME = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** A valid tenant name, or INVALID_ARGUMENT naming `parameter`. */
export function tenantName(value: string, parameter = "tenant_id"): string {
  if (!TENANT_NAME.test(value)) {
    throw invalidParameter(`${parameter} must be 1 to 128 letters, digits or _ . : @ -`, { parameter, value: value.slice(0, 200) });
  }
  return value;
}

/** Whether a row lies within the scope. */
export function inScope(row: Owner, scope: OwnerScope = {}): boolean {
  return (scope.domainId === undefined || row.domainId === scope.domainId) && (scope.tenantId === undefined || row.tenantId === scope.tenantId);
}

/** NOT_FOUND (never PERMISSION_DENIED: another domain's ids are not disclosed) unless the row is in scope. */
export function requireInScope<Row extends Owner>(row: Row | undefined, scope: OwnerScope | undefined, what: string, id: string): Row {
  if (!row || !inScope(row, scope)) throw notFound(`${what} not found`, { id });
  return row;
}

/** The SQL conditions of a scope on a table with domain_id and tenant_id columns. */
export function ownerWhere(table: { domainId: PgColumn; tenantId: PgColumn }, scope: OwnerScope = {}): SQL | undefined {
  return and(scope.domainId !== undefined ? eq(table.domainId, scope.domainId) : undefined, scope.tenantId !== undefined ? eq(table.tenantId, scope.tenantId) : undefined);
}

/** A key naming an owner in one string (advisory locks, dedupe scopes): the bare tenant for a domain's default tenant. */
export function ownerKey({ domainId, tenantId }: Owner): string {
  return domainId === tenantId || domainId === "" ? tenantId : `${domainId}/${tenantId}`;
}

/**
 * The tenant rules of one request: which domain it acts in, which tenant it names (body field,
 * query parameter or `X-Tenant-Id` header; they must agree) and, for an API key limited by tenant
 * grants, which tenants it may touch. Without token verification (a test of the engine alone)
 * there is no domain: the domain is "" and lookups are not restricted by it.
 */
export class TenantRules {
  constructor(
    readonly caller: Caller | undefined,
    private readonly headerTenant: string | undefined,
    /** The tenants an API key is limited to; undefined when it is not limited. */
    private readonly granted?: ReadonlySet<string>,
  ) {
    if (headerTenant !== undefined) tenantName(headerTenant, "X-Tenant-Id");
  }

  /** The tenant the request names (given field or X-Tenant-Id), validated; undefined when it names none. */
  named(given: string | undefined, parameter = "tenant_id"): string | undefined {
    if (given !== undefined && given !== "") {
      tenantName(given, parameter);
      if (this.headerTenant && given !== this.headerTenant) throw invalidParameter(`${parameter} does not match X-Tenant-Id`, { parameter, value: given });
      return this.check(given);
    }
    return this.headerTenant === undefined ? undefined : this.check(this.headerTenant);
  }

  /** Who owns what a write creates (or a tenant-wide call acts on): the named tenant or the default one. */
  owner(given: string | undefined, parameter = "tenant_id"): Owner {
    const domainId = this.caller?.domainId ?? "";
    // Without a caller there is no default: the service's own check reports the missing tenant_id.
    return { domainId, tenantId: this.named(given, parameter) ?? (this.caller ? this.check(domainId) : "") };
  }

  /**
   * What lookups by id and lists are restricted to: the caller's domain, and the tenant when the
   * request names one. A domain admin (or any role) naming no tenant sees all tenants of its domain;
   * an API key limited by grants always acts in one tenant (the named or the default one).
   */
  scope(given?: string, parameter = "tenant_id"): OwnerScope {
    const named = this.named(given, parameter);
    const tenantId = named ?? (this.granted && this.caller ? this.check(this.caller.domainId) : undefined);
    return { ...(this.caller ? { domainId: this.caller.domainId } : {}), ...(tenantId !== undefined ? { tenantId } : {}) };
  }

  private check(tenantId: string): string {
    if (this.granted && !this.granted.has(tenantId)) {
      throw permissionDenied("this API key has no grant for the tenant", { tenant_id: tenantId, api_key_id: this.caller?.apiKeyId ?? "" });
    }
    return tenantId;
  }
}
