import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { invalidParameter, permissionDenied } from "@cloudforet/errors";
import { readableWorkspaces, requireDomainAccess, requireWorkspaceAccess, type Caller } from "@cloudforet/runtime";

/**
 * The role rules (runtime's access.ts) applied to cost: data sources are domain-wide (every member
 * reads them, admins write them); a cost row belongs to its data source's workspace, or to the whole
 * domain (workspace_id "") when it came without a source or its source is domain-wide.
 */
export interface Scope {
  domainId: string;
  /** undefined: every workspace of the domain; otherwise these plus the domain-wide rows. */
  workspaceIds?: readonly string[];
}

/** The whole domain: what every member may read of domain-wide entities (data sources). */
export const domainScope = (caller: Caller): Scope => ({ domainId: caller.domainId });

/** The cost rows a caller may read. */
export function readScope(caller: Caller): Scope {
  const workspaces = readableWorkspaces(caller);
  return workspaces === "all" ? { domainId: caller.domainId } : { domainId: caller.domainId, workspaceIds: workspaces };
}

/** The SQL condition that keeps a query inside the scope. */
export function scopeCondition(scope: Scope, columns: { domainId: PgColumn; workspaceId: PgColumn }): SQL {
  const domain = eq(columns.domainId, scope.domainId);
  if (!scope.workspaceIds) return domain;
  return and(domain, inArray(columns.workspaceId, [...scope.workspaceIds, ""]))!;
}

/** PERMISSION_DENIED unless the caller may write rows of the workspace ("" is the whole domain). */
export function requireWrite(caller: Caller, workspaceId: string): void {
  if (workspaceId === "") requireDomainAccess(caller, "write");
  else requireWorkspaceAccess(caller, workspaceId, "write");
}

/**
 * The workspace of a cost row pushed without a data source: the whole domain for an admin, else
 * the one workspace the caller owns.
 */
export function defaultWriteWorkspace(caller: Caller): string {
  if (caller.domainAdmin) return "";
  const owned = caller.roles.filter((r) => r.role === "WORKSPACE_OWNER" && r.workspace_id).map((r) => r.workspace_id!);
  if (owned.length === 1) return owned[0];
  if (owned.length === 0) throw permissionDenied("Writing costs needs a domain admin or a workspace owner", { domain_id: caller.domainId });
  throw invalidParameter("data_source_id is required when the caller owns several workspaces", { parameter: "data_source_id" });
}
