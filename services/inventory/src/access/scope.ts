import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { readableWorkspaces, requireWorkspaceAccess, type Caller } from "@cloudforet/runtime";

/**
 * What a caller may read: its domain, and in it every workspace (domain admin) or the workspaces
 * it has a role in. Anything outside answers ERROR_NOT_FOUND, as if it did not exist. Writing
 * needs WORKSPACE_OWNER or DOMAIN_ADMIN (`assertCanWrite`).
 */
export interface Scope {
  domainId: string;
  /** Undefined: every workspace of the domain. */
  workspaceIds?: readonly string[];
}

export function scopeOf(caller: Caller): Scope {
  const readable = readableWorkspaces(caller);
  return readable === "all" ? { domainId: caller.domainId } : { domainId: caller.domainId, workspaceIds: readable };
}

/** PERMISSION_DENIED unless the caller may write in the workspace. */
export function assertCanWrite(caller: Caller, workspaceId: string): void {
  requireWorkspaceAccess(caller, workspaceId, "write");
}

/** The WHERE clause that keeps a table's rows inside the scope. */
export function scopeCondition(scope: Scope, columns: { domainId: PgColumn; workspaceId: PgColumn }): SQL {
  const domain = eq(columns.domainId, scope.domainId);
  if (scope.workspaceIds === undefined) return domain;
  return and(domain, inArray(columns.workspaceId, scope.workspaceIds.length > 0 ? [...scope.workspaceIds] : ["\u0000"]))!;
}
