import { and, asc, eq } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import { tenantGrants, type TenantGrantRow } from "../db/schema";
import { tenantName } from "./tenants";

/** At most this many tenants per API key: a grant list, not a catalogue. */
export const MAX_GRANTS = 100;

export interface GrantPage {
  offset: number;
  limit: number;
}

function apiKeyIdOf(value: unknown): string {
  if (value === undefined || value === null || value === "") throw missingParameter("api_key_id");
  if (typeof value !== "string" || value.length > 128) throw invalidParameter("api_key_id must be a string of at most 128 characters", { parameter: "api_key_id" });
  return value;
}

/**
 * Tenant grants: which Orch8 tenants of its domain an API key may act in. A key with no grant is
 * not limited (every tenant of its domain, as its roles allow); a key with grants acts only in
 * those tenants and must name one (`X-Tenant-Id` or `tenant_id`) unless the default tenant (the
 * domain id) is granted.
 */
export class TenantGrants {
  constructor(private readonly db: Database) {}

  /** The tenants the key is limited to; undefined when it has no grant (not limited). */
  async tenantsOf(domainId: string, apiKeyId: string): Promise<ReadonlySet<string> | undefined> {
    const rows = await this.db
      .select({ tenantId: tenantGrants.tenantId })
      .from(tenantGrants)
      .where(and(eq(tenantGrants.domainId, domainId), eq(tenantGrants.apiKeyId, apiKeyId)));
    return rows.length === 0 ? undefined : new Set(rows.map((r) => r.tenantId));
  }

  /** Replaces the key's grants with `tenantIds` (1 to MAX_GRANTS valid tenant names). */
  async set(domainId: string, apiKeyIdInput: unknown, tenantIds: unknown): Promise<TenantGrantRow[]> {
    const apiKeyId = apiKeyIdOf(apiKeyIdInput);
    if (!Array.isArray(tenantIds) || tenantIds.length === 0 || tenantIds.length > MAX_GRANTS) {
      throw invalidParameter(`tenant_ids must hold 1 to ${MAX_GRANTS} tenant names`, { parameter: "tenant_ids" });
    }
    const names = [...new Set(tenantIds.map((t, i) => tenantName(typeof t === "string" ? t : "", `tenant_ids[${i}]`)))];
    return this.db.transaction(async (tx) => {
      await tx.delete(tenantGrants).where(and(eq(tenantGrants.domainId, domainId), eq(tenantGrants.apiKeyId, apiKeyId)));
      return tx
        .insert(tenantGrants)
        .values(names.map((tenantId) => ({ domainId, apiKeyId, tenantId })))
        .returning();
    });
  }

  /** The domain's grants by key then tenant, optionally of one key. */
  async list(domainId: string, apiKeyId: string | undefined, page: GrantPage): Promise<TenantGrantRow[]> {
    return this.db
      .select()
      .from(tenantGrants)
      .where(and(eq(tenantGrants.domainId, domainId), apiKeyId === undefined ? undefined : eq(tenantGrants.apiKeyId, apiKeyIdOf(apiKeyId))))
      .orderBy(asc(tenantGrants.apiKeyId), asc(tenantGrants.tenantId))
      .offset(page.offset)
      .limit(page.limit);
  }

  /** Removes every grant of the key (it is no longer limited). */
  async delete(domainId: string, apiKeyIdInput: unknown): Promise<void> {
    const apiKeyId = apiKeyIdOf(apiKeyIdInput);
    const deleted = await this.db
      .delete(tenantGrants)
      .where(and(eq(tenantGrants.domainId, domainId), eq(tenantGrants.apiKeyId, apiKeyId)))
      .returning({ apiKeyId: tenantGrants.apiKeyId });
    if (deleted.length === 0) throw notFound("no tenant grant for this API key", { api_key_id: apiKeyId });
  }
}
