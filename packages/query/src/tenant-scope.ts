import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";

/**
 * The tenant rule of every List, Get and Stat (SPEC §4): a caller reads inside its own domain, and
 * there every workspace (a domain admin) or only the workspaces it holds a role in. Security-critical
 * and therefore written once; services pass their own columns.
 *
 * Structural, not runtime's `Caller`: this package sits below the runtime and must not import it.
 */
export interface TenantCaller {
  readonly domainId: string;
  readonly domainAdmin: boolean;
  /** The workspaces the caller holds any role in (ignored for a domain admin). */
  readonly workspaceIds: readonly string[];
}

/** What a caller may read, kept apart from who it is (a repository takes this). */
export interface TenantScope {
  readonly domainId: string;
  /** Undefined: every workspace of the domain; otherwise only these. */
  readonly workspaceIds?: readonly string[];
}

/** The tenant columns of a table. */
export interface TenantColumns {
  readonly domainId: PgColumn;
  readonly workspaceId: PgColumn;
}

export interface ScopeConditionOptions {
  /**
   * Whether rows of the whole domain (workspace_id "") are readable by every member too: cost rows
   * and data sources without a workspace, domain-wide channels and notifications. Off by default:
   * a row must belong to one of the caller's workspaces.
   */
  readonly domainWideRows?: boolean;
}

/** The scope a caller reads in: the whole domain for a domain admin, else its workspaces. */
export function tenantScope(caller: TenantCaller): TenantScope {
  return caller.domainAdmin ? { domainId: caller.domainId } : { domainId: caller.domainId, workspaceIds: [...caller.workspaceIds] };
}

/** The whole domain, whoever asks: what every member reads of domain-wide entities. */
export function domainScope(caller: Pick<TenantCaller, "domainId">): TenantScope {
  return { domainId: caller.domainId };
}

/** The SQL condition that keeps a table's rows inside the scope. */
export function scopeCondition(scope: TenantScope, columns: TenantColumns, options: ScopeConditionOptions = {}): SQL {
  const domain = eq(columns.domainId, scope.domainId);
  if (scope.workspaceIds === undefined) return domain;
  const workspaces = options.domainWideRows ? [...scope.workspaceIds, ""] : [...scope.workspaceIds];
  // No readable workspace: a condition that is simply false, never an impossible id (a NUL "marker"
  // reaches Postgres, which refuses U+0000 in text: INTERNAL).
  if (workspaces.length === 0) return sql`false`;
  return and(domain, inArray(columns.workspaceId, workspaces))!;
}

/** The SQL condition that keeps a table's rows to those the caller may read. */
export function tenantCondition(caller: TenantCaller, columns: TenantColumns, options: ScopeConditionOptions = {}): SQL {
  return scopeCondition(tenantScope(caller), columns, options);
}
